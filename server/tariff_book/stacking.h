#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_STACKING_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_STACKING_H_

// How the measures that reach one good make its rate: the base (MFN) rate
// and the stacking rules of 2025 US trade law as data (docs/tariff-book.md,
// "Stacking rules"). Every rule is one entry of the table in stacking.cc;
// TariffBook::Stack gathers the measures and this file decides what each
// adds. Pure.

#include <string>
#include <vector>

#include "server/common/base_rates.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"
#include "server/tariff_book/tariff_action.h"

namespace tariffalert {

struct Measure;

// One good: goods of `product` from `exporter` into `importer`, entering
// through `channel`.
struct StackQuery {
  Country importer;
  Country exporter;  // invalid Country(): the all-partner rate
  HsCode product;
  Channel channel = Channel::kGeneral;
  // The share of the good's value that on_content measures (section 232 on
  // steel, aluminium or copper content) are charged on.
  double content_share = 1;
};

// Why a measure adds what it adds (DescribeLine words it).
enum class StackReason {
  kAdds,            // its rate, on top
  kAllIn,           // max(0, rate - base): the rate includes the base
  kOnContent,       // rate x content share
  kInLieu,          // its rate replaces the base and every other measure
  kReplacedInLieu,  // `by` is in lieu of it
  kNotWith,         // `by` owes duty on the good, and it does not stack
  kCountryRate,     // `by`, the exporter's own rate of its authority,
                    // replaces this all-partner rate
  kOutsideChannel,  // it does not reach the query's channel
  kPending,         // threatened or announced only, not in force
};

struct StackLine {
  const Measure* measure = nullptr;
  // How it stacks: the measure's terms, or for the part of a priced book
  // that stands for a pending change, the terms that change brings.
  const MeasureTerms* terms = nullptr;
  // In a priced book (TariffBook::Priced, the expectation the scorer prices
  // threats with) a measure with a pending change at probability p is two
  // lines: as it stands, weight 1 - p, and as the change would make it,
  // weight p. A line that another replaces with weight w keeps 1 - w of its
  // own. 1 everywhere else.
  double weight = 1;
  // The measure's rate: in force, or priced (rate in force + p x pending
  // change) when the book is priced.
  double rate_pct = 0;
  // What it adds to the good's rate (times its weight).
  double applied_pct = 0;
  StackReason reason = StackReason::kAdds;
  const Measure* by = nullptr;  // kReplacedInLieu, kNotWith, kCountryRate
};

struct RateStack {
  const BaseRate* base = nullptr;  // null: no base rate on file
  double base_pct = 0;             // what the base adds (0 when in lieu)
  std::vector<StackLine> lines;    // in measure id order
  double total_pct = 0;
};

// Applies the rule table to `lines` (each kAdds with its rate, or
// kOutsideChannel / kPending, which add nothing) and sums the good's rate.
RateStack StackRates(std::vector<StackLine> lines, const BaseRate* base,
                     const StackQuery& query);

// One sentence on what the line adds and why, e.g. "15% all-in, which
// includes the 2.5% base rate: adds 12.5%".
std::string DescribeLine(const StackLine& line, const RateStack& stack,
                         const StackQuery& query);
// "US MFN 2.5% (HS 7616; USITC HTS 2025 ..., 2025)" or why there is none.
std::string DescribeBase(const RateStack& stack, const StackQuery& query);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_STACKING_H_
