// The spillover channel: one hop from a customer's first-order score to its
// suppliers (links.csv), checked against hand arithmetic on a small table.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/scoring/scorer.h"
#include "tests/scoring/test_params.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;
using ::testing::HasSubstr;

constexpr double kEps = 1e-9;

// The shared test parameters (tests/scoring/test_params.h); beta and
// min_alert_bps per test.
ScoringParams Params(double beta, double min_alert_bps = 0.5) {
  return testing::TestScoringParams(absl::StrCat(
      "spillover_beta: ", beta, " min_alert_bps: ", min_alert_bps));
}

Company Co(const std::string& ticker, const std::string& sector,
           double cogs = 0.6) {
  Company c;
  c.ticker = ticker;
  c.name = absl::StrCat(ticker, " Corp");
  c.sector = sector;
  c.country = C("US");
  c.market_cap_usd = 100e9;
  c.cogs_ratio = cogs;
  c.operating_margin = 0.1;
  return c;
}

constexpr char kIt[] = "Information Technology";

// The table of these tests; hand figures for the event US on CN 0% -> 25%
// (delta 25 pp, probability 1):
//   CUST  import cost -0.25 x 0.4 x 0.5 x 0.6 x (1 - 0.5) x 10000 = -150 bps
//   PROT  protection  +0.25 x 0.2 x 1 x 1 x 0.2 x 10000          = +100 bps
//   SUP2  import cost -0.25 x 0.1 x 0.2 x 0.5 x (1 - 0.5) x 10000 = -12.5 bps
//   SUP, SUP3, SUPP, SUPSUP: no first-order exposure.
// Links: SUP -> CUST 0.5, SUP2 -> CUST 0.25, SUP3 -> SUP2 0.5,
// SUPP -> PROT 0.1, SUPSUP -> SUP 1.
std::vector<Company> Companies() {
  Company cust = Co("CUST", "Consumer Discretionary");
  cust.revenue.push_back({C("US"), H("*"), 0.5});
  cust.sourcing.push_back({C("CN"), H("*"), 0.4});
  Company prot = Co("PROT", "Materials");
  prot.revenue.push_back({C("US"), H("*"), 1.0});
  prot.production.push_back({C("US"), H("*"), 1.0});
  Company sup2 = Co("SUP2", kIt, 0.5);
  sup2.revenue.push_back({C("US"), H("*"), 0.2});
  sup2.sourcing.push_back({C("CN"), H("*"), 0.1});
  return {cust,
          prot,
          sup2,
          Co("SUP", kIt),
          Co("SUP3", kIt),
          Co("SUPP", kIt),
          Co("SUPSUP", kIt)};
}

std::vector<SupplyLink> Links() {
  return {{"SUP", "CUST", 0.5},
          {"SUP2", "CUST", 0.25},
          {"SUP3", "SUP2", 0.5},
          {"SUPP", "PROT", 0.1},
          {"SUPSUP", "SUP", 1.0}};
}

TariffAction UsOnCn25() {
  TariffAction a;
  a.event_id = "evt-1";
  a.importer = C("US");
  a.targets.push_back(C("CN"));
  a.stage = Stage::kEffective;
  a.new_rate_pct = 25;
  a.probability = 1;
  return a;
}

// Scores `action` against an empty book (every rate 0 before it).
ScoreResult Score(const ExposureTable& table, const ScoringParams& params,
                  const TariffAction& action = UsOnCn25()) {
  const TariffBook empty;
  auto step = empty.Plan(action);
  EXPECT_TRUE(step.ok()) << step.status();
  if (!step.ok()) return {};
  return ScoreAction(action, *step->before, *step->after, table, params);
}

const SubjectScore* Find(const ScoreResult& r, const std::string& subject) {
  for (const SubjectScore& s : r.subjects) {
    if (s.subject == subject) return &s;
  }
  return nullptr;
}

const Contribution* SpilloverOf(const SubjectScore& s) {
  for (const Contribution& k : s.contributions) {
    if (k.channel == ScoreChannel::kSpillover) return &k;
  }
  return nullptr;
}

TEST(SpilloverTest, ASupplierBearsBetaTimesShareTimesItsCustomersScore) {
  const ExposureTable table("v1", Companies(), Links());
  const ScoreResult r = Score(table, Params(0.4));

  const SubjectScore* cust = Find(r, "CUST");
  ASSERT_NE(cust, nullptr);
  const double cust_bps = -0.25 * 0.4 * 0.5 * 0.6 * (1 - 0.5) * 10000;
  EXPECT_NEAR(cust->score_bps, cust_bps, kEps);  // -150
  EXPECT_EQ(SpilloverOf(*cust), nullptr);  // a customer gains nothing by it

  // SUP has no exposure of its own: its whole score is the spillover.
  const SubjectScore* sup = Find(r, "SUP");
  ASSERT_NE(sup, nullptr) << "a pure spillover above min_alert_bps alerts";
  ASSERT_EQ(sup->contributions.size(), 1u);
  const Contribution& k = sup->contributions[0];
  EXPECT_EQ(k.channel, ScoreChannel::kSpillover);
  EXPECT_NEAR(k.bps, 0.4 * 0.5 * cust_bps, kEps);  // -30
  EXPECT_EQ(k.customer, "CUST");
  EXPECT_NEAR(k.customer_score_bps, cust_bps, kEps);
  EXPECT_DOUBLE_EQ(k.exposure_share, 0.5);
  EXPECT_DOUBLE_EQ(k.sector_factor, 0.4);
  EXPECT_DOUBLE_EQ(k.market_factor, 1);
  EXPECT_DOUBLE_EQ(k.cogs_ratio, 1);
  EXPECT_DOUBLE_EQ(k.partner_weight, 1);
  EXPECT_DOUBLE_EQ(k.probability, 1);
  EXPECT_DOUBLE_EQ(k.delta_pct, 0);
  EXPECT_EQ(k.country, "CN");  // the event's partners
  EXPECT_TRUE(k.product.is_all());
  EXPECT_NEAR(sup->score_bps, -30, kEps);
  EXPECT_EQ(sup->severity, Severity::kLow);
  EXPECT_NEAR(sup->operating_profit_change_pct, -30 / (0.1 * 10000) * 100,
              kEps);
  EXPECT_THAT(sup->explanation,
              HasSubstr("spillover from CUST -30.0 bps = 50% of revenue sold "
                        "to CUST x beta 0.4 x CUST's first-order score "
                        "-150.0 bps"));
}

TEST(SpilloverTest, SpilloverAddsToTheSuppliersOwnFirstOrderScore) {
  const ExposureTable table("v1", Companies(), Links());
  const ScoreResult r = Score(table, Params(0.4));
  const SubjectScore* sup2 = Find(r, "SUP2");
  ASSERT_NE(sup2, nullptr);
  const double own = -0.25 * 0.1 * 0.2 * 0.5 * (1 - 0.5) * 10000;  // -12.5
  const double spill = 0.4 * 0.25 * -150;                          // -15
  EXPECT_NEAR(sup2->score_bps, own + spill, kEps);
  ASSERT_EQ(sup2->contributions.size(), 2u);
  // Largest |bps| first.
  EXPECT_EQ(sup2->contributions[0].channel, ScoreChannel::kSpillover);
  EXPECT_NEAR(sup2->contributions[0].bps, spill, kEps);
  EXPECT_EQ(sup2->contributions[1].channel, ScoreChannel::kImportCost);
  EXPECT_NEAR(sup2->contributions[1].bps, own, kEps);
  EXPECT_EQ(sup2->severity, Severity::kLow);
}

TEST(SpilloverTest, OneHopOnFirstOrderScoresOnly) {
  const ExposureTable table("v1", Companies(), Links());
  const ScoreResult r = Score(table, Params(0.4));
  // SUP3 supplies SUP2: it bears SUP2's first-order -12.5, not SUP2's total
  // -27.5 with its own spillover.
  const SubjectScore* sup3 = Find(r, "SUP3");
  ASSERT_NE(sup3, nullptr);
  EXPECT_NEAR(sup3->score_bps, 0.4 * 0.5 * -12.5, kEps);  // -2.5
  ASSERT_NE(SpilloverOf(*sup3), nullptr);
  EXPECT_NEAR(SpilloverOf(*sup3)->customer_score_bps, -12.5, kEps);
  // SUPSUP supplies SUP, whose first-order score is 0: nothing reaches it.
  EXPECT_EQ(Find(r, "SUPSUP"), nullptr);
}

TEST(SpilloverTest, ACustomersGainSpillsOverToo) {
  const ExposureTable table("v1", Companies(), Links());
  const ScoreResult r = Score(table, Params(0.4));
  const SubjectScore* prot = Find(r, "PROT");
  ASSERT_NE(prot, nullptr);
  EXPECT_NEAR(prot->score_bps, 0.25 * 0.2 * 1 * 1 * 0.2 * 10000, kEps);
  const SubjectScore* supp = Find(r, "SUPP");
  ASSERT_NE(supp, nullptr);
  EXPECT_NEAR(supp->score_bps, 0.4 * 0.1 * 100, kEps);  // +4
}

TEST(SpilloverTest, SpilloverBelowMinAlertBpsGivesNoAlert) {
  const ExposureTable table("v1", Companies(), Links());
  const ScoreResult r = Score(table, Params(0.4, /*min_alert_bps=*/3));
  EXPECT_EQ(Find(r, "SUP3"), nullptr);  // -2.5
  EXPECT_NE(Find(r, "SUPP"), nullptr);  // +4
}

TEST(SpilloverTest, SectorRollUpsCountSpillover) {
  const ExposureTable table("v1", Companies(), Links());
  const ScoreResult r = Score(table, Params(0.4));
  const SubjectScore* it = nullptr;
  for (const SubjectScore& s : r.subjects) {
    if (s.kind == ScoreSubjectKind::kSector && s.subject == kIt) it = &s;
  }
  ASSERT_NE(it, nullptr);
  // Five members of equal market cap: SUP -30, SUP2 -27.5, SUP3 -2.5,
  // SUPP +4, SUPSUP 0.
  EXPECT_NEAR(it->score_bps, (-30 - 27.5 - 2.5 + 4 + 0) / 5, kEps);
  double spillover = 0, import_cost = 0;
  for (const Contribution& k : it->contributions) {
    if (k.channel == ScoreChannel::kSpillover) spillover += k.bps;
    if (k.channel == ScoreChannel::kImportCost) import_cost += k.bps;
  }
  EXPECT_NEAR(spillover, (-30 - 15 - 2.5 + 4) / 5, kEps);
  EXPECT_NEAR(import_cost, -12.5 / 5, kEps);
}

// Two results are the same alerts, to the last bit and character.
void ExpectIdentical(const ScoreResult& a, const ScoreResult& b) {
  ASSERT_EQ(a.subjects.size(), b.subjects.size());
  for (size_t i = 0; i < a.subjects.size(); ++i) {
    const SubjectScore& x = a.subjects[i];
    const SubjectScore& y = b.subjects[i];
    EXPECT_EQ(x.subject, y.subject);
    EXPECT_EQ(x.score_bps, y.score_bps) << x.subject;
    EXPECT_EQ(x.severity, y.severity) << x.subject;
    EXPECT_EQ(x.operating_profit_change_pct, y.operating_profit_change_pct);
    EXPECT_EQ(x.explanation, y.explanation);
    ASSERT_EQ(x.contributions.size(), y.contributions.size()) << x.subject;
    for (size_t j = 0; j < x.contributions.size(); ++j) {
      EXPECT_EQ(x.contributions[j].channel, y.contributions[j].channel);
      EXPECT_EQ(x.contributions[j].bps, y.contributions[j].bps);
    }
  }
}

TEST(SpilloverTest, WithoutLinksNothingChanges) {
  const ExposureTable without("v1", Companies());
  const ScoreResult reference = Score(without, Params(0));
  ASSERT_FALSE(reference.subjects.empty());
  for (const SubjectScore& s : reference.subjects) {
    EXPECT_EQ(SpilloverOf(s), nullptr) << s.subject;
  }
  // The default beta does nothing without links.
  ExpectIdentical(Score(without, Params(0.4)), reference);
  EXPECT_EQ(Find(Score(without, Params(0.4)), "SUP"), nullptr);
}

TEST(SpilloverTest, BetaZeroTurnsTheChannelOff) {
  const ExposureTable with("v1", Companies(), Links());
  const ExposureTable without("v1", Companies());
  const ScoreResult off = Score(with, Params(0));
  ExpectIdentical(off, Score(without, Params(0)));
  for (const SubjectScore& s : off.subjects) {
    EXPECT_EQ(SpilloverOf(s), nullptr) << s.subject;
  }
  EXPECT_EQ(Find(off, "SUP"), nullptr);
}

TEST(SpilloverTest, LinksNamingUnknownTickersAreDropped) {
  std::vector<SupplyLink> links = Links();
  links.push_back({"NOPE", "CUST", 0.5});
  links.push_back({"SUP3", "NOPE", 0.5});
  const ExposureTable table("v1", Companies(), links);
  EXPECT_EQ(table.link_count(), Links().size());
  ExpectIdentical(
      Score(table, Params(0.4)),
      Score(ExposureTable("v1", Companies(), Links()), Params(0.4)));
}

}  // namespace
}  // namespace tariffalert
