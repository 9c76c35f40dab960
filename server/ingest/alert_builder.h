#ifndef TARIFF_ALERT_SERVER_INGEST_ALERT_BUILDER_H_
#define TARIFF_ALERT_SERVER_INGEST_ALERT_BUILDER_H_

// Scores as wire alerts, shared by the publisher, ScoreScenario and replay:
// the same step on the same exposure version and book revision gives the
// same alert bytes (given the same sequence and created_time).

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/scoring/scorer.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_action.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/tariff_event.pb.h"

namespace tariffalert {

struct AlertContext {
  std::string exposure_version;
  uint64_t book_revision = 0;
  // The share of the rate change scored (BookStep::probability).
  double probability = 1;
  absl::Time created;
};

// Fills `alert` (cleared first) but for its sequence.
void BuildAlert(const SubjectScore& s, const TariffAction& action,
                const v1::TariffEvent& event, const AlertContext& context,
                const ScoringParams& params, v1::Alert& alert);

// The wire event of an action the book's clock made (a lapsed pause).
v1::TariffEvent SnapBackEvent(const TariffAction& snap_back);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_ALERT_BUILDER_H_
