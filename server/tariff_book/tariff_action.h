#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_

// A validated tariff event in domain terms: what the book and the scorer work
// on. Built from the wire TariffEvent by ingest's validator, which is the only
// place that checks input; code here may assume the invariants below.

#include <optional>
#include <string>
#include <vector>

#include "server/common/country.h"
#include "server/common/hs_code.h"

namespace tariffalert {

enum class Stage {
  kThreatened,
  kAnnounced,
  kEffective,
  kPaused,
  kExtended,
  kRevoked,
};

const char* StageName(Stage stage);

struct TariffAction {
  std::string event_id;
  Country importer;
  // Distinct, none in the importer's bloc; empty means all partners. "EU" is
  // kept as given and stands for its members.
  std::vector<Country> targets;
  // Distinct and pairwise non-overlapping; empty means all goods.
  std::vector<HsCode> products;
  Stage stage = Stage::kEffective;
  // Set for every stage but kExtended and kRevoked; finite, >= 0.
  std::optional<double> new_rate_pct;
  std::optional<double> previous_rate_pct;
  // 0..1, the stage default already applied.
  double probability = 1;
  std::string measure_id;

  bool all_partners() const { return targets.empty(); }
  bool all_goods() const { return products.empty(); }
  // Does the event's partner scope include `exporter` (a single country)?
  bool TargetsCountry(Country exporter) const;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_
