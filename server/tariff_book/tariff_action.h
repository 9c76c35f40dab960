#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_ACTION_H_

// A validated tariff event in domain terms: what the book and the scorer work
// on. Built from the wire TariffEvent by ingest's validator, which is the only
// place that checks input; code here may assume the invariants below.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// The legal authority a measure rests on, as the Yale Budget Lab's
// tariff-rate-tracker splits US duties (docs/tariff-book.md). The stacking
// rules (stacking.h) read it: a country's own rate replaces the all-partner
// rate of the same authority, and `not_with` may name an authority.
enum class Authority {
  kUnspecified,  // old events: the measure only adds up
  kIeepaReciprocal,
  kIeepaFentanyl,
  kSection232,
  kSection301,
  kSection201,
  kSection122,
  kOther,
};

// "SECTION_232" for Authority::kSection232, as events and not_with spell it.
const char* AuthorityName(Authority authority);
std::optional<Authority> AuthorityFromName(std::string_view name);

// How a measure's rate combines with the base (MFN) rate and the others.
enum class Combination {
  kAdd,     // on top of the base rate and the other measures
  kAllIn,   // the rate includes the base: adds max(0, rate - base), as the
            // 2025 US-EU and US-Japan 15% (max(MFN, 15%))
  kInLieu,  // replaces the base and every other measure (de minimis postal
            // duties, duty-free de minimis itself at 0%)
};

const char* CombinationName(Combination combination);

// The ways goods enter, each a share of a company's flows (the exposure
// table's usmca_share and low_value_share); a measure may reach only some.
enum class Channel : uint8_t {
  kGeneral = 1,
  kUsmca = 2,     // qualifying for USMCA preference (trade among US, CA, MX)
  kLowValue = 4,  // direct-to-consumer parcels under the de minimis limit
};
inline constexpr uint8_t kAllChannels = 7;

const char* ChannelName(Channel channel);

// How a measure stacks, as an event states it (docs/tariff-book.md).
struct MeasureTerms {
  Authority authority = Authority::kUnspecified;
  Combination combination = Combination::kAdd;
  // Authority names ("SECTION_232") or measure ids: the measure does not
  // apply to goods on which one of these owes duty (more than 0%). Sorted.
  std::vector<std::string> not_with;
  // The rate is charged on the declared value of the content (steel,
  // aluminium, copper) rather than on the whole value.
  bool on_content = false;

  friend bool operator==(const MeasureTerms& a, const MeasureTerms& b) {
    return a.authority == b.authority && a.combination == b.combination &&
           a.not_with == b.not_with && a.on_content == b.on_content;
  }
};

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
  // How the measure stacks; taken from the measure when !terms_given.
  MeasureTerms terms;
  bool terms_given = false;
  // The channels the measure reaches (a bit set of Channel); part of its
  // scope, like the targets.
  uint8_t channels = kAllChannels;

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
