#ifndef TARIFF_ALERT_TESTS_TESTING_FAKE_CLOCK_H_
#define TARIFF_ALERT_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"

namespace tariffalert::testing {

// A clock that moves only when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1752000000))
      : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_FAKE_CLOCK_H_
