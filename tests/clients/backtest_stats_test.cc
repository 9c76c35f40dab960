// The backtest's figures against values worked out by hand: Spearman's rho
// of a known permutation is 1 - 6 sum(d^2) / (n (n^2 - 1)), ties take their
// average rank, and the hit rate counts a zero score as a miss.

#include "clients/cli/backtest_stats.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace tariffalert::cli {
namespace {

TEST(AverageRanksTest, TiedValuesShareTheMeanOfTheirRanks) {
  EXPECT_EQ(AverageRanks({10, 20, 20, 30}),
            (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(AverageRanks({3, -1, 3, 3, 0}),
            (std::vector<double>{4, 1, 4, 4, 2}));
  EXPECT_EQ(AverageRanks({}), std::vector<double>{});
}

TEST(SpearmanRhoTest, AKnownPermutationMatchesTheTextbookFormula) {
  // d = (-1, 1, -1, 1, 0): 1 - 6 * 4 / (5 * 24) = 0.8.
  const auto rho = SpearmanRho({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5});
  ASSERT_TRUE(rho.has_value());
  EXPECT_NEAR(*rho, 0.8, 1e-12);
  // Only the order counts: the same ranks from other values.
  const auto same = SpearmanRho({-50, -7, 0, 3, 900}, {-2.1, -4, 0.5, 0.2, 9});
  ASSERT_TRUE(same.has_value());
  EXPECT_NEAR(*same, 0.8, 1e-12);
}

TEST(SpearmanRhoTest, ReversedOrderIsMinusOne) {
  const auto rho = SpearmanRho({1, 2, 3, 4}, {40, 30, 20, 10});
  ASSERT_TRUE(rho.has_value());
  EXPECT_NEAR(*rho, -1, 1e-12);
}

TEST(SpearmanRhoTest, TiesUseAverageRanks) {
  // Ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): deviations (-1.5, 0, 0,
  // 1.5) and (-1.5, -0.5, 0.5, 1.5); 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10).
  const auto rho = SpearmanRho({10, 20, 20, 30}, {1, 2, 3, 4});
  ASSERT_TRUE(rho.has_value());
  EXPECT_NEAR(*rho, 3 / std::sqrt(10.0), 1e-12);
}

TEST(SpearmanRhoTest, UndefinedBelowThreePointsOrWithoutVariance) {
  EXPECT_EQ(SpearmanRho({1, 2}, {1, 2}), std::nullopt);
  EXPECT_EQ(SpearmanRho({}, {}), std::nullopt);
  EXPECT_EQ(SpearmanRho({0, 0, 0}, {1, 2, 3}), std::nullopt);
  EXPECT_EQ(SpearmanRho({1, 2, 3}, {5, 5, 5}), std::nullopt);
  EXPECT_EQ(SpearmanRho({1, 2, 3}, {1, 2}), std::nullopt);
}

TEST(ComputeBacktestStatsTest, HitRateIsOverTheNamesThatMovedAndZeroIsAMiss) {
  const std::vector<BacktestPoint> points = {
      {10, 2},     // hit
      {-5, 3},     // wrong sign
      {0, -4},     // no call
      {7, 0.5},    // unmoved
      {-1, -1.0},  // unmoved: |net| must exceed the threshold
      {-3, -1.5},  // hit
  };
  const BacktestStats s = ComputeBacktestStats(points, 1.0);
  EXPECT_EQ(s.n, 6u);
  EXPECT_EQ(s.moved, 4u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.wrong_sign, 1u);
  EXPECT_EQ(s.no_calls, 1u);
  ASSERT_TRUE(s.hit_rate.has_value());
  EXPECT_DOUBLE_EQ(*s.hit_rate, 0.5);
  // The no call moved 4%, the wrong sign 3%.
  EXPECT_EQ(s.largest_misses, (std::vector<size_t>{2, 1}));
  // Scores rank (6, 1, 4, 5, 3, 2), returns (5, 6, 1, 4, 3, 2): sum d^2 =
  // 1 + 25 + 9 + 1 + 0 + 0 = 36; 1 - 6 * 36 / (6 * 35) = -1/35.
  ASSERT_TRUE(s.spearman.has_value());
  EXPECT_NEAR(*s.spearman, -1.0 / 35, 1e-12);
}

TEST(ComputeBacktestStatsTest, TheThresholdDecidesWhatIsJudged) {
  const std::vector<BacktestPoint> points = {{10, 2}, {-5, 3}, {1, 0.4}};
  const BacktestStats zero = ComputeBacktestStats(points, 0);
  EXPECT_EQ(zero.moved, 3u);
  EXPECT_EQ(zero.hits, 2u);
  const BacktestStats high = ComputeBacktestStats(points, 5);
  EXPECT_EQ(high.moved, 0u);
  EXPECT_EQ(high.hit_rate, std::nullopt);
  EXPECT_TRUE(high.largest_misses.empty());
}

TEST(ComputeBacktestStatsTest, AtMostFiveMissesLargestFirstTiesInPointOrder) {
  std::vector<BacktestPoint> points;
  for (double net : {2.0, 7.0, 3.0, 7.0, 5.0, 4.0, 6.0}) {
    points.push_back({-1, net});  // all wrong sign
  }
  const BacktestStats s = ComputeBacktestStats(points, 1);
  EXPECT_EQ(s.wrong_sign, 7u);
  EXPECT_EQ(s.largest_misses, (std::vector<size_t>{1, 3, 6, 4, 5}));
  EXPECT_EQ(ComputeBacktestStats(points, 1, 2).largest_misses,
            (std::vector<size_t>{1, 3}));
}

TEST(ComputeBacktestStatsTest, NoPointsGiveNoFigures) {
  const BacktestStats s = ComputeBacktestStats({}, 1);
  EXPECT_EQ(s.n, 0u);
  EXPECT_EQ(s.hit_rate, std::nullopt);
  EXPECT_EQ(s.spearman, std::nullopt);
}

}  // namespace
}  // namespace tariffalert::cli
