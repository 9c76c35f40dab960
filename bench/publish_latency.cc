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
// round trip.
//
// The peer in the same run (--peer xadd-publish, the default) is what a team
// would build by hand on redis-server: the alerts our server delivered for
// each event (their bytes and sector, recorded as they arrive) replayed at
// the same paced rate, from as many publishing connections as we have
// partners, to as many subscriber connections (subscriber k SUBSCRIBEd to
// the channel of the k-th sector). Per event the publisher pipelines, in one
// write, one XADD per alert to a stream (the durable write, as ours appends
// each alert to its log) and then one PUBLISH per alert to its sector's
// channel, and reads the replies before its next event (as our publisher
// waits for PublishEvent). No scoring, no book. Each subscriber is a thread
// on its own hiredis connection that parses each message as an Alert, as
// ours parse each response. Also, for scale: Redis PUBLISH -> SUBSCRIBE of
// one alert's bytes.
//
// bench/run_all.sh starts redis-server and the server on loopback and loads
// a generated table first. Bounded: --events publishes, --time-limit-s for
// ours and again for the peer.

#include <grpcpp/grpcpp.h>
#include <hiredis/hiredis.h>
#include <poll.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
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

// One alert as our server delivered it, for the peer's replay.
struct DeliveredAlert {
  uint64_t sequence = 0;
  std::string sector;
  std::string bytes;
};

// When each subscriber saw each event's alerts.
struct Arrivals {
  std::mutex mu;
  // event_id -> subscriber -> (first, last)
  std::map<std::string,
           std::map<int, std::pair<Clock::time_point, Clock::time_point>>>
      by_event;
  std::string sample;  // one alert's bytes, for the peer
  // With `record`: event_id -> alert_id -> the alert, each once however
  // many subscribers got it.
  bool record = false;
  std::map<std::string, std::map<std::string, DeliveredAlert>> delivered;
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
      if (arrivals->record) {
        auto& alerts = arrivals->delivered[a.event_id()];
        if (alerts.find(a.alert_id()) == alerts.end()) {
          alerts.emplace(a.alert_id(), DeliveredAlert{a.sequence(), a.sector(),
                                                      a.SerializeAsString()});
        }
      }
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

// What one B4 run measured, ours or the peer's.
struct Figures {
  int published = 0;
  double seconds = 0;
  size_t alerts = 0;  // over the published events
  std::vector<double> acks, first_us, last_us;
};

redisContext* ConnectRedis(int port) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{5, 0});
  if (c == nullptr || c->err) {
    std::fprintf(stderr,
                 "xadd-publish peer: cannot connect to 127.0.0.1:%d: %s\n",
                 port, c != nullptr ? c->errstr : "out of memory");
    if (c != nullptr) redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, timeval{10, 0});
  return c;
}

// The hand-built peer: XADD + PUBLISH of the same alerts (events[i]: event
// i's alerts in sequence order; an empty one was not published by ours and
// is skipped) to `subscribers` SUBSCRIBE connections, paced at `rate` from
// `partners` publishing connections (event i on connection i % partners),
// until `deadline`.
Figures XaddPublishPeer(int port, const std::vector<std::string>& event_ids,
                        const std::vector<std::vector<DeliveredAlert>>& events,
                        int subscribers, double rate, int partners,
                        Clock::time_point deadline, bool* ok) {
  Figures fig;
  *ok = false;
  const std::string run = std::to_string(
      std::chrono::system_clock::now().time_since_epoch().count());
  const std::string prefix = "ta-bench-b4:" + run + ":";
  const std::string stream_key = prefix + "alerts";
  const auto sectors = tariffalert::GicsSectors();
  std::unordered_map<std::string, size_t> index_of;
  for (size_t i = 0; i < event_ids.size(); ++i) {
    if (!events[i].empty()) index_of[event_ids[i]] = i;
  }

  // Subscribers: one connection and thread each. A SUBSCRIBE's reply means
  // the subscription is live.
  std::vector<redisContext*> subs;
  auto free_all = [&] {
    for (redisContext* c : subs) redisFree(c);
  };
  for (int k = 0; k < subscribers; ++k) {
    redisContext* c = ConnectRedis(port);
    if (c == nullptr) {
      free_all();
      return fig;
    }
    subs.push_back(c);
    const std::string channel =
        prefix + std::string(sectors[static_cast<size_t>(k) % sectors.size()]);
    auto* r = static_cast<redisReply*>(
        redisCommand(c, "SUBSCRIBE %b", channel.data(), channel.size()));
    const bool subscribed =
        r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 3;
    freeReplyObject(r);
    if (!subscribed) {
      std::fprintf(stderr, "xadd-publish peer: SUBSCRIBE failed on %d: %s\n", k,
                   c->err ? c->errstr : "unexpected reply");
      free_all();
      return fig;
    }
  }
  // Per subscriber and event: first and last arrival (epoch: none).
  using Times = std::vector<std::pair<Clock::time_point, Clock::time_point>>;
  std::vector<Times> seen(static_cast<size_t>(subscribers),
                          Times(events.size()));
  std::vector<size_t> expected(static_cast<size_t>(subscribers), 0);
  for (int k = 0; k < subscribers; ++k) {
    const auto sector = sectors[static_cast<size_t>(k) % sectors.size()];
    for (const auto& alerts : events) {
      for (const DeliveredAlert& a : alerts) {
        expected[static_cast<size_t>(k)] += a.sector == sector;
      }
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int> complete{0}, broken{0};
  std::vector<std::thread> readers;
  for (int k = 0; k < subscribers; ++k) {
    readers.emplace_back([&, k] {
      const size_t me = static_cast<size_t>(k);
      redisContext* c = subs[me];
      Times& times = seen[me];
      size_t got = 0;
      if (expected[me] == 0) complete.fetch_add(1);
      v1::Alert alert;
      while (!stop.load()) {
        pollfd pfd{c->fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) continue;
        if (redisBufferRead(c) != REDIS_OK) {
          broken.fetch_add(1);
          return;
        }
        const auto now = Clock::now();
        void* reply = nullptr;
        while (redisGetReplyFromReader(c, &reply) == REDIS_OK &&
               reply != nullptr) {
          auto* r = static_cast<redisReply*>(reply);
          if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
              r->element[2]->type == REDIS_REPLY_STRING &&
              alert.ParseFromArray(r->element[2]->str, r->element[2]->len)) {
            auto it = index_of.find(alert.event_id());
            if (it != index_of.end()) {
              auto& t = times[it->second];
              if (t.first == Clock::time_point()) t.first = now;
              t.second = now;
              if (++got == expected[me]) complete.fetch_add(1);
            }
          }
          freeReplyObject(reply);
          reply = nullptr;
        }
      }
    });
  }

  // Publishers, paced as ours.
  std::vector<Clock::time_point> sent(events.size());
  std::vector<double> ack_us(events.size(), -1);
  std::atomic<int> failed{0};
  const auto start = Clock::now();
  std::vector<std::thread> pubs;
  for (int p = 0; p < partners; ++p) {
    pubs.emplace_back([&, p] {
      redisContext* c = ConnectRedis(port);
      if (c == nullptr) {
        failed.fetch_add(1);
        return;
      }
      for (size_t i = static_cast<size_t>(p);
           i < events.size() && Clock::now() < deadline;
           i += static_cast<size_t>(partners)) {
        if (events[i].empty()) continue;
        std::this_thread::sleep_until(
            start + std::chrono::microseconds(static_cast<int64_t>(
                        static_cast<double>(i) * 1e6 / rate)));
        // One write: the durable appends, then the deliveries.
        const auto t0 = Clock::now();
        for (const DeliveredAlert& a : events[i]) {
          redisAppendCommand(c, "XADD %b MAXLEN ~ 1000000 * a %b",
                             stream_key.data(), stream_key.size(),
                             a.bytes.data(), a.bytes.size());
        }
        for (const DeliveredAlert& a : events[i]) {
          const std::string channel = prefix + a.sector;
          redisAppendCommand(c, "PUBLISH %b %b", channel.data(), channel.size(),
                             a.bytes.data(), a.bytes.size());
        }
        bool good = true;
        for (size_t j = 0; j < 2 * events[i].size(); ++j) {
          void* reply = nullptr;
          if (redisGetReply(c, &reply) != REDIS_OK) {
            good = false;
            break;
          }
          good &= static_cast<redisReply*>(reply)->type != REDIS_REPLY_ERROR;
          freeReplyObject(reply);
        }
        if (!good) {
          std::fprintf(stderr, "xadd-publish peer: event %zu failed: %s\n", i,
                       c->err ? c->errstr : "error reply");
          failed.fetch_add(1);
          break;  // the connection's replies are out of step now
        }
        sent[i] = t0;
        ack_us[i] = Micros(Clock::now() - t0);
      }
      redisFree(c);
    });
  }
  for (std::thread& t : pubs) t.join();
  fig.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the last alerts arrive: every subscriber has its share, or 2 s.
  const auto drain_until = Clock::now() + std::chrono::seconds(2);
  while (complete.load() + broken.load() < subscribers &&
         Clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (std::thread& t : readers) t.join();

  for (size_t i = 0; i < events.size(); ++i) {
    if (ack_us[i] < 0) continue;
    ++fig.published;
    fig.alerts += events[i].size();
    fig.acks.push_back(ack_us[i]);
    for (const Times& times : seen) {
      if (times[i].first == Clock::time_point()) continue;
      fig.first_us.push_back(Micros(times[i].first - sent[i]));
      fig.last_us.push_back(Micros(times[i].second - sent[i]));
    }
  }
  // The stream is the peer's log: drop it, as its channels are gone.
  if (redisContext* c = ConnectRedis(port)) {
    freeReplyObject(
        redisCommand(c, "DEL %b", stream_key.data(), stream_key.size()));
    redisFree(c);
  }
  free_all();
  if (broken.load() > 0) {
    std::fprintf(stderr,
                 "xadd-publish peer: %d subscriber connection(s) failed\n",
                 broken.load());
  }
  *ok = failed.load() == 0 && broken.load() == 0;
  return fig;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051", targets_list = "PK,BD,PE,NG,EG";
  std::string csv_path, label, peer_mode = "xadd-publish", bench_name = "B4";
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
  app.add_option("--time-limit-s", time_limit_s,
                 "for ours, and again for the peer")
      ->capture_default_str();
  app.add_option("--peer", peer_mode,
                 "xadd-publish: replay our alerts through redis-server too")
      ->capture_default_str()
      ->check(CLI::IsMember({"xadd-publish", "none"}));
  app.add_option("--label", label, "case name in the CSV");
  app.add_option("--csv", csv_path, "append results here");
  app.add_option("--bench", bench_name, "name in the CSV")
      ->capture_default_str();
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
  arrivals.record = peer_mode == "xadd-publish";
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

  Figures ours;
  ours.seconds = seconds;
  std::vector<std::string> event_ids(static_cast<size_t>(events));
  std::vector<std::vector<DeliveredAlert>> replay(static_cast<size_t>(events));
  size_t recorded = 0, recorded_bytes = 0;
  {
    std::lock_guard<std::mutex> lock(arrivals.mu);
    for (int i = 0; i < events; ++i) {
      const size_t e = static_cast<size_t>(i);
      event_ids[e] = "bench-" + run + "-" + std::to_string(i);
      if (ack_us[e] < 0) continue;
      ++ours.published;
      ours.acks.push_back(ack_us[e]);
      ours.alerts += static_cast<size_t>(alert_counts[e]);
      auto it = arrivals.by_event.find(event_ids[e]);
      if (it == arrivals.by_event.end()) continue;
      for (const auto& [sub, times] : it->second) {
        ours.first_us.push_back(Micros(times.first - sent[e]));
        ours.last_us.push_back(Micros(times.second - sent[e]));
      }
      auto d = arrivals.delivered.find(event_ids[e]);
      if (d == arrivals.delivered.end()) continue;
      for (auto& [id, alert] : d->second) {
        recorded_bytes += alert.bytes.size();
        replay[e].push_back(std::move(alert));
      }
      std::sort(replay[e].begin(), replay[e].end(),
                [](const DeliveredAlert& a, const DeliveredAlert& b) {
                  return a.sequence < b.sequence;
                });
      recorded += replay[e].size();
    }
    arrivals.delivered.clear();
  }
  if (label.empty()) label = "subs=" + std::to_string(subscribers);
  auto per_event = [](const Figures& f) {
    return f.published ? static_cast<double>(f.alerts) / f.published : 0.0;
  };
  auto achieved = [](const Figures& f) {
    return f.seconds > 0 ? f.published / f.seconds : 0.0;
  };
  std::printf(
      "B4 tariff-alert %s: %d events offered at %.0f/s, %d published "
      "(%.0f/s achieved), %.1f alerts per event, %zu (event, "
      "subscriber) deliveries\n",
      label.c_str(), events, rate, ours.published, achieved(ours),
      per_event(ours), ours.first_us.size());
  auto report = [](const char* what, const std::vector<double>& us) {
    std::printf("  %-48s p50 %9.1f us  p99 %9.1f us  (n=%zu)\n", what,
                bench::Percentile(us, 0.5), bench::Percentile(us, 0.99),
                us.size());
  };
  report("PublishEvent round trip", ours.acks);
  report("publish -> first alert at a subscriber", ours.first_us);
  report("publish -> last alert at a subscriber", ours.last_us);

  // The peer, on the same events' alerts, with its own time limit.
  Figures peer;
  bool peer_ok = true;
  if (arrivals.record) {
    const auto peer_deadline =
        Clock::now() +
        std::chrono::milliseconds(static_cast<int>(time_limit_s * 1000));
    peer = XaddPublishPeer(redis_port, event_ids, replay, subscribers, rate,
                           partners, peer_deadline, &peer_ok);
    std::printf(
        "B4 redis XADD+PUBLISH %s: the %zu alerts (%.0f B each on average) "
        "ours delivered for its %d events, replayed at %.0f/s: %d published "
        "(%.0f/s achieved), %.1f alerts per event, %zu (event, subscriber) "
        "deliveries\n",
        label.c_str(), recorded,
        recorded ? static_cast<double>(recorded_bytes) / recorded : 0.0,
        ours.published, rate, peer.published, achieved(peer), per_event(peer),
        peer.first_us.size());
    report("XADD+PUBLISH pipeline round trip", peer.acks);
    report("publish -> first alert at a subscriber", peer.first_us);
    report("publish -> last alert at a subscriber", peer.last_us);
  }
  const std::vector<double> one =
      RedisPubSub(redis_port, arrivals.sample, std::min(events, 1000));
  report("for scale: Redis PUBLISH -> SUBSCRIBE, 1 message", one);

  const bench::CsvOut csv(csv_path);
  auto rows = [&](const char* system, const Figures& f) {
    csv.Row(bench_name, system, label, "events_per_s_offered", rate, "1/s");
    csv.Row(bench_name, system, label, "events_per_s_achieved", achieved(f),
            "1/s");
    csv.Row(bench_name, system, label, "alerts_per_event", per_event(f),
            "alerts");
    csv.Row(bench_name, system, label, "publish_rtt_p50_us",
            bench::Percentile(f.acks, 0.5), "us");
    csv.Row(bench_name, system, label, "first_alert_p50_us",
            bench::Percentile(f.first_us, 0.5), "us");
    csv.Row(bench_name, system, label, "first_alert_p99_us",
            bench::Percentile(f.first_us, 0.99), "us");
    csv.Row(bench_name, system, label, "last_alert_p50_us",
            bench::Percentile(f.last_us, 0.5), "us");
    csv.Row(bench_name, system, label, "last_alert_p99_us",
            bench::Percentile(f.last_us, 0.99), "us");
  };
  rows("tariff-alert", ours);
  if (arrivals.record) rows("redis-xadd-publish", peer);
  csv.Row(bench_name, "redis-pubsub", "1 subscriber, 1 message", "p50_us",
          bench::Percentile(one, 0.5), "us");
  csv.Row(bench_name, "redis-pubsub", "1 subscriber, 1 message", "p99_us",
          bench::Percentile(one, 0.99), "us");
  if (ours.published == 0 || ours.first_us.empty()) {
    std::fprintf(stderr,
                 "B4: %d of %d events published, %zu deliveries: nothing "
                 "measured (see the errors above)\n",
                 ours.published, events, ours.first_us.size());
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
  if (arrivals.record &&
      (!peer_ok || peer.published == 0 || peer.first_us.empty())) {
    std::fprintf(stderr,
                 "B4: the XADD+PUBLISH peer published %d of %d events, %zu "
                 "deliveries: %s\n",
                 peer.published, ours.published, peer.first_us.size(),
                 peer_ok ? "nothing measured" : "it failed (see above)");
    return 6;
  }
  return failed.load() == 0 ? 0 : 2;
}
