#ifndef TARIFF_ALERT_TESTS_TESTING_FAKE_EXPOSURE_STORE_H_
#define TARIFF_ALERT_TESTS_TESTING_FAKE_EXPOSURE_STORE_H_

// An in-memory ExposureStore for unit tests, with switches to make it fail
// the way Redis can.

#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/exposure/exposure_store.h"

namespace tariffalert::testing {

class FakeExposureStore : public ExposureStore {
 public:
  absl::StatusOr<std::optional<std::string>> CurrentVersion() override {
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("fake store down");
    return current_;
  }
  absl::StatusOr<ExposureFiles> ReadVersion(
      const std::string& version) override {
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("fake store down");
    auto it = versions_.find(version);
    if (it == versions_.end()) return absl::NotFoundError(version);
    return it->second;
  }
  absl::StatusOr<std::string> WriteVersion(
      const ExposureFiles& files, const ExposureVersionInfo&) override {
    absl::MutexLock lock(&mu_);
    if (unavailable_ || fail_writes_)
      return absl::UnavailableError("fake store down");
    const std::string version = absl::StrCat(++next_id_);
    versions_[version] = files;
    return version;
  }
  absl::Status Activate(const std::string& version) override {
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("fake store down");
    if (!versions_.count(version))
      return absl::FailedPreconditionError(version);
    current_ = version;
    ++activations_;
    return absl::OkStatus();
  }

  // Test controls.
  void set_unavailable(bool v) {
    absl::MutexLock lock(&mu_);
    unavailable_ = v;
  }
  void set_fail_writes(bool v) {
    absl::MutexLock lock(&mu_);
    fail_writes_ = v;
  }
  // Stores files as a version and points at it without validation, as a
  // corrupted or foreign writer might.
  std::string ForceCurrent(const ExposureFiles& files) {
    absl::MutexLock lock(&mu_);
    const std::string version = absl::StrCat(++next_id_);
    versions_[version] = files;
    current_ = version;
    return version;
  }
  int activations() {
    absl::MutexLock lock(&mu_);
    return activations_;
  }
  size_t version_count() {
    absl::MutexLock lock(&mu_);
    return versions_.size();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, ExposureFiles> versions_ ABSL_GUARDED_BY(mu_);
  std::optional<std::string> current_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
  int activations_ ABSL_GUARDED_BY(mu_) = 0;
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_FAKE_EXPOSURE_STORE_H_
