// End to end: GetTariff, ScoreScenario and the pause clock on a real server
// (127.0.0.1:0, the test redis-server) with real gRPC clients.

#include <unistd.h>

#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_exposure_store.h"
#include "server/service/server.h"
#include "tariffalert/v1/tariff_book_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/service/stream_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using testing::StreamClient;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31\n"
    "BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04\n"
    "NUE,Nucor,Materials,US,35000000000,0.85,0.12\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.43\n"
    "AAPL,sourcing,CN,*,0.7\n"
    "BBY,revenue,US,*,0.92\n"
    "BBY,sourcing,CN,*,0.55\n"
    "NUE,revenue,US,*,0.95\n"
    "NUE,production,US,*,1\n";

// 2025-05-14T00:00:00Z, the day of the Geneva pause.
constexpr int64_t kStart = 1747180800;

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

class BookServiceE2eTest : public ::testing::Test {
 protected:
  BookServiceE2eTest() : clock_(absl::FromUnixSeconds(kStart)) {}

  void SetUp() override {
    options_.redis = testing::TestRedisOptions();
    auto loaded = testing::LoadTestExposure(options_.redis, kCompanies,
                                            kExposures, "", base_rates_csv_);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    options_.listen_address = "127.0.0.1:0";
    // Plaintext on loopback; tests/security covers TLS and tokens.
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(20);
    options_.hub.heartbeat_interval = absl::Seconds(30);
    options_.pause_check_interval = absl::Milliseconds(20);
    auto server = TariffAlertServer::Start(options_, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    events_ = v1::TariffEventService::NewStub(channel_);
    book_ = v1::TariffBookService::NewStub(channel_);
  }

  static v1::TariffEvent Event(const std::string& id,
                               const std::string& measure, double rate,
                               v1::Stage stage = v1::STAGE_EFFECTIVE) {
    v1::TariffEvent e;
    e.set_event_id(id);
    e.set_imposing_country("US");
    e.add_target_countries("CN");
    e.set_measure_id(measure);
    e.set_new_rate_pct(rate);
    e.set_stage(stage);
    return e;
  }

  static v1::TariffEvent Pause(const std::string& id,
                               const std::string& measure, double rate,
                               int64_t expires) {
    v1::TariffEvent e = Event(id, measure, rate, v1::STAGE_PAUSED);
    e.mutable_expires_time()->set_seconds(expires);
    return e;
  }

  v1::PublishEventResponse Publish(const v1::TariffEvent& event) {
    v1::PublishEventRequest request;
    *request.mutable_event() = event;
    v1::PublishEventResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::Status s = events_->PublishEvent(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  grpc::Status GetTariff(const std::string& importer,
                         const std::string& exporter,
                         const std::string& product,
                         v1::GetTariffResponse* response) {
    v1::GetTariffRequest request;
    request.set_imposing_country(importer);
    request.set_exporting_country(exporter);
    request.set_product_code(product);
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return book_->GetTariff(&context, request, response);
  }

  grpc::Status Tariff(const v1::GetTariffRequest& request,
                      v1::GetTariffResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return book_->GetTariff(&context, request, response);
  }

  grpc::Status Scenario(const v1::ScoreScenarioRequest& request,
                        v1::ScoreScenarioResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return book_->ScoreScenario(&context, request, response);
  }

  // base-rates.csv of the loaded table; empty: the table has none.
  std::string base_rates_csv_;
  testing::FakeClock clock_;
  ServerOptions options_;
  std::unique_ptr<TariffAlertServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TariffEventService::Stub> events_;
  std::unique_ptr<v1::TariffBookService::Stub> book_;
};

TEST_F(BookServiceE2eTest, GetTariffShowsTheStackedRateAndItsMeasures) {
  Publish(Event("f", "us-cn-fentanyl", 20));
  Publish(Event("r", "us-cn-recip", 125));
  v1::TariffEvent steel = Event("s", "us-232-steel", 50);
  steel.clear_target_countries();
  steel.add_product_codes("72");
  Publish(steel);

  v1::GetTariffResponse r;
  ASSERT_TRUE(GetTariff("US", "CN", "85", &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 145);
  ASSERT_EQ(r.measures_size(), 2);
  EXPECT_EQ(r.measures(0).measure_id(), "us-cn-fentanyl");
  EXPECT_EQ(r.measures(1).measure_id(), "us-cn-recip");
  EXPECT_EQ(r.book_revision(), 3u);

  // Steel from China pays all three; from Japan only the steel measure.
  ASSERT_TRUE(GetTariff("US", "CN", "7208", &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 195);
  ASSERT_TRUE(GetTariff("US", "JP", "72", &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 50);
  ASSERT_EQ(r.measures_size(), 1);

  grpc::Status bad = GetTariff("US", "EU", "72", &r);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("exporting_country"));
}

TEST_F(BookServiceE2eTest, ScoreScenarioAnswersWhatIfAndChangesNothing) {
  Publish(Event("f", "us-cn-fentanyl", 20));
  const v1::PublishEventResponse r = Publish(Event("r", "us-cn-recip", 125));
  StreamClient stream(channel_, {});
  ASSERT_TRUE(stream.WaitForHeartbeat());

  // What if the reciprocal measure is paused at 10% for 90 days and then
  // lapses back to 125%?
  v1::ScoreScenarioRequest request;
  *request.add_events() =
      Pause("what-if-pause", "us-cn-recip", 10, kStart + 90 * 86400);
  request.mutable_until_time()->set_seconds(kStart + 91 * 86400);
  request.add_holdings()->set_ticker("AAPL");
  request.mutable_holdings(0)->set_position_value(1000000);
  v1::ScoreScenarioResponse s;
  grpc::Status status = Scenario(request, &s);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(s.steps_size(), 2);
  EXPECT_FALSE(s.steps(0).snap_back());
  ASSERT_EQ(s.steps(0).rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(s.steps(0).rate_changes(0).previous_rate_pct(), 145);
  EXPECT_DOUBLE_EQ(s.steps(0).rate_changes(0).new_rate_pct(), 30);
  EXPECT_TRUE(s.steps(1).snap_back());
  EXPECT_EQ(s.steps(1).event().measure_id(), "us-cn-recip");
  EXPECT_DOUBLE_EQ(s.steps(1).rate_changes(0).new_rate_pct(), 145);
  ASSERT_GT(s.steps(0).alerts_size(), 0);
  EXPECT_EQ(s.steps(0).alerts(0).sequence(), 0u)
      << "what-if alerts are not logged";
  // The pause helps the importers and the snap-back takes it back: the
  // scenario nets out to zero for every name.
  ASSERT_GT(s.tickers_size(), 0);
  for (const auto& t : s.tickers()) {
    EXPECT_NEAR(t.score_bps(), 0, 1e-9) << t.subject();
  }
  EXPECT_EQ(s.book_revision(), r.book_revision());
  // The holding: the pause lifts Apple's operating profit, the position with
  // it (valuation elasticity 1), and the snap-back takes it back.
  double aapl_pct = 0;
  for (const auto& a : s.steps(0).alerts()) {
    if (a.subject() == "AAPL") aapl_pct = a.operating_profit_change_pct();
  }
  ASSERT_GT(aapl_pct, 0);
  EXPECT_NEAR(s.steps(0).portfolio().impact_value(), 1000000 * aapl_pct / 100,
              1e-6);
  EXPECT_NEAR(s.steps(1).portfolio().impact_value(),
              -s.steps(0).portfolio().impact_value(), 1e-6);
  EXPECT_NEAR(s.portfolio().impact_value(), 0, 1e-6);
  EXPECT_DOUBLE_EQ(s.portfolio().position_value(), 1000000);

  // Nothing changed: the book, its revision, and no alert was streamed.
  v1::GetTariffResponse tariff;
  ASSERT_TRUE(GetTariff("US", "CN", "85", &tariff).ok());
  EXPECT_DOUBLE_EQ(tariff.effective_rate_pct(), 145);
  EXPECT_EQ(tariff.book_revision(), r.book_revision());
  const v1::PublishEventResponse next = Publish(Event("n", "us-cn-other", 1));
  EXPECT_EQ(next.first_sequence(), r.last_sequence() + 1);
  ASSERT_TRUE(stream.WaitForSequence(next.last_sequence()));
  for (const auto& a : stream.alerts()) EXPECT_EQ(a.event_id(), "n");
}

TEST_F(BookServiceE2eTest, GetEventGivesTheEventItsRateChangeAndItsAlerts) {
  Publish(Event("f", "us-cn-fentanyl", 20));
  const v1::PublishEventResponse r = Publish(Event("r", "us-cn-recip", 10));
  v1::GetEventRequest request;
  request.set_event_id("r");
  v1::GetEventResponse got;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  grpc::Status status = events_->GetEvent(&context, request, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.event().measure_id(), "us-cn-recip");
  ASSERT_EQ(got.result().rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(got.result().rate_changes(0).previous_rate_pct(), 20);
  EXPECT_DOUBLE_EQ(got.result().rate_changes(0).new_rate_pct(), 30);
  ASSERT_EQ(got.alerts_size(), static_cast<int>(r.alert_count()));
  for (int i = 0; i < got.alerts_size(); ++i) {
    EXPECT_EQ(got.alerts(i).sequence(), r.first_sequence() + i);
    EXPECT_EQ(got.alerts(i).event_id(), "r");
  }

  request.set_event_id("never-published");
  grpc::ClientContext context2;
  context2.set_deadline(Deadline());
  status = events_->GetEvent(&context2, request, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("never-published"));
}

TEST_F(BookServiceE2eTest, ABadScenarioEventIsNamedByItsIndex) {
  v1::ScoreScenarioRequest request;
  *request.add_events() = Event("ok", "us-cn-recip", 10);
  v1::TariffEvent bad = Event("bad", "us-cn-recip", 10, v1::STAGE_EXTENDED);
  bad.clear_new_rate_pct();
  bad.mutable_expires_time()->set_seconds(kStart + 86400);
  *request.add_events() = bad;
  v1::ScoreScenarioResponse s;
  grpc::Status status = Scenario(request, &s);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("events[1]"));
  EXPECT_THAT(status.error_message(), HasSubstr("not paused"));
}

TEST_F(BookServiceE2eTest, TheServerPublishesASnapBackWhenAPauseLapses) {
  Publish(Event("r", "us-cn-recip", 125));
  const v1::PublishEventResponse paused =
      Publish(Pause("p", "us-cn-recip", 10, kStart + 90 * 86400));
  StreamClient stream(channel_, {});
  ASSERT_TRUE(stream.WaitForHeartbeat());

  // A day before the expiry nothing happens. A publish moves the book's
  // clock to now first, publishing any snap-back then due ahead of its own
  // alerts: so once the marker's alerts are streamed, a snap-back published
  // too early would have been streamed before them. (The marker's 1% adds
  // to the rate below.)
  clock_.Advance(absl::Hours(24 * 89));
  const v1::PublishEventResponse marker = Publish(Event("m", "us-cn-other", 1));
  ASSERT_GT(marker.alert_count(), 0u);
  EXPECT_EQ(marker.first_sequence(), paused.last_sequence() + 1)
      << "a snap-back was published before its pause lapsed";
  ASSERT_TRUE(stream.WaitForSequence(marker.last_sequence()));
  for (const auto& a : stream.alerts()) EXPECT_EQ(a.event_id(), "m");

  clock_.Advance(absl::Hours(24) + absl::Seconds(1));
  ASSERT_TRUE(stream.WaitForSequence(marker.last_sequence() + 1))
      << "no snap-back within 10 s";
  const std::vector<v1::Alert> streamed = stream.alerts();
  ASSERT_GT(streamed.size(), marker.alert_count());
  const v1::Alert first = streamed[marker.alert_count()];
  EXPECT_EQ(first.sequence(), marker.last_sequence() + 1);
  EXPECT_EQ(first.event_id(), "us-cn-recip/snap-back/2025-08-12T00:00:00Z");
  EXPECT_EQ(first.measure_id(), "us-cn-recip");
  EXPECT_EQ(first.stage(), v1::STAGE_EFFECTIVE);
  v1::GetTariffResponse tariff;
  ASSERT_TRUE(GetTariff("US", "CN", "85", &tariff).ok());
  EXPECT_DOUBLE_EQ(tariff.effective_rate_pct(), 125 + 1);
  ASSERT_EQ(tariff.measures_size(), 2);
  for (const auto& m : tariff.measures()) {
    EXPECT_FALSE(m.has_pause()) << m.measure_id();
  }
}

TEST_F(BookServiceE2eTest, WithoutBaseRatesTheRateIsTheAdditionalDutiesOnly) {
  Publish(Event("f", "us-cn-fentanyl", 20));
  v1::GetTariffResponse r;
  ASSERT_TRUE(GetTariff("US", "CN", "8471", &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 20);
  EXPECT_DOUBLE_EQ(r.base_rate_pct(), 0);
  EXPECT_EQ(r.base_rate_source(),
            "no base (MFN) rate on file for US: the rate is the additional "
            "duties only");
  EXPECT_EQ(r.explanation(), "20% = 0% base + 20% us-cn-fentanyl");
}

// Rows of data/exposure/base-rates.csv (USITC HTS 2025, column 1 General):
// no row for heading 7208, 8418 or 8473, so their chapter's applies, and none
// for chapter 87, so the all-goods row does.
constexpr char kBaseRates[] =
    "importer,product,mfn_rate_pct,year,source\n"
    "US,*,4.24,2025,\"USITC HTS 2025 Basic Edition, column 1 General\"\n"
    "US,72,0.30,2025,\"USITC HTS 2025 Basic Edition, column 1 General\"\n"
    "US,84,1.41,2025,\"USITC HTS 2025 Basic Edition, column 1 General\"\n"
    "US,8471,0.00,2025,\"USITC HTS 2025 Basic Edition, column 1 General\"\n";

class BookServiceStackingE2eTest : public BookServiceE2eTest {
 protected:
  BookServiceStackingE2eTest() { base_rates_csv_ = kBaseRates; }

  // 2025 US measures on China, steel and Mexico as the stacking rules read
  // them.
  void PublishMeasures() {
    v1::TariffEvent fentanyl = Event("f", "us-cn-fentanyl", 20);
    fentanyl.set_authority(v1::IEEPA_FENTANYL);
    Publish(fentanyl);
    v1::TariffEvent reciprocal = Event("r", "us-cn-reciprocal", 10);
    reciprocal.set_authority(v1::IEEPA_RECIPROCAL);
    reciprocal.add_not_with("SECTION_232");
    Publish(reciprocal);
    v1::TariffEvent steel = Event("s", "us-232-steel", 50);
    steel.clear_target_countries();
    steel.add_product_codes("72");
    steel.set_authority(v1::SECTION_232);
    Publish(steel);
    v1::TariffEvent derivatives = Event("d", "us-232-steel-derivatives", 50);
    derivatives.clear_target_countries();
    derivatives.add_product_codes("8418");
    derivatives.set_authority(v1::SECTION_232);
    derivatives.set_on_content(true);
    Publish(derivatives);
    v1::TariffEvent mexico = Event("m", "us-mx-fentanyl", 25);
    mexico.clear_target_countries();
    mexico.add_target_countries("MX");
    mexico.set_authority(v1::IEEPA_FENTANYL);
    mexico.add_channels(v1::SHIPMENT_GENERAL);
    mexico.add_channels(v1::SHIPMENT_LOW_VALUE);
    Publish(mexico);
  }

  static v1::GetTariffRequest Request(const std::string& exporter,
                                      const std::string& product) {
    v1::GetTariffRequest request;
    request.set_imposing_country("US");
    request.set_exporting_country(exporter);
    request.set_product_code(product);
    return request;
  }
};

constexpr char kHts[] = "USITC HTS 2025 Basic Edition, column 1 General";

TEST_F(BookServiceStackingE2eTest, ChineseSteelPaysSection232AndNotReciprocal) {
  PublishMeasures();
  v1::GetTariffResponse r;
  grpc::Status status = GetTariff("US", "CN", "7208", &r);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // 0.3 base (chapter 72) + 50 steel + 20 fentanyl; the reciprocal 10% does
  // not stack with section 232.
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 0.3 + 50 + 20);
  EXPECT_DOUBLE_EQ(r.base_rate_pct(), 0.3);
  EXPECT_EQ(r.base_rate_source(),
            absl::StrCat("US MFN 0.3% (HS 72: ", kHts,
                         ", 2025); no row for HS 7208, so the chapter row "
                         "applies"));
  ASSERT_EQ(r.lines_size(), 3);
  const v1::TariffLine& steel = r.lines(0);
  EXPECT_EQ(steel.measure_id(), "us-232-steel");
  EXPECT_EQ(steel.authority(), v1::SECTION_232);
  EXPECT_EQ(steel.combination(), v1::COMBINATION_ADD);
  EXPECT_TRUE(steel.applies());
  EXPECT_DOUBLE_EQ(steel.rate_pct(), 50);
  EXPECT_DOUBLE_EQ(steel.applied_pct(), 50);
  EXPECT_EQ(steel.reason(), "adds 50%");
  EXPECT_EQ(steel.event_id(), "s");
  const v1::TariffLine& fentanyl = r.lines(1);
  EXPECT_EQ(fentanyl.measure_id(), "us-cn-fentanyl");
  EXPECT_EQ(fentanyl.authority(), v1::IEEPA_FENTANYL);
  EXPECT_TRUE(fentanyl.applies());
  EXPECT_DOUBLE_EQ(fentanyl.applied_pct(), 20);
  EXPECT_EQ(fentanyl.reason(), "adds 20%");
  const v1::TariffLine& reciprocal = r.lines(2);
  EXPECT_EQ(reciprocal.measure_id(), "us-cn-reciprocal");
  EXPECT_EQ(reciprocal.authority(), v1::IEEPA_RECIPROCAL);
  EXPECT_FALSE(reciprocal.applies());
  EXPECT_DOUBLE_EQ(reciprocal.rate_pct(), 10);
  EXPECT_DOUBLE_EQ(reciprocal.applied_pct(), 0);
  EXPECT_EQ(reciprocal.reason(),
            "not charged: the good owes duty under us-232-steel "
            "(SECTION_232), which this measure does not stack with");
  EXPECT_EQ(reciprocal.event_id(), "r");
  EXPECT_EQ(r.explanation(),
            "70.3% = 0.3% base + 50% us-232-steel + 20% us-cn-fentanyl");
  // The measures as stored, with their terms.
  ASSERT_EQ(r.measures_size(), 3);
  EXPECT_EQ(r.measures(2).measure_id(), "us-cn-reciprocal");
  EXPECT_THAT(r.measures(2).not_with(), ::testing::ElementsAre("SECTION_232"));
  EXPECT_EQ(r.measures(2).authority(), v1::IEEPA_RECIPROCAL);
}

TEST_F(BookServiceStackingE2eTest, ChineseComputersPayBothIeepaDutiesOnMfn) {
  PublishMeasures();
  v1::GetTariffResponse r;
  ASSERT_TRUE(GetTariff("US", "CN", "8471", &r).ok());
  // Heading 8471's own row: MFN free.
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 0 + 20 + 10);
  EXPECT_DOUBLE_EQ(r.base_rate_pct(), 0);
  EXPECT_EQ(r.base_rate_source(),
            absl::StrCat("US MFN 0% (HS 8471: ", kHts, ", 2025)"));
  ASSERT_EQ(r.lines_size(), 2);
  EXPECT_EQ(r.lines(0).measure_id(), "us-cn-fentanyl");
  EXPECT_EQ(r.lines(0).reason(), "adds 20%");
  EXPECT_EQ(r.lines(1).measure_id(), "us-cn-reciprocal");
  EXPECT_TRUE(r.lines(1).applies());
  EXPECT_EQ(r.lines(1).reason(), "adds 10%");
  EXPECT_EQ(r.explanation(),
            "30% = 0% base + 20% us-cn-fentanyl + 10% us-cn-reciprocal");
  // A heading of chapter 84 without a row of its own: the chapter's 1.41%.
  ASSERT_TRUE(GetTariff("US", "CN", "8473", &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 1.41 + 20 + 10);
  EXPECT_THAT(r.base_rate_source(),
              HasSubstr("no row for HS 8473, so the chapter row applies"));
}

TEST_F(BookServiceStackingE2eTest,
       AnOnContentMeasureIsChargedOnTheContentShare) {
  PublishMeasures();
  v1::GetTariffRequest request = Request("JP", "8418");
  request.set_content_share_pct(40);
  v1::GetTariffResponse r;
  grpc::Status status = Tariff(request, &r);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // 1.41 base (chapter 84) + 50% on 40% of the value.
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 1.41 + 20);
  ASSERT_EQ(r.lines_size(), 1);
  EXPECT_EQ(r.lines(0).measure_id(), "us-232-steel-derivatives");
  EXPECT_TRUE(r.lines(0).applies());
  EXPECT_DOUBLE_EQ(r.lines(0).rate_pct(), 50);
  EXPECT_DOUBLE_EQ(r.lines(0).applied_pct(), 20);
  EXPECT_EQ(r.lines(0).reason(),
            "50% on the content, 40% of the value: adds 20%");
  EXPECT_EQ(r.explanation(),
            "21.41% = 1.41% base + 20% us-232-steel-derivatives");
  // Unset, the content is the whole value.
  request.clear_content_share_pct();
  ASSERT_TRUE(Tariff(request, &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 1.41 + 50);
  EXPECT_EQ(r.lines(0).reason(),
            "50% on the content, 100% of the value: adds 50%");
  // The limits are inclusive.
  request.set_content_share_pct(0);
  ASSERT_TRUE(Tariff(request, &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 1.41);
  request.set_content_share_pct(100);
  ASSERT_TRUE(Tariff(request, &r).ok());
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 1.41 + 50);
}

TEST_F(BookServiceStackingE2eTest, AnOutOfRangeRequestNamesTheField) {
  PublishMeasures();
  const struct {
    std::function<void(v1::GetTariffRequest&)> mutate;
    const char* error;
  } cases[] = {
      {[](v1::GetTariffRequest& q) { q.set_content_share_pct(100.5); },
       "content_share_pct: 100.5 is outside 0..100"},
      {[](v1::GetTariffRequest& q) { q.set_content_share_pct(-1); },
       "content_share_pct: -1 is outside 0..100"},
      {[](v1::GetTariffRequest& q) {
         q.set_content_share_pct(std::numeric_limits<double>::quiet_NaN());
       },
       "content_share_pct: nan is outside 0..100"},
      {[](v1::GetTariffRequest& q) {
         q.set_channel(static_cast<v1::ShipmentChannel>(9));
       },
       "channel: must be SHIPMENT_GENERAL, SHIPMENT_USMCA or "
       "SHIPMENT_LOW_VALUE"},
  };
  for (const auto& c : cases) {
    v1::GetTariffRequest request = Request("JP", "8418");
    c.mutate(request);
    v1::GetTariffResponse r;
    grpc::Status status = Tariff(request, &r);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.error;
    EXPECT_EQ(status.error_message(), c.error);
  }
}

TEST_F(BookServiceStackingE2eTest, AMeasureOutsideUsmcaDoesNotReachItsGoods) {
  PublishMeasures();
  v1::GetTariffRequest request = Request("MX", "8703");
  request.set_channel(v1::SHIPMENT_USMCA);
  v1::GetTariffResponse r;
  grpc::Status status = Tariff(request, &r);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // No row for chapter 87: the all-goods 4.24%, and nothing more.
  EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 4.24);
  EXPECT_EQ(r.base_rate_source(),
            absl::StrCat("US MFN 4.24% (HS *: ", kHts,
                         ", 2025); no row for HS 8703, so the all-goods row "
                         "applies"));
  ASSERT_EQ(r.lines_size(), 1);
  EXPECT_EQ(r.lines(0).measure_id(), "us-mx-fentanyl");
  EXPECT_FALSE(r.lines(0).applies());
  EXPECT_DOUBLE_EQ(r.lines(0).rate_pct(), 25);
  EXPECT_DOUBLE_EQ(r.lines(0).applied_pct(), 0);
  EXPECT_EQ(r.lines(0).reason(),
            "not charged: it does not reach USMCA-qualifying goods");
  EXPECT_EQ(r.explanation(), "4.24% = 4.24% base");
  ASSERT_EQ(r.measures_size(), 1);
  EXPECT_THAT(
      r.measures(0).channels(),
      ::testing::ElementsAre(v1::SHIPMENT_GENERAL, v1::SHIPMENT_LOW_VALUE));
  // The channels it names, and a request without one (general), pay it.
  for (v1::ShipmentChannel channel :
       {v1::SHIPMENT_GENERAL, v1::SHIPMENT_LOW_VALUE,
        v1::SHIPMENT_CHANNEL_UNSPECIFIED}) {
    request.set_channel(channel);
    ASSERT_TRUE(Tariff(request, &r).ok());
    EXPECT_DOUBLE_EQ(r.effective_rate_pct(), 4.24 + 25)
        << v1::ShipmentChannel_Name(channel);
    ASSERT_EQ(r.lines_size(), 1);
    EXPECT_TRUE(r.lines(0).applies());
  }
}

}  // namespace
}  // namespace tariffalert
