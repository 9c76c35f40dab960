#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_

// A validated tariff event in domain terms: what the book and the scorer work
// on. Built from the wire TariffEvent by ingest's validator, which is the only
// place that checks input; code here may assume the invariants below.

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
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
  // Empty: the book names the event's default measure (TariffBook).
  std::string measure_id;
  // Goods the measure leaves out: chapters or headings inside `products` (or
  // any, for all goods), distinct and pairwise non-overlapping.
  std::vector<HsCode> excluded;
  // With all partners (targets empty) only: partners left out, distinct,
  // "EU" standing for its members.
  std::vector<Country> excluded_targets;
  // PAUSED only: the rate the measure returns to when the pause lapses.
  std::optional<double> snap_back_rate_pct;
  std::optional<absl::Time> announced_time;
  std::optional<absl::Time> effective_time;
  // Required for PAUSED and EXTENDED; after effective_time.
  std::optional<absl::Time> expires_time;
  // Made by the book's clock when a pause lapsed, not sent by a publisher.
  bool snap_back = false;

  bool all_partners() const { return targets.empty(); }
  bool all_goods() const { return products.empty(); }
  // Does the event's partner scope include `exporter` (a single country)?
  bool TargetsCountry(Country exporter) const;
  // The time the event speaks for: when it was announced for THREATENED and
  // ANNOUNCED (their effective_time is a plan, not yet a fact), else
  // effective_time, else announced_time.
  std::optional<absl::Time> EventTime() const {
    if (stage == Stage::kThreatened || stage == Stage::kAnnounced) {
      return announced_time;
    }
    return effective_time ? effective_time : announced_time;
  }
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_
