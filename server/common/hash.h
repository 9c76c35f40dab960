#ifndef TARIFF_ALERT_SERVER_COMMON_HASH_H_
#define TARIFF_ALERT_SERVER_COMMON_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tariffalert {

// FNV-1a 64-bit: a stable fingerprint to detect truncated or altered data and
// to name a parameter set; not a defence against an attacker.
inline uint64_t Fnv1a64(absl::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_HASH_H_
