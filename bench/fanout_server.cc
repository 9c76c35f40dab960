// fanout_server: the server's real fan-out path (AlertHub and AlertService's
// SubscribeAlerts, the code tariff-alertd runs) on 127.0.0.1, fed by an
// in-process publisher of synthetic 128-byte alerts instead of scored
// events, so B2/B3/B5/B6 measure delivery alone. bench/fanout_bench starts it,
// subscribes, and measures; this process only publishes.
//
// Modes: `saturate` publishes --alerts as fast as the slowest live
// subscriber's queue allows (it waits while any queue is more than half full,
// so nobody is cut off for the publisher's speed); `paced` publishes one
// alert every 1/--rate s; `idle` publishes nothing. Each alert's created_time
// is the instant it is handed to the hub (CLOCK_REALTIME), for latency.
// Publishing starts once --subscribers streams are live; the process exits
// when they have all gone again, or after --time-limit-s.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "server/common/clock.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/encoded_alert.h"
#include "server/service/services.h"
#include "tariffalert/v1/alert.pb.h"

namespace ta = tariffalert;
namespace v1 = tariffalert::v1;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kAlertBytes = 128;

// A ticker alert of exactly kAlertBytes serialized bytes, stamped now.
ta::EncodedAlertPtr MakeAlert(uint64_t sequence) {
  v1::Alert alert;
  alert.set_sequence(sequence);
  alert.set_alert_id("bench-" + std::to_string(sequence));
  alert.set_event_id(alert.alert_id());
  alert.set_subject_kind(v1::SUBJECT_KIND_TICKER);
  alert.set_subject("S00042");
  alert.set_country("US");
  alert.set_imposing_country("US");
  alert.add_target_countries("CN");
  alert.set_score_bps(-123.4);
  alert.set_severity(v1::SEVERITY_HIGH);
  const int64_t now = ta::bench::RealtimeNanos();
  alert.mutable_created_time()->set_seconds(now / 1000000000);
  alert.mutable_created_time()->set_nanos(
      static_cast<int32_t>(now % 1000000000));
  // Pad the headline to the target size (it is a string: 2 bytes of tag and
  // length for up to 127 bytes of text).
  const size_t used = alert.ByteSizeLong() + 2;
  alert.set_headline(
      std::string(used < kAlertBytes ? kAlertBytes - used : 0, 'x'));
  return ta::EncodeAlert(alert);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fan-out benchmark server (started by fanout_bench)"};
  std::string port_file, mode = "saturate";
  size_t subscribers = 1, alerts = 100000, event_alerts = 1;
  double rate = 1000, time_limit_s = 120;
  size_t queue_alerts = ta::QueueLimits{}.max_alerts;
  app.add_option("--port-file", port_file, "write the listening port here")
      ->required();
  app.add_option("--mode", mode, "saturate | paced | idle")
      ->check(CLI::IsMember({"saturate", "paced", "idle"}));
  app.add_option("--subscribers", subscribers,
                 "publish once this many are live");
  app.add_option("--alerts", alerts, "alerts to publish");
  app.add_option("--event-alerts", event_alerts,
                 "alerts per hub Publish call (an event's alerts)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--rate", rate, "paced: alerts per second")
      ->check(CLI::PositiveNumber);
  app.add_option("--queue-alerts", queue_alerts, "per-stream queue bound");
  app.add_option("--time-limit-s", time_limit_s, "exit after this long");
  CLI11_PARSE(app, argc, argv);
  // As tariff-alertd does in a release build.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  const auto deadline =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(time_limit_s));
  ta::HubOptions hub_options;
  ta::AlertHub hub(hub_options, ta::RealClock());
  ta::QueueLimits limits;
  limits.max_alerts = queue_alerts;
  // Every benchmark subscriber connects from 127.0.0.1, which the server
  // counts as one client (no tokens here): its per-client stream limit
  // (200 by default, --max-streams-per-token) would leave 800 of 1,000
  // streams refused. The total limit stays.
  ta::ServerLimits request_limits;
  request_limits.max_streams_per_token = request_limits.max_streams;
  ta::AlertServiceImpl service(&hub, limits, ta::PortfolioContext{},
                               /*stream_threads=*/0, request_limits);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  service.AddTo(&builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "fanout_server: cannot listen on 127.0.0.1\n");
    return 1;
  }
  service.Start();
  std::ofstream(port_file) << port << "\n";

  // Wait for the subscribers, bounded by the time limit.
  while (hub.subscriber_count() < subscribers &&
         SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the first heartbeats go out before the measured traffic.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  uint64_t sequence = 0;
  std::vector<ta::EncodedAlertPtr> batch;
  const auto start = SteadyClock::now();
  if (mode != "idle") {
    while (sequence < alerts && SteadyClock::now() < deadline) {
      if (mode == "paced") {
        const auto due =
            start + std::chrono::duration_cast<SteadyClock::duration>(
                        std::chrono::duration<double>(
                            static_cast<double>(sequence) / rate));
        std::this_thread::sleep_until(due);
      } else {
        // Back-pressure: never push a live queue past half its bound.
        while (hub.LeastRoom().alerts < limits.max_alerts / 2 + event_alerts &&
               hub.subscriber_count() > 0 && SteadyClock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
      }
      batch.clear();
      const size_t n =
          mode == "paced" ? 1 : std::min(event_alerts, alerts - sequence);
      for (size_t i = 0; i < n; ++i) batch.push_back(MakeAlert(++sequence));
      hub.Publish(batch);
    }
  }
  // Stay up until the subscribers have gone (the bench closes them when it
  // has its figures), or the time limit.
  while (hub.subscriber_count() > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hub.EndAll(absl::UnavailableError("benchmark over"));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  // Then the streams' completion queues, once every stream is gone.
  service.Stop();
  std::fprintf(stderr, "fanout_server: published %llu alerts\n",
               static_cast<unsigned long long>(sequence));
  return 0;
}
