#include "clients/cli/backtest_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tariffalert::cli {

BacktestCall JudgeCall(const BacktestPoint& p, double threshold_pct) {
  if (!(std::abs(p.net_return_pct) > threshold_pct)) {
    return BacktestCall::kUnmoved;
  }
  if (p.score_bps == 0) return BacktestCall::kNoCall;
  return (p.score_bps > 0) == (p.net_return_pct > 0) ? BacktestCall::kHit
                                                     : BacktestCall::kWrongSign;
}

BacktestStats ComputeBacktestStats(absl::Span<const BacktestPoint> points,
                                   double threshold_pct, size_t max_misses) {
  BacktestStats stats;
  stats.n = points.size();
  std::vector<size_t> misses;
  for (size_t i = 0; i < points.size(); ++i) {
    switch (JudgeCall(points[i], threshold_pct)) {
      case BacktestCall::kUnmoved:
        continue;
      case BacktestCall::kHit:
        ++stats.hits;
        break;
      case BacktestCall::kWrongSign:
        ++stats.wrong_sign;
        misses.push_back(i);
        break;
      case BacktestCall::kNoCall:
        ++stats.no_calls;
        misses.push_back(i);
        break;
    }
    ++stats.moved;
  }
  if (stats.moved > 0) {
    stats.hit_rate = static_cast<double>(stats.hits) / stats.moved;
  }
  std::stable_sort(misses.begin(), misses.end(), [&](size_t a, size_t b) {
    return std::abs(points[a].net_return_pct) >
           std::abs(points[b].net_return_pct);
  });
  if (misses.size() > max_misses) misses.resize(max_misses);
  stats.largest_misses = std::move(misses);

  std::vector<double> scores, returns;
  for (const BacktestPoint& p : points) {
    scores.push_back(p.score_bps);
    returns.push_back(p.net_return_pct);
  }
  stats.spearman = SpearmanRho(scores, returns);
  return stats;
}

std::vector<double> AverageRanks(absl::Span<const double> values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) {
      ++end;
    }
    // Ranks start+1 .. end share their mean.
    const double rank = (static_cast<double>(start + 1) + end) / 2;
    for (size_t k = start; k < end; ++k) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

std::optional<double> SpearmanRho(absl::Span<const double> x,
                                  absl::Span<const double> y) {
  if (x.size() != y.size() || x.size() < 3) return std::nullopt;
  const std::vector<double> rx = AverageRanks(x);
  const std::vector<double> ry = AverageRanks(y);
  // Both rank vectors have the mean (n + 1) / 2.
  const double mean = (static_cast<double>(x.size()) + 1) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = rx[i] - mean;
    const double dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return std::nullopt;
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace tariffalert::cli
