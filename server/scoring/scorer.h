#ifndef TARIFF_ALERT_SERVER_SCORING_SCORER_H_
#define TARIFF_ALERT_SERVER_SCORING_SCORER_H_

// The scoring model (docs/scoring.md): for one tariff action, the estimated
// change of every company's operating profit in basis points of revenue,
// through three first-order channels (import cost, export, protection) and
// one hop of supply-chain spillover from hit customers to their suppliers,
// with the inputs of every contribution kept so an analyst can recompute it by
// hand; plus a market-cap-weighted roll-up per sector. Pure: reads an
// immutable exposure snapshot and two tariff books, never Redis, never the
// clock.

#include <string>
#include <vector>

#include "server/exposure/exposure_table.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_action.h"
#include "server/tariff_book/tariff_book.h"

namespace tariffalert {

enum class ScoreChannel {
  kImportCost = 1,
  kExport = 2,
  kProtection = 3,
  kSpillover = 4,
};
enum class ScoreSubjectKind { kTicker = 1, kSector = 2 };

// One channel's part of a score. Every first-order channel is
//   bps = sign * delta_pct/100 * exposure_share * market_factor * cogs_ratio
//         * sector_factor * partner_weight * probability * 10000
// with sign -1 for import cost and export, +1 for protection, and factors a
// channel does not use set to 1. Spillover is
//   bps = customer_score_bps * exposure_share * sector_factor
// (share of the supplier's revenue the customer buys, times beta), with
// delta_pct 0, market_factor, cogs_ratio, partner_weight and probability 1
// (the customer's score already holds the probability).
struct Contribution {
  ScoreChannel channel = ScoreChannel::kImportCost;
  // Partner (or exposure row) country; "*" = all partners. Protection and
  // spillover name the event's partners ("CN", "CN,MX" or "*").
  std::string country;
  HsCode product;
  double delta_pct = 0;
  double exposure_share = 0;
  // Import cost: revenue(I). Export: the share of output made outside I that
  // is sold in I, max(0, revenue(I) - production(I)) / (1 - production(I)).
  // Protection: the share of output made in I that is sold in I,
  // min(1, revenue(I) / production(I)).
  double market_factor = 0;
  double revenue_share = 0;  // revenue(I), for reference
  double cogs_ratio = 1;
  double sector_factor = 1;
  double partner_weight = 1;
  double probability = 1;
  double bps = 0;
  // Spillover only: the customer whose first-order score spills over, and
  // that score.
  std::string customer;
  double customer_score_bps = 0;
};

struct SubjectScore {
  ScoreSubjectKind kind = ScoreSubjectKind::kTicker;
  std::string subject;  // ticker or sector name
  std::string name;
  std::string sector;
  std::string country;  // company's country; empty for a sector
  double score_bps = 0;
  Severity severity = Severity::kInfo;
  double operating_profit_change_pct = 0;
  std::vector<Contribution> contributions;  // largest |bps| first
  std::string explanation;
};

struct ScoreResult {
  // Companies with |score| >= min_alert_bps, largest |score| first (ties by
  // ticker), then sectors likewise.
  std::vector<SubjectScore> subjects;
};

// Scores `action` given the book before it and the book after it
// (TariffBook::After). Every company's first-order score comes first; then
// each supplier of a company with a nonzero first-order score gets a spillover
// contribution (table.CustomersOf, params.spillover_beta(); none when beta is
// 0 or the table has no links). Spillover never feeds further spillover.
// Two passes: the ranking ScoreTickers gives, then contributions and
// explanations only for the companies that alert; a sector's contributions
// are its members' summed in the ranking pass.
// `changes`: the rate changes from `before` to `after` the explanations
// quote (BookStep::scored_changes).
ScoreResult ScoreAction(const TariffAction& action, const TariffBook& before,
                        const TariffBook& after,
                        const std::vector<BookRateChange>& changes,
                        const ExposureTable& table,
                        const ScoringParams& params);
// The same with the changes worked out here (before.Changes(action, after)):
// for callers without a BookStep (benchmarks, tests).
ScoreResult ScoreAction(const TariffAction& action, const TariffBook& before,
                        const TariffBook& after, const ExposureTable& table,
                        const ScoringParams& params);

// Every company's score in bps of revenue (first order plus spillover),
// indexed like table.companies(): the ranking ScoreAction's alerts come from,
// without the contributions and explanations. An all-goods event is read
// country-major (ExposureTable::RowsIn): only the rows in the importing market
// and in the partners whose rate changes are visited. Equal to ScoreAction's
// score_bps for every company (to rounding, for a several-partner event).
std::vector<double> ScoreTickers(const TariffAction& action,
                                 const TariffBook& before,
                                 const TariffBook& after,
                                 const ExposureTable& table,
                                 const ScoringParams& params);

// "US tariff on CN goods 30% -> 145% (+115 pp), EFFECTIVE": the event part of
// every explanation.
std::string DescribeAction(const TariffAction& action,
                           const std::vector<BookRateChange>& changes);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SCORING_SCORER_H_
