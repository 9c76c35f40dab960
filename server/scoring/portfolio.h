#ifndef TARIFF_ALERT_SERVER_SCORING_PORTFOLIO_H_
#define TARIFF_ALERT_SERVER_SCORING_PORTFOLIO_H_

// Portfolio impact (docs/scoring.md, "Portfolio impact"): what one event's
// ticker scores (or a scenario's) do to a book of positions. A holding's
// impact is
//   position_value * operating_profit_change_pct / 100 * valuation_elasticity
// (the change of a position's value when the company's operating profit moves
// and its valuation multiple moves with elasticity e: 1 = a constant
// multiple). The impact in bps is taken of the book's gross value
// sum |position_value|, so a long/short book whose net value is near zero
// still gets a finite figure; for a long-only book that is the plain sum.
//
// Pure: no clock, no Redis, no gRPC. The fan-out hub fills TickerScores from
// an event's logged alerts, ScoreScenario from its SubjectScores; both get
// the same figures.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/scoring/scorer.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {

// Holdings a request may carry.
inline constexpr size_t kMaxHoldings = 10000;
// Holdings listed in PortfolioImpact.top_holdings.
inline constexpr size_t kTopHoldings = 5;

struct Holding {
  std::string ticker;
  // In the holder's currency; negative for a short position.
  double position_value = 0;
};

// Checks holdings from a request: at most kMaxHoldings, tickers non-empty,
// at most 24 characters and distinct, values finite and nonzero.
// INVALID_ARGUMENT naming the field: "<field>[2].position_value: ...".
absl::StatusOr<std::vector<Holding>> ValidateHoldings(
    const google::protobuf::RepeatedPtrField<v1::Holding>& holdings,
    absl::string_view field = "holdings");

// What the portfolio needs of one ticker's score.
struct TickerScore {
  absl::string_view name;
  double score_bps = 0;
  double operating_profit_change_pct = 0;
};

// The ticker scores of one event (or one scenario step, or a scenario's
// totals): the input both the hub and ScoreScenario can fill. Holds views:
// the strings passed in must outlive it.
class TickerScores {
 public:
  TickerScores() = default;
  // The ticker subjects of `subjects` (sector subjects are skipped).
  static TickerScores FromSubjects(absl::Span<const SubjectScore> subjects);

  void Reserve(size_t n) { scores_.reserve(n); }
  // A repeated ticker keeps its first score.
  void Add(absl::string_view ticker, TickerScore score) {
    scores_.emplace(ticker, score);
  }
  // nullptr if the ticker was not scored (unknown, or below min_alert_bps).
  const TickerScore* Find(absl::string_view ticker) const {
    auto it = scores_.find(ticker);
    return it == scores_.end() ? nullptr : &it->second;
  }
  size_t size() const { return scores_.size(); }

 private:
  absl::flat_hash_map<absl::string_view, TickerScore> scores_;
};

// The impact of `scores` on `holdings`. A holding that `scores` lacks has
// impact 0; it is listed in unknown_tickers when `in_table(ticker)` is false
// (the exposure table does not know it). top_holdings: at most kTopHoldings
// with a nonzero impact, largest |impact_value| first, ties by ticker.
v1::PortfolioImpact ComputePortfolioImpact(
    absl::Span<const Holding> holdings, const TickerScores& scores,
    absl::FunctionRef<bool(absl::string_view)> in_table,
    double valuation_elasticity);

// "-1.26M", "+950.0k", "-12": a money amount, short, signed.
std::string FormatMoney(double value);

// One sentence: "Portfolio -42.1 bps (-1.26M of 10.00M) from <event>:
// AAPL -0.90M, NVDA -0.36M; 1 holding not in the exposure table (XYZ)."
std::string DescribePortfolio(const v1::PortfolioImpact& impact,
                              absl::string_view event);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SCORING_PORTFOLIO_H_
