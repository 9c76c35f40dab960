// publish_latency (B4): PublishEvent -> score -> deliver, end to end through
// a running tariff-alertd (with its Redis), to --subscribers filtered
// streams, at a paced rate of events. Each subscriber filters on one sector
// (subscriber k on the k-th of the 11 GICS sectors, round robin), as a desk
// following its coverage would. Events rotate over --targets, each US tariff
// on one partner alternating between two rates, so every event moves the
// book and yields alerts.
//
// Per (event, subscriber that got any of its alerts): publish -> first and
// -> last alert of the event at that subscriber; per event the PublishEvent
// round trip. The peer in the same run, for scale: Redis PUBLISH -> SUBSCRIBE
// of one alert's bytes (no scoring, no book, no log).
//
// bench/run_all.sh starts redis-server and the server on loopback and loads
// a generated table first. Bounded: --events publishes, --time-limit-s.

#include <grpcpp/grpcpp.h>
#include <hiredis/hiredis.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "server/common/sectors.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"

namespace v1 = tariffalert::v1;
namespace bench = tariffalert::bench;
using Clock = std::chrono::steady_clock;

namespace {

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// When each subscriber saw each event's alerts.
struct Arrivals {
  std::mutex mu;
  // event_id -> subscriber -> (first, last)
  std::map<std::string,
           std::map<int, std::pair<Clock::time_point, Clock::time_point>>>
      by_event;
  std::string sample;  // one alert's bytes, for the peer
  std::atomic<int> live{0};
  // Streams that ended while the run still wanted them, and the first
  // one's status, so a run whose subscribers never went live says why.
  std::atomic<int> ended_early{0};
  grpc::Status first_end;  // guarded by mu
  std::atomic<bool> stopping{false};
};

void ReadStream(v1::AlertService::Stub* stub, int index,
                grpc::ClientContext* context, Arrivals* arrivals) {
  v1::SubscribeAlertsRequest request;
  const auto sectors = tariffalert::GicsSectors();
  request.mutable_filter()->add_sectors(
      std::string(sectors[static_cast<size_t>(index) % sectors.size()]));
  // As a subscriber that retries: a connection to a just-started server
  // occasionally fails (one of 100 at once, in run_all.sh: gRPC reports
  // "No such file or directory"), and without this the stream ends at once.
  context->set_wait_for_ready(true);
  auto reader = stub->SubscribeAlerts(context, request);
  v1::SubscribeAlertsResponse r;
  bool live = false;
  while (reader->Read(&r)) {
    const auto now = Clock::now();
    if (!live && r.has_heartbeat()) {
      live = true;
      arrivals->live.fetch_add(1);
    }
    if (r.alerts_size() == 0) continue;
    std::lock_guard<std::mutex> lock(arrivals->mu);
    for (const v1::Alert& a : r.alerts()) {
      auto [it, fresh] =
          arrivals->by_event[a.event_id()].try_emplace(index, now, now);
      it->second.second = now;
      if (arrivals->sample.empty()) arrivals->sample = a.SerializeAsString();
    }
  }
  const grpc::Status status = reader->Finish();
  if (!arrivals->stopping.load()) {
    if (arrivals->ended_early.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(arrivals->mu);
      arrivals->first_end = status;
    }
  }
}

// Redis pub/sub: PUBLISH the bytes, time until a SUBSCRIBE connection has them.
std::vector<double> RedisPubSub(int port, const std::string& payload,
                                int count) {
  std::vector<double> out;
  redisContext* sub = redisConnect("127.0.0.1", port);
  redisContext* pub = redisConnect("127.0.0.1", port);
  if (sub == nullptr || sub->err || pub == nullptr || pub->err) {
    std::fprintf(stderr, "redis peer: cannot connect to 127.0.0.1:%d\n", port);
    return out;
  }
  freeReplyObject(redisCommand(sub, "SUBSCRIBE ta-bench-latency"));
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    freeReplyObject(redisCommand(pub, "PUBLISH ta-bench-latency %b",
                                 payload.data(), payload.size()));
    void* reply = nullptr;
    if (redisGetReply(sub, &reply) != REDIS_OK) break;
    out.push_back(Micros(Clock::now() - t0));
    freeReplyObject(reply);
  }
  redisFree(sub);
  redisFree(pub);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051", targets_list = "PK,BD,PE,NG,EG";
  std::string csv_path, label;
  int redis_port = 6379, events = 200, subscribers = 1;
  double rate = 1000, time_limit_s = 60;
  CLI::App app{"B4: PublishEvent -> alert at filtered subscribers"};
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--redis-port", redis_port, "for the peer")
      ->capture_default_str();
  app.add_option("--events", events)
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--subscribers", subscribers, "streams, one sector each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--rate", rate, "events per second offered")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--targets", targets_list,
                 "partners the events rotate over; one publishing thread each")
      ->capture_default_str();
  app.add_option("--time-limit-s", time_limit_s)->capture_default_str();
  app.add_option("--label", label, "case name in the CSV");
  app.add_option("--csv", csv_path, "append results here");
  CLI11_PARSE(app, argc, argv);
  const std::vector<std::string> targets =
      absl::StrSplit(targets_list, ',', absl::SkipEmpty());
  if (targets.empty()) {
    std::fprintf(stderr, "--targets: give at least one country\n");
    return 1;
  }
  const auto deadline =
      Clock::now() +
      std::chrono::milliseconds(static_cast<int>(time_limit_s * 1000));

  auto channel =
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto alerts = v1::AlertService::NewStub(channel);
  Arrivals arrivals;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> readers;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::AlertService::Stub>> stubs;
  for (int i = 0; i < subscribers; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // own connection
    channels.push_back(grpc::CreateCustomChannel(
        server, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::AlertService::NewStub(channels.back()));
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.emplace_back(ReadStream, stubs.back().get(), i,
                         contexts.back().get(), &arrivals);
  }
  // Every subscriber live before the first event (a heartbeat each), within
  // half the time limit; otherwise the run measures nothing and says why.
  const auto live_by = Clock::now() + std::chrono::milliseconds(
                                          static_cast<int>(time_limit_s * 500));
  while (arrivals.live.load() < subscribers &&
         arrivals.ended_early.load() == 0 && Clock::now() < live_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (arrivals.live.load() < subscribers) {
    std::string why = "no stream ended; the server is slow or not serving";
    if (arrivals.ended_early.load() > 0) {
      std::lock_guard<std::mutex> lock(arrivals.mu);
      why = absl::StrCat(arrivals.ended_early.load(),
                         " stream(s) ended, the first with code ",
                         arrivals.first_end.error_code(), ": ",
                         arrivals.first_end.error_message());
    }
    std::fprintf(stderr,
                 "B4: only %d of %d subscribers went live (a heartbeat) on "
                 "%s within %.0f s (%s); nothing published\n",
                 arrivals.live.load(), subscribers, server.c_str(),
                 time_limit_s / 2, why.c_str());
    arrivals.stopping = true;
    for (auto& c : contexts) c->TryCancel();
    for (std::thread& t : readers) t.join();
    return 3;
  }

  // Paced: event i is due at start + i / rate. Event i is on partner
  // i % targets, and each partner has its own publishing thread, so a
  // partner's events stay in order and a slow publish delays only its own.
  const std::string run = std::to_string(
      std::chrono::system_clock::now().time_since_epoch().count());
  auto publisher = v1::TariffEventService::NewStub(channel);
  std::vector<Clock::time_point> sent(static_cast<size_t>(events));
  std::vector<double> ack_us(static_cast<size_t>(events), -1);
  std::vector<int> alert_counts(static_cast<size_t>(events), 0);
  std::atomic<int> failed{0};
  const auto start = Clock::now();
  std::vector<std::thread> pubs;
  const int partners = static_cast<int>(targets.size());
  for (int p = 0; p < partners; ++p) {
    pubs.emplace_back([&, p] {
      for (int i = p; i < events && Clock::now() < deadline; i += partners) {
        std::this_thread::sleep_until(
            start +
            std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / rate)));
        const size_t partner = static_cast<size_t>(p);
        // Rounds on one partner alternate 30% and 35%: each moves the book.
        const int round = i / partners;
        v1::PublishEventRequest req;
        v1::TariffEvent* e = req.mutable_event();
        e->set_event_id("bench-" + run + "-" + std::to_string(i));
        e->set_measure_id("bench-us-" + targets[partner]);
        e->set_imposing_country("US");
        e->add_target_countries(targets[partner]);
        e->set_new_rate_pct(round % 2 == 0 ? 35 : 30);
        e->set_stage(v1::STAGE_EFFECTIVE);
        v1::PublishEventResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(10));
        const auto t0 = Clock::now();
        grpc::Status status = publisher->PublishEvent(&context, req, &response);
        const auto t1 = Clock::now();
        if (!status.ok()) {
          std::fprintf(stderr, "publish %d failed: %s\n", i,
                       status.error_message().c_str());
          failed.fetch_add(1);
          continue;
        }
        sent[static_cast<size_t>(i)] = t0;
        ack_us[static_cast<size_t>(i)] = Micros(t1 - t0);
        alert_counts[static_cast<size_t>(i)] =
            static_cast<int>(response.alert_count());
      }
    });
  }
  for (std::thread& t : pubs) t.join();
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  // Let the last alerts arrive.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  arrivals.stopping = true;
  for (auto& c : contexts) c->TryCancel();
  for (std::thread& t : readers) t.join();

  std::vector<double> acks, first_us, last_us;
  size_t alerts_total = 0;
  int published = 0;
  {
    std::lock_guard<std::mutex> lock(arrivals.mu);
    for (int i = 0; i < events; ++i) {
      if (ack_us[static_cast<size_t>(i)] < 0) continue;
      ++published;
      acks.push_back(ack_us[static_cast<size_t>(i)]);
      alerts_total += static_cast<size_t>(alert_counts[static_cast<size_t>(i)]);
      auto it =
          arrivals.by_event.find("bench-" + run + "-" + std::to_string(i));
      if (it == arrivals.by_event.end()) continue;
      for (const auto& [sub, times] : it->second) {
        first_us.push_back(Micros(times.first - sent[static_cast<size_t>(i)]));
        last_us.push_back(Micros(times.second - sent[static_cast<size_t>(i)]));
      }
    }
  }
  const double achieved = published / seconds;
  if (label.empty()) label = "subs=" + std::to_string(subscribers);
  std::printf(
      "B4 tariff-alert %s: %d events offered at %.0f/s, %d published "
      "(%.0f/s achieved), %.1f alerts per event, %zu (event, "
      "subscriber) deliveries\n",
      label.c_str(), events, rate, published, achieved,
      published ? static_cast<double>(alerts_total) / published : 0.0,
      first_us.size());
  auto report = [](const char* what, const std::vector<double>& us) {
    std::printf("  %-42s p50 %9.1f us  p99 %9.1f us  (n=%zu)\n", what,
                bench::Percentile(us, 0.5), bench::Percentile(us, 0.99),
                us.size());
  };
  report("PublishEvent round trip", acks);
  report("publish -> first alert at a subscriber", first_us);
  report("publish -> last alert at a subscriber", last_us);
  const std::vector<double> peer =
      RedisPubSub(redis_port, arrivals.sample, std::min(events, 1000));
  report("peer: Redis PUBLISH -> SUBSCRIBE, 1 message", peer);

  const bench::CsvOut csv(csv_path);
  csv.Row("B4", "tariff-alert", label, "events_per_s_offered", rate, "1/s");
  csv.Row("B4", "tariff-alert", label, "events_per_s_achieved", achieved,
          "1/s");
  csv.Row("B4", "tariff-alert", label, "alerts_per_event",
          published ? static_cast<double>(alerts_total) / published : 0,
          "alerts");
  csv.Row("B4", "tariff-alert", label, "publish_rtt_p50_us",
          bench::Percentile(acks, 0.5), "us");
  csv.Row("B4", "tariff-alert", label, "first_alert_p50_us",
          bench::Percentile(first_us, 0.5), "us");
  csv.Row("B4", "tariff-alert", label, "first_alert_p99_us",
          bench::Percentile(first_us, 0.99), "us");
  csv.Row("B4", "tariff-alert", label, "last_alert_p50_us",
          bench::Percentile(last_us, 0.5), "us");
  csv.Row("B4", "tariff-alert", label, "last_alert_p99_us",
          bench::Percentile(last_us, 0.99), "us");
  csv.Row("B4", "redis-pubsub", "1 subscriber, 1 message", "p50_us",
          bench::Percentile(peer, 0.5), "us");
  csv.Row("B4", "redis-pubsub", "1 subscriber, 1 message", "p99_us",
          bench::Percentile(peer, 0.99), "us");
  if (published == 0 || first_us.empty()) {
    std::fprintf(stderr,
                 "B4: %d of %d events published, %zu deliveries: nothing "
                 "measured (see the errors above)\n",
                 published, events, first_us.size());
    return 4;
  }
  if (arrivals.ended_early.load() > 0) {
    std::lock_guard<std::mutex> lock(arrivals.mu);
    std::fprintf(stderr,
                 "B4: %d stream(s) ended during the run, the first with code "
                 "%d: %s\n",
                 arrivals.ended_early.load(), arrivals.first_end.error_code(),
                 arrivals.first_end.error_message().c_str());
    return 5;
  }
  return failed.load() == 0 ? 0 : 2;
}
