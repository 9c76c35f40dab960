#ifndef TARIFF_ALERT_SERVER_COMMON_SECTORS_H_
#define TARIFF_ALERT_SERVER_COMMON_SECTORS_H_

// The eleven GICS sectors: the only sector names the exposure table and the
// scoring config accept, so that a typo cannot silently get default parameters.

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tariffalert {

absl::Span<const absl::string_view> GicsSectors();
bool IsGicsSector(absl::string_view name);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_SECTORS_H_
