#include "server/scoring/portfolio.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

bool AllKnown(absl::string_view) { return true; }

std::vector<std::string> Tickers(const v1::PortfolioImpact& p) {
  std::vector<std::string> out;
  for (const auto& h : p.top_holdings()) out.push_back(h.ticker());
  return out;
}

// The figures below are worked out by hand from the formula
//   impact = position_value * operating_profit_change_pct / 100 * elasticity
// not taken from the code.
TEST(PortfolioTest, ThreeHoldingsByHand) {
  TickerScores scores;
  scores.Add("AAPL", TickerScore{"Apple Inc.", -945.0, -30.0});
  scores.Add("NKE", TickerScore{"Nike Inc.", -130.0, -10.0});
  scores.Add("BBY", TickerScore{"Best Buy", -140.0, -40.0});
  const std::vector<Holding> holdings = {
      {"AAPL", 1000000}, {"NKE", 500000}, {"BBY", -200000}};  // BBY short
  // AAPL: 1,000,000 x -30% = -300,000
  // NKE:    500,000 x -10% =  -50,000
  // BBY:   -200,000 x -40% =  +80,000 (the short gains)
  // total -270,000 on a gross book of 1,700,000: -1588.235... bps
  const v1::PortfolioImpact p =
      ComputePortfolioImpact(holdings, scores, AllKnown, 1.0);
  EXPECT_DOUBLE_EQ(p.position_value(), 1700000);
  EXPECT_DOUBLE_EQ(p.impact_value(), -270000);
  EXPECT_NEAR(p.impact_bps(), -1588.2353, 1e-4);
  EXPECT_THAT(Tickers(p), ElementsAre("AAPL", "BBY", "NKE"));
  EXPECT_DOUBLE_EQ(p.top_holdings(0).impact_value(), -300000);
  EXPECT_DOUBLE_EQ(p.top_holdings(1).impact_value(), 80000);
  EXPECT_DOUBLE_EQ(p.top_holdings(2).impact_value(), -50000);
  EXPECT_EQ(p.top_holdings(0).name(), "Apple Inc.");
  EXPECT_DOUBLE_EQ(p.top_holdings(0).score_bps(), -945.0);
  EXPECT_DOUBLE_EQ(p.top_holdings(0).operating_profit_change_pct(), -30.0);
  EXPECT_DOUBLE_EQ(p.top_holdings(1).position_value(), -200000);
  EXPECT_THAT(p.unknown_tickers(), IsEmpty());
}

// docs/scoring.md, "Portfolio impact": a $10M book of Apple $5M, Nike $3M
// and JPMorgan $2M; the event's alerts give Apple -30.8% and Nike -10.0% of
// operating profit, JPMorgan none.
TEST(PortfolioTest, TheWorkedExampleOfTheDocs) {
  TickerScores scores;
  scores.Add("AAPL", TickerScore{"Apple Inc.", -969.4, -30.8});
  scores.Add("NKE", TickerScore{"Nike Inc.", -130.0, -10.0});
  const std::vector<Holding> book = {
      {"AAPL", 5000000}, {"NKE", 3000000}, {"JPM", 2000000}};
  // -1,540,000 - 300,000 = -1,840,000: -1840 bps of 10,000,000.
  v1::PortfolioImpact p = ComputePortfolioImpact(book, scores, AllKnown, 1.0);
  EXPECT_NEAR(p.impact_value(), -1840000, 1e-6);
  EXPECT_NEAR(p.impact_bps(), -1840, 1e-9);
  EXPECT_EQ(DescribePortfolio(p, "2025-04-10-us-cn-145"),
            "Portfolio -1840.0 bps (-1.84M of 10.00M) from "
            "2025-04-10-us-cn-145: AAPL -1.54M, NKE -300.0k.");
  // Elasticity 0.5: half of it.
  p = ComputePortfolioImpact(book, scores, AllKnown, 0.5);
  EXPECT_NEAR(p.impact_bps(), -920, 1e-9);
}

TEST(PortfolioTest, TheValuationElasticityScalesEveryImpact) {
  TickerScores scores;
  scores.Add("AAPL", TickerScore{"Apple Inc.", -400, -12.5});
  // 2,000,000 x -12.5% x 0.5 = -125,000: -625 bps of 2,000,000.
  const v1::PortfolioImpact p =
      ComputePortfolioImpact({{"AAPL", 2000000}}, scores, AllKnown, 0.5);
  EXPECT_DOUBLE_EQ(p.impact_value(), -125000);
  EXPECT_DOUBLE_EQ(p.impact_bps(), -625);
}

TEST(PortfolioTest, UnscoredHoldingsCountZeroAndUnknownOnesAreListed) {
  TickerScores scores;
  scores.Add("AAPL", TickerScore{"Apple Inc.", -100, -2});
  scores.Add("JPM", TickerScore{"JPMorgan", 5, 0});  // no positive margin
  auto in_table = [](absl::string_view t) { return t != "ZZZZ"; };
  // NUE is in the table but was not scored (below min_alert_bps): 0.
  const v1::PortfolioImpact p = ComputePortfolioImpact(
      {{"AAPL", 100}, {"NUE", 300}, {"ZZZZ", 600}, {"JPM", 1000}}, scores,
      in_table, 1.0);
  EXPECT_DOUBLE_EQ(p.position_value(), 2000);
  EXPECT_DOUBLE_EQ(p.impact_value(), -2);  // 100 x -2%
  EXPECT_DOUBLE_EQ(p.impact_bps(), -10);   // -2 / 2000
  EXPECT_THAT(Tickers(p), ElementsAre("AAPL"));
  EXPECT_THAT(p.unknown_tickers(), ElementsAre("ZZZZ"));
}

TEST(PortfolioTest, AtMostFiveTopHoldingsLargestFirstTiesByTicker) {
  TickerScores scores;
  for (const char* t : {"A", "B", "C", "D", "E", "F", "G"}) {
    scores.Add(t, TickerScore{t, -10, -1});
  }
  // Impacts: G -7, F -6 and E +6 (a short), D -4, C -3, B -2, A -1.
  const v1::PortfolioImpact p = ComputePortfolioImpact(
      {{"A", 100},
       {"B", 200},
       {"C", 300},
       {"D", 400},
       {"F", 600},
       {"E", -600},
       {"G", 700}},
      scores, AllKnown, 1.0);
  EXPECT_THAT(Tickers(p), ElementsAre("G", "E", "F", "D", "C"));
  EXPECT_DOUBLE_EQ(p.impact_value(), -7 - 6 + 6 - 4 - 3 - 2 - 1);
}

TEST(PortfolioTest, AnEmptyBookHasNoImpact) {
  const v1::PortfolioImpact p =
      ComputePortfolioImpact({}, TickerScores(), AllKnown, 1.0);
  EXPECT_EQ(p.impact_bps(), 0);
  EXPECT_EQ(p.position_value(), 0);
}

TEST(PortfolioTest, FromSubjectsTakesTickersOnly) {
  std::vector<SubjectScore> subjects(2);
  subjects[0].kind = ScoreSubjectKind::kTicker;
  subjects[0].subject = "AAPL";
  subjects[0].name = "Apple Inc.";
  subjects[0].score_bps = -969.4;
  subjects[0].operating_profit_change_pct = -30.8;
  subjects[1].kind = ScoreSubjectKind::kSector;
  subjects[1].subject = "Information Technology";
  const TickerScores scores = TickerScores::FromSubjects(subjects);
  EXPECT_EQ(scores.size(), 1u);
  ASSERT_NE(scores.Find("AAPL"), nullptr);
  EXPECT_EQ(scores.Find("AAPL")->name, "Apple Inc.");
  EXPECT_DOUBLE_EQ(scores.Find("AAPL")->operating_profit_change_pct, -30.8);
  EXPECT_EQ(scores.Find("Information Technology"), nullptr);
}

google::protobuf::RepeatedPtrField<v1::Holding> Proto(
    const std::vector<std::pair<std::string, double>>& holdings) {
  google::protobuf::RepeatedPtrField<v1::Holding> out;
  for (const auto& [t, v] : holdings) {
    v1::Holding* h = out.Add();
    h->set_ticker(t);
    h->set_position_value(v);
  }
  return out;
}

TEST(PortfolioTest, ValidHoldingsPass) {
  auto h = ValidateHoldings(Proto({{"AAPL", 1e6}, {"BBY", -2e5}}));
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].ticker, "BBY");
  EXPECT_EQ((*h)[1].position_value, -2e5);
}

TEST(PortfolioTest, BadHoldingsAreRejectedNamingTheField) {
  struct Case {
    std::vector<std::pair<std::string, double>> holdings;
    const char* field;
  } cases[] = {
      {{{"AAPL", 1}, {"", 2}}, "holdings[1].ticker: "},
      {{{std::string(25, 'X'), 1}}, "holdings[0].ticker: "},
      {{{"AAPL", 1}, {"BBY", 2}, {"AAPL", 3}}, "holdings[2].ticker: 'AAPL'"},
      {{{"AAPL", 1}, {"BBY", 0}}, "holdings[1].position_value: "},
      {{{"AAPL", std::nan("")}}, "holdings[0].position_value: "},
      {{{"AAPL", 1}, {"B", 1}, {"C", HUGE_VAL}}, "holdings[2].position_value: "},
  };
  for (const Case& c : cases) {
    auto h = ValidateHoldings(Proto(c.holdings));
    ASSERT_FALSE(h.ok()) << c.field;
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(h.status().message()), StartsWith(c.field));
  }
  std::vector<std::pair<std::string, double>> many;
  for (size_t i = 0; i <= kMaxHoldings; ++i) {
    many.emplace_back("T" + std::to_string(i), 1);
  }
  auto h = ValidateHoldings(Proto(many), "scenario.holdings");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()),
              StartsWith("scenario.holdings: 10001 holdings; at most 10000"));
}

TEST(PortfolioTest, AHugeTickerIsQuotedShortInTheError) {
  // The message goes back in the call's trailers: it must not echo 10 KB.
  auto h = ValidateHoldings(Proto({{std::string(10000, 'X'), 1}}));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()),
              StartsWith("holdings[0].ticker: 'XXXX"));
  EXPECT_LT(h.status().message().size(), 200u);
}

TEST(PortfolioTest, FormatMoneyIsShortAndSigned) {
  EXPECT_EQ(FormatMoney(-1264000), "-1.26M");
  EXPECT_EQ(FormatMoney(950000), "+950.0k");
  EXPECT_EQ(FormatMoney(-12.4), "-12");
  EXPECT_EQ(FormatMoney(2.5e9), "+2.50B");
}

TEST(PortfolioTest, TheSentenceNamesTheImpactAndTheLargestHoldings) {
  TickerScores scores;
  scores.Add("AAPL", TickerScore{"Apple Inc.", -945.0, -30.0});
  scores.Add("NKE", TickerScore{"Nike Inc.", -130.0, -10.0});
  auto in_table = [](absl::string_view t) { return t != "XYZ"; };
  const v1::PortfolioImpact p = ComputePortfolioImpact(
      {{"AAPL", 1000000}, {"NKE", 500000}, {"XYZ", 100000}}, scores, in_table,
      1.0);
  // -350,000 of 1,600,000: -2187.5 bps.
  EXPECT_EQ(DescribePortfolio(p, "us-cn-145"),
            "Portfolio -2187.5 bps (-350.0k of 1.60M) from us-cn-145: "
            "AAPL -300.0k, NKE -50.0k; 1 holding not in the exposure table "
            "(XYZ).");
  EXPECT_THAT(DescribePortfolio(v1::PortfolioImpact(), "e"),
              HasSubstr("no holding is affected"));
}

}  // namespace
}  // namespace tariffalert
