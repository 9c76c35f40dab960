#include "server/common/sectors.h"

#include <algorithm>
#include <array>

#include "absl/strings/string_view.h"

namespace tariffalert {
namespace {

constexpr std::array<absl::string_view, 11> kSectors = {
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
};

}  // namespace

absl::Span<const absl::string_view> GicsSectors() { return kSectors; }

bool IsGicsSector(absl::string_view name) {
  return std::find(kSectors.begin(), kSectors.end(), name) != kSectors.end();
}

}  // namespace tariffalert
