#ifndef TARIFF_ALERT_SERVER_COMMON_CLOCK_H_
#define TARIFF_ALERT_SERVER_COMMON_CLOCK_H_

// Time comes in through this interface so that domain code never reads the
// system clock and tests can move time.

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tariffalert {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system clock; a process-wide singleton.
Clock& RealClock();

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_CLOCK_H_
