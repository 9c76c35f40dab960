#include "server/ingest/publisher.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/exposure_csv.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/testing/collecting_subscriber.h"
#include "tests/testing/fake_clock.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;

// Apple sources from China; Constellation brews in Mexico; Nucor makes steel
// at home.
constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.5,0.3\n"
    "STZ,Constellation Brands,Consumer Staples,US,40000000000,0.5,0.3\n"
    "NUE,Nucor,Materials,US,35000000000,0.8,0.1\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.4\n"
    "AAPL,sourcing,CN,*,0.8\n"
    "STZ,revenue,US,*,1\n"
    "STZ,production,MX,*,0.9\n"
    "NUE,revenue,US,*,1\n"
    "NUE,production,US,*,1\n";

class PublisherTest : public ::testing::Test {
 protected:
  PublisherTest() {
    auto parsed = ParseExposureFiles({kCompanies, kExposures}, "companies.csv",
                                     "exposures.csv", "7");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    table_ = *parsed;
    HubOptions hub_options;
    hub_options.heartbeat_interval = absl::ZeroDuration();
    hub_ = std::make_unique<AlertHub>(hub_options, clock_);
    EXPECT_TRUE(hub_->Subscribe(&collector_, std::nullopt).ok());
    publisher_ = std::make_unique<Publisher>(
        PublisherOptions{}, [this] { return table_; }, ScoringParams::Default(),
        hub_.get(), clock_);
  }
  ~PublisherTest() override { hub_->Unsubscribe(&collector_); }

  static v1::TariffEvent Event(const std::string& id, const std::string& target,
                               double rate,
                               v1::Stage stage = v1::STAGE_EFFECTIVE) {
    v1::TariffEvent e;
    e.set_event_id(id);
    e.set_imposing_country("US");
    e.add_target_countries(target);
    e.set_new_rate_pct(rate);
    e.set_stage(stage);
    e.set_headline("test");
    return e;
  }

  testing::FakeClock clock_;
  std::shared_ptr<const ExposureTable> table_;
  std::unique_ptr<AlertHub> hub_;
  testing::CollectingSubscriber collector_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(PublisherTest, AlertsGetDenseSequencesAcrossEvents) {
  auto first = publisher_->Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_GT(first->alert_count(), 0u);
  EXPECT_EQ(first->first_sequence(), 1u);
  EXPECT_EQ(first->last_sequence(), first->alert_count());
  auto second = publisher_->Publish(Event("e2", "MX", 25));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->first_sequence(), first->last_sequence() + 1);
  ASSERT_EQ(collector_.received.size(),
            first->alert_count() + second->alert_count());
  for (size_t i = 0; i < collector_.received.size(); ++i) {
    EXPECT_EQ(collector_.received[i].sequence(), i + 1);
  }
}

TEST_F(PublisherTest, AlertsCarryTheirProvenance) {
  clock_.Advance(absl::Seconds(42));
  auto r = publisher_->Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exposure_version(), "7");
  EXPECT_EQ(r->book_revision(), 1u);
  ASSERT_FALSE(collector_.received.empty());
  const v1::Alert& top = collector_.received.front();
  EXPECT_EQ(top.subject(), "AAPL");  // the largest |score| comes first
  EXPECT_EQ(top.alert_id(), "e1/T/AAPL");
  EXPECT_EQ(top.event_id(), "e1");
  EXPECT_EQ(top.exposure_version(), "7");
  EXPECT_EQ(top.book_revision(), 1u);
  EXPECT_EQ(top.model_version(), ScoringParams::Default().model_version());
  EXPECT_EQ(top.created_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(top.imposing_country(), "US");
  EXPECT_EQ(top.target_countries(0), "CN");
  EXPECT_EQ(top.headline(), "test");
  EXPECT_LT(top.score_bps(), 0);
  EXPECT_THAT(top.explanation(), HasSubstr("0% -> 30%"));
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_EQ(r->rate_changes(0).target_country(), "CN");
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 0);
  EXPECT_EQ(r->rate_changes(0).new_rate_pct(), 30);
}

TEST_F(PublisherTest, ARepeatedEventIdReturnsTheFirstResponseAndNoNewAlert) {
  auto first = publisher_->Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(first.ok());
  const size_t alerts = collector_.received.size();
  auto repeat = publisher_->Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(repeat.ok());
  EXPECT_TRUE(repeat->duplicate());
  EXPECT_FALSE(first->duplicate());
  EXPECT_EQ(repeat->first_sequence(), first->first_sequence());
  EXPECT_EQ(repeat->alert_count(), first->alert_count());
  EXPECT_EQ(collector_.received.size(), alerts);
  EXPECT_EQ(publisher_->book_revision(), 1u);
}

TEST_F(PublisherTest, AReusedEventIdWithOtherContentIsRefused) {
  ASSERT_TRUE(publisher_->Publish(Event("e1", "CN", 30)).ok());
  const size_t alerts = collector_.received.size();
  auto other = publisher_->Publish(Event("e1", "CN", 60));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(other.status().message()),
              HasSubstr("event.event_id"));
  EXPECT_EQ(collector_.received.size(), alerts);
  EXPECT_EQ(publisher_->book_revision(), 1u);
}

TEST_F(PublisherTest, ARejectedEventLeavesNoTrace) {
  v1::TariffEvent bad = Event("bad", "CN", 30);
  bad.set_new_rate_pct(-5);
  auto r = publisher_->Publish(bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("event.new_rate_pct"));
  EXPECT_TRUE(collector_.received.empty());
  EXPECT_EQ(publisher_->book_revision(), 0u);
  // The id was not used up: the corrected event goes through.
  bad.set_new_rate_pct(5);
  auto fixed = publisher_->Publish(bad);
  ASSERT_TRUE(fixed.ok());
  EXPECT_FALSE(fixed->duplicate());
}

TEST_F(PublisherTest, TheBookNotTheEventDecidesTheChange) {
  ASSERT_TRUE(publisher_->Publish(Event("raise", "CN", 145)).ok());
  v1::TariffEvent pause = Event("pause", "CN", 30, v1::STAGE_PAUSED);
  pause.set_previous_rate_pct(100);  // wrong: the book holds 145
  collector_.received.clear();
  auto r = publisher_->Publish(pause);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("differs from the book's 145%"));
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 145);
  // Apple gains from the lower rate: -115 pp instead of the -70 the event
  // claimed.
  ASSERT_FALSE(collector_.received.empty());
  EXPECT_EQ(collector_.received.front().subject(), "AAPL");
  EXPECT_GT(collector_.received.front().score_bps(), 0);
  EXPECT_DOUBLE_EQ(collector_.received.front().contributions(0).delta_pct(),
                   -115);
}

TEST_F(PublisherTest, ThreatsAreScoredButLeaveTheBookAlone) {
  auto threat =
      publisher_->Publish(Event("threat", "MX", 30, v1::STAGE_THREATENED));
  ASSERT_TRUE(threat.ok());
  EXPECT_EQ(threat->book_revision(), 0u);
  ASSERT_FALSE(collector_.received.empty());
  const v1::Alert& stz = collector_.received.front();
  EXPECT_EQ(stz.subject(), "STZ");
  EXPECT_DOUBLE_EQ(stz.contributions(0).probability(), 0.3);
  const double threatened = stz.score_bps();
  collector_.received.clear();
  auto effective = publisher_->Publish(Event("effective", "MX", 30));
  ASSERT_TRUE(effective.ok());
  EXPECT_EQ(effective->book_revision(), 1u);
  EXPECT_NEAR(collector_.received.front().score_bps(), threatened / 0.3, 1e-6);
}

TEST_F(PublisherTest, AnEventThatChangesNoRateProducesNoAlert) {
  ASSERT_TRUE(publisher_->Publish(Event("e1", "CN", 30)).ok());
  collector_.received.clear();
  v1::TariffEvent extended = Event("ext", "CN", 0, v1::STAGE_EXTENDED);
  extended.clear_new_rate_pct();
  auto r = publisher_->Publish(extended);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->alert_count(), 0u);
  EXPECT_EQ(r->first_sequence(), 0u);
  EXPECT_TRUE(collector_.received.empty());
}

TEST_F(PublisherTest, WithoutAnExposureTableItSaysSo) {
  table_ = std::make_shared<const ExposureTable>("", std::vector<Company>{});
  auto r = publisher_->Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->alert_count(), 0u);
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("no exposure table"));
}

TEST_F(PublisherTest, DedupeForgetsTheOldestBeyondItsCapacity) {
  PublisherOptions options;
  options.dedupe_capacity = 2;
  Publisher small(
      options, [this] { return table_; }, ScoringParams::Default(), hub_.get(),
      clock_);
  ASSERT_TRUE(small.Publish(Event("a", "CN", 10)).ok());
  ASSERT_TRUE(small.Publish(Event("b", "CN", 20)).ok());
  ASSERT_TRUE(small.Publish(Event("c", "CN", 30)).ok());
  EXPECT_TRUE(small.Publish(Event("c", "CN", 30))->duplicate());
  EXPECT_FALSE(small.Publish(Event("a", "CN", 10))->duplicate());
}

}  // namespace
}  // namespace tariffalert
