#include "server/exposure/exposure_watcher.h"

#include <malloc.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/metrics/metrics.h"

namespace tariffalert {

ExposureWatcher::ExposureWatcher(ExposureStore* store,
                                 absl::Duration poll_interval)
    : store_(store),
      poll_interval_(poll_interval),
      current_(
          std::make_shared<const ExposureTable>("", std::vector<Company>{})) {}

ExposureWatcher::~ExposureWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const ExposureTable> ExposureWatcher::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return current_;
}

absl::Status ExposureWatcher::Refresh() {
  absl::MutexLock refresh_lock(&refresh_mu_);
  auto pointer = store_->CurrentVersion();
  if (!pointer.ok()) {
    if (!store_error_logged_) {
      TA_LOG(WARNING) << "exposure store unreachable, serving version '"
                      << Current()->version() << "': " << pointer.status();
      store_error_logged_ = true;
    }
    return pointer.status();
  }
  if (store_error_logged_) {
    TA_LOG(INFO) << "exposure store reachable again";
    store_error_logged_ = false;
  }
  if (!pointer->has_value()) return absl::OkStatus();
  const std::string& version = **pointer;
  if (version == Current()->version() || version == rejected_version_) {
    return absl::OkStatus();
  }
  absl::Status loaded = Load(version);
  // The CSV text, the parser's temporaries and the table just replaced are
  // freed by now: hand their pages back, which glibc does not do by itself
  // when live blocks sit among them (a 50k-ticker table left the server at
  // 270 MB RSS instead of 108 MB).
  malloc_trim(0);
  return loaded;
}

absl::Status ExposureWatcher::Load(const std::string& version) {
  const std::string prefix = absl::StrCat("exposure version ", version);
  const metrics::Stopwatch stopwatch;
  auto files = store_->ReadVersion(version);
  // An unreachable store is retried at the next poll; a version that is gone,
  // altered or invalid is skipped until the pointer moves again.
  if (absl::IsUnavailable(files.status())) return files.status();
  absl::StatusOr<std::shared_ptr<const ExposureTable>> table =
      files.ok()
          ? ParseExposureFiles(*files, absl::StrCat(prefix, " companies.csv"),
                               absl::StrCat(prefix, " exposures.csv"), version,
                               absl::StrCat(prefix, " links.csv"),
                               absl::StrCat(prefix, " base-rates.csv"))
          : files.status();
  if (!table.ok()) {
    rejected_version_ = version;
    metrics::ExposureRejected();
    TA_LOG(ERROR) << "rejected " << prefix << ", still serving version '"
                  << Current()->version() << "': " << table.status().message();
    return table.status();
  }
  std::string previous;
  {
    absl::MutexLock lock(&mu_);
    previous = current_->version();
    current_ = *std::move(table);
  }
  metrics::ExposureLoaded(version, stopwatch.Seconds());
  TA_LOG(INFO) << "now serving exposure version " << version << " (was '"
               << previous << "'): " << Current()->companies().size()
               << " companies, " << Current()->link_count() << " supply links";
  return absl::OkStatus();
}

void ExposureWatcher::Start() {
  thread_ = std::thread([this] { PollLoop(); });
}

void ExposureWatcher::PollLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), poll_interval_);
      if (stop_) return;
    }
    Refresh().IgnoreError();
  }
}

}  // namespace tariffalert
