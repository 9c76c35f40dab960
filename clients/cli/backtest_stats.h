#ifndef TARIFF_ALERT_CLIENTS_CLI_BACKTEST_STATS_H_
#define TARIFF_ALERT_CLIENTS_CLI_BACKTEST_STATS_H_

// The figures of `tariff-alert backtest` (docs/backtest.md): how often the
// sign of the model's score matched the market's net return, and how well
// the scores ranked the returns. Pure arithmetic on (score, net return)
// points: no files, no model, and never a NaN (an undefined figure is empty).

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/types/span.h"

namespace tariffalert::cli {

// One ticker on one day: the model's summed score and the market's answer.
struct BacktestPoint {
  double score_bps = 0;
  double net_return_pct = 0;  // the ticker's return less its index's
};

enum class BacktestCall {
  kUnmoved,    // |net return| <= the threshold: not judged
  kHit,        // the score's sign is the net return's
  kWrongSign,  // the opposite sign
  kNoCall,     // a score of exactly 0 on a name that moved: a miss
};

BacktestCall JudgeCall(const BacktestPoint& p, double threshold_pct);

struct BacktestStats {
  size_t n = 0;      // points
  size_t moved = 0;  // points with |net return| > the threshold
  size_t hits = 0;
  size_t wrong_sign = 0;
  size_t no_calls = 0;
  // hits / moved; empty when nothing moved.
  std::optional<double> hit_rate;
  // Of score against net return over all n points; empty when undefined.
  std::optional<double> spearman;
  // Indexes into the points of the wrong-sign and no-call names, largest
  // |net return| first (ties in point order), at most `max_misses`.
  std::vector<size_t> largest_misses;
};

BacktestStats ComputeBacktestStats(absl::Span<const BacktestPoint> points,
                                   double threshold_pct, size_t max_misses = 5);

// 1-based ranks, ascending, of finite values; tied values share the mean of
// their ranks ({10, 20, 20, 30} -> {1, 2.5, 2.5, 4}).
std::vector<double> AverageRanks(absl::Span<const double> values);

// Spearman's rank correlation: Pearson's correlation of the average ranks.
// Empty with fewer than 3 pairs, with sizes that differ, or when either
// side's ranks have no variance (all values tied).
std::optional<double> SpearmanRho(absl::Span<const double> x,
                                  absl::Span<const double> y);

}  // namespace tariffalert::cli

#endif  // TARIFF_ALERT_CLIENTS_CLI_BACKTEST_STATS_H_
