#ifndef TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_WATCHER_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_WATCHER_H_

// Keeps the server's in-process exposure snapshot in step with the store's
// current version: polls the version pointer, and on a change reads, validates
// and swaps in the new table whole. A version that fails validation is logged
// and skipped; the old snapshot keeps serving.

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/exposure/exposure_store.h"
#include "server/exposure/exposure_table.h"

namespace tariffalert {

class ExposureWatcher {
 public:
  // `store` must outlive the watcher and is used from the polling thread only
  // (and from Refresh()).
  ExposureWatcher(ExposureStore* store, absl::Duration poll_interval);
  ~ExposureWatcher();
  ExposureWatcher(const ExposureWatcher&) = delete;
  ExposureWatcher& operator=(const ExposureWatcher&) = delete;

  // Polls once: if the pointer moved, loads and swaps. Returns the store's
  // error if it could not be read, or the validation error of a bad version.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_);
  // Starts polling every poll_interval until destruction.
  void Start();

  // The snapshot now serving; never null (an empty table before any load).
  std::shared_ptr<const ExposureTable> Current() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void PollLoop();
  // Reads, checks and (if valid) swaps in `version`; Refresh's second half.
  absl::Status Load(const std::string& version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);

  ExposureStore* const store_;
  const absl::Duration poll_interval_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ExposureTable> current_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Touched by Refresh() only; Refresh() calls are serialized by refresh_mu_.
  absl::Mutex refresh_mu_;
  std::optional<std::string> rejected_version_ ABSL_GUARDED_BY(refresh_mu_);
  bool store_error_logged_ ABSL_GUARDED_BY(refresh_mu_) = false;
  std::thread thread_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_WATCHER_H_
