// What goes on the wire for a score: every channel's contribution with its
// inputs, the parameters used, and the made-up event of a snap-back.

#include "server/ingest/alert_builder.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;

Country C(const char* c) { return *Country::Parse(c); }

TariffAction UsOnCn() {
  TariffAction a;
  a.event_id = "e1";
  a.importer = C("US");
  a.targets = {C("CN")};
  a.stage = Stage::kEffective;
  a.new_rate_pct = 145;
  a.measure_id = "us-cn-recip";
  return a;
}

TEST(AlertBuilderTest, ASpilloverContributionNamesItsCustomerOnTheWire) {
  SubjectScore s;
  s.subject = "2317.TW";
  s.name = "Hon Hai";
  s.sector = "Information Technology";
  s.score_bps = -193.88;
  Contribution k;
  k.channel = ScoreChannel::kSpillover;
  k.country = "CN";
  k.customer = "AAPL";
  k.customer_score_bps = -969.4;
  k.exposure_share = 0.5;
  k.sector_factor = 0.4;
  k.bps = -193.88;
  s.contributions.push_back(k);
  v1::TariffEvent event;
  event.set_headline("h");
  AlertContext context;
  context.exposure_version = "7";
  context.book_revision = 3;
  context.probability = 1;
  context.created = absl::FromUnixSeconds(1744261260);
  v1::Alert alert;
  BuildAlert(s, UsOnCn(), event, context, ScoringParams::Default(), alert);

  ASSERT_EQ(alert.contributions_size(), 1);
  const v1::Contribution& c = alert.contributions(0);
  EXPECT_EQ(c.channel(), v1::CHANNEL_SPILLOVER);
  EXPECT_EQ(c.customer(), "AAPL");
  EXPECT_DOUBLE_EQ(c.customer_score_bps(), -969.4);
  EXPECT_DOUBLE_EQ(c.exposure_share(), 0.5);
  EXPECT_DOUBLE_EQ(c.sector_factor(), 0.4);
  EXPECT_EQ(alert.measure_id(), "us-cn-recip");
  EXPECT_EQ(alert.book_revision(), 3u);
  EXPECT_EQ(alert.exposure_version(), "7");
  EXPECT_EQ(alert.alert_id(), "e1/T/2317.TW");
  EXPECT_EQ(alert.created_time().seconds(), 1744261260);
}

TEST(AlertBuilderTest, AnAlertListsTheParametersItsScoreUsedSortedByName) {
  SubjectScore s;
  s.subject = "NUE";
  s.sector = "Materials";
  v1::Alert alert;
  AlertContext context;
  context.probability = 0.7;
  BuildAlert(s, UsOnCn(), v1::TariffEvent(), context, ScoringParams::Default(),
             alert);
  std::map<std::string, double> got;
  std::string previous;
  for (const auto& p : alert.parameters()) {
    EXPECT_LT(previous, p.name()) << "not sorted";
    previous = p.name();
    got[p.name()] = p.value();
  }
  // config/scoring.textproto's Materials row and defaults.
  EXPECT_DOUBLE_EQ(got.at("pass_through"), 0.7);
  EXPECT_DOUBLE_EQ(got.at("export_kappa"), 0.6);
  EXPECT_DOUBLE_EQ(got.at("protection_gamma"), 0.3);
  EXPECT_DOUBLE_EQ(got.at("probability"), 0.7);
  EXPECT_DOUBLE_EQ(got.at("spillover_beta"), 0.4);
  EXPECT_DOUBLE_EQ(got.at("severity_critical_bps"), 500);
  EXPECT_EQ(alert.model_version(), ScoringParams::Default().model_version());
}

TEST(AlertBuilderTest, ASnapBackIsAnEffectiveEventOfThePausedMeasure) {
  TariffAction a = UsOnCn();
  a.event_id = "us-cn-recip/snap-back/2025-11-10T05:01:00Z";
  a.new_rate_pct = 24;
  a.excluded = {*HsCode::Parse("72")};
  a.effective_time = absl::FromUnixSeconds(1762750860);
  a.snap_back = true;
  const v1::TariffEvent e = SnapBackEvent(a);
  EXPECT_EQ(e.event_id(), a.event_id);
  EXPECT_EQ(e.stage(), v1::STAGE_EFFECTIVE);
  EXPECT_EQ(e.measure_id(), "us-cn-recip");
  EXPECT_DOUBLE_EQ(e.new_rate_pct(), 24);
  ASSERT_EQ(e.excluded_product_codes_size(), 1);
  EXPECT_EQ(e.excluded_product_codes(0), "72");
  EXPECT_EQ(e.effective_time().seconds(), 1762750860);
  EXPECT_THAT(e.headline(), HasSubstr("us-cn-recip lapsed"));
}

TEST(TariffActionTest, AThreatIsDatedByItsAnnouncementNotItsPlannedDate) {
  TariffAction a = UsOnCn();
  a.announced_time = absl::FromUnixSeconds(1752000000);  // 2025-07-08
  a.effective_time = absl::FromUnixSeconds(1754006400);  // 2025-08-01
  a.stage = Stage::kAnnounced;
  EXPECT_EQ(a.EventTime(), a.announced_time);
  a.stage = Stage::kThreatened;
  EXPECT_EQ(a.EventTime(), a.announced_time);
  a.stage = Stage::kEffective;
  EXPECT_EQ(a.EventTime(), a.effective_time);
  a.effective_time.reset();
  EXPECT_EQ(a.EventTime(), a.announced_time);
}

}  // namespace
}  // namespace tariffalert
