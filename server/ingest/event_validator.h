#ifndef TARIFF_ALERT_SERVER_INGEST_EVENT_VALIDATOR_H_
#define TARIFF_ALERT_SERVER_INGEST_EVENT_VALIDATOR_H_

// Checks a TariffEvent from the wire and turns it into a TariffAction: the
// only gate between publishers and the book. Every error is INVALID_ARGUMENT
// and names the field ("event.target_countries[1]: ...").

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_action.h"

namespace tariffalert::v1 {
class TariffEvent;
}  // namespace tariffalert::v1

namespace tariffalert {

inline constexpr size_t kMaxEventIdBytes = 128;
inline constexpr size_t kMaxMeasureIdBytes = 64;
inline constexpr size_t kMaxHeadlineBytes = 512;
inline constexpr size_t kMaxUrlBytes = 2048;
inline constexpr int kMaxListEntries = 300;
// Above any tariff ever levied; a larger value is a typo.
inline constexpr double kMaxRatePct = 1000;

// Event times (announced, effective, expires) before 1930 (the Smoot-Hawley
// tariff, the oldest a portfolio could care about) or from 2101 on are
// absurd: a typo or an unset year. How far ahead of the book's clock an event
// may be is the publisher's rule (PublisherOptions), as it depends on the
// clock; these bounds hold for replays and scenarios too.
inline constexpr absl::Time kEarliestEventTime =
    absl::FromUnixSeconds(-1262304000);  // 1930-01-01T00:00:00Z
inline constexpr absl::Time kLatestEventTime =
    absl::FromUnixSeconds(4133980800);  // 2101-01-01T00:00:00Z

// RFC 3339 in UTC, to the second, as errors show times.
std::string FormatEventTime(absl::Time t);

absl::StatusOr<TariffAction> ValidateEvent(const v1::TariffEvent& event,
                                           const ScoringParams& params);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_EVENT_VALIDATOR_H_
