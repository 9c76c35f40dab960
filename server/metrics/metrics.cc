#include "server/metrics/metrics.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <sstream>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/text_serializer.h"
#include "server/metrics/registry.h"

namespace tariffalert {
namespace metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr PublishResult kPublishResults[] = {
    PublishResult::kOk, PublishResult::kDuplicate, PublishResult::kInvalid,
    PublishResult::kUnavailable, PublishResult::kError};

// The `stage` label values, indexed by tariffalert.v1.Stage's number.
constexpr const char* kPublishStages[] = {
    "unspecified", "threatened", "announced", "effective",
    "paused",      "extended",   "revoked"};

constexpr std::pair<ResumeResult, const char*> kResumeResults[] = {
    {ResumeResult::kReplay, "replay"},
    {ResumeResult::kAhead, "ahead"},
    {ResumeResult::kRefused, "refused"}};

// The first commands of the round trips the project sends (RedisConnection's
// Command and Pipeline), plus XREAD_BLOCK and OTHER: a fixed label set,
// resolved up front.
constexpr const char* kRedisCommands[] = {
    "EVAL",    "EXISTS", "EXPIRE", "GET",         "HDEL",  "HGET",
    "HGETALL", "HSET",   "INCR",   "MGET",        "MULTI", "PERSIST",
    "SET",     "XRANGE", "XREAD",  "XREAD_BLOCK", "XTRIM", "OTHER"};
constexpr char kOtherCommand[] = "OTHER";

// A publish takes a Redis round trip (the commit script) and may wait
// behind others: 100 us to 10 s.
const Histogram::BucketBoundaries& PublishBuckets() {
  static const auto* b = new Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *b;
}
// Scoring is in-process: 10 us to 1 s.
const Histogram::BucketBoundaries& ScoringBuckets() {
  static const auto* b = new Histogram::BucketBoundaries{
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
      0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1};
  return *b;
}
// A loopback round trip is ~25 us; the command timeout is 2 s.
const Histogram::BucketBoundaries& RedisBuckets() {
  static const auto* b = new Histogram::BucketBoundaries{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5};
  return *b;
}

struct RedisChildren {
  Histogram* duration;
  Counter* errors;
};

// Every family and label child, made once.
class Metrics {
 public:
  Metrics()
      : registry_(std::make_shared<prometheus::Registry>()),
        events_published_(
            prometheus::BuildCounter()
                .Name("tariffalert_events_published_total")
                .Help("PublishEvent calls by the event's stage (threatened, "
                      "announced, effective, paused, extended, revoked, "
                      "unspecified) and result: ok, duplicate (a repeat "
                      "answered with the first response), invalid (refused), "
                      "unavailable (nothing done, retry), error")
                .Register(*registry_)),
        publish_duration_(prometheus::BuildHistogram()
                              .Name("tariffalert_publish_duration_seconds")
                              .Help("Time of a PublishEvent call, every result")
                              .Register(*registry_)
                              .Add({}, PublishBuckets())),
        scoring_duration_(
            prometheus::BuildHistogram()
                .Name("tariffalert_scoring_duration_seconds")
                .Help("Time to plan one event (or snap-back) on the tariff "
                      "book and score it against the exposure table")
                .Register(*registry_)
                .Add({}, ScoringBuckets())),
        alerts_produced_(
            prometheus::BuildCounter()
                .Name("tariffalert_alerts_produced_total")
                .Help("Alerts this replica's publisher committed to the log")
                .Register(*registry_)
                .Add({})),
        stream_alerts_(prometheus::BuildCounter()
                           .Name("tariffalert_stream_alerts_written_total")
                           .Help("Alerts written to SubscribeAlerts streams "
                                 "(portfolio alerts included)")
                           .Register(*registry_)
                           .Add({})),
        stream_bytes_(prometheus::BuildCounter()
                          .Name("tariffalert_stream_bytes_written_total")
                          .Help("Message bytes written to SubscribeAlerts "
                                "streams, heartbeats included")
                          .Register(*registry_)
                          .Add({})),
        stream_writes_(prometheus::BuildCounter()
                           .Name("tariffalert_stream_writes_total")
                           .Help("Writes to SubscribeAlerts streams (one "
                                 "message each: a batch of alerts or a "
                                 "heartbeat)")
                           .Register(*registry_)
                           .Add({})),
        heartbeats_(prometheus::BuildCounter()
                        .Name("tariffalert_stream_heartbeats_total")
                        .Help("Heartbeats written to SubscribeAlerts streams")
                        .Register(*registry_)
                        .Add({})),
        streams_active_(prometheus::BuildGauge()
                            .Name("tariffalert_streams_active")
                            .Help("SubscribeAlerts streams subscribed to "
                                  "this replica's hub")
                            .Register(*registry_)
                            .Add({})),
        cutoffs_(prometheus::BuildCounter()
                     .Name("tariffalert_slow_consumer_cutoffs_total")
                     .Help("Streams ended with RESOURCE_EXHAUSTED because "
                           "their queue passed --queue-max-alerts or "
                           "--queue-max-bytes")
                     .Register(*registry_)
                     .Add({})),
        resumes_(prometheus::BuildCounter()
                     .Name("tariffalert_stream_resumes_total")
                     .Help("Streams that asked to resume, by result: replay "
                           "(from this replica's log), ahead (live from a "
                           "point only the shared log holds yet), refused "
                           "(OUT_OF_RANGE)")
                     .Register(*registry_)),
        redis_duration_(prometheus::BuildHistogram()
                            .Name("tariffalert_redis_command_duration_seconds")
                            .Help("Time of a Redis round trip (a command or a "
                                  "pipeline, by its first command)")
                            .Register(*registry_)),
        redis_errors_(prometheus::BuildCounter()
                          .Name("tariffalert_redis_errors_total")
                          .Help("Redis round trips that failed (no "
                                "connection, I/O error, timeout, refusal, or "
                                "an error reply), by first command")
                          .Register(*registry_)),
        tailer_lag_(prometheus::BuildGauge()
                        .Name("tariffalert_log_tailer_lag_sequences")
                        .Help("Alerts in the shared log in Redis that this "
                              "replica's hub has not read yet")
                        .Register(*registry_)
                        .Add({})),
        exposure_info_(prometheus::BuildGauge()
                           .Name("tariffalert_exposure_info")
                           .Help("1 for the exposure version serving")
                           .Register(*registry_)),
        exposure_loaded_(
            prometheus::BuildGauge()
                .Name("tariffalert_exposure_loaded_timestamp_seconds")
                .Help("Unix time the serving exposure version was swapped in")
                .Register(*registry_)
                .Add({})),
        exposure_load_duration_(
            prometheus::BuildGauge()
                .Name("tariffalert_exposure_load_duration_seconds")
                .Help("Time the serving exposure version took to read from "
                      "Redis and check")
                .Register(*registry_)
                .Add({})),
        exposure_rejected_(
            prometheus::BuildCounter()
                .Name("tariffalert_exposure_rejected_total")
                .Help("Exposure versions rejected (invalid, gone or "
                      "altered); the previous version served on")
                .Register(*registry_)
                .Add({})),
        book_revision_(prometheus::BuildGauge()
                           .Name("tariffalert_book_revision")
                           .Help("Revision of the tariff book as this replica "
                                 "last read or wrote it")
                           .Register(*registry_)
                           .Add({})),
        pauses_pending_(prometheus::BuildGauge()
                            .Name("tariffalert_book_pauses_pending")
                            .Help("Paused measures in the tariff book whose "
                                  "snap-back is still to come")
                            .Register(*registry_)
                            .Add({})),
        console_watchers_(prometheus::BuildGauge()
                              .Name("tariffalert_console_watchers")
                              .Help("Open WatchConsoleState streams")
                              .Register(*registry_)
                              .Add({})),
        queue_fullest_alerts_(
            prometheus::BuildGauge()
                .Name("tariffalert_stream_queue_fullest_alerts")
                .Help("Alerts queued in the fullest SubscribeAlerts stream's "
                      "queue, at the scrape (cut off past --queue-max-alerts)")
                .Register(*registry_)
                .Add({})),
        queue_fullest_bytes_(
            prometheus::BuildGauge()
                .Name("tariffalert_stream_queue_fullest_bytes")
                .Help("Bytes queued in the fullest SubscribeAlerts stream's "
                      "queue, at the scrape (cut off past --queue-max-bytes)")
                .Register(*registry_)
                .Add({})),
        queued_alerts_(prometheus::BuildGauge()
                           .Name("tariffalert_stream_queued_alerts")
                           .Help("Alerts queued in all SubscribeAlerts "
                                 "streams' queues together, at the scrape")
                           .Register(*registry_)
                           .Add({})),
        queued_bytes_(prometheus::BuildGauge()
                          .Name("tariffalert_stream_queued_bytes")
                          .Help("Bytes queued in all SubscribeAlerts "
                                "streams' queues together, at the scrape")
                          .Register(*registry_)
                          .Add({})) {
    for (size_t stage = 0; stage < std::size(kPublishStages); ++stage) {
      for (PublishResult r : kPublishResults) {
        published_[stage][static_cast<int>(r)] =
            &events_published_.Add({{"stage", kPublishStages[stage]},
                                    {"result", PublishResultName(r)}});
      }
    }
    for (const auto& [r, name] : kResumeResults) {
      resumed_[static_cast<int>(r)] = &resumes_.Add({{"result", name}});
    }
    for (const char* command : kRedisCommands) {
      redis_.emplace(command,
                     RedisChildren{&redis_duration_.Add({{"command", command}},
                                                        RedisBuckets()),
                                   &redis_errors_.Add({{"command", command}})});
    }
  }

  const std::shared_ptr<prometheus::Registry>& registry() const {
    return registry_;
  }

  void EventPublished(int stage, PublishResult result, double seconds) {
    if (stage < 0 || stage >= static_cast<int>(std::size(kPublishStages))) {
      stage = 0;
    }
    published_[stage][static_cast<int>(result)]->Increment();
    publish_duration_.Observe(seconds);
  }
  void EventScored(double seconds) { scoring_duration_.Observe(seconds); }
  void AlertsProduced(uint64_t count) {
    alerts_produced_.Increment(static_cast<double>(count));
  }
  void StreamWrite(uint64_t alerts, uint64_t bytes) {
    stream_writes_.Increment();
    stream_bytes_.Increment(static_cast<double>(bytes));
    if (alerts == 0) {
      heartbeats_.Increment();
    } else {
      stream_alerts_.Increment(static_cast<double>(alerts));
    }
  }
  Gauge& streams_active() { return streams_active_; }
  Counter& cutoffs() { return cutoffs_; }
  void StreamResumed(ResumeResult result) {
    resumed_[static_cast<int>(result)]->Increment();
  }
  // The children of `label` (a RedisCommandLabel); OTHER's if unknown.
  const RedisChildren& Redis(const std::string& label) const {
    auto it = redis_.find(label);
    if (it == redis_.end()) it = redis_.find(kOtherCommand);
    return it->second;
  }
  bool KnownRedisCommand(absl::string_view name) const {
    return redis_.contains(name);
  }
  Gauge& tailer_lag() { return tailer_lag_; }
  void ExposureLoaded(const std::string& version, double seconds) {
    {
      absl::MutexLock lock(&exposure_mu_);
      if (exposure_version_ != nullptr) {
        exposure_info_.Remove(exposure_version_);
      }
      exposure_version_ = &exposure_info_.Add({{"version", version}});
      exposure_version_->Set(1);
    }
    exposure_loaded_.SetToCurrentTime();
    exposure_load_duration_.Set(seconds);
  }
  Counter& exposure_rejected() { return exposure_rejected_; }
  void SetBook(uint64_t revision, uint64_t pauses_pending) {
    book_revision_.Set(static_cast<double>(revision));
    pauses_pending_.Set(static_cast<double>(pauses_pending));
  }
  Gauge& console_watchers() { return console_watchers_; }

  int AddQueueDepthSource(std::function<QueueDepth()> source) {
    absl::MutexLock lock(&sources_mu_);
    const int id = next_source_id_++;
    queue_sources_.emplace(id, std::move(source));
    return id;
  }
  void RemoveQueueDepthSource(int id) {
    absl::MutexLock lock(&sources_mu_);
    queue_sources_.erase(id);
  }
  // Reads the sources into the queue gauges (zeros without any).
  void RefreshQueueDepth() {
    QueueDepth all;
    {
      absl::MutexLock lock(&sources_mu_);
      for (const auto& [id, source] : queue_sources_) {
        const QueueDepth d = source();
        all.fullest_alerts = std::max(all.fullest_alerts, d.fullest_alerts);
        all.fullest_bytes = std::max(all.fullest_bytes, d.fullest_bytes);
        all.queued_alerts += d.queued_alerts;
        all.queued_bytes += d.queued_bytes;
      }
    }
    queue_fullest_alerts_.Set(static_cast<double>(all.fullest_alerts));
    queue_fullest_bytes_.Set(static_cast<double>(all.fullest_bytes));
    queued_alerts_.Set(static_cast<double>(all.queued_alerts));
    queued_bytes_.Set(static_cast<double>(all.queued_bytes));
  }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  Family<Counter>& events_published_;
  Counter* published_[std::size(kPublishStages)][std::size(kPublishResults)];
  Histogram& publish_duration_;
  Histogram& scoring_duration_;
  Counter& alerts_produced_;
  Counter& stream_alerts_;
  Counter& stream_bytes_;
  Counter& stream_writes_;
  Counter& heartbeats_;
  Gauge& streams_active_;
  Counter& cutoffs_;
  Family<Counter>& resumes_;
  Counter* resumed_[std::size(kResumeResults)];
  Family<Histogram>& redis_duration_;
  Family<Counter>& redis_errors_;
  // Filled in the constructor, read-only after: lookups take no lock.
  absl::flat_hash_map<std::string, RedisChildren> redis_;
  Gauge& tailer_lag_;
  Family<Gauge>& exposure_info_;
  absl::Mutex exposure_mu_;
  Gauge* exposure_version_ ABSL_GUARDED_BY(exposure_mu_) = nullptr;
  Gauge& exposure_loaded_;
  Gauge& exposure_load_duration_;
  Counter& exposure_rejected_;
  Gauge& book_revision_;
  Gauge& pauses_pending_;
  Gauge& console_watchers_;
  Gauge& queue_fullest_alerts_;
  Gauge& queue_fullest_bytes_;
  Gauge& queued_alerts_;
  Gauge& queued_bytes_;
  // Held while a source is read, so RemoveQueueDepthSource returns only once
  // no scrape reads that source any more.
  absl::Mutex sources_mu_;
  int next_source_id_ ABSL_GUARDED_BY(sources_mu_) = 1;
  std::map<int, std::function<QueueDepth()>> queue_sources_
      ABSL_GUARDED_BY(sources_mu_);
};

// The registry, brought up to date by each Collect (a scrape).
class Exposition final : public prometheus::Collectable {
 public:
  explicit Exposition(Metrics* metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_->RefreshQueueDepth();
    return metrics_->registry()->Collect();
  }

 private:
  Metrics* const metrics_;
};

Metrics& M() {
  // Never destroyed: gRPC's and the server's threads may count during exit.
  static Metrics* const metrics = new Metrics();
  return *metrics;
}

}  // namespace

std::shared_ptr<prometheus::Registry> Registry() { return M().registry(); }

std::shared_ptr<prometheus::Collectable> Exposed() {
  static const auto* const exposed =
      new std::shared_ptr<prometheus::Collectable>(
          std::make_shared<Exposition>(&M()));
  return *exposed;
}

std::string TextExposition() {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Exposed()->Collect());
  return out.str();
}

PublishResult PublishResultOf(const absl::Status& status, bool duplicate) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return duplicate ? PublishResult::kDuplicate : PublishResult::kOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return PublishResult::kInvalid;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return PublishResult::kUnavailable;
    default:
      return PublishResult::kError;
  }
}

const char* PublishResultName(PublishResult result) {
  switch (result) {
    case PublishResult::kOk:
      return "ok";
    case PublishResult::kDuplicate:
      return "duplicate";
    case PublishResult::kInvalid:
      return "invalid";
    case PublishResult::kUnavailable:
      return "unavailable";
    case PublishResult::kError:
      return "error";
  }
  return "error";
}

const char* PublishStageName(int stage) {
  if (stage < 0 || stage >= static_cast<int>(std::size(kPublishStages))) {
    return kPublishStages[0];
  }
  return kPublishStages[stage];
}

void EventPublished(int stage, PublishResult result, double seconds) {
  M().EventPublished(stage, result, seconds);
}

int AddQueueDepthSource(std::function<QueueDepth()> source) {
  return M().AddQueueDepthSource(std::move(source));
}

void RemoveQueueDepthSource(int id) { M().RemoveQueueDepthSource(id); }
void EventScored(double seconds) { M().EventScored(seconds); }
void AlertsProduced(uint64_t count) { M().AlertsProduced(count); }

void StreamWrite(uint64_t alerts, uint64_t bytes) {
  M().StreamWrite(alerts, bytes);
}
void StreamOpened() { M().streams_active().Increment(); }
void StreamClosed() { M().streams_active().Decrement(); }
void SlowConsumerCutOff() { M().cutoffs().Increment(); }
void StreamResumed(ResumeResult result) { M().StreamResumed(result); }

std::string RedisCommandLabel(const std::vector<std::string>& first_command) {
  if (first_command.empty()) return kOtherCommand;
  std::string name = absl::AsciiStrToUpper(first_command.front());
  if (name == "XREAD") {
    for (size_t i = 1; i < first_command.size(); ++i) {
      if (absl::EqualsIgnoreCase(first_command[i], "BLOCK")) {
        return "XREAD_BLOCK";
      }
      // What follows STREAMS are keys and ids, not options.
      if (absl::EqualsIgnoreCase(first_command[i], "STREAMS")) break;
    }
  }
  if (!M().KnownRedisCommand(name)) return kOtherCommand;
  return name;
}

void RedisRoundTrip(const std::vector<std::vector<std::string>>& commands,
                    double seconds, bool error) {
  static const std::vector<std::string> kNone;
  const RedisChildren& children =
      M().Redis(RedisCommandLabel(commands.empty() ? kNone : commands.front()));
  children.duration->Observe(seconds);
  if (error) children.errors->Increment();
}

void SetTailerLag(uint64_t sequences) {
  M().tailer_lag().Set(static_cast<double>(sequences));
}

void ExposureLoaded(const std::string& version, double seconds) {
  M().ExposureLoaded(version, seconds);
}
void ExposureRejected() { M().exposure_rejected().Increment(); }

void SetBook(uint64_t revision, uint64_t pauses_pending) {
  M().SetBook(revision, pauses_pending);
}

void ConsoleWatcherOpened() { M().console_watchers().Increment(); }
void ConsoleWatcherClosed() { M().console_watchers().Decrement(); }

}  // namespace metrics
}  // namespace tariffalert
