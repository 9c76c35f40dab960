#include "server/fanout/alert_filter.h"

#include "gtest/gtest.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fanout/test_alerts.h"

namespace tariffalert {
namespace {

using testing::MakeAlert;

AlertFilter Compile(const v1::AlertFilter& proto) {
  auto f = AlertFilter::FromProto(proto);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *f : AlertFilter();
}

bool Matches(const AlertFilter& f, const v1::Alert& a) {
  return f.Matches(EncodeAlert(a)->keys);
}

TEST(AlertFilterTest, EmptyFilterMatchesEverything) {
  AlertFilter f = Compile(v1::AlertFilter());
  EXPECT_TRUE(Matches(f, MakeAlert(1, "AAPL", -5)));
  EXPECT_TRUE(Matches(f, MakeAlert(2, "NUE", 300, "")));
}

TEST(AlertFilterTest, TickersMatchOnlyTickerAlertsOfThoseTickers) {
  v1::AlertFilter p;
  p.add_tickers("AAPL");
  p.add_tickers("BBY");
  AlertFilter f = Compile(p);
  EXPECT_TRUE(Matches(f, MakeAlert(1, "AAPL", -5)));
  EXPECT_TRUE(Matches(f, MakeAlert(2, "BBY", -5)));
  EXPECT_FALSE(Matches(f, MakeAlert(3, "STZ", -5)));
  v1::Alert sector = MakeAlert(4, "AAPL", -5);
  sector.set_subject_kind(v1::SUBJECT_KIND_SECTOR);
  EXPECT_FALSE(Matches(f, sector));
}

TEST(AlertFilterTest, SectorsMatchTickerAndSectorAlerts) {
  v1::AlertFilter p;
  p.add_sectors("Materials");
  AlertFilter f = Compile(p);
  EXPECT_TRUE(Matches(f, MakeAlert(1, "NUE", 30, "CN", "Materials")));
  EXPECT_FALSE(Matches(f, MakeAlert(2, "AAPL", -30)));
  v1::Alert sector = MakeAlert(3, "Materials", 30, "CN", "Materials");
  sector.set_subject_kind(v1::SUBJECT_KIND_SECTOR);
  sector.set_country("");
  EXPECT_TRUE(Matches(f, sector));
}

TEST(AlertFilterTest, CountriesMatchEventCountriesAndCompanyCountry) {
  v1::AlertFilter p;
  p.add_countries("MX");
  AlertFilter f = Compile(p);
  EXPECT_TRUE(Matches(f, MakeAlert(1, "STZ", -900, "MX")));    // target
  EXPECT_FALSE(Matches(f, MakeAlert(2, "AAPL", -900, "CN")));  // neither
  EXPECT_TRUE(Matches(f, MakeAlert(3, "NUE", 50, "")));        // all partners
  v1::Alert listed_in_mx = MakeAlert(4, "CX", -50, "CN");
  listed_in_mx.set_country("MX");
  EXPECT_TRUE(Matches(f, listed_in_mx));  // company country
  v1::AlertFilter us;
  us.add_countries("US");
  v1::Alert jp_company = MakeAlert(5, "7203.T", -50, "CN");
  jp_company.set_country("JP");
  EXPECT_TRUE(Matches(Compile(us), jp_company));  // US is the imposing country
}

TEST(AlertFilterTest, EuFilterCoversMemberStatesAndTheReverse) {
  v1::AlertFilter eu;
  eu.add_countries("EU");
  v1::Alert on_france = MakeAlert(1, "MC.PA", -50, "FR");
  on_france.set_country("FR");
  EXPECT_TRUE(Matches(Compile(eu), on_france));
  v1::AlertFilter de;
  de.add_countries("DE");
  EXPECT_TRUE(Matches(Compile(de), MakeAlert(2, "BMW.DE", -50, "EU")));
  EXPECT_FALSE(Matches(Compile(de), MakeAlert(3, "AAPL", -50, "CN")));
}

TEST(AlertFilterTest, ScoreSeverityAndKindThresholds) {
  v1::AlertFilter p;
  p.set_min_abs_score_bps(100);
  AlertFilter f = Compile(p);
  EXPECT_TRUE(Matches(f, MakeAlert(1, "A", -100)));
  EXPECT_TRUE(Matches(f, MakeAlert(2, "B", 250)));
  EXPECT_FALSE(Matches(f, MakeAlert(3, "C", -99.9)));

  v1::AlertFilter s;
  s.set_min_severity(v1::SEVERITY_HIGH);
  AlertFilter g = Compile(s);
  EXPECT_TRUE(Matches(g, MakeAlert(4, "D", -600)));   // CRITICAL
  EXPECT_TRUE(Matches(g, MakeAlert(5, "E", 200)));    // HIGH
  EXPECT_FALSE(Matches(g, MakeAlert(6, "F", -199)));  // MEDIUM

  v1::AlertFilter k;
  k.add_subject_kinds(v1::SUBJECT_KIND_SECTOR);
  AlertFilter h = Compile(k);
  EXPECT_FALSE(Matches(h, MakeAlert(7, "G", -600)));
  v1::Alert sector = MakeAlert(8, "Materials", 30);
  sector.set_subject_kind(v1::SUBJECT_KIND_SECTOR);
  EXPECT_TRUE(Matches(h, sector));
}

TEST(AlertFilterTest, FieldsCombineWithAnd) {
  v1::AlertFilter p;
  p.add_tickers("AAPL");
  p.set_min_abs_score_bps(100);
  AlertFilter f = Compile(p);
  EXPECT_TRUE(Matches(f, MakeAlert(1, "AAPL", -150)));
  EXPECT_FALSE(Matches(f, MakeAlert(2, "AAPL", -50)));
  EXPECT_FALSE(Matches(f, MakeAlert(3, "BBY", -150)));
}

TEST(AlertFilterTest, BadFiltersNameTheField) {
  struct Case {
    void (*mutate)(v1::AlertFilter&);
    const char* field;
  } cases[] = {
      {[](v1::AlertFilter& f) { f.add_countries("ZZ"); },
       "filter.countries[0]"},
      {[](v1::AlertFilter& f) {
         f.add_countries("US");
         f.add_countries("usa");
       },
       "filter.countries[1]"},
      {[](v1::AlertFilter& f) { f.add_sectors("Tech"); }, "filter.sectors[0]"},
      {[](v1::AlertFilter& f) { f.add_tickers(""); }, "filter.tickers[0]"},
      {[](v1::AlertFilter& f) { f.set_min_abs_score_bps(-1); },
       "filter.min_abs_score_bps"},
      {[](v1::AlertFilter& f) { f.set_min_abs_score_bps(std::nan("")); },
       "filter.min_abs_score_bps"},
      {[](v1::AlertFilter& f) {
         f.set_min_severity(static_cast<v1::Severity>(42));
       },
       "filter.min_severity"},
      {[](v1::AlertFilter& f) {
         f.add_subject_kinds(v1::SUBJECT_KIND_UNSPECIFIED);
       },
       "filter.subject_kinds[0]"},
  };
  for (const Case& c : cases) {
    v1::AlertFilter p;
    c.mutate(p);
    auto f = AlertFilter::FromProto(p);
    ASSERT_FALSE(f.ok()) << c.field;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(f.status().message().substr(0, strlen(c.field)), c.field)
        << f.status();
  }
}

}  // namespace
}  // namespace tariffalert
