#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_BOOK_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_BOOK_H_

// The tariff book (docs/tariff-book.md): named measures, each a rate on
// (imposing country, target countries, product scope minus exclusions,
// channels) with its legal authority and how it stacks. The effective rate
// on goods of a chapter or heading from one country is the base (MFN) rate
// plus what each measure in force that covers it adds under the stacking
// rules (stacking.h): a 20% fentanyl measure plus a 10% reciprocal measure
// on China make 30% on top of MFN; a 50% section 232 measure on chapter 72
// adds to the fentanyl measure, and the reciprocal measure, which does not
// stack with section 232, adds nothing there.
//
// An event acts on one measure: its measure_id, or the default measure of its
// (importer, targets, products, exclusions). EFFECTIVE sets a measure's rate;
// PAUSED lowers it until an expiry, when it snaps back; EXTENDED moves the
// expiry; REVOKED removes the measure. THREATENED and ANNOUNCED change no rate:
// the book remembers them as a pending change, priced in at the event's
// probability, so that a later stage of the same measure is scored only on
// what was not priced in yet.
//
// Pure: the book's clock is moved by its owner (DueSnapBacks); no I/O, not
// thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/base_rates.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"
#include "server/tariff_book/stacking.h"
#include "server/tariff_book/tariff_action.h"

namespace tariffalert {

struct MeasurePause {
  double snap_back_rate_pct = 0;
  absl::Time expires;
  std::string event_id;  // the PAUSED or latest EXTENDED event
};

// A THREATENED or ANNOUNCED change, priced in as probability x (rate_pct -
// the rate in force).
struct PendingChange {
  Stage stage = Stage::kThreatened;
  double rate_pct = 0;
  double probability = 0;
  std::string event_id;
  // How the measure would stack once the change is in force (the US-EU
  // deal's 15% is all-in where the 10% it replaces was not).
  MeasureTerms terms;
};

struct Measure {
  std::string id;
  Country importer;
  std::vector<Country> targets;  // sorted; empty: all partners
  std::vector<HsCode> products;  // sorted; empty: all goods
  std::vector<HsCode> excluded;  // sorted
  std::vector<Country> excluded_targets;  // sorted; only with all partners
  uint8_t channels = kAllChannels;        // a bit set of Channel
  MeasureTerms terms;
  bool in_force = false;
  double rate_pct = 0;  // 0 unless in force
  std::optional<MeasurePause> pause;
  std::optional<PendingChange> pending;
  std::string event_id;  // the last event that changed it

  // Does the measure reach goods of `product` (a chapter or heading, or all
  // goods) from `exporter` (one country; invalid Country() asks about the
  // all-partner rate)?
  bool Covers(Country exporter, HsCode product) const;
  // The rate in force plus the priced part of a pending change.
  double PricedRate() const;
  bool SameScope(const Measure& other) const;
};

// The change an event makes on one (partner, scope) it names.
struct BookRateChange {
  std::string target;  // alpha-2, "EU" (members moved alike) or "*"
  HsCode product;
  double previous_rate_pct = 0;
  double new_rate_pct = 0;
  // The base (MFN) rate both include, 0 without base rates.
  double base_pct = 0;
};

class TariffBook;

// What one action does, worked out without changing the book.
struct BookStep {
  // The action as the book reads it: measure_id set (the default measure's
  // name if the event gave none), the scope taken from the measure where the
  // event left it out.
  TariffAction action;
  // The rate change on each (partner, scope) the action names: for THREATENED
  // and ANNOUNCED the change if it happens.
  std::vector<BookRateChange> changes;
  // The same between `before` and `after`, as the scorer's explanations
  // quote them: `changes`, but when the change of the priced-in rates is
  // scored.
  std::vector<BookRateChange> scored_changes;
  // The scorer's inputs: Δ(x, scope) = after.Rate - before.Rate, times
  // `probability`, is the change not priced in yet.
  std::shared_ptr<const TariffBook> before;
  std::shared_ptr<const TariffBook> after;
  double probability = 1;
  // The book once the action is applied (revision bumped if it changed).
  std::shared_ptr<const TariffBook> next;
};

class TariffBook {
 public:
  // The default measure's name: "<importer>><targets|*>:<products|*>", plus
  // "-x<excluded>" when there are exclusions; e.g. "US>CN:*", "US>*:72,73".
  static std::string DefaultMeasureId(const TariffAction& action);

  // Effective rate in percent on goods entering through `channel`: the base
  // rate from `base` (none if null) plus what the measures in force that
  // cover the goods add under the stacking rules. 0 within one customs bloc.
  double Rate(Country importer, Country exporter, HsCode product,
              const BaseRates* base = nullptr,
              Channel channel = Channel::kGeneral) const;
  // The same, line by line: every measure that covers the goods (in force,
  // pending, or outside the query's channel) with what it adds and why.
  RateStack Stack(const StackQuery& query, const BaseRates* base) const;

  // INVALID_ARGUMENT or FAILED_PRECONDITION, naming the field, when the action
  // does not fit the book: an unknown measure for EXTENDED or REVOKED,
  // EXTENDED on a measure that is not paused, a pause of a measure not in
  // force without snap_back_rate_pct, a measure of another importer, a scope
  // that differs from the measure's where it may not change.
  // `base` prices the rate changes the step quotes (BookStep::changes).
  absl::StatusOr<BookStep> Plan(const TariffAction& action,
                                const BaseRates* base = nullptr) const;

  // Pauses that lapse at or before `t`, earliest first, each as the EFFECTIVE
  // action (snap_back = true) that restores its snap-back rate.
  std::vector<TariffAction> DueSnapBacks(absl::Time t) const;
  // Moves the clock forward to `t` (never back). Call once the due snap-backs
  // are applied.
  void AdvanceClock(absl::Time t);

  // The measures that bear on goods of `product` from `exporter`: in force or
  // pending.
  std::vector<const Measure*> MeasuresFor(Country importer, Country exporter,
                                          HsCode product) const;

  // Does some measure reach only some channels? Then a company's channel mix
  // matters to its rate changes.
  bool ChannelsDiffer() const;

  uint64_t revision() const { return revision_; }
  absl::Time clock() const { return clock_; }
  const std::map<std::string, Measure>& measures() const { return measures_; }

  // For the codec (book_codec.h): a book from stored parts, unchecked.
  static TariffBook FromParts(uint64_t revision, absl::Time clock,
                              std::map<std::string, Measure> measures);

  // Before (this book) and after rates of each (target, product) the action
  // names.
  std::vector<BookRateChange> Changes(const TariffAction& action,
                                      const TariffBook& after,
                                      const BaseRates* base = nullptr) const;

 private:
  friend class TariffBookPlanner;  // Plan's stages (tariff_book.cc)

  // A copy where every measure's rate is its priced rate.
  TariffBook Priced() const;

  std::map<std::string, Measure> measures_;
  uint64_t revision_ = 0;
  absl::Time clock_ = absl::InfinitePast();
  bool priced_ = false;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_BOOK_H_
