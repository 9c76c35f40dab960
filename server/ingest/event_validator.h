#ifndef TARIFF_ALERT_SERVER_INGEST_EVENT_VALIDATOR_H_
#define TARIFF_ALERT_SERVER_INGEST_EVENT_VALIDATOR_H_

// Checks a TariffEvent from the wire and turns it into a TariffAction: the
// only gate between publishers and the book. Every error is INVALID_ARGUMENT
// and names the field ("event.target_countries[1]: ...").

#include "absl/status/statusor.h"
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

absl::StatusOr<TariffAction> ValidateEvent(const v1::TariffEvent& event,
                                           const ScoringParams& params);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_EVENT_VALIDATOR_H_
