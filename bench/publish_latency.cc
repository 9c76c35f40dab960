// publish_latency: publish -> alert latency seen by one subscriber of a
// running tariff-alertd, side by side with Redis pub/sub carrying the same
// alert bytes (the peer a user would otherwise build: no scoring, no book).
//
// bench/run_publish_latency.sh starts redis-server and the server on loopback,
// loads the sample table and runs this. Bounded: --events publishes.

#include <grpcpp/grpcpp.h>
#include <hiredis/hiredis.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"

namespace v1 = tariffalert::v1;
using Clock = std::chrono::steady_clock;

namespace {

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(
      v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

void Report(const char* what, const std::vector<double>& us) {
  std::printf(
      "%-44s n=%4zu  p50 %8.1f us  p90 %8.1f us  p99 %8.1f us  max %8.1f us\n",
      what, us.size(), Percentile(us, 0.5), Percentile(us, 0.9),
      Percentile(us, 0.99), Percentile(us, 1.0));
}

struct Seen {
  Clock::time_point first;
  Clock::time_point last;
  uint64_t last_sequence = 0;
  std::string sample;  // one alert's bytes, for the peer
};

// Redis pub/sub: PUBLISH the bytes, time until a SUBSCRIBE connection has them.
std::vector<double> RedisPubSub(const std::string& host, int port,
                                const std::string& payload, int count) {
  std::vector<double> out;
  redisContext* sub = redisConnect(host.c_str(), port);
  redisContext* pub = redisConnect(host.c_str(), port);
  if (sub == nullptr || sub->err || pub == nullptr || pub->err) {
    std::fprintf(stderr, "redis peer: cannot connect to %s:%d\n", host.c_str(),
                 port);
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
  std::string server = "127.0.0.1:50051";
  std::string redis_host = "127.0.0.1";
  int redis_port = 6379;
  int events = 200;
  CLI::App app{
      "publish -> alert latency of one subscriber, and Redis pub/sub as the "
      "peer"};
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--redis-host", redis_host)->capture_default_str();
  app.add_option("--redis-port", redis_port)->capture_default_str();
  app.add_option("--events", events)
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);

  auto channel =
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto alerts = v1::AlertService::NewStub(channel);
  auto publisher = v1::TariffEventService::NewStub(channel);

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Seen> seen;
  uint64_t newest = 0;
  bool live = false;
  grpc::ClientContext stream_context;
  v1::SubscribeAlertsRequest request;
  auto reader = alerts->SubscribeAlerts(&stream_context, request);
  std::thread reading([&] {
    v1::SubscribeAlertsResponse r;
    while (reader->Read(&r)) {
      const auto now = Clock::now();
      std::lock_guard<std::mutex> lock(mu);
      for (const v1::Alert& a : r.alerts()) {
        Seen& s = seen[a.event_id()];
        if (s.last_sequence == 0) {
          s.first = now;
          s.sample = a.SerializeAsString();
        }
        s.last = now;
        s.last_sequence = a.sequence();
        newest = std::max(newest, a.sequence());
      }
      if (r.has_heartbeat()) live = true;
      cv.notify_all();
    }
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return live; })) {
      std::fprintf(stderr, "no heartbeat from %s\n", server.c_str());
      return 1;
    }
  }

  const std::string run = std::to_string(
      std::chrono::system_clock::now().time_since_epoch().count());
  std::vector<double> ack_us, first_us, last_us, per_alert;
  size_t alerts_total = 0;
  std::string sample;
  for (int i = 0; i < events; ++i) {
    v1::PublishEventRequest p;
    v1::TariffEvent* e = p.mutable_event();
    e->set_event_id("bench-" + run + "-" + std::to_string(i));
    e->set_imposing_country("US");
    e->add_target_countries("CN");
    e->set_new_rate_pct(i % 2 == 0 ? 35 : 30);  // every event moves the book
    e->set_stage(v1::STAGE_EFFECTIVE);
    v1::PublishEventResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    const auto t0 = Clock::now();
    grpc::Status status = publisher->PublishEvent(&context, p, &response);
    const auto t1 = Clock::now();
    if (!status.ok()) {
      std::fprintf(stderr, "publish failed: %s\n",
                   status.error_message().c_str());
      return 1;
    }
    std::unique_lock<std::mutex> lock(mu);
    if (response.alert_count() == 0) continue;
    if (!cv.wait_for(lock, std::chrono::seconds(10),
                     [&] { return newest >= response.last_sequence(); })) {
      std::fprintf(stderr, "alerts of %s never arrived\n",
                   e->event_id().c_str());
      return 1;
    }
    const Seen& s = seen[e->event_id()];
    ack_us.push_back(Micros(t1 - t0));
    first_us.push_back(Micros(s.first - t0));
    last_us.push_back(Micros(s.last - t0));
    alerts_total += response.alert_count();
    if (sample.empty()) sample = s.sample;
  }
  stream_context.TryCancel();
  reading.join();

  std::printf(
      "tariff-alert, %d events, %zu alerts (%.1f per event), one subscriber, "
      "loopback\n",
      events, alerts_total, static_cast<double>(alerts_total) / events);
  Report("PublishEvent round trip", ack_us);
  Report("publish -> first alert of the event", first_us);
  Report("publish -> last alert of the event", last_us);
  const std::vector<double> peer =
      RedisPubSub(redis_host, redis_port, sample, events);
  std::printf(
      "peer: Redis PUBLISH -> SUBSCRIBE of one %zu-byte alert, %d messages\n",
      sample.size(), events);
  Report("redis publish -> subscriber", peer);
  if (!peer.empty()) {
    std::printf("ratio p50 (first alert / redis): %.2f\n",
                Percentile(first_us, 0.5) / Percentile(peer, 0.5));
  }
  return 0;
}
