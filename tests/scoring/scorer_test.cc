#include "server/scoring/scorer.h"

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scoring/test_params.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;

using ::testing::HasSubstr;

// Scores are sums of products of decimals; compare to the hand arithmetic
// with this much slack.
constexpr double kEps = 1e-9;

// The shared test parameters (tests/scoring/test_params.h).
ScoringParams Params(double min_alert_bps = 0.5) {
  return testing::TestScoringParams(
      absl::StrCat("min_alert_bps: ", min_alert_bps));
}

// Builds a Company the way the CSV loader would.
class Co {
 public:
  explicit Co(const std::string& ticker) {
    c_.ticker = ticker;
    c_.name = absl::StrCat(ticker, " Corp");
    c_.sector = "Consumer Discretionary";
    c_.country = C("US");
    c_.market_cap_usd = 100e9;
    c_.cogs_ratio = 0.6;
    c_.operating_margin = 0.1;
  }
  Co& Sector(const std::string& s) {
    c_.sector = s;
    return *this;
  }
  Co& Cap(double usd) {
    c_.market_cap_usd = usd;
    return *this;
  }
  Co& Cogs(double ratio) {
    c_.cogs_ratio = ratio;
    return *this;
  }
  Co& Revenue(const char* country, double share, const char* product = "*") {
    c_.revenue.push_back({C(country), H(product), share});
    return *this;
  }
  Co& Sourcing(const char* country, double share, const char* product = "*") {
    c_.sourcing.push_back({C(country), H(product), share});
    return *this;
  }
  Co& Production(const char* country, double share, const char* product = "*") {
    c_.production.push_back({C(country), H(product), share});
    return *this;
  }
  Co& Product(const char* product, double share) {
    c_.products.push_back({Country(), H(product), share});
    return *this;
  }
  operator Company() const { return c_; }

 private:
  Company c_;
};

// Every action of these tests acts on one measure, "us-recip", so an event
// with another scope moves that measure (e.g. CN at 30% -> CN and MX at 145%)
// rather than stacking a second one on it.
TariffAction Action(const char* importer,
                    std::initializer_list<const char*> targets, double new_rate,
                    Stage stage = Stage::kEffective, double probability = 1,
                    std::initializer_list<const char*> products = {}) {
  TariffAction a;
  a.event_id = "evt-1";
  a.measure_id = "us-recip";
  a.importer = C(importer);
  for (const char* t : targets) a.targets.push_back(C(t));
  for (const char* p : products) a.products.push_back(H(p));
  a.stage = stage;
  a.new_rate_pct = new_rate;
  a.probability = probability;
  return a;
}

// The book once `a` is applied.
TariffBook Applied(const TariffBook& book, const TariffAction& a) {
  auto step = book.Plan(a);
  EXPECT_TRUE(step.ok()) << step.status();
  return step.ok() ? *step->next : book;
}

// The US tariff on all Chinese goods is `rate` percent.
TariffBook UsOnCnAt(double rate) {
  return Applied(TariffBook(), Action("US", {"CN"}, rate));
}

// The standard event of these tests: US on CN, 30% -> 145%, so
// delta = 145 - 30 = 115 pp.
TariffAction Raise() { return Action("US", {"CN"}, 145); }

ScoreResult Score(const TariffAction& action, const TariffBook& before,
                  std::vector<Company> companies,
                  const ScoringParams& params = Params()) {
  ExposureTable table("v1", std::move(companies));
  // The book the action points at (for a threat, the book if it happens);
  // the action's own probability scales it, as for a first threat.
  auto step = before.Plan(action);
  EXPECT_TRUE(step.ok()) << step.status();
  return ScoreAction(action, before, *step->after, table, params);
}

const SubjectScore* Find(const ScoreResult& r, const std::string& subject) {
  for (const SubjectScore& s : r.subjects) {
    if (s.subject == subject) return &s;
  }
  return nullptr;
}

double ScoreOf(const ScoreResult& r, const std::string& subject) {
  const SubjectScore* s = Find(r, subject);
  EXPECT_NE(s, nullptr) << subject << " has no alert";
  return s == nullptr ? NAN : s->score_bps;
}

std::vector<std::string> Subjects(const ScoreResult& r) {
  std::vector<std::string> out;
  for (const SubjectScore& s : r.subjects) out.push_back(s.subject);
  return out;
}

// The documented formula (scorer.h, alert.proto) recomputed from the inputs a
// contribution carries.
double Recompute(const Contribution& k) {
  const double sign = k.channel == ScoreChannel::kProtection ? 1 : -1;
  return sign * k.delta_pct / 100 * k.exposure_share * k.market_factor *
         k.cogs_ratio * k.sector_factor * k.partner_weight * k.probability *
         10000;
}

// Sells half its revenue in the US and buys 40% of its inputs in China; makes
// nothing (so only the import cost channel can apply).
Company Importer() {
  return Co("IMP").Cogs(0.6).Revenue("US", 0.5).Sourcing("CN", 0.4);
}

// Makes 60% of its output in China and earns 30% of its revenue in the US.
Company Exporter() {
  return Co("EXP").Revenue("US", 0.3).Production("CN", 0.6);
}

// Makes 60% of its output in the US, sells 30% of its revenue there.
Company Protected() {
  return Co("PRO").Revenue("US", 0.3).Production("US", 0.6);
}

// All three channels: US revenue 0.75, 40% of inputs from China, half its
// output made in China and half in the US.
Company AllChannels() {
  return Co("ALL")
      .Cogs(0.6)
      .Revenue("US", 0.75)
      .Sourcing("CN", 0.4)
      .Production("CN", 0.5)
      .Production("US", 0.5);
}

TEST(ScoreActionTest, ImportCostChannel) {
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {Importer()});
  const SubjectScore* s = Find(r, "IMP");
  ASSERT_NE(s, nullptr);
  // -115/100 * sourcing 0.4 * scope 1 * (1 - production(CN) 0) * revenue(US)
  // 0.5 * cogs 0.6 * (1 - phi 0.5) * p 1 * 10000
  //   = -1.15 * 0.4 * 0.5 * 0.6 * 0.5 * 10000 = -1.15 * 0.06 * 10000 = -690
  EXPECT_NEAR(s->score_bps, -690, kEps);
  ASSERT_EQ(s->contributions.size(), 1u);
  const Contribution& k = s->contributions[0];
  EXPECT_EQ(k.channel, ScoreChannel::kImportCost);
  EXPECT_EQ(k.country, "CN");
  EXPECT_TRUE(k.product.is_all());
  EXPECT_NEAR(k.delta_pct, 115, kEps);
  EXPECT_NEAR(k.exposure_share, 0.4, kEps);
  EXPECT_NEAR(k.market_factor, 0.5, kEps);
  EXPECT_NEAR(k.revenue_share, 0.5, kEps);
  EXPECT_NEAR(k.cogs_ratio, 0.6, kEps);
  EXPECT_NEAR(k.sector_factor, 0.5, kEps);
  EXPECT_EQ(k.partner_weight, 1);
  EXPECT_EQ(k.probability, 1);
  EXPECT_NEAR(k.bps, -690, kEps);
  EXPECT_EQ(s->severity, Severity::kCritical);  // |-690| >= 500
  EXPECT_EQ(s->kind, ScoreSubjectKind::kTicker);
  EXPECT_EQ(s->name, "IMP Corp");
  EXPECT_EQ(s->country, "US");
  // -690 bps of revenue at a 10% operating margin (1000 bps): -69% of profit.
  EXPECT_NEAR(s->operating_profit_change_pct, -69, kEps);
}

TEST(ScoreActionTest, ExportChannel) {
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {Exporter()});
  const SubjectScore* s = Find(r, "EXP");
  ASSERT_NE(s, nullptr);
  // imported(US) = max(0, 0.3 - 0) / (1 - 0) = 0.3 (no US plants).
  // -115/100 * production(CN) 0.6 * imported 0.3 * kappa 0.4 * 10000
  //   = -1.15 * 0.072 * 10000 = -828
  EXPECT_NEAR(s->score_bps, -828, kEps);
  ASSERT_EQ(s->contributions.size(), 1u);
  const Contribution& k = s->contributions[0];
  EXPECT_EQ(k.channel, ScoreChannel::kExport);
  EXPECT_EQ(k.country, "CN");
  EXPECT_NEAR(k.exposure_share, 0.6, kEps);
  EXPECT_NEAR(k.market_factor, 0.3, kEps);
  EXPECT_NEAR(k.sector_factor, 0.4, kEps);
  EXPECT_EQ(k.cogs_ratio, 1);
  EXPECT_EQ(k.partner_weight, 1);
}

TEST(ScoreActionTest, ProtectionChannel) {
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {Protected()});
  const SubjectScore* s = Find(r, "PRO");
  ASSERT_NE(s, nullptr);
  // local(US) = min(1, 0.3 / 0.6) = 0.5; W = PartnerWeight(US, CN) = 0.2.
  // +115 * 0.2 / 100 * production(US) 0.6 * local 0.5 * gamma 0.2 * 10000
  //   = 0.23 * 0.06 * 10000 = +138
  EXPECT_NEAR(s->score_bps, 138, kEps);
  ASSERT_EQ(s->contributions.size(), 1u);
  const Contribution& k = s->contributions[0];
  EXPECT_EQ(k.channel, ScoreChannel::kProtection);
  EXPECT_EQ(k.country, "CN");
  EXPECT_NEAR(k.delta_pct, 115, kEps);
  EXPECT_NEAR(k.partner_weight, 0.2, kEps);
  EXPECT_NEAR(k.exposure_share, 0.6, kEps);
  EXPECT_NEAR(k.market_factor, 0.5, kEps);
  EXPECT_NEAR(k.sector_factor, 0.2, kEps);
  EXPECT_EQ(s->severity, Severity::kMedium);  // 50 <= 138 < 200
}

TEST(ScoreActionTest, ProtectionWeighsTheTargetsByImportShare) {
  // US on CN and MX, both to 145%: CN was at 30 (delta 115), MX at 0 (145).
  const ScoreResult r =
      Score(Action("US", {"CN", "MX"}, 145), UsOnCnAt(30), {Protected()});
  const SubjectScore* s = Find(r, "PRO");
  ASSERT_NE(s, nullptr);
  // W = 0.2 + 0.1 = 0.3; mean delta = (0.2 * 115 + 0.1 * 145) / 0.3 = 125.
  // +125 * 0.3 / 100 * 0.6 * 0.5 * 0.2 * 10000 = 0.375 * 0.06 * 10000 = 225
  EXPECT_NEAR(s->score_bps, 225, kEps);
  ASSERT_EQ(s->contributions.size(), 1u);
  EXPECT_NEAR(s->contributions[0].delta_pct, 125, kEps);
  EXPECT_NEAR(s->contributions[0].partner_weight, 0.3, kEps);
  EXPECT_EQ(s->contributions[0].country, "CN,MX");
}

TEST(ScoreActionTest, ContributionsReproduceTheirBpsFromTheirInputs) {
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {AllChannels()});
  const SubjectScore* s = Find(r, "ALL");
  ASSERT_NE(s, nullptr);
  // imported(US) = (0.75 - 0.5) / (1 - 0.5) = 0.5; local = min(1, 0.75/0.5) = 1
  // import:     -1.15 * 0.4*(1-0.5) * 0.75 * 0.6 * 0.5 * 10000 = -517.5
  // export:     -1.15 * 0.5 * 0.5 * 0.4 * 10000                 = -1150
  // protection: +1.15 * 0.2 * 0.5 * 1 * 0.2 * 10000              = +230
  // total: -517.5 - 1150 + 230 = -1437.5
  EXPECT_NEAR(s->score_bps, -1437.5, kEps);
  ASSERT_EQ(s->contributions.size(), 3u);
  // Largest |bps| first.
  EXPECT_EQ(s->contributions[0].channel, ScoreChannel::kExport);
  EXPECT_NEAR(s->contributions[0].bps, -1150, kEps);
  EXPECT_EQ(s->contributions[1].channel, ScoreChannel::kImportCost);
  EXPECT_NEAR(s->contributions[1].bps, -517.5, kEps);
  EXPECT_NEAR(s->contributions[1].exposure_share, 0.2, kEps);
  EXPECT_EQ(s->contributions[2].channel, ScoreChannel::kProtection);
  EXPECT_NEAR(s->contributions[2].bps, 230, kEps);
  double sum = 0;
  for (const Contribution& k : s->contributions) {
    EXPECT_NEAR(Recompute(k), k.bps, kEps)
        << "channel " << static_cast<int>(k.channel);
    sum += k.bps;
  }
  EXPECT_NEAR(sum, s->score_bps, kEps);
}

TEST(ScoreActionTest, ProbabilityScalesTheScoreWithoutTouchingTheBook) {
  const TariffBook book = UsOnCnAt(30);
  const ScoreResult r = Score(
      Action("US", {"CN"}, 145, Stage::kThreatened, 0.3), book, {Importer()});
  // 0.3 * -690 = -207
  EXPECT_NEAR(ScoreOf(r, "IMP"), -207, kEps);
  const SubjectScore* s = Find(r, "IMP");
  ASSERT_NE(s, nullptr);
  for (const Contribution& k : s->contributions) {
    EXPECT_EQ(k.probability, 0.3);
    EXPECT_NEAR(Recompute(k), k.bps, kEps);
  }
  // The threat was scored against the hypothetical book; the book is as it was.
  EXPECT_EQ(book.Rate(C("US"), C("CN"), HsCode::All()), 30);
  EXPECT_EQ(book.revision(), 1u);
}

TEST(ScoreActionTest, ProbabilityScalesEveryChannel) {
  const double effective =
      ScoreOf(Score(Raise(), UsOnCnAt(30), {AllChannels()}), "ALL");
  const double threatened =
      ScoreOf(Score(Action("US", {"CN"}, 145, Stage::kThreatened, 0.3),
                    UsOnCnAt(30), {AllChannels()}),
              "ALL");
  EXPECT_NEAR(threatened, 0.3 * effective, kEps);  // 0.3 * -1437.5 = -431.25
  EXPECT_NEAR(threatened, -431.25, kEps);
}

TEST(ScoreActionTest, LoweringTheRateFlipsTheSign) {
  // A raise from 30 to 145 and a pause from 145 back to 30: |delta| = 115.
  const double raise =
      ScoreOf(Score(Raise(), UsOnCnAt(30), {AllChannels()}), "ALL");
  const ScoreResult pause_result = Score(
      Action("US", {"CN"}, 30, Stage::kPaused), UsOnCnAt(145), {AllChannels()});
  const double pause = ScoreOf(pause_result, "ALL");
  EXPECT_NEAR(raise, -1437.5, kEps);
  EXPECT_NEAR(pause, +1437.5, kEps);
  const SubjectScore* s = Find(pause_result, "ALL");
  ASSERT_NE(s, nullptr);
  for (const Contribution& k : s->contributions) {
    EXPECT_NEAR(k.delta_pct, -115, kEps);
    // Costs fall for importers and exporters; protection shrinks.
    if (k.channel == ScoreChannel::kProtection) {
      EXPECT_LT(k.bps, 0);
    } else {
      EXPECT_GT(k.bps, 0);
    }
  }
}

TEST(ScoreActionTest, EuTargetHitsProductionInEveryMemberState) {
  const Company c =
      Co("EUX").Revenue("US", 0.5).Production("FR", 0.3).Production("DE", 0.2);
  const ScoreResult r = Score(Action("US", {"EU"}, 20), TariffBook(), {c});
  const SubjectScore* s = Find(r, "EUX");
  ASSERT_NE(s, nullptr);
  // delta = 20 - 0; imported(US) = 0.5.
  // FR: -0.20 * 0.3 * 0.5 * 0.4 * 10000 = -120
  // DE: -0.20 * 0.2 * 0.5 * 0.4 * 10000 =  -80
  EXPECT_NEAR(s->score_bps, -200, kEps);
  ASSERT_EQ(s->contributions.size(), 2u);
  EXPECT_EQ(s->contributions[0].country, "FR");
  EXPECT_NEAR(s->contributions[0].bps, -120, kEps);
  EXPECT_EQ(s->contributions[1].country, "DE");
  EXPECT_NEAR(s->contributions[1].bps, -80, kEps);
}

TEST(ScoreActionTest, AnEuRowIsSpreadOverTheMemberStates) {
  // 0.54 of output made "in the EU", without saying where.
  const Company c = Co("EUR").Revenue("US", 0.5).Production("EU", 0.54);
  // An event on France alone covers 1/27 of the row: 0.54 / 27 = 0.02.
  // -0.20 * 0.02 * 0.5 * 0.4 * 10000 = -8
  const ScoreResult fr = Score(Action("US", {"FR"}, 20), TariffBook(), {c});
  EXPECT_NEAR(ScoreOf(fr, "EUR"), -8, kEps);
  const SubjectScore* s = Find(fr, "EUR");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->contributions.size(), 1u);
  EXPECT_EQ(s->contributions[0].country, "EU");
  EXPECT_NEAR(s->contributions[0].exposure_share, 0.02, kEps);
  // An event on the EU covers all of it: -0.20 * 0.54 * 0.5 * 0.4 * 10000.
  const ScoreResult eu = Score(Action("US", {"EU"}, 20), TariffBook(), {c});
  EXPECT_NEAR(ScoreOf(eu, "EUR"), -216, kEps);
}

TEST(ScoreActionTest, EuImporterRevenueSumsTheEuAndItsMembers) {
  // Revenue in the EU market: FR 0.2 + DE 0.1 + "EU" 0.1 = 0.4; the US 0.3
  // does not count.
  const Company c = Co("EUS")
                        .Cogs(0.5)
                        .Revenue("FR", 0.2)
                        .Revenue("DE", 0.1)
                        .Revenue("EU", 0.1)
                        .Revenue("US", 0.3)
                        .Sourcing("CN", 0.5);
  const ScoreResult r = Score(Action("EU", {"CN"}, 10), TariffBook(), {c});
  // -10/100 * 0.5 * 0.4 * 0.5 * (1 - 0.5) * 10000 = -0.1 * 0.05 * 10000 = -50
  EXPECT_NEAR(ScoreOf(r, "EUS"), -50, kEps);
  const SubjectScore* s = Find(r, "EUS");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->contributions.size(), 1u);
  EXPECT_NEAR(s->contributions[0].market_factor, 0.4, kEps);
}

TEST(ScoreActionTest, AMarketIsServedFromLocalPlantsFirst) {
  // Makes half in the US, half in China; sells 0.4 of its revenue in the US,
  // which its US plants cover: imported(US) = max(0, 0.4 - 0.5) / 0.5 = 0.
  const Company local =
      Co("LOC").Revenue("US", 0.4).Production("US", 0.5).Production("CN", 0.5);
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {local});
  const SubjectScore* s = Find(r, "LOC");
  ASSERT_NE(s, nullptr);
  for (const Contribution& k : s->contributions) {
    EXPECT_NE(k.channel, ScoreChannel::kExport);
  }
  // Only protection: local = min(1, 0.4/0.5) = 0.8;
  // +1.15 * 0.2 * 0.5 * 0.8 * 0.2 * 10000 = 0.23 * 0.08 * 10000 = +184
  EXPECT_NEAR(s->score_bps, 184, kEps);

  // Selling more than the US plants make: imported = (0.75 - 0.5) / 0.5 = 0.5
  // and the Chinese plant's export is hit:
  // -1.15 * 0.5 * 0.5 * 0.4 * 10000 = -1150.
  const Company more = Co("MORE")
                           .Revenue("US", 0.75)
                           .Production("US", 0.5)
                           .Production("CN", 0.5);
  const ScoreResult rm = Score(Raise(), UsOnCnAt(30), {more});
  const SubjectScore* m = Find(rm, "MORE");
  ASSERT_NE(m, nullptr);
  bool saw_export = false;
  for (const Contribution& k : m->contributions) {
    if (k.channel != ScoreChannel::kExport) continue;
    saw_export = true;
    EXPECT_NEAR(k.market_factor, 0.5, kEps);
    EXPECT_NEAR(k.bps, -1150, kEps);
  }
  EXPECT_TRUE(saw_export);
}

TEST(ScoreActionTest, InputsMadeIntoGoodsAbroadAreNotAnImportCost) {
  // All output made in China: Chinese inputs never cross the US border as
  // inputs, only as finished goods (the export channel).
  const Company all_in_cn =
      Co("MIX1").Revenue("US", 0.5).Sourcing("CN", 0.4).Production("CN", 1.0);
  const ScoreResult r1 = Score(Raise(), UsOnCnAt(30), {all_in_cn});
  const SubjectScore* s = Find(r1, "MIX1");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->contributions.size(), 1u);
  EXPECT_EQ(s->contributions[0].channel, ScoreChannel::kExport);
  // -1.15 * 1.0 * imported 0.5 * 0.4 * 10000 = -2300
  EXPECT_NEAR(s->score_bps, -2300, kEps);

  // 75% made in China: a quarter of the Chinese inputs go into US-bound
  // production elsewhere. exposure = 0.4 * (1 - 0.75) = 0.1;
  // -1.15 * 0.1 * 0.5 * 0.6 * 0.5 * 10000 = -1.15 * 0.015 * 10000 = -172.5
  const Company some_in_cn =
      Co("MIX2").Revenue("US", 0.5).Sourcing("CN", 0.4).Production("CN", 0.75);
  const ScoreResult r2 = Score(Raise(), UsOnCnAt(30), {some_in_cn});
  const SubjectScore* t = Find(r2, "MIX2");
  ASSERT_NE(t, nullptr);
  bool saw_import = false;
  for (const Contribution& k : t->contributions) {
    if (k.channel != ScoreChannel::kImportCost) continue;
    saw_import = true;
    EXPECT_NEAR(k.exposure_share, 0.1, kEps);
    EXPECT_NEAR(k.bps, -172.5, kEps);
  }
  EXPECT_TRUE(saw_import);
}

TEST(ScoreActionTest, ChapterEventMissesOtherChapters) {
  // A beverage maker: every row in HS chapter 22.
  const Company beverages = Co("BEV")
                                .Revenue("US", 0.5)
                                .Sourcing("CN", 0.4, "22")
                                .Production("CN", 0.5, "22")
                                .Product("22", 1.0);
  const ScoreResult r =
      Score(Action("US", {"CN"}, 145, Stage::kEffective, 1, {"87"}),
            UsOnCnAt(30), {beverages});
  EXPECT_EQ(Find(r, "BEV"), nullptr);
  EXPECT_TRUE(r.subjects.empty());
}

TEST(ScoreActionTest, RowsInsideTheEventsScopeCountFully) {
  // Sources heading 8703 from China; the event covers chapter 87, which was
  // at 30% (CN's all-goods rate) and goes to 145%.
  const Company c = Co("HEAD").Revenue("US", 0.5).Sourcing("CN", 0.4, "8703");
  const ScoreResult r =
      Score(Action("US", {"CN"}, 145, Stage::kEffective, 1, {"87"}),
            UsOnCnAt(30), {c});
  // Same as the all-goods import case: -690.
  EXPECT_NEAR(ScoreOf(r, "HEAD"), -690, kEps);
}

TEST(ScoreActionTest, AllGoodsRowsAreScaledByTheProductShare) {
  // 25% of revenue in chapter 87, 75% in chapter 22.
  const Company c = Co("STAR")
                        .Revenue("US", 0.5)
                        .Sourcing("CN", 0.4)
                        .Product("87", 0.25)
                        .Product("22", 0.75);
  const ScoreResult r =
      Score(Action("US", {"CN"}, 145, Stage::kEffective, 1, {"87"}),
            UsOnCnAt(30), {c});
  const SubjectScore* s = Find(r, "STAR");
  ASSERT_NE(s, nullptr);
  // exposure = 0.4 * 0.25 = 0.1; -1.15 * 0.1 * 0.5 * 0.6 * 0.5 * 10000 = -172.5
  EXPECT_NEAR(s->score_bps, -172.5, kEps);
  ASSERT_EQ(s->contributions.size(), 1u);
  EXPECT_EQ(s->contributions[0].product, H("87"));
  EXPECT_NEAR(s->contributions[0].exposure_share, 0.1, kEps);
}

TEST(ScoreActionTest, AnAllGoodsEventMovesGoodsWithTheirOwnRateByTheirOwnRate) {
  // Steel (chapter 72) from China pays its own 50%, and the all-goods
  // measure leaves chapter 72 out; raising the all-goods measure from 30% to
  // 145% leaves steel where it was. A company selling 80% steel and 20% other
  // goods, buying 40% of its inputs in China on an all-products row:
  // delta = 0.8 * (50 - 50) + 0.2 * (145 - 30) = 23 pp.
  TariffAction recip = Action("US", {"CN"}, 30);
  recip.measure_id = "us-cn-recip";
  recip.excluded = {H("72")};
  TariffBook book = Applied(TariffBook(), recip);
  TariffAction steel = Action("US", {"CN"}, 50, Stage::kEffective, 1, {"72"});
  steel.measure_id = "us-232-steel";
  book = Applied(book, steel);
  TariffAction raise = recip;
  raise.new_rate_pct = 145;
  const Company c =
      Co("MILL").Revenue("US", 0.5).Sourcing("CN", 0.4).Product("72", 0.8);
  const ScoreResult r = Score(raise, book, {c});
  const SubjectScore* s = Find(r, "MILL");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->contributions.size(), 1u);
  EXPECT_NEAR(s->contributions[0].delta_pct, 23, kEps);
  // -0.23 * 0.4 * 0.5 * 0.6 * (1 - 0.5) * 10000 = -138
  EXPECT_NEAR(s->score_bps, -138, kEps);
}

TEST(ScoreActionTest, NoRevenueInTheImporterMeansNoScore) {
  const Company c = Co("NOUS").Revenue("CN", 1.0).Sourcing("CN", 0.5);
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {c});
  EXPECT_EQ(Find(r, "NOUS"), nullptr);
}

TEST(ScoreActionTest, SectorScoreIsTheMarketCapWeightedMean) {
  // Caps 3:1 in one sector.
  const Company big = Co("BIG")
                          .Sector("Industrials")
                          .Cap(300e9)
                          .Cogs(0.6)
                          .Revenue("US", 0.5)
                          .Sourcing("CN", 0.4);  // -690, as IMP
  const Company small = Co("SMALL")
                            .Sector("Industrials")
                            .Cap(100e9)
                            .Revenue("US", 0.3)
                            .Production("US", 0.6);  // +138, as PRO
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {big, small});
  const SubjectScore* s = Find(r, "Industrials");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->kind, ScoreSubjectKind::kSector);
  EXPECT_EQ(s->sector, "Industrials");
  // 0.75 * -690 + 0.25 * 138 = -517.5 + 34.5 = -483
  EXPECT_NEAR(s->score_bps, -483, kEps);
  EXPECT_THAT(s->explanation, HasSubstr("Industrials"));
}

TEST(ScoreActionTest, SectorMeanCountsUnaffectedMembersAsZero) {
  const Company hit = Co("HIT")
                          .Sector("Industrials")
                          .Cap(300e9)
                          .Cogs(0.6)
                          .Revenue("US", 0.5)
                          .Sourcing("CN", 0.4);  // -690
  const Company calm =
      Co("CALM").Sector("Industrials").Cap(100e9).Revenue("US", 1.0);  // 0
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {hit, calm});
  // 0.75 * -690 + 0.25 * 0 = -517.5
  EXPECT_NEAR(ScoreOf(r, "Industrials"), -517.5, kEps);
  // The unaffected company itself gets no alert.
  EXPECT_EQ(Find(r, "CALM"), nullptr);
}

TEST(ScoreActionTest, TickersComeFirstByMagnitudeThenSectors) {
  const Company pro =
      Co("PRO").Sector("Industrials").Revenue("US", 0.3).Production("US", 0.6);
  // IMP -690 and EXP -828 in Consumer Discretionary (equal caps):
  // sector (-690 - 828) / 2 = -759. PRO +138 alone in Industrials.
  const ScoreResult r =
      Score(Raise(), UsOnCnAt(30), {Importer(), pro, Exporter()});
  EXPECT_EQ(Subjects(r),
            (std::vector<std::string>{
                "EXP", "IMP", "PRO", "Consumer Discretionary", "Industrials"}));
  EXPECT_NEAR(ScoreOf(r, "Consumer Discretionary"), -759, kEps);
  EXPECT_NEAR(ScoreOf(r, "Industrials"), 138, kEps);
}

TEST(ScoreActionTest, SubjectsBelowMinAlertBpsAreDropped) {
  const Company pro =
      Co("PRO").Sector("Industrials").Revenue("US", 0.3).Production("US", 0.6);
  // With min_alert_bps 200, PRO (+138) and Industrials (+138) fall below it.
  const ScoreResult r =
      Score(Raise(), UsOnCnAt(30), {Importer(), pro, Exporter()}, Params(200));
  EXPECT_EQ(Subjects(r),
            (std::vector<std::string>{"EXP", "IMP", "Consumer Discretionary"}));
}

TEST(ScoreActionTest, ExplanationNamesTickerScoreAndRateChange) {
  const ScoreResult r = Score(Raise(), UsOnCnAt(30), {Importer()});
  const SubjectScore* s = Find(r, "IMP");
  ASSERT_NE(s, nullptr);
  EXPECT_THAT(s->explanation, HasSubstr("IMP"));
  EXPECT_THAT(s->explanation, HasSubstr("-690.0 bps"));
  EXPECT_THAT(s->explanation, HasSubstr("30% -> 145%"));
}

TEST(ScoreActionTest, NoRateChangeNoAlerts) {
  // The book already has 145%: setting it again changes nothing.
  const ScoreResult r =
      Score(Raise(), UsOnCnAt(145), {Importer(), Exporter(), Protected()});
  EXPECT_TRUE(r.subjects.empty());
}

}  // namespace
}  // namespace tariffalert
