// The country-major path (ScoreTickers, and ScoreAction skipping the
// companies it finds unmoved) against the row-by-row path on the same
// companies: a random table of simple companies, and the same table with
// every company forced onto the row-by-row path by a zero-share EU row.

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/scoring/scorer.h"
#include "tests/scoring/test_params.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;

constexpr const char* kCountries[] = {"US", "CN", "MX", "CA", "JP",
                                      "DE", "KR", "VN", "IN", "FR"};

// `n` companies with revenue, sourcing and production in a few of
// kCountries, deterministic for `seed`.
std::vector<Company> RandomCompanies(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Company> out;
  for (int i = 0; i < n; ++i) {
    Company c;
    c.ticker = absl::StrCat("T", 1000 + i);
    c.name = c.ticker;
    c.sector = i % 3 == 0 ? "Industrials" : "Consumer Discretionary";
    c.country = C(kCountries[i % 4]);
    c.market_cap_usd = 1e9 * (1 + i % 7);
    c.cogs_ratio = 0.3 + 0.5 * unit(rng);
    c.operating_margin = 0.1;
    for (auto* rows : {&c.revenue, &c.sourcing, &c.production}) {
      double left = 1;
      for (const char* country : kCountries) {
        if (unit(rng) < 0.6) continue;
        const double share = std::min(left, 0.4 * unit(rng));
        if (share <= 0) break;
        rows->push_back({C(country), HsCode::All(), share});
        left -= share;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// The same companies, each with a zero-share EU sourcing row: no score
// changes, but none is simple any more.
std::vector<Company> General(std::vector<Company> companies) {
  for (Company& c : companies) {
    c.sourcing.push_back({Country::Eu(), HsCode::All(), 0});
  }
  return companies;
}

TariffAction Action(const char* importer, std::vector<const char*> targets,
                    double rate, double probability = 1) {
  TariffAction a;
  a.event_id = "evt";
  a.measure_id = "m";
  a.importer = C(importer);
  for (const char* t : targets) a.targets.push_back(C(t));
  a.stage = Stage::kEffective;
  a.new_rate_pct = rate;
  a.probability = probability;
  return a;
}

struct Case {
  const char* name;
  TariffAction setup;  // applied first, so the event changes a rate
  TariffAction event;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back(
      {"one partner", Action("US", {"CN"}, 30), Action("US", {"CN"}, 145)});
  cases.push_back({"two partners", Action("US", {"CN", "MX"}, 10),
                   Action("US", {"CN", "MX"}, 25)});
  cases.push_back({"all partners", Action("US", {}, 10), Action("US", {}, 20)});
  cases.push_back(
      {"EU as target", Action("US", {"EU"}, 10), Action("US", {"EU"}, 30)});
  cases.push_back({"a lowering, p 0.5", Action("CN", {"US"}, 125),
                   Action("CN", {"US"}, 10, 0.5)});
  return cases;
}

class CountryMajorTest : public ::testing::Test {
 protected:
  ScoringParams params_ = testing::TestScoringParams("min_alert_bps: 0.000001");
};

TEST_F(CountryMajorTest, RandomTableIsAllSimple) {
  ExposureTable table("v", RandomCompanies(50, 1));
  EXPECT_TRUE(table.general_companies().empty());
  ExposureTable general("v", General(RandomCompanies(50, 1)));
  EXPECT_EQ(general.general_companies().size(), 50u);
}

TEST_F(CountryMajorTest, SameScoresAsRowByRow) {
  const std::vector<Company> companies = RandomCompanies(300, 7);
  ExposureTable simple("v", companies);
  ExposureTable general("v", General(companies));
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto setup = TariffBook().Plan(c.setup);
    ASSERT_TRUE(setup.ok()) << setup.status();
    const TariffBook& before = *setup->next;
    auto step = before.Plan(c.event);
    ASSERT_TRUE(step.ok()) << step.status();
    const TariffBook& after = *step->after;

    const std::vector<double> fast =
        ScoreTickers(c.event, before, after, simple, params_);
    const std::vector<double> slow =
        ScoreTickers(c.event, before, after, general, params_);
    ASSERT_EQ(fast.size(), slow.size());
    int nonzero = 0;
    for (size_t i = 0; i < fast.size(); ++i) {
      EXPECT_NEAR(fast[i], slow[i], 1e-9 * (1 + std::abs(slow[i])))
          << simple.companies()[i].ticker;
      nonzero += slow[i] != 0;
    }
    // The case moves a good part of the table.
    EXPECT_GT(nonzero, 50);

    // ScoreAction: the same alerts, contributions and explanations on both
    // tables, and each alert's score is ScoreTickers' for its company.
    const ScoreResult a = ScoreAction(c.event, before, after, simple, params_);
    const ScoreResult b = ScoreAction(c.event, before, after, general, params_);
    ASSERT_EQ(a.subjects.size(), b.subjects.size());
    for (size_t i = 0; i < a.subjects.size(); ++i) {
      EXPECT_EQ(a.subjects[i].subject, b.subjects[i].subject);
      EXPECT_EQ(a.subjects[i].score_bps, b.subjects[i].score_bps);
      EXPECT_EQ(a.subjects[i].explanation, b.subjects[i].explanation);
      // A sector's roll-up is summed from the country-major pass's terms on
      // one table and from every member's contributions on the other: the
      // same parts, to rounding.
      ASSERT_EQ(a.subjects[i].contributions.size(),
                b.subjects[i].contributions.size())
          << a.subjects[i].subject;
      for (size_t k = 0; k < a.subjects[i].contributions.size(); ++k) {
        const Contribution& x = a.subjects[i].contributions[k];
        const Contribution& y = b.subjects[i].contributions[k];
        EXPECT_EQ(x.channel, y.channel) << a.subjects[i].subject << " " << k;
        EXPECT_EQ(x.country, y.country) << a.subjects[i].subject << " " << k;
        EXPECT_EQ(x.product, y.product) << a.subjects[i].subject << " " << k;
        EXPECT_NEAR(x.bps, y.bps, 1e-9 * (1 + std::abs(y.bps)))
            << a.subjects[i].subject << " " << k;
      }
    }
    EXPECT_GT(std::count_if(a.subjects.begin(), a.subjects.end(),
                            [](const SubjectScore& s) {
                              return s.kind == ScoreSubjectKind::kSector;
                            }),
              0);
    int tickers = 0;
    for (const SubjectScore& s : a.subjects) {
      if (s.kind != ScoreSubjectKind::kTicker) continue;
      ++tickers;
      const Company* company = simple.Find(s.subject);
      ASSERT_NE(company, nullptr);
      const size_t i = static_cast<size_t>(company - simple.companies().data());
      EXPECT_NEAR(fast[i], s.score_bps, 1e-9 * (1 + std::abs(s.score_bps)));
    }
    EXPECT_EQ(tickers, nonzero);
  }
}

TEST_F(CountryMajorTest, ProductScopedEventsUseTheRowByRowPath) {
  const std::vector<Company> companies = RandomCompanies(100, 3);
  ExposureTable simple("v", companies);
  ExposureTable general("v", General(companies));
  TariffAction event = Action("US", {"CN"}, 50);
  event.products.push_back(HsCode::Parse("85").value());
  auto step = TariffBook().Plan(event);
  ASSERT_TRUE(step.ok()) << step.status();
  const auto fast =
      ScoreTickers(event, TariffBook(), *step->after, simple, params_);
  const auto slow =
      ScoreTickers(event, TariffBook(), *step->after, general, params_);
  EXPECT_EQ(fast, slow);
}

}  // namespace
}  // namespace tariffalert
