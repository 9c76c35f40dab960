#ifndef TARIFF_ALERT_SERVER_SERVICE_LOG_TAILER_H_
#define TARIFF_ALERT_SERVER_SERVICE_LOG_TAILER_H_

// Follows the shared alert log in Redis and feeds this replica's hub, so that
// its subscribers get every replica's alerts, with the sequences Redis gave
// them, in order. On start it loads the newest `preload` alerts, so a
// restarted server can replay them to resuming clients. Alerts this
// replica's publisher already handed to the hub are skipped.

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/fanout/alert_hub.h"
#include "server/redis/redis_book_store.h"

namespace tariffalert {

class LogTailer {
 public:
  LogTailer(RedisOptions options, AlertHub* hub, size_t preload);
  ~LogTailer();
  LogTailer(const LogTailer&) = delete;
  LogTailer& operator=(const LogTailer&) = delete;

  // Loads the log's newest alerts into the hub (UNAVAILABLE if Redis cannot
  // be read within `timeout`), then follows the log on a thread.
  absl::Status Start(absl::Duration timeout);
  // Prompt: the thread's blocking read lasts at most kBlock.
  void Stop();

 private:
  // Reads once after the hub's newest and delivers what came; returns how
  // many alerts were read.
  absl::StatusOr<size_t> Poll(absl::Duration block);
  void Run();

  RedisBookStore log_;
  AlertHub* const hub_;
  const size_t preload_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_LOG_TAILER_H_
