#ifndef TARIFF_ALERT_CLIENTS_LIB_BACKOFF_H_
#define TARIFF_ALERT_CLIENTS_LIB_BACKOFF_H_

// Reconnect delays for the alert subscriber: `initial`, doubling up to `max`,
// each spread by +-`jitter` so that many clients cut off together (a server
// shutdown) do not come back in one wave. Pure: the caller draws the random
// number, so tests need no clock and no seed.

#include "absl/time/time.h"

namespace tariffalert {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, double jitter)
      : initial_(initial), max_(max), jitter_(jitter), next_(initial) {}

  // The delay before the next attempt; `unit_random` is uniform in [0, 1).
  // Never more than `max`, never negative.
  absl::Duration Next(double unit_random);
  // After a healthy stream: the next delay is `initial` again.
  void Reset() { next_ = initial_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  const double jitter_;
  absl::Duration next_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_CLIENTS_LIB_BACKOFF_H_
