#ifndef TARIFF_ALERT_TESTS_CLIENTS_TCP_PROXY_H_
#define TARIFF_ALERT_TESTS_CLIENTS_TCP_PROXY_H_

// A loopback TCP proxy for client tests: forwards 127.0.0.1:port() to a
// server, and can break the connections it carries the two ways networks
// do: Cut() closes them (the client sees a reset), Freeze() stops forwarding
// on them while they stay open (a half-open connection: only the client's
// heartbeat-silence check notices). New connections are forwarded normally
// either way. One thread, poll() with a bounded timeout; blocking writes, so
// use it only with a client that keeps reading.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace tariffalert::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            0 &&
        ::listen(listen_fd_, 16) == 0) {
      socklen_t len = sizeof addr;
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~TcpProxy() {
    stop_ = true;
    thread_.join();
    absl::MutexLock lock(&mu_);
    for (Pair& p : pairs_) CloseLocked(p);
    ::close(listen_fd_);
  }

  int port() const { return port_; }  // 0 if it could not listen

  // Closes every connection carried so far.
  void Cut() {
    absl::MutexLock lock(&mu_);
    for (Pair& p : pairs_) CloseLocked(p);
  }
  // Stops forwarding on every connection carried so far, leaving them open.
  void Freeze() {
    absl::MutexLock lock(&mu_);
    for (Pair& p : pairs_) p.frozen = true;
  }
  int connections() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }

 private:
  struct Pair {
    int client = -1;
    int server = -1;
    bool frozen = false;
  };

  static void CloseLocked(Pair& p) {
    if (p.client >= 0) ::close(p.client);
    if (p.server >= 0) ::close(p.server);
    p.client = p.server = -1;
  }

  static bool Forward(int from, int to) {
    char buf[64 * 1024];
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0) return false;
    for (ssize_t off = 0; off < n;) {
      const ssize_t w =
          ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += w;
    }
    return true;
  }

  void Accept() {
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
        0) {
      ::close(server);
      ::close(client);
      return;
    }
    absl::MutexLock lock(&mu_);
    pairs_.push_back(Pair{client, server, false});
    ++accepted_;
  }

  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      std::vector<std::pair<size_t, bool>> owners;  // pair index, from client
      fds.push_back(pollfd{listen_fd_, POLLIN, 0});
      {
        absl::MutexLock lock(&mu_);
        for (size_t i = 0; i < pairs_.size(); ++i) {
          const Pair& p = pairs_[i];
          if (p.frozen || p.client < 0) continue;
          fds.push_back(pollfd{p.client, POLLIN, 0});
          owners.emplace_back(i, true);
          fds.push_back(pollfd{p.server, POLLIN, 0});
          owners.emplace_back(i, false);
        }
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) Accept();
      absl::MutexLock lock(&mu_);
      for (size_t k = 1; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        Pair& p = pairs_[owners[k - 1].first];
        // Cut or frozen since the poll began.
        if (p.client < 0 || p.frozen || fds[k].fd < 0) continue;
        const bool from_client = owners[k - 1].second;
        if (!Forward(from_client ? p.client : p.server,
                     from_client ? p.server : p.client)) {
          CloseLocked(p);
        }
      }
    }
  }

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::vector<Pair> pairs_ ABSL_GUARDED_BY(mu_);
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_CLIENTS_TCP_PROXY_H_
