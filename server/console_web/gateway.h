#ifndef TARIFF_ALERT_SERVER_CONSOLE_WEB_GATEWAY_H_
#define TARIFF_ALERT_SERVER_CONSOLE_WEB_GATEWAY_H_

// tariff-console's HTTP side (docs/console.md): serves the page in
// web/console/ and turns its calls into gRPC calls to tariff-alertd, with the
// logged-in browser's token (its ta_session cookie) as each call's bearer
// token. It keeps no state of its own: the server checks every token and
// role, the CSRF token is derived from the session token, and the streams
// resume from the browser's Last-Event-ID.
//
// It must never log a token, put one in an error or a URL, forward a method
// that is not on the allow-list, or serve plaintext beyond loopback.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/lib/connection.h"
#include "server/console_web/csrf.h"
#include "server/console_web/forwarded_methods.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tariffalert {

struct GatewayOptions {
  // host:port the console serves on; port 0 picks a free one.
  std::string listen_address = "127.0.0.1:8080";
  // The tariff-alertd replicas, tried in turn.
  std::vector<std::string> servers = {"127.0.0.1:50051"};
  // How to reach them (TLS, client certificate); server_address and token
  // are not used: each call carries its browser's token.
  ConnectionOptions connection;
  // The page: index.html, presets.json and the files under /static/.
  std::string web_root;
  // HTTPS: both or neither. Without them the console serves plaintext HTTP,
  // on a loopback address only.
  std::string https_cert_file;
  std::string https_key_file;
  // Open Server-Sent Events responses at most (503 beyond). Each holds one
  // of the HTTP threads; `extra_threads` more serve everything else.
  int max_streams = 64;
  int extra_threads = 32;
  absl::Duration rpc_deadline = absl::Seconds(10);
  size_t max_body_bytes = 1 << 20;
};

// The gRPC calls in flight, so that a shutdown can cancel them all: a stream
// blocked in Read() returns at once and its HTTP thread is free to end.
class CallRegistry {
 public:
  // False (and nothing added) once shutting down.
  bool Add(grpc::ClientContext* context);
  void Remove(grpc::ClientContext* context);
  void CancelAll();
  bool shutting_down() const;

 private:
  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
};

// One channel per replica and the one to try first: a replica that answered
// UNAVAILABLE hands the first place to the next.
class Replicas {
 public:
  static absl::StatusOr<Replicas> Create(
      const std::vector<std::string>& servers,
      const ConnectionOptions& connection);
  size_t size() const { return channels_.size(); }
  size_t preferred() const { return preferred_->load(); }
  const std::shared_ptr<grpc::Channel>& channel(size_t i) const {
    return channels_[i];
  }
  const std::string& address(size_t i) const { return addresses_[i]; }
  // `i` failed: the next one becomes preferred (unless another call moved
  // it already). Returns the next index to try.
  size_t Failed(size_t i) const;

 private:
  std::vector<std::string> addresses_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::shared_ptr<std::atomic<size_t>> preferred_ =
      std::make_shared<std::atomic<size_t>>(0);
};

class ConsoleGateway {
 public:
  // Checks the options and binds the listening port. Errors name the flag.
  static absl::StatusOr<std::unique_ptr<ConsoleGateway>> Create(
      GatewayOptions options, CsrfKey csrf_key);
  ~ConsoleGateway();

  int port() const { return port_; }
  // "http://127.0.0.1:8080/" (https with a certificate).
  std::string url() const;
  // Serves until Shutdown(); false if the server failed.
  bool Serve();
  // From any thread: cancels every gRPC call (the streams end with `end`)
  // and stops serving; Serve() returns once every HTTP thread is done.
  void Shutdown();

 private:
  ConsoleGateway(GatewayOptions options, CsrfKey csrf_key, Replicas replicas);
  void Route();
  // The handlers, one per path of the contract.
  void HandleLogin(const httplib::Request& req, httplib::Response& res);
  void HandleSession(const httplib::Request& req, httplib::Response& res);
  void HandleLogout(const httplib::Request& req, httplib::Response& res);
  void HandleRpc(const httplib::Request& req, httplib::Response& res);
  void HandleAlertStream(const httplib::Request& req, httplib::Response& res);
  void HandleConsoleStream(const httplib::Request& req, httplib::Response& res);
  void HandleFile(const std::string& relative_path, bool no_store,
                  httplib::Response& res);

  // The checks of a POST other than login: the cookie (401), the CSRF
  // header and the Origin (403). Fills `res` and returns false when one
  // fails; sets `token` otherwise.
  bool CheckStateChange(const httplib::Request& req, httplib::Response& res,
                        std::string* token);
  bool CheckOrigin(const httplib::Request& req, httplib::Response& res);
  // A unary call with `token`, on the preferred replica, then (for reads)
  // on the others while they answer UNAVAILABLE.
  grpc::Status CallUnary(const ForwardedMethod& method,
                         const std::string& token,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response);
  // 200 {"session": ..., "csrf_token": ...}, or the error GetSession gave.
  void RespondSession(const std::string& token, bool set_cookie,
                      httplib::Response& res);

  const GatewayOptions options_;
  const CsrfKey csrf_key_;
  const Replicas replicas_;
  const bool https_;
  CallRegistry calls_;
  std::atomic<int> open_streams_{0};
  std::atomic<bool> serving_{false};
  std::atomic<bool> stop_requested_{false};
  std::unique_ptr<httplib::Server> http_;
  std::string host_;
  int port_ = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_CONSOLE_WEB_GATEWAY_H_
