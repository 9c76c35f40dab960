// fanout_bench: tariff-alert's side of B2 (throughput), B3 (latency), B5 (one
// slow subscriber) and B6 (memory per idle subscriber). Starts
// bench/fanout_server (the server's real hub and SubscribeAlerts) as a child
// process on 127.0.0.1, opens --subscribers streams, each on its own
// connection, and measures what arrives. The peer, bench/pubsub_peer, does
// the same through redis-server; bench/run_all.sh runs both in one go.
//
// The streams read raw bytes and walk the protobuf wire format for the
// alerts' sequence and created_time: the cost a lean client pays, as hiredis
// is for the peer. Bounded: --alerts per run and --time-limit-s.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/bench_util.h"

extern char** environ;

namespace bench = tariffalert::bench;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr char kMethod[] = "/tariffalert.v1.AlertService/SubscribeAlerts";

// What every stream reports into.
struct Totals {
  explicit Totals(size_t alerts) : max_latency_ns(alerts + 1) {
    for (auto& l : max_latency_ns) l.store(-1);
  }
  std::atomic<uint64_t> deliveries{0};
  std::atomic<size_t> complete{0};
  std::atomic<size_t> live{0};
  std::atomic<size_t> done{0};
  // Per sequence, the latest arrival over the streams (ns after publish).
  std::vector<std::atomic<int64_t>> max_latency_ns;
};

bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    *value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Calls on_field(field, wire_type, value, begin, end) for each field of the
// message in [p, end); varints come in `value`, length-delimited fields as
// [begin, end). False on malformed bytes.
template <typename OnField>
bool WalkFields(const uint8_t* p, const uint8_t* end, OnField on_field) {
  while (p < end) {
    uint64_t tag = 0, value = 0;
    if (!ReadVarint(p, end, &tag)) return false;
    const int wire = static_cast<int>(tag & 7);
    const uint64_t field = tag >> 3;
    if (wire == 0) {
      if (!ReadVarint(p, end, &value)) return false;
      on_field(field, wire, value, p, p);
    } else if (wire == 2) {
      if (!ReadVarint(p, end, &value) ||
          value > static_cast<uint64_t>(end - p)) {
        return false;
      }
      on_field(field, wire, value, p, p + value);
      p += value;
    } else if (wire == 1 || wire == 5) {
      const size_t n = wire == 1 ? 8 : 4;
      if (static_cast<size_t>(end - p) < n) return false;
      p += n;
    } else {
      return false;
    }
  }
  return true;
}

// One subscription on the completion-queue API: the client's threads each
// poll their own CompletionQueue and run the streams placed on it.
class Stream {
 public:
  enum Op { kStart, kWrite, kWritesDone, kRead, kFinish, kOps };
  struct Tag {
    Stream* stream;
    Op op;
  };

  Stream(std::shared_ptr<grpc::Channel> channel, Totals* totals, size_t alerts,
         bool stall)
      : channel_(std::move(channel)),
        stub_(channel_),
        totals_(totals),
        alerts_(alerts),
        stall_(stall) {
    for (int op = 0; op < kOps; ++op)
      tags_[op] = Tag{this, static_cast<Op>(op)};
  }

  void Start(grpc::CompletionQueue* cq) {
    // An empty SubscribeAlertsRequest: every alert, live from now.
    // Retried by the channel if the connection fails, as publish_latency's.
    context_.set_wait_for_ready(true);
    call_ = stub_.PrepareCall(&context_, kMethod, cq);
    call_->StartCall(&tags_[kStart]);
  }
  void Cancel() { context_.TryCancel(); }
  bool done() const { return done_.load(); }
  grpc::Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  uint64_t received() const { return received_.load(); }

  // A completion of `op` on this stream's CQ thread.
  void On(Op op, bool ok) {
    switch (op) {
      case kStart:
        if (!ok) {
          call_->Finish(&finish_status_, &tags_[kFinish]);
          return;
        }
        call_->Write(request_, &tags_[kWrite]);
        // A stalled stream never reads: HTTP/2 flow control then stops the
        // server's writes to it, like a consumer that stopped reading its
        // socket. Finish completes when the server ends the call.
        if (stall_) {
          call_->Finish(&finish_status_, &tags_[kFinish]);
        } else {
          call_->Read(&in_, &tags_[kRead]);
        }
        return;
      case kWrite:
        if (ok) call_->WritesDone(&tags_[kWritesDone]);
        return;
      case kWritesDone:
        return;
      case kRead:
        if (!ok) {
          call_->Finish(&finish_status_, &tags_[kFinish]);
          return;
        }
        OnMessage();
        call_->Read(&in_, &tags_[kRead]);
        return;
      case kFinish: {
        std::lock_guard<std::mutex> lock(mu_);
        status_ = finish_status_;
      }
        done_.store(true);
        totals_->done.fetch_add(1);
        return;
      case kOps:
        return;
    }
  }

 private:
  void OnMessage() {
    const int64_t now = bench::RealtimeNanos();
    std::vector<grpc::Slice> slices;
    (void)in_.Dump(&slices);
    std::string joined;
    const uint8_t* begin = nullptr;
    const uint8_t* end = nullptr;
    if (slices.size() == 1) {
      begin = slices[0].begin();
      end = slices[0].end();
    } else {
      for (const grpc::Slice& s : slices) {
        joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      begin = reinterpret_cast<const uint8_t*>(joined.data());
      end = begin + joined.size();
    }
    uint64_t count = 0;
    WalkFields(begin, end,
               [&](uint64_t field, int wire, uint64_t, const uint8_t* b,
                   const uint8_t* e) {
                 if (field == 1 && wire == 2) {
                   ++count;
                   OnAlert(b, e, now);
                 }
               });
    if (!live_) {
      live_ = true;  // the first message is the heartbeat that says so
      totals_->live.fetch_add(1);
    }
    if (count > 0) {
      totals_->deliveries.fetch_add(count, std::memory_order_relaxed);
      if (received_.fetch_add(count) + count == alerts_) {
        totals_->complete.fetch_add(1);
      }
    }
  }

  void OnAlert(const uint8_t* b, const uint8_t* e, int64_t now) {
    uint64_t sequence = 0;
    int64_t created = 0;
    WalkFields(b, e,
               [&](uint64_t field, int wire, uint64_t value, const uint8_t* tb,
                   const uint8_t* te) {
                 if (field == 1 && wire == 0) sequence = value;
                 if (field == 17 && wire == 2) {
                   uint64_t seconds = 0, nanos = 0;
                   WalkFields(tb, te,
                              [&](uint64_t f, int w, uint64_t v, const uint8_t*,
                                  const uint8_t*) {
                                if (f == 1 && w == 0) seconds = v;
                                if (f == 2 && w == 0) nanos = v;
                              });
                   created = static_cast<int64_t>(seconds * 1000000000 + nanos);
                 }
               });
    if (sequence == 0 || sequence > alerts_) return;
    const int64_t latency = now - created;
    auto& slot = totals_->max_latency_ns[sequence];
    int64_t seen = slot.load(std::memory_order_relaxed);
    while (latency > seen && !slot.compare_exchange_weak(
                                 seen, latency, std::memory_order_relaxed)) {
    }
  }

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  Tag tags_[kOps];
  grpc::Slice empty_request_{std::string()};
  grpc::ByteBuffer request_{&empty_request_, 1};
  grpc::ByteBuffer in_;
  grpc::Status finish_status_;
  Totals* const totals_;
  const size_t alerts_;
  const bool stall_;
  bool live_ = false;
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> received_{0};
  mutable std::mutex mu_;
  grpc::Status status_;
};

// Runs a CompletionQueue's completions until it is shut down and drained.
void PollLoop(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<Stream::Tag*>(tag);
    t->stream->On(t->op, ok);
  }
}

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
    return -1;
  }
  return pid;
}

// Waits for the child to exit, up to `seconds`; then kills it.
void Reap(pid_t pid, double seconds) {
  const auto until = SteadyClock::now() + std::chrono::milliseconds(
                                              static_cast<int>(seconds * 1000));
  while (SteadyClock::now() < until) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

void RaiseFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tariff-alert fan-out benchmark (B2, B3, B5, B6)"};
  std::string server_binary, mode = "throughput", csv_path, bench_name;
  size_t subscribers = 100, alerts = 0, event_alerts = 1;
  double rate = 1000, time_limit_s = 60;
  bool stall_one = false;
  app.add_option("--server-binary", server_binary, "path to fanout_server")
      ->required();
  app.add_option("--mode", mode, "throughput | latency | idle")
      ->check(CLI::IsMember({"throughput", "latency", "idle"}));
  app.add_option("--subscribers", subscribers, "streams, one connection each")
      ->check(CLI::Range(1, 5000));
  app.add_option("--alerts", alerts,
                 "alerts to publish (default 200000 throughput, 3000 latency)");
  app.add_option("--event-alerts", event_alerts,
                 "throughput: alerts per hub Publish call");
  app.add_option("--rate", rate, "latency: alerts per second")
      ->check(CLI::PositiveNumber);
  app.add_flag("--stall-one", stall_one, "stream 0 never reads (B5)");
  app.add_option("--time-limit-s", time_limit_s, "the run stops by itself");
  app.add_option("--csv", csv_path, "append results here");
  app.add_option("--bench", bench_name, "name in the CSV (default by mode)");
  CLI11_PARSE(app, argc, argv);
  // Debian's Abseil checks lock order on every Lock, gRPC's own included.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (alerts == 0) alerts = mode == "throughput" ? 200000 : 3000;
  if (mode == "idle") alerts = 0;
  if (bench_name.empty()) {
    bench_name = mode == "throughput" ? "B2" : mode == "latency" ? "B3" : "B6";
  }
  RaiseFileLimit();

  char dir_template[] = "/tmp/ta-fanout-bench.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string port_file = std::string(dir) + "/port";
  char number[32];
  auto num = [&](double v) {
    std::snprintf(number, sizeof number, "%.17g", v);
    return std::string(number);
  };
  std::vector<std::string> server_args = {server_binary,
                                          "--port-file",
                                          port_file,
                                          "--mode",
                                          mode == "throughput" ? "saturate"
                                          : mode == "latency"  ? "paced"
                                                               : "idle",
                                          "--subscribers",
                                          std::to_string(subscribers),
                                          "--alerts",
                                          std::to_string(alerts),
                                          "--event-alerts",
                                          std::to_string(event_alerts),
                                          "--rate",
                                          num(rate),
                                          "--time-limit-s",
                                          num(time_limit_s + 10)};
  // The name in the printed line and the CSV's system column.
  const std::string system_name = "tariff-alert";
  const pid_t server = Spawn(server_args);
  if (server < 0) {
    std::fprintf(stderr, "fanout_bench: cannot start %s\n",
                 server_binary.c_str());
    return 1;
  }
  const auto deadline =
      SteadyClock::now() +
      std::chrono::milliseconds(static_cast<int>(time_limit_s * 1000));
  int port = 0;
  while (port == 0 && SteadyClock::now() < deadline) {
    std::ifstream in(port_file);
    if (!(in >> port)) {
      port = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (port == 0) {
    std::fprintf(stderr, "fanout_bench: the server wrote no port\n");
    Reap(server, 0);
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const long rss_before_kib = bench::ProcessMemoryKib(server, "VmRSS");

  Totals totals(alerts);
  // One CompletionQueue and polling thread per core (1, 2 and 4 threads
  // measured the same on B3).
  const size_t poll_threads =
      std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs;
  std::vector<std::thread> pollers;
  for (size_t i = 0; i < poll_threads; ++i) {
    cqs.push_back(std::make_unique<grpc::CompletionQueue>());
    pollers.emplace_back(PollLoop, cqs.back().get());
  }
  std::vector<std::unique_ptr<Stream>> streams;
  const std::string target = "127.0.0.1:" + std::to_string(port);
  for (size_t i = 0; i < subscribers; ++i) {
    grpc::ChannelArguments args;
    // One connection per subscriber, as each trading system has its own.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, -1);
    auto channel = grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args);
    streams.push_back(std::make_unique<Stream>(channel, &totals, alerts,
                                               stall_one && i == 0));
    streams.back()->Start(cqs[i % cqs.size()].get());
  }
  const size_t readers = subscribers - (stall_one ? 1 : 0);
  // Every reading stream live (its first heartbeat in).
  // Every reading stream live, or one ended (refused): no use waiting on.
  while (totals.live.load() < readers && totals.done.load() == 0 &&
         SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const bool all_live = totals.live.load() >= readers;
  if (!all_live) {
    // Say why: the first stream that ended, if one did (a refusal names
    // the server's limit), rather than a figure over fewer streams.
    std::string why = "no stream ended: the server is slow or not serving";
    for (const auto& s : streams) {
      if (!s->done()) continue;
      const grpc::Status st = s->status();
      why = "a stream ended with code " + std::to_string(st.error_code()) +
            ": " + st.error_message();
      break;
    }
    std::fprintf(stderr,
                 "fanout_bench: only %zu of %zu streams went live within the "
                 "time limit (%s)\n",
                 totals.live.load(), readers, why.c_str());
  }

  bench::CsvOut csv(csv_path);
  const std::string scenario =
      "subs=" + std::to_string(subscribers) +
      (mode == "latency" ? ",rate=" + num(rate) : std::string()) +
      (stall_one ? ",one stalled" : std::string());
  int exit_code = 0;
  if (mode == "idle") {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const long rss_kib = bench::ProcessMemoryKib(server, "VmRSS");
    const double per_sub_kib = static_cast<double>(rss_kib - rss_before_kib) /
                               static_cast<double>(subscribers);
    std::printf(
        "%s %s %-28s live %zu/%zu  server RSS %ld -> %ld KiB, "
        "%.1f KiB per idle subscriber\n",
        bench_name.c_str(), system_name.c_str(), scenario.c_str(),
        totals.live.load(), subscribers, rss_before_kib, rss_kib, per_sub_kib);
    csv.Row(bench_name, system_name, scenario, "rss_before_kib",
            static_cast<double>(rss_before_kib), "KiB");
    csv.Row(bench_name, system_name, scenario, "rss_kib",
            static_cast<double>(rss_kib), "KiB");
    csv.Row(bench_name, system_name, scenario, "rss_per_subscriber_kib",
            per_sub_kib, "KiB");
    if (!all_live) exit_code = 2;
  } else {
    // Wait for the first alert, then time until every reading stream has
    // them all.
    while (totals.deliveries.load() == 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const auto t0 = SteadyClock::now();
    const double cpu0 = bench::ProcessCpuSeconds(server);
    while (totals.complete.load() < readers && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const auto t1 = SteadyClock::now();
    const double cpu1 = bench::ProcessCpuSeconds(server);
    const long hwm_kib = bench::ProcessMemoryKib(server, "VmHWM");
    const bool finished = totals.complete.load() >= readers;
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    uint64_t reader_deliveries = 0;
    for (size_t i = 0; i < streams.size(); ++i) {
      if (!(stall_one && i == 0)) reader_deliveries += streams[i]->received();
    }
    if (mode == "throughput") {
      const double per_s = static_cast<double>(reader_deliveries) / seconds;
      const double cpu = cpu1 - cpu0;
      std::printf(
          "%s %s %-28s %10.0f deliveries/s  %10.0f per server "
          "CPU-s (%.2f CPU-s in %.2f s)%s\n",
          bench_name.c_str(), system_name.c_str(), scenario.c_str(), per_s,
          static_cast<double>(reader_deliveries) / cpu, cpu, seconds,
          finished ? "" : "  TIMED OUT");
      csv.Row(bench_name, system_name, scenario, "deliveries_per_s", per_s,
              "1/s");
      csv.Row(bench_name, system_name, scenario, "deliveries_per_server_cpu_s",
              static_cast<double>(reader_deliveries) / cpu, "1/CPU-s");
      csv.Row(bench_name, system_name, scenario, "server_cpu_s", cpu, "s");
    } else {
      std::vector<double> us;
      size_t lost = 0;
      for (size_t s = 1; s <= alerts; ++s) {
        const int64_t l = totals.max_latency_ns[s].load();
        if (l < 0) {
          ++lost;
        } else {
          us.push_back(static_cast<double>(l) / 1000);
        }
      }
      // With a stalled stream, "last subscriber" means the last of the
      // others; the stalled one never counts (it reads nothing).
      const double p50 = bench::Percentile(us, 0.5);
      const double p99 = bench::Percentile(us, 0.99);
      const double p999 = bench::Percentile(us, 0.999);
      std::string stalled_end;
      if (stall_one) {
        stalled_end =
            totals.done.load() > 0
                ? "stalled stream ended: " +
                      std::to_string(streams[0]->status().error_code())
                : "stalled stream still open";
      }
      std::printf(
          "%s %s %-28s publish->last subscriber p50 %8.1f us  "
          "p99 %8.1f us  p99.9 %8.1f us  lost %zu  server RSS peak %ld "
          "KiB%s %s\n",
          bench_name.c_str(), system_name.c_str(), scenario.c_str(), p50, p99,
          p999, lost, hwm_kib, finished ? "" : "  TIMED OUT",
          stalled_end.c_str());
      csv.Row(bench_name, system_name, scenario, "p50_us", p50, "us");
      csv.Row(bench_name, system_name, scenario, "p99_us", p99, "us");
      csv.Row(bench_name, system_name, scenario, "p999_us", p999, "us");
      csv.Row(bench_name, system_name, scenario, "lost",
              static_cast<double>(lost), "alerts");
      csv.Row(bench_name, system_name, scenario, "server_rss_peak_kib",
              static_cast<double>(hwm_kib), "KiB");
      if (lost > 0) exit_code = 2;
    }
    if (!finished) exit_code = 2;
  }
  for (auto& s : streams) s->Cancel();
  const auto until = SteadyClock::now() + std::chrono::seconds(10);
  while (totals.done.load() < streams.size() && SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Reap(server, 10);
  if (totals.done.load() == streams.size()) {
    for (auto& cq : cqs) cq->Shutdown();
    for (std::thread& t : pollers) t.join();
    streams.clear();
  } else {
    // A stream that never finished may still get completions: leave the
    // streams and their queues to the process exit.
    std::fprintf(stderr, "fanout_bench: %zu streams did not finish\n",
                 streams.size() - totals.done.load());
    for (auto& s : streams) (void)s.release();
    for (auto& cq : cqs) (void)cq.release();
    for (std::thread& t : pollers) t.detach();
  }
  std::remove(port_file.c_str());
  rmdir(dir);
  return exit_code;
}
