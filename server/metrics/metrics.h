#ifndef TARIFF_ALERT_SERVER_METRICS_METRICS_H_
#define TARIFF_ALERT_SERVER_METRICS_METRICS_H_

// The server's Prometheus metrics, as the rest of the server sees them: a few
// functions that count, observe and set, and nothing of prometheus-cpp. The
// families and their label children live in one process-wide registry
// (server/metrics/registry.h), made on first use with every label child
// resolved up front, so a call here is an atomic add on a metric that exists
// already: no lookup, no allocation, and no lock on the fan-out path (the
// histograms take prometheus-cpp's own per-histogram mutex, and are only
// observed on the publish and Redis paths). Tests call these without any
// HTTP endpoint; tariff-alertd serves the registry with MetricsExposer
// (server/metrics/metrics_exposer.h). The names, types and labels are listed
// in docs/operations.md, "Metrics".
//
// Never put an unbounded value (an event_id, a ticker, a token) in a label:
// every label value here comes from a fixed list, except the exposure version,
// of which one series exists at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tariffalert {
namespace metrics {

// Elapsed time on the steady clock, for latencies (never the wall clock,
// which may step).
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// The `result` label of tariffalert_events_published_total.
enum class PublishResult {
  kOk,           // published now
  kDuplicate,    // a repeat of a published event: the first response again
  kInvalid,      // the event was refused: INVALID_ARGUMENT,
                 // FAILED_PRECONDITION, ALREADY_EXISTS, OUT_OF_RANGE
  kUnavailable,  // nothing done, retry: UNAVAILABLE, DEADLINE_EXCEEDED
  kError,        // anything else (ABORTED, INTERNAL, ...)
};
PublishResult PublishResultOf(const absl::Status& status, bool duplicate);
// "ok", "duplicate", ...
const char* PublishResultName(PublishResult result);

// The `stage` label of tariffalert_events_published_total: the event's
// tariffalert.v1.Stage as its number (STAGE_THREATENED is 1, ...
// STAGE_REVOKED 6); "unspecified" for 0 or a number the server does not
// know (such an event is refused as invalid).
const char* PublishStageName(int stage);

// One PublishEvent call of an event of `stage`, and how long it took, all
// of it (validation, the wait for earlier publishes, scoring, the commit to
// Redis, the hand-off to the hub).
void EventPublished(int stage, PublishResult result, double seconds);
// One event (or snap-back) planned on the book and scored.
void EventScored(double seconds);
// Alerts this replica's publisher committed (portfolio alerts are made per
// stream and not counted).
void AlertsProduced(uint64_t count);

// A write to a SubscribeAlerts stream: `alerts` alerts (0 for a heartbeat)
// in `bytes` bytes of message.
void StreamWrite(uint64_t alerts, uint64_t bytes);
// A subscriber joined or left the hub.
void StreamOpened();
void StreamClosed();
// A slow consumer cut off (its queue past --queue-max-alerts or -bytes).
void SlowConsumerCutOff();
// The `result` label of tariffalert_stream_resumes_total.
enum class ResumeResult {
  kReplay,   // replayed from this replica's log
  kAhead,    // ahead of this replica but in the shared log: live from there
  kRefused,  // OUT_OF_RANGE: no longer retained, or ahead of every log
};
void StreamResumed(ResumeResult result);

// The `command` label of the Redis metrics for one round trip: its first
// command's name, XREAD_BLOCK for a blocking XREAD (its time is mostly the
// block), OTHER for a command the project does not send.
std::string RedisCommandLabel(const std::vector<std::string>& first_command);
// One round trip to Redis (a command or a pipeline, counted under its first
// command) and whether it failed: no connection, an I/O error or timeout, a
// refusal, or an error reply.
void RedisRoundTrip(const std::vector<std::vector<std::string>>& commands,
                    double seconds, bool error);
// Times a round trip from construction to destruction; an error unless
// Done(true) was called (so every early return of a failure counts).
class RedisCall {
 public:
  explicit RedisCall(const std::vector<std::vector<std::string>>& commands)
      : commands_(commands) {}
  ~RedisCall() { RedisRoundTrip(commands_, stopwatch_.Seconds(), !ok_); }
  RedisCall(const RedisCall&) = delete;
  RedisCall& operator=(const RedisCall&) = delete;
  void Done(bool ok) { ok_ = ok; }

 private:
  const std::vector<std::vector<std::string>>& commands_;
  Stopwatch stopwatch_;
  bool ok_ = false;
};

// How far the log tailer is behind the shared log in Redis, in sequences.
void SetTailerLag(uint64_t sequences);

// An exposure version was swapped in after `seconds` of reading and
// checking: tariffalert_exposure_info{version} (the previous version's
// series goes), the load's time and duration.
void ExposureLoaded(const std::string& version, double seconds);
// A version was rejected (invalid, gone or altered); the old one serves on.
void ExposureRejected();

// The tariff book as this replica last read or wrote it.
void SetBook(uint64_t revision, uint64_t pauses_pending);

// What the SubscribeAlerts streams' queues hold, read at each scrape:
// tariffalert_stream_queue_fullest_alerts and _bytes (the fullest queue of
// any stream), tariffalert_stream_queued_alerts and _bytes (all of them).
struct QueueDepth {
  uint64_t fullest_alerts = 0;
  uint64_t fullest_bytes = 0;
  uint64_t queued_alerts = 0;
  uint64_t queued_bytes = 0;
};
// Adds where a scrape reads the queues (a server's hub); with several (tests
// run servers side by side) the fullest is the largest and the totals add.
// Returns the id RemoveQueueDepthSource takes, which must be called before
// what `source` reads goes away.
int AddQueueDepthSource(std::function<QueueDepth()> source);
void RemoveQueueDepthSource(int id);

// WatchConsoleState streams opened and closed.
void ConsoleWatcherOpened();
void ConsoleWatcherClosed();

}  // namespace metrics
}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_METRICS_METRICS_H_
