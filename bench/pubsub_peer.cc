// pubsub_peer: the Redis pub/sub peer for the fan-out benchmarks of issue 5
// (B2 throughput, B3 latency, B5 slow consumer). What a user would otherwise
// wire up: redis-server PUBLISH to N hiredis SUBSCRIBE connections, one
// channel, fixed-size payloads.
//
// Each message is --payload bytes: "IIIIIIIIII TTTTTTTTTTTTTTTTTTT " (the
// message index, 10 digits, and the publish time, CLOCK_REALTIME ns, 19
// digits, so another process on the machine could compare), '.' padding after.
//
// Subscribers are N separate connections, read on one or two threads with
// non-blocking sockets and epoll; each connection's bytes go through its own
// hiredis reader. The publisher has its own connection:
//   throughput: PUBLISH --pipeline commands at a time, as fast as it can; the
//     window runs from the first PUBLISH to the moment every (non-stalled)
//     subscriber holds all messages. Also reports the redis-server CPU time
//     in that window (utime+stime of its process, from /proc/<pid>/stat).
//   latency: message i is sent at start + i/--rate without waiting for
//     earlier replies (open loop, so an overloaded server shows as latency,
//     not as a slower schedule); per message, the latency is publish time ->
//     receipt at the last subscriber to get it.
// --stall-one makes subscriber #0 subscribe and never read (a slow consumer);
// it is left out of completion and latency figures, and the report says
// whether redis-server disconnected it (client-output-buffer-limit pubsub).
//
// Loopback only (127.0.0.1). Bounded: --messages, and --time-limit-s for the
// whole run, after which it reports what it has and exits with status 2.
// Other failures (cannot connect, bad reply) exit with status 1.

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace {

constexpr const char* kHost = "127.0.0.1";
constexpr const char* kChannel = "ta-bench";
constexpr size_t kHeader = 31;   // index, space, time, space; then padding
constexpr ssize_t kFeed = 1024;  // bytes per redisReaderFeed (see ReadLoop)

// CLOCK_MONOTONIC for windows and pacing (stamps use CLOCK_REALTIME,
// bench::RealtimeNanos, which another process can compare).
int64_t SteadyNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Writes v as exactly `width` decimal digits (zero padded) at p.
void PutDigits(char* p, int width, uint64_t v) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// Reads `width` decimal digits at p; false if any is not a digit.
bool GetDigits(const char* p, int width, uint64_t* v) {
  uint64_t x = 0;
  for (int i = 0; i < width; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    x = x * 10 + d;
  }
  *v = x;
  return true;
}

// Stamps message `index` with the current CLOCK_REALTIME into buf (the
// padding after the header is written once by the caller).
void Stamp(char* buf, uint64_t index) {
  PutDigits(buf, 10, index);
  buf[10] = ' ';
  PutDigits(buf + 11, 19,
            static_cast<uint64_t>(tariffalert::bench::RealtimeNanos()));
  buf[30] = ' ';
}

redisContext* Connect(int port) {
  const timeval tv{5, 0};
  redisContext* c = redisConnectWithTimeout(kHost, port, tv);
  if (c == nullptr || c->err) {
    std::fprintf(stderr, "cannot connect to %s:%d: %s\n", kHost, port,
                 c != nullptr ? c->errstr : "out of memory");
    if (c != nullptr) redisFree(c);
    return nullptr;
  }
  return c;
}

// A command whose reply we only need as an integer (or -1 on failure).
long long IntegerCommand(redisContext* c, const char* cmd) {
  auto* r = static_cast<redisReply*>(redisCommand(c, cmd));
  long long v = -1;
  if (r != nullptr && r->type == REDIS_REPLY_INTEGER) v = r->integer;
  freeReplyObject(r);
  return v;
}

// PUBSUB NUMSUB <channel>: subscribers of the channel, -1 on failure.
long long NumSub(redisContext* c) {
  auto* r =
      static_cast<redisReply*>(redisCommand(c, "PUBSUB NUMSUB %s", kChannel));
  long long v = -1;
  if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[1]->type == REDIS_REPLY_INTEGER) {
    v = r->element[1]->integer;
  }
  freeReplyObject(r);
  return v;
}

// process_id of redis-server from INFO server, -1 if absent.
long ServerPid(redisContext* c) {
  auto* r = static_cast<redisReply*>(redisCommand(c, "INFO server"));
  long pid = -1;
  if (r != nullptr && r->type == REDIS_REPLY_STRING) {
    const char* p = std::strstr(r->str, "process_id:");
    if (p != nullptr) pid = std::strtol(p + 11, nullptr, 10);
  }
  freeReplyObject(r);
  return pid;
}

// Nearest-rank percentile of sorted values.
double NearestRank(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  rank = std::min(std::max<size_t>(rank, 1), sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

// One subscriber connection.
struct Sub {
  redisContext* c = nullptr;  // only its fd and reader are used once reading
  uint64_t received = 0;
  bool complete = false;  // holds all messages
  bool dead = false;      // closed or unreadable
};

// State shared by the reader threads and main.
struct Shared {
  uint64_t messages = 0;
  bool latency = false;
  std::atomic<int> pending{0};  // non-stalled subs neither complete nor dead
  std::atomic<int64_t> finish_ns{0};  // SteadyNs when pending reached 0
  std::atomic<int> disconnected{0};
  std::atomic<uint64_t> malformed{0};  // replies that were not our messages
  std::atomic<bool> stop{false};
};

// One reader thread: its epoll set, and per-message tallies merged at the end
// (no atomics on the hot path).
struct Reader {
  int epfd = -1;
  std::vector<uint32_t> got;      // per message: deliveries on this thread
  std::vector<int64_t> worst_ns;  // per message: max latency (latency mode)
  uint64_t deliveries = 0;
  std::thread thread;
};

void Settle(Shared& sh) {
  if (sh.pending.fetch_sub(1) == 1) sh.finish_ns.store(SteadyNs());
}

void Drop(Shared& sh, Reader& rd, Sub& s) {
  epoll_ctl(rd.epfd, EPOLL_CTL_DEL, s.c->fd, nullptr);
  s.dead = true;
  sh.disconnected.fetch_add(1);
  if (!s.complete) Settle(sh);
}

// One reply on a subscriber: ["message", channel, payload].
void OnReply(Shared& sh, Reader& rd, Sub& s, const redisReply* r,
             int64_t now_ns) {
  uint64_t index = 0, sent_ns = 0;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
      r->element[0]->type != REDIS_REPLY_STRING ||
      std::strcmp(r->element[0]->str, "message") != 0 ||
      r->element[2]->type != REDIS_REPLY_STRING ||
      r->element[2]->len < static_cast<int>(kHeader) ||
      !GetDigits(r->element[2]->str, 10, &index) ||
      !GetDigits(r->element[2]->str + 11, 19, &sent_ns) ||
      index >= sh.messages) {
    sh.malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ++rd.got[index];
  ++rd.deliveries;
  if (sh.latency) {
    const int64_t lat = now_ns - static_cast<int64_t>(sent_ns);
    if (lat > rd.worst_ns[index]) rd.worst_ns[index] = lat;
  }
  if (++s.received == sh.messages) {
    s.complete = true;
    Settle(sh);
  }
}

void ReadLoop(Shared& sh, Reader& rd) {
  std::vector<char> buf(256 * 1024);
  epoll_event events[128];
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(rd.epfd, events, 128, 20);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      return;
    }
    for (int i = 0; i < n; ++i) {
      Sub& s = *static_cast<Sub*>(events[i].data.ptr);
      // Level-triggered: one read per readiness; what is left comes next time.
      const ssize_t got = read(s.c->fd, buf.data(), buf.size());
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        Drop(sh, rd, s);
        continue;
      }
      const int64_t now_ns =
          tariffalert::bench::RealtimeNanos();  // receipt time of everything
                                                // read
      // hiredis 0.14 moves the unparsed rest of its buffer to the front each
      // time it has consumed 1 KiB, so one big feed costs quadratic copying:
      // feed it kFeed bytes at a time and take the replies after each.
      redisReader* reader = s.c->reader;
      bool ok = true;
      for (ssize_t off = 0; ok && off < got; off += kFeed) {
        const size_t len =
            static_cast<size_t>(std::min<ssize_t>(kFeed, got - off));
        if (redisReaderFeed(reader, buf.data() + off, len) != REDIS_OK) {
          ok = false;
          break;
        }
        void* reply = nullptr;
        int rc;
        while ((rc = redisReaderGetReply(reader, &reply)) == REDIS_OK &&
               reply != nullptr) {
          OnReply(sh, rd, s, static_cast<redisReply*>(reply), now_ns);
          freeReplyObject(reply);
          reply = nullptr;
        }
        ok = rc == REDIS_OK;
      }
      if (!ok) Drop(sh, rd, s);
    }
  }
}

// Writes all of data to a non-blocking socket; false on error or deadline.
bool WriteAll(int fd, const char* data, size_t len, int64_t deadline_ns) {
  while (len > 0) {
    const ssize_t n = write(fd, data, len);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    const int64_t left_ms = (deadline_ns - SteadyNs()) / 1000000;
    if (left_ms <= 0) return false;
    pollfd pfd{fd, POLLOUT, 0};
    poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 100)));
  }
  return true;
}

struct Row {
  std::string metric;
  double value;
  std::string unit;
  int precision;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int subscribers = 100;
  std::string mode = "throughput";
  uint64_t messages = 0;  // 0: the mode's default
  double rate = 1000;
  int pipeline = 64;
  int payload_bytes = 128;
  bool stall_one = false;
  int time_limit_s = 60;
  int reader_threads = 1;
  std::string csv;
  std::string bench;
  CLI::App app{
      "Redis pub/sub fan-out peer: PUBLISH to N hiredis SUBSCRIBE connections "
      "on 127.0.0.1"};
  app.add_option("--redis-port", port)->required()->check(CLI::Range(1, 65535));
  app.add_option("--subscribers", subscribers)
      ->capture_default_str()
      ->check(CLI::Range(1, 5000));
  app.add_option("--mode", mode)
      ->capture_default_str()
      ->check(CLI::IsMember({"throughput", "latency"}));
  app.add_option("--messages", messages,
                 "default 200000 (throughput), 3000 (latency)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000000}));
  app.add_option("--rate", rate, "messages/s published in latency mode")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1000000.0));
  app.add_option("--pipeline", pipeline, "PUBLISH depth in throughput mode")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--payload", payload_bytes)
      ->capture_default_str()
      ->check(CLI::Range(static_cast<int>(kHeader), 1 << 20));
  app.add_flag("--stall-one", stall_one,
               "subscriber #0 subscribes and never reads (slow consumer)");
  app.add_option("--time-limit-s", time_limit_s)
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--reader-threads", reader_threads)
      ->capture_default_str()
      ->check(CLI::Range(1, 2));
  app.add_option("--csv", csv, "append long-format rows to this file");
  app.add_option("--bench", bench, "default B2 (throughput), B3 (latency)");
  CLI11_PARSE(app, argc, argv);

  const bool latency = mode == "latency";
  if (messages == 0) messages = latency ? 3000 : 200000;
  if (bench.empty()) bench = latency ? "B3" : "B2";
  if (stall_one && subscribers < 2) {
    std::fprintf(stderr, "--stall-one needs at least 2 subscribers\n");
    return 1;
  }
  const int active = subscribers - (stall_one ? 1 : 0);
  const int64_t deadline_ns =
      SteadyNs() + static_cast<int64_t>(time_limit_s) * 1000000000;
  auto timed_out = [&] { return SteadyNs() >= deadline_ns; };

  // One descriptor per subscriber: raise the soft limit to the hard one.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
      nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (nofile.rlim_cur != RLIM_INFINITY &&
      nofile.rlim_cur < static_cast<rlim_t>(subscribers) + 32) {
    std::fprintf(stderr, "RLIMIT_NOFILE %llu is too low for %d subscribers\n",
                 static_cast<unsigned long long>(nofile.rlim_cur), subscribers);
    return 1;
  }

  redisContext* control = Connect(port);
  if (control == nullptr) return 1;
  const long server_pid = ServerPid(control);
  if (tariffalert::bench::ProcessCpuSeconds(static_cast<pid_t>(server_pid)) <
      0) {
    std::fprintf(stderr,
                 "warning: cannot read /proc/%ld/stat; no server CPU figures\n",
                 server_pid);
  }
  if (NumSub(control) != 0) {
    std::fprintf(stderr,
                 "channel %s already has subscribers (or NUMSUB failed)\n",
                 kChannel);
    return 1;
  }

  // Subscribe N connections (blocking, one round trip each), then switch the
  // sockets to non-blocking for epoll.
  std::vector<Sub> subs(subscribers);
  long long stalled_id = -1;
  for (int i = 0; i < subscribers; ++i) {
    Sub& s = subs[i];
    s.c = Connect(port);
    if (s.c == nullptr) {
      std::fprintf(stderr, "subscriber %d of %d\n", i, subscribers);
      return 1;
    }
    if (stall_one && i == 0) stalled_id = IntegerCommand(s.c, "CLIENT ID");
    auto* r =
        static_cast<redisReply*>(redisCommand(s.c, "SUBSCRIBE %s", kChannel));
    const bool ok = r != nullptr && r->type == REDIS_REPLY_ARRAY &&
                    r->elements == 3 &&
                    r->element[0]->type == REDIS_REPLY_STRING &&
                    std::strcmp(r->element[0]->str, "subscribe") == 0;
    freeReplyObject(r);
    if (!ok) {
      std::fprintf(stderr, "SUBSCRIBE failed on subscriber %d: %s\n", i,
                   s.c->err ? s.c->errstr : "unexpected reply");
      return 1;
    }
    const int flags = fcntl(s.c->fd, F_GETFL);
    fcntl(s.c->fd, F_SETFL, flags | O_NONBLOCK);
    if (timed_out()) {
      std::fprintf(stderr, "time limit reached while subscribing (%d of %d)\n",
                   i + 1, subscribers);
      return 2;
    }
  }
  // Every subscription must be live before the first PUBLISH (bounded 30 s).
  const int64_t numsub_deadline =
      std::min(deadline_ns, SteadyNs() + int64_t{30} * 1000000000);
  for (long long n = NumSub(control); n != subscribers; n = NumSub(control)) {
    if (SteadyNs() >= numsub_deadline) {
      std::fprintf(stderr, "PUBSUB NUMSUB %s is %lld, expected %d\n", kChannel,
                   n, subscribers);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  // Reader threads; the stalled subscriber is in no epoll set.
  Shared sh;
  sh.messages = messages;
  sh.latency = latency;
  sh.pending.store(active);
  std::vector<Reader> readers(reader_threads);
  for (Reader& rd : readers) {
    rd.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (rd.epfd < 0) {
      std::perror("epoll_create1");
      return 1;
    }
    rd.got.assign(messages, 0);
    if (latency) rd.worst_ns.assign(messages, 0);
  }
  for (int i = stall_one ? 1 : 0, k = 0; i < subscribers; ++i, ++k) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &subs[i];
    if (epoll_ctl(readers[k % reader_threads].epfd, EPOLL_CTL_ADD,
                  subs[i].c->fd, &ev) != 0) {
      std::perror("epoll_ctl");
      return 1;
    }
  }
  for (Reader& rd : readers) {
    rd.thread = std::thread([&sh, &rd] { ReadLoop(sh, rd); });
  }

  redisContext* pub = Connect(port);
  if (pub == nullptr) return 1;
  redisSetTimeout(pub, timeval{5, 0});

  std::string payload(static_cast<size_t>(payload_bytes), '.');
  char* const p = &payload[0];
  uint64_t published = 0;
  long long min_receivers = subscribers;  // smallest PUBLISH reply seen
  bool publish_failed = false;
  std::vector<int64_t> behind_ns;  // latency mode: actual - scheduled send
  auto take_reply = [&](void* reply) {
    auto* r = static_cast<redisReply*>(reply);
    if (r == nullptr || r->type != REDIS_REPLY_INTEGER) {
      publish_failed = true;
    } else {
      min_receivers = std::min(min_receivers, r->integer);
    }
    freeReplyObject(r);
  };

  // Peak RSS of redis-server over the run, sampled every 50 ms (the slow
  // consumer's backlog sits in its output buffer; bytes queued in the
  // kernel's socket buffers are not in RSS).
  long rss_peak_kib = tariffalert::bench::ProcessMemoryKib(
      static_cast<pid_t>(server_pid), "VmRSS");
  int64_t next_rss_ns = 0;
  auto sample_rss = [&] {
    const int64_t now = SteadyNs();
    if (now < next_rss_ns) return;
    next_rss_ns = now + 50000000;
    rss_peak_kib =
        std::max(rss_peak_kib, tariffalert::bench::ProcessMemoryKib(
                                   static_cast<pid_t>(server_pid), "VmRSS"));
  };

  const double cpu0 =
      tariffalert::bench::ProcessCpuSeconds(static_cast<pid_t>(server_pid));
  const int64_t start_ns = SteadyNs();
  if (!latency) {
    // Saturating publisher: append `pipeline` PUBLISH, then read their replies.
    while (published < messages && !publish_failed && !timed_out()) {
      const uint64_t batch = std::min<uint64_t>(static_cast<uint64_t>(pipeline),
                                                messages - published);
      for (uint64_t j = 0; j < batch; ++j) {
        Stamp(p, published + j);
        redisAppendCommand(pub, "PUBLISH %s %b", kChannel, p, payload.size());
      }
      for (uint64_t j = 0; j < batch && !publish_failed; ++j) {
        void* reply = nullptr;
        if (redisGetReply(pub, &reply) != REDIS_OK) {
          publish_failed = true;
          break;
        }
        take_reply(reply);
      }
      if (!publish_failed) published += batch;
      sample_rss();
    }
  } else {
    // Open-loop paced publisher: message i goes out at start + i/rate (late
    // ones at once) whether or not earlier replies are back. Waiting for each
    // reply would slow the schedule exactly when the server falls behind and
    // hide its queueing; replies are collected as they come instead.
    fcntl(pub->fd, F_SETFL, fcntl(pub->fd, F_GETFL) | O_NONBLOCK);
    uint64_t replies = 0;
    std::vector<char> rbuf(64 * 1024);
    auto collect = [&](int wait_ms) {  // false once the connection failed
      pollfd pfd{pub->fd, POLLIN, 0};
      if (poll(&pfd, 1, wait_ms) <= 0) return true;
      const ssize_t got = read(pub->fd, rbuf.data(), rbuf.size());
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) return true;
      if (got <= 0 || redisReaderFeed(pub->reader, rbuf.data(),
                                      static_cast<size_t>(got)) != REDIS_OK) {
        publish_failed = true;
        return false;
      }
      void* reply = nullptr;
      while (!publish_failed &&
             redisReaderGetReply(pub->reader, &reply) == REDIS_OK &&
             reply != nullptr) {
        take_reply(reply);
        reply = nullptr;
        ++replies;
      }
      return !publish_failed;
    };
    for (uint64_t i = 0; i < messages && !publish_failed && !timed_out(); ++i) {
      const int64_t due_ns =
          start_ns + static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate);
      const timespec due{static_cast<time_t>(due_ns / 1000000000),
                         static_cast<long>(due_ns % 1000000000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, nullptr) ==
             EINTR) {
      }
      // The stamp is the actual send time; how far that is behind the
      // schedule is reported separately (it shows an overloaded server).
      behind_ns.push_back(SteadyNs() - due_ns);
      Stamp(p, i);
      char* cmd = nullptr;
      const int len = redisFormatCommand(&cmd, "PUBLISH %s %b", kChannel, p,
                                         payload.size());
      const bool sent =
          len > 0 &&
          WriteAll(pub->fd, cmd, static_cast<size_t>(len), deadline_ns);
      redisFreeCommand(cmd);
      if (!sent) {
        publish_failed = true;
        break;
      }
      ++published;
      collect(0);
      sample_rss();
    }
    while (!publish_failed && replies < published && !timed_out()) collect(20);
  }
  if (publish_failed) {
    std::fprintf(
        stderr, "PUBLISH failed after %" PRIu64 " messages: %s\n", published,
        pub->err ? pub->errstr : "unexpected reply or connection lost");
  }

  // Wait until every non-stalled subscriber holds every message (or is gone).
  while (!publish_failed && sh.pending.load() > 0 && !timed_out()) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    sample_rss();
  }
  const bool all_in = sh.pending.load() == 0;
  const int64_t end_ns = all_in ? sh.finish_ns.load() : SteadyNs();
  const double cpu1 =
      tariffalert::bench::ProcessCpuSeconds(static_cast<pid_t>(server_pid));
  next_rss_ns = 0;
  sample_rss();
  sh.stop.store(true);
  for (Reader& rd : readers) rd.thread.join();
  const bool hit_limit = !all_in && !publish_failed;

  // Merge the per-thread tallies.
  uint64_t deliveries = 0;
  std::vector<uint32_t> got(messages, 0);
  std::vector<int64_t> worst(latency ? messages : 0, 0);
  for (const Reader& rd : readers) {
    deliveries += rd.deliveries;
    for (uint64_t i = 0; i < messages; ++i) {
      got[i] += rd.got[i];
      if (latency) worst[i] = std::max(worst[i], rd.worst_ns[i]);
    }
    close(rd.epfd);
  }
  // A published message is lost if some non-stalled subscriber lacks it.
  uint64_t lost = 0;
  std::vector<int64_t> lat_ns;  // per fully delivered message: max over subs
  for (uint64_t i = 0; i < published; ++i) {
    if (got[i] < static_cast<uint32_t>(active)) {
      ++lost;
    } else if (latency) {
      lat_ns.push_back(worst[i]);
    }
  }
  std::sort(lat_ns.begin(), lat_ns.end());
  uint64_t min_per_sub = UINT64_MAX, max_per_sub = 0;
  for (int i = stall_one ? 1 : 0; i < subscribers; ++i) {
    min_per_sub = std::min(min_per_sub, subs[i].received);
    max_per_sub = std::max(max_per_sub, subs[i].received);
  }

  // Slow consumer: still connected? (CLIENT LIST ID lists nothing once gone.)
  int stalled_disconnected = -1;  // -1: unknown
  long long stalled_omem = -1;
  if (stall_one && stalled_id >= 0) {
    auto* r = static_cast<redisReply*>(
        redisCommand(control, "CLIENT LIST ID %lld", stalled_id));
    if (r != nullptr && r->type == REDIS_REPLY_STRING) {
      const char* o = std::strstr(r->str, " omem=");
      stalled_disconnected = r->len == 0 ? 1 : 0;
      if (o != nullptr) stalled_omem = std::strtoll(o + 6, nullptr, 10);
    }
    freeReplyObject(r);
  }

  const double window_s = static_cast<double>(end_ns - start_ns) / 1e9;
  const bool have_cpu = cpu0 >= 0 && cpu1 >= 0;
  const double server_cpu_s = have_cpu ? cpu1 - cpu0 : -1;
  std::string case_name = "subs=" + std::to_string(subscribers);
  if (latency) {
    char r[32];
    std::snprintf(r, sizeof r, ",rate=%.17g", rate);
    case_name += r;
  }
  if (stall_one) case_name += ",one stalled";  // as bench/fanout_bench
  if (payload_bytes != 128)
    case_name += ",payload=" + std::to_string(payload_bytes);
  if (!latency && pipeline != 64)
    case_name += ",pipeline=" + std::to_string(pipeline);

  std::vector<Row> rows;
  if (!latency) {
    const double per_s =
        window_s > 0 ? static_cast<double>(deliveries) / window_s : 0;
    rows.push_back({"deliveries_per_s", per_s, "1/s", 0});
    if (have_cpu) {
      rows.push_back({"deliveries_per_server_cpu_s",
                      server_cpu_s > 0
                          ? static_cast<double>(deliveries) / server_cpu_s
                          : 0,
                      "1/cpu_s", 0});
      rows.push_back({"server_cpu_s", server_cpu_s, "s", 2});
    }
    rows.push_back({"messages", static_cast<double>(published), "count", 0});
    rows.push_back(
        {"subscribers", static_cast<double>(subscribers), "count", 0});
  } else {
    rows.push_back({"p50_us", NearestRank(lat_ns, 0.50) / 1e3, "us", 1});
    rows.push_back({"p99_us", NearestRank(lat_ns, 0.99) / 1e3, "us", 1});
    rows.push_back({"p999_us", NearestRank(lat_ns, 0.999) / 1e3, "us", 1});
    rows.push_back({"deliveries", static_cast<double>(deliveries), "count", 0});
    rows.push_back({"lost", static_cast<double>(lost), "count", 0});
    rows.push_back({"messages", static_cast<double>(published), "count", 0});
  }
  if (rss_peak_kib >= 0) {
    rows.push_back(
        {"server_rss_peak_kib", static_cast<double>(rss_peak_kib), "KiB", 0});
  }
  if (stall_one && stalled_disconnected >= 0) {
    rows.push_back({"stalled_disconnected",
                    static_cast<double>(stalled_disconnected), "bool", 0});
    if (stalled_omem >= 0) {
      rows.push_back({"stalled_output_buffer_bytes",
                      static_cast<double>(stalled_omem), "B", 0});
    }
  }
  if (hit_limit) rows.push_back({"timed_out", 1, "bool", 0});

  // Human table.
  std::printf("%s redis-pubsub %s: %d subscribers%s, %" PRIu64 " of %" PRIu64
              " messages x %d B, ",
              bench.c_str(), case_name.c_str(), subscribers,
              stall_one ? " (#0 stalled)" : "", published, messages,
              payload_bytes);
  if (latency) {
    std::printf("paced %g/s", rate);
  } else {
    std::printf("pipeline %d", pipeline);
  }
  std::printf(", %d reader thread%s, 127.0.0.1:%d\n", reader_threads,
              reader_threads == 1 ? "" : "s", port);
  for (const Row& r : rows) {
    std::printf("  %-28s %14.*f %s\n", r.metric.c_str(), r.precision, r.value,
                r.unit.c_str());
  }
  std::printf("  %-28s %14.3f s\n", "window", window_s);
  if (latency && have_cpu) {
    std::printf("  %-28s %14.2f s\n", "server_cpu_s", server_cpu_s);
  }
  if (latency) {
    std::sort(behind_ns.begin(), behind_ns.end());
    std::printf("  %-28s %14.1f us p50, %.1f us p99, %.1f us max\n",
                "publisher behind schedule", NearestRank(behind_ns, 0.5) / 1e3,
                NearestRank(behind_ns, 0.99) / 1e3,
                NearestRank(behind_ns, 1.0) / 1e3);
  }
  std::printf("  %-28s %14" PRIu64 " .. %" PRIu64 "\n",
              "per-subscriber received", min_per_sub, max_per_sub);
  if (min_receivers != subscribers) {
    std::printf("  PUBLISH reached as few as %lld subscribers (of %d)\n",
                min_receivers, subscribers);
  }
  if (sh.disconnected.load() > 0) {
    std::printf("  %d non-stalled subscriber(s) were disconnected\n",
                sh.disconnected.load());
  }
  if (sh.malformed.load() > 0) {
    std::printf("  %" PRIu64 " malformed replies ignored\n",
                sh.malformed.load());
  }
  if (latency && lost > 0) {
    std::printf("  percentiles cover the %zu messages every subscriber got\n",
                lat_ns.size());
  }
  if (stall_one) {
    if (stalled_disconnected == 1) {
      std::printf("  stalled subscriber: disconnected by redis-server\n");
    } else if (stalled_disconnected == 0) {
      std::printf(
          "  stalled subscriber: still connected, output buffer %lld B\n",
          stalled_omem);
    } else {
      std::printf("  stalled subscriber: state unknown\n");
    }
  }
  if (hit_limit) {
    std::printf("  TIMED OUT after %d s: figures cover what arrived\n",
                time_limit_s);
  }

  bool csv_ok = true;
  const tariffalert::bench::CsvOut csv_out(csv);
  for (const Row& r : rows) {
    csv_ok &= csv_out.Row(bench, "redis-pubsub", case_name, r.metric, r.value,
                          r.unit);
  }
  if (!csv_ok) std::fprintf(stderr, "cannot append to %s\n", csv.c_str());

  redisFree(pub);
  for (Sub& s : subs) redisFree(s.c);
  redisFree(control);
  if (publish_failed || !csv_ok) return 1;
  return hit_limit ? 2 : 0;
}
