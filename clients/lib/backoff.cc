#include "clients/lib/backoff.h"

#include <algorithm>

namespace tariffalert {

absl::Duration Backoff::Next(double unit_random) {
  const double spread = 1.0 + jitter_ * (2.0 * unit_random - 1.0);
  absl::Duration delay = next_ * spread;
  delay = std::clamp(delay, absl::ZeroDuration(), max_);
  next_ = std::min(next_ * 2, max_);
  return delay;
}

}  // namespace tariffalert
