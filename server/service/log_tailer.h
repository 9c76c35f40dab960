#ifndef TARIFF_ALERT_SERVER_SERVICE_LOG_TAILER_H_
#define TARIFF_ALERT_SERVER_SERVICE_LOG_TAILER_H_

// Follows the shared alert log in Redis and feeds this replica's hub, so that
// its subscribers get every replica's alerts, with the sequences Redis gave
// them, in order. On start it loads the newest `preload` alerts, so a
// restarted server can replay them to resuming clients. Entries this
// replica's publisher wrote (tagged with AlertLogOptions::writer) are
// skipped unparsed: the publisher hands their alerts to the hub itself.

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/common/clock.h"
#include "server/fanout/alert_hub.h"
#include "server/redis/redis_event_log.h"

namespace tariffalert {

// The entries of one read of the alert log (RedisEventLog::ReadAfter),
// decoded for the hub. DATA_LOSS naming the entry if one is not an Alert,
// holds an alert whose sequence is not its entry id's, does not follow the
// entry before it (one deleted from the stream) or has an id above 2^63 - 1,
// which the log never allocates: the hub takes dense sequences only, aborts
// on a gap inside what it is given, and counts on newest + 1 not wrapping.
absl::StatusOr<std::vector<EncodedAlertPtr>> DecodeLoggedAlerts(
    absl::Span<const LoggedAlert> read);

class LogTailer {
 public:
  // Every `trim_interval` it also drops the alerts older than the log's
  // retention_age from Redis (any replica may; it is idempotent).
  LogTailer(RedisOptions options, AlertLogOptions log, AlertHub* hub,
            size_t preload, const Clock& clock,
            absl::Duration trim_interval = absl::Minutes(1));
  ~LogTailer();
  LogTailer(const LogTailer&) = delete;
  LogTailer& operator=(const LogTailer&) = delete;

  // Loads the log's newest alerts into the hub; UNAVAILABLE if Redis cannot
  // be read within `timeout`.
  absl::Status Load(absl::Duration timeout);
  // Follows the log on a thread from then on. `reachable` is told when Redis
  // stops and starts answering (from that thread).
  void Follow(std::function<void(bool)> reachable);
  // Prompt: the thread's blocking read lasts at most kBlock.
  void Stop();

 private:
  // Reads once after the hub's newest and delivers what came; returns how
  // many log entries were read.
  absl::StatusOr<size_t> Poll(absl::Duration block);
  void Run(std::function<void(bool)> reachable);

  RedisEventLog log_;
  // This replica's tag on the entries its publisher writes.
  const std::string own_writer_;
  const absl::Duration retention_age_;
  AlertHub* const hub_;
  const size_t preload_;
  const Clock& clock_;
  const absl::Duration trim_interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_LOG_TAILER_H_
