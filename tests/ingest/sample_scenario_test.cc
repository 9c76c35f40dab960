// The shipped sample table and 2025 timeline (stacked, named measures),
// through the real publish pipeline with the book's clock following the
// events: the names a trader would check come out on top, with the right
// sign; the book's summed rates are the rates of the news; pauses snap back
// once the clock passes their expiry. Guards the sample data and the model
// together.

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/common/log.h"
#include "server/exposure/exposure_csv.h"
#include "server/exposure/loader.h"
#include "server/ingest/book_engine.h"
#include "server/ingest/event_validator.h"
#include "server/ingest/publisher.h"
#include "server/tariff_book/event_log.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/testing/codes.h"
#include "tests/testing/collecting_subscriber.h"
#include "tests/testing/fake_clock.h"

namespace tariffalert {
namespace {

using testing::C;
using ::testing::Contains;
using testing::H;
using ::testing::IsEmpty;

// Event ids of the timeline the checks below name.
constexpr char kMexico25[] = "2025-03-04-us-mx-fentanyl-25";
constexpr char kSteel25[] = "2025-03-12-us-all-232-steel-alu-25";
constexpr char kSteel50[] = "2025-06-04-us-all-232-steel-alu-50";
constexpr char kUsCn104[] = "2025-04-09-us-cn-104";
constexpr char kUsCn145[] = "2025-04-10-us-cn-145";
constexpr char kCnUs125[] = "2025-04-12-cn-us-125";
constexpr char kUsCnPause[] = "2025-05-12-us-cn-geneva-pause";
constexpr char kCnUsPause[] = "2025-05-12-cn-us-geneva-pause";
constexpr char kCanadaLetter[] = "2025-07-10-us-ca-letter-35";
constexpr char kCanada35[] = "2025-08-01-us-ca-35";
constexpr char kJapanDeal[] = "2025-07-22-us-jp-deal-15";
constexpr char kEuDeal[] = "2025-07-27-us-eu-deal-15";
constexpr char kMexicoPostponed[] = "2025-07-31-us-mx-30-postponed";
constexpr char kEu15[] = "2025-08-07-us-eu-15";
constexpr char kChips301[] = "2025-01-01-us-cn-301-chips-50";
constexpr char kAllElectronics[] = "2025-04-11-us-all-electronics-exempt";
// The US all-goods MFN average of data/exposure/base-rates.csv, in every
// rate an event's response quotes for all goods.
constexpr double kAllGoodsMfn = 4.24;
constexpr char kUsmcaMexico[] = "2025-03-07-us-mx-fentanyl-usmca-exempt";
constexpr char kElectronics[] = "2025-04-11-us-cn-electronics-exempt";
constexpr char kVietnamPause[] = "2025-04-09-us-vn-pause";
constexpr char kJapanAutosDeal[] = "2025-07-22-us-jp-autos-deal-15";
constexpr char kEuAutos15[] = "2025-08-01-us-eu-autos-15";
constexpr char kJp15[] = "2025-08-07-us-jp-15";
constexpr char kUsCnExtended[] = "2025-08-11-us-cn-pause-extended";
constexpr char kCnUsExtended[] = "2025-08-12-cn-us-pause-extended";
// Made by the book's clock when the extended pauses lapse.
constexpr char kUsCnSnapBack[] =
    "us-cn-reciprocal/snap-back/2025-11-10T05:01:00Z";
constexpr char kCnUsSnapBack[] =
    "cn-us-reciprocal/snap-back/2025-11-10T04:01:00Z";
// Not in the file: published by this test after the timeline.
constexpr char kRevokeFentanyl[] = "test-2025-11-15-us-cn-fentanyl-revoked";

absl::Time Utc(const char* rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << rfc3339 << ": " << error;
  return t;
}

// Every alert of the timeline, by event, in stream order.
class ByEvent {
 public:
  void Add(const std::vector<v1::Alert>& alerts) {
    for (const auto& a : alerts) events[a.event_id()].push_back(a);
  }

  // The first n ticker alerts of an event: its largest scores.
  std::vector<std::string> Top(const std::string& event, size_t n) {
    std::vector<std::string> out;
    for (const auto& a : events[event]) {
      if (a.subject_kind() == v1::SUBJECT_KIND_TICKER && out.size() < n) {
        out.push_back(a.subject());
      }
    }
    return out;
  }
  double Score(const std::string& event, const std::string& ticker) {
    if (auto s = Find(event, ticker)) return *s;
    ADD_FAILURE() << ticker << " has no alert for " << event;
    return 0;
  }
  // No alert: the score is under min_alert_bps (0 here).
  std::optional<double> Find(const std::string& event,
                             const std::string& ticker) {
    for (const auto& a : events[event]) {
      if (a.subject_kind() == v1::SUBJECT_KIND_TICKER &&
          a.subject() == ticker) {
        return a.score_bps();
      }
    }
    return std::nullopt;
  }

  std::map<std::string, std::vector<v1::Alert>> events;
};

// Publishes the whole timeline once for all the tests below.
class SampleScenarioTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetMinLogLevel(LogLevel::kError);
    run_ = new Run();
    run_->PublishTimeline();
  }
  static void TearDownTestSuite() {
    delete run_;
    run_ = nullptr;
  }

  struct Run {
    void PublishTimeline();
    void Publish(const v1::TariffEvent& event);

    testing::FakeClock clock_;
    std::shared_ptr<const ExposureTable> table_;
    std::unique_ptr<AlertHub> hub_;
    testing::CollectingSubscriber stream_;
    InMemoryEventLog store_;
    std::unique_ptr<Publisher> publisher_;
    ByEvent alerts_;
    // The file's events, in order.
    std::vector<v1::TariffEvent> events_;
    // Each published event's response and the book it left.
    std::map<std::string, v1::PublishEventResponse> responses_;
    std::map<std::string, TariffBook> books_;
    ~Run() {
      if (hub_) hub_->Unsubscribe(&stream_);
    }
  };
  static Run* run_;
  ByEvent& alerts_ = run_->alerts_;

  const TariffBook& BookAfter(const std::string& event_id) {
    auto it = run_->books_.find(event_id);
    if (it == run_->books_.end()) {
      ADD_FAILURE() << "no book after " << event_id;
      static const TariffBook* const kEmpty = new TariffBook();
      return *kEmpty;
    }
    return it->second;
  }
  // The file's events before `event_id`.
  std::vector<v1::TariffEvent> EventsBefore(const std::string& event_id) {
    std::vector<v1::TariffEvent> out;
    for (const auto& e : run_->events_) {
      if (e.event_id() == event_id) return out;
      out.push_back(e);
    }
    ADD_FAILURE() << event_id << " is not in the timeline";
    return out;
  }
  const v1::TariffEvent& Event(const std::string& event_id) {
    for (const auto& e : run_->events_) {
      if (e.event_id() == event_id) return e;
    }
    ADD_FAILURE() << event_id << " is not in the timeline";
    return run_->events_.front();
  }
};

SampleScenarioTest::Run* SampleScenarioTest::run_ = nullptr;

void SampleScenarioTest::Run::Publish(const v1::TariffEvent& event) {
  auto r = publisher_->Publish(event);
  ASSERT_TRUE(r.ok()) << event.event_id() << ": " << r.status();
  responses_[event.event_id()] = *r;
  auto book = publisher_->CurrentBook();
  ASSERT_TRUE(book.ok()) << book.status();
  books_[event.event_id()] = *std::move(book);
}

void SampleScenarioTest::Run::PublishTimeline() {
  const std::string root = TA_SOURCE_DIR;
  ExposureFiles files;
  files.companies_csv =
      *ReadFileToString(root + "/data/exposure/companies.csv");
  files.exposures_csv =
      *ReadFileToString(root + "/data/exposure/exposures.csv");
  // As `tariff-alert load --dir` and `replay --exposure-dir` read it.
  if (auto links = ReadFileToString(root + "/data/exposure/links.csv");
      links.ok()) {
    files.links_csv = *std::move(links);
  }
  files.base_rates_csv =
      *ReadFileToString(root + "/data/exposure/base-rates.csv");
  auto table =
      ParseExposureFiles(files, "companies.csv", "exposures.csv", "sample");
  ASSERT_TRUE(table.ok()) << table.status();
  table_ = *table;
  HubOptions options;
  options.heartbeat_interval = absl::ZeroDuration();
  hub_ = std::make_unique<AlertHub>(options, clock_);
  ASSERT_TRUE(hub_->Subscribe(&stream_, std::nullopt).ok());
  PublisherOptions publisher_options;
  publisher_options.book_clock = BookClock::kEvents;
  publisher_ = std::make_unique<Publisher>(
      publisher_options, [this] { return table_; }, ScoringParams::Default(),
      hub_.get(), clock_, &store_);
  ASSERT_TRUE(publisher_->Init().ok());

  std::ifstream in(root + "/data/scenarios/july-2025.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    v1::TariffEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &event).ok())
        << line;
    events_.push_back(event);
    Publish(event);
  }
  ASSERT_GE(events_.size(), 30u);

  // After the timeline, in this test only: the clock passes Nov 10, so the
  // extended pauses snap back first; then the fentanyl measure is revoked.
  v1::TariffEvent revoke;
  revoke.set_event_id(kRevokeFentanyl);
  revoke.set_measure_id("us-cn-fentanyl");
  revoke.set_imposing_country("US");
  revoke.set_stage(v1::STAGE_REVOKED);
  revoke.mutable_effective_time()->set_seconds(
      absl::ToUnixSeconds(Utc("2025-11-15T05:01:00Z")));
  revoke.set_headline("test: the fentanyl tariff on China is withdrawn");
  Publish(revoke);
  alerts_.Add(stream_.received);
}

TEST_F(SampleScenarioTest, EveryReportedPreviousRateIsTheStackedBooksRate) {
  // previous_rate_pct is the rate the news reported before each event; the
  // book warns when its rate, with or without the base rate, differs. No
  // warning: the measures stack up to the reported rates (30 -> 104 -> 145
  // on China, 10 under the paused country rates, 25 under the Canada and
  // Mexico letters, ...).
  for (const auto& e : run_->events_) {
    EXPECT_THAT(run_->responses_[e.event_id()].warnings(), IsEmpty())
        << e.event_id();
  }
}

TEST_F(SampleScenarioTest, ConstellationBrandsTopsTheMexicoTariff) {
  EXPECT_EQ(alerts_.Top(kMexico25, 1), std::vector<std::string>{"STZ"});
  EXPECT_LT(alerts_.Score(kMexico25, "STZ"), -500);
}

TEST_F(SampleScenarioTest, AppleAndBestBuyAreAmongTheMostHurtByTheChinaTariff) {
  // The 84% step (total 104%) scores what the 34% announced on April 2 had
  // not priced in; the 145% step scores the other 41 points.
  for (const char* event : {kUsCn104, kUsCn145}) {
    const auto top = alerts_.Top(event, 5);
    EXPECT_THAT(top, Contains("AAPL")) << event;
    EXPECT_THAT(top, Contains("BBY")) << event;
  }
  EXPECT_LT(alerts_.Score(kUsCn104, "AAPL"), -300);
  EXPECT_LT(alerts_.Score(kUsCn145, "AAPL"), -250);
  EXPECT_LT(alerts_.Score(kUsCn145, "BBY"), -500);
}

TEST_F(SampleScenarioTest, ThePauseFlipsTheSign) {
  for (const char* ticker : {"BBY", "NKE"}) {
    const double raise125 = alerts_.Score(kUsCn145, ticker);
    const double pause = alerts_.Score(kUsCnPause, ticker);
    EXPECT_LT(raise125, 0) << ticker;
    EXPECT_GT(pause, 0) << ticker;
    // 125 -> 10 undoes the 41-point raise and 74 points more: the model is
    // linear in the rate change.
    EXPECT_NEAR(pause, -raise125 * 115 / 41, 1e-6) << ticker;
  }
  EXPECT_THAT(alerts_.Top(kUsCnPause, 5), Contains("BBY"));
}

TEST_F(SampleScenarioTest,
       TheAprilElevenExemptionTakesPhonesOutOfTheReciprocalDuty) {
  const Country us = C("US"), cn = C("CN");
  // Smartphones (8517) and computers (8471) pay the 20% fentanyl duty only;
  // other goods of chapter 85 keep the 125%.
  EXPECT_DOUBLE_EQ(BookAfter(kUsCn145).Rate(us, cn, H("8517")), 145);
  // Out of China's own rate, they fall to the 10% baseline, until that
  // measure leaves them out too.
  EXPECT_DOUBLE_EQ(BookAfter(kElectronics).Rate(us, cn, H("8517")), 30);
  EXPECT_DOUBLE_EQ(BookAfter(kAllElectronics).Rate(us, cn, H("8517")), 20);
  EXPECT_DOUBLE_EQ(BookAfter(kAllElectronics).Rate(us, cn, H("8471")), 20);
  EXPECT_DOUBLE_EQ(BookAfter(kAllElectronics).Rate(us, cn, H("85")), 145);
  // Apple, whose iPhones and Macs are those headings, is relieved most...
  EXPECT_EQ(alerts_.Top(kElectronics, 1), std::vector<std::string>{"AAPL"});
  EXPECT_GT(alerts_.Score(kElectronics, "AAPL"), 500);
  // ...and the Geneva pause, which moves only the reciprocal rate, leaves
  // it almost untouched, where Best Buy (chapters 84 and 85) gains a lot.
  EXPECT_LT(std::abs(alerts_.Find(kUsCnPause, "AAPL").value_or(0)), 50);
  EXPECT_GT(alerts_.Score(kUsCnPause, "BBY"), 500);
}

TEST_F(SampleScenarioTest, UsmcaGoodsLeaveTheMexicoTariffFromMarchSeventh) {
  // 44.4% of Constellation's Mexican beer (the table's default share)
  // qualifies: that part of the Mar 4 hit comes back three days later.
  const double hit = alerts_.Score(kMexico25, "STZ");
  const double relief = alerts_.Score(kUsmcaMexico, "STZ");
  EXPECT_GT(relief, 0);
  EXPECT_NEAR(relief, -hit * kDefaultUsmcaShare, -hit * 0.01);
  EXPECT_DOUBLE_EQ(BookAfter(kUsmcaMexico).Rate(C("US"), C("MX"), H("2203")),
                   25);
  EXPECT_DOUBLE_EQ(
      BookAfter(kUsmcaMexico)
          .Rate(C("US"), C("MX"), H("2203"), nullptr, Channel::kUsmca),
      0);
}

TEST_F(SampleScenarioTest, TheAprilNinePauseRelievesVietnamsSourcers) {
  // 46% announced for Vietnam on April 2, paused at 10% a week later.
  for (const char* ticker : {"NKE", "LULU", "DECK"}) {
    EXPECT_GT(alerts_.Score(kVietnamPause, ticker), 0) << ticker;
  }
  EXPECT_THAT(alerts_.Top(kVietnamPause, 5), Contains("NKE"));
}

TEST_F(SampleScenarioTest, ChineseChipsPaySection301OnTopOfTheFentanylDuty) {
  const Country us = C("US"), cn = C("CN");
  const BaseRates* base = &run_->table_->base_rates();
  // 25% under List 2 since 2018, 50% from Jan 1, 2025.
  EXPECT_DOUBLE_EQ(BookAfter(kChips301).Rate(us, cn, H("8542"), base), 50);
  // The April 2 orders leave semiconductors out of the reciprocal duty, so
  // at 145% on China's other goods, chips pay MFN 0 + 50 + 20.
  EXPECT_DOUBLE_EQ(BookAfter(kUsCn145).Rate(us, cn, H("8542"), base), 70);
  StackQuery q;
  q.importer = us;
  q.exporter = cn;
  q.product = H("8542");
  const RateStack stack = BookAfter(kUsCnPause).Stack(q, base);
  EXPECT_DOUBLE_EQ(stack.total_pct, 70);
  bool has301 = false;
  for (const StackLine& line : stack.lines) {
    if (line.measure->id == "us-cn-301-chips") {
      has301 = true;
      EXPECT_EQ(line.reason, StackReason::kAdds);
      EXPECT_DOUBLE_EQ(line.applied_pct, 50);
      EXPECT_EQ(line.measure->terms.authority, Authority::kSection301);
    }
  }
  EXPECT_TRUE(has301);
  // Other goods of chapter 85 are not on the list.
  EXPECT_DOUBLE_EQ(BookAfter(kUsCnPause).Rate(us, cn, H("8517")), 20);
}

TEST_F(SampleScenarioTest, TheAutoDealsCutSection232ToFifteenPercentAllIn) {
  const Country us = C("US");
  const TariffBook& jp = BookAfter(kJapanAutosDeal);
  // Announced only: cars from Japan still pay 25% under section 232, which
  // the reciprocal rate does not stack with.
  EXPECT_DOUBLE_EQ(jp.Rate(us, C("JP"), H("8703")), 25);
  // The EU's 15% all-in from Aug 1: the higher of MFN (2.5%) and 15%.
  const TariffBook& eu = BookAfter(kEuAutos15);
  EXPECT_DOUBLE_EQ(eu.Rate(us, C("DE"), H("8703"), &run_->table_->base_rates()),
                   15);
  EXPECT_DOUBLE_EQ(eu.Rate(us, C("KR"), H("8703"), &run_->table_->base_rates()),
                   27.5);
  // Toyota, Honda and Mazda lead the Japan deal's relief.
  EXPECT_THAT(alerts_.Top(kJapanAutosDeal, 5), Contains("7203.T"));
  EXPECT_GT(alerts_.Score(kJapanAutosDeal, "7203.T"), 0);
}

TEST_F(SampleScenarioTest, TheStackedUsChinaRateGoes145To30AtThePause) {
  const Country us = C("US"), cn = C("CN");
  // Chapter 85 (Best Buy's goods): fentanyl + China's own reciprocal rate,
  // which replaces the baseline.
  EXPECT_DOUBLE_EQ(BookAfter(kUsCn104).Rate(us, cn, H("85")), 104);
  EXPECT_DOUBLE_EQ(BookAfter(kUsCn145).Rate(us, cn, H("85")), 145);
  EXPECT_DOUBLE_EQ(BookAfter(kUsCnPause).Rate(us, cn, H("85")), 30);
  // Steel keeps its section 232 rate plus the fentanyl tariff, never the
  // reciprocal ones.
  EXPECT_DOUBLE_EQ(BookAfter(kUsCn145).Rate(us, cn, H("72")), 25 + 20);
  EXPECT_DOUBLE_EQ(BookAfter(kUsCnPause).Rate(us, cn, H("72")), 25 + 20);
  EXPECT_DOUBLE_EQ(BookAfter(kSteel50).Rate(us, cn, H("72")), 50 + 20);
  // China on US goods: 125 -> 10, with its earlier soybean tariff on top.
  EXPECT_DOUBLE_EQ(BookAfter(kCnUs125).Rate(cn, us, HsCode::All()), 125);
  EXPECT_DOUBLE_EQ(BookAfter(kCnUsPause).Rate(cn, us, HsCode::All()), 10);
  EXPECT_DOUBLE_EQ(BookAfter(kCnUsPause).Rate(cn, us, H("1201")), 20);
  // The response says the same, with the all-goods base rate.
  const auto& r = run_->responses_[kUsCnPause];
  ASSERT_EQ(r.rate_changes_size(), 1);
  EXPECT_EQ(r.rate_changes(0).target_country(), "CN");
  EXPECT_DOUBLE_EQ(r.rate_changes(0).previous_rate_pct(), 145 + kAllGoodsMfn);
  EXPECT_DOUBLE_EQ(r.rate_changes(0).new_rate_pct(), 30 + kAllGoodsMfn);
}

TEST_F(SampleScenarioTest, TheExtensionsChangeNoRateAndMoveTheExpiry) {
  struct Case {
    const char* event;
    const char* measure;
    const char* importer;
    const char* partner;
    double rate;
    const char* expiry_before;
    const char* expiry_after;
  };
  const Case cases[] = {
      {kUsCnExtended, "us-cn-reciprocal", "US", "CN", 30,
       "2025-08-12T04:01:00Z", "2025-11-10T05:01:00Z"},
      {kCnUsExtended, "cn-us-reciprocal", "CN", "US", 10,
       "2025-08-12T04:01:00Z", "2025-11-10T04:01:00Z"},
  };
  const TariffBook& before = BookAfter("2025-08-07-us-kr-15");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.event);
    const TariffBook& after = BookAfter(c.event);
    const Country importer = C(c.importer), partner = C(c.partner);
    for (HsCode p : {HsCode::All(), H("85"), H("72"), H("1201")}) {
      EXPECT_DOUBLE_EQ(after.Rate(importer, partner, p),
                       before.Rate(importer, partner, p))
          << p.ToString();
    }
    EXPECT_DOUBLE_EQ(after.Rate(importer, partner, H("85")), c.rate);
    const Measure& was = before.measures().at(c.measure);
    const Measure& now = after.measures().at(c.measure);
    ASSERT_TRUE(was.pause.has_value());
    ASSERT_TRUE(now.pause.has_value());
    EXPECT_EQ(was.pause->expires, Utc(c.expiry_before));
    EXPECT_EQ(now.pause->expires, Utc(c.expiry_after));
    EXPECT_EQ(now.pause->snap_back_rate_pct, was.pause->snap_back_rate_pct);
    // Nothing moved, so nothing is scored.
    EXPECT_THAT(alerts_.events[c.event], IsEmpty());
    EXPECT_EQ(run_->responses_[c.event].alert_count(), 0u);
  }
}

TEST_F(SampleScenarioTest, PastNovember10ThePausesSnapBack) {
  // Published by the book's clock before the test's Nov 15 event.
  auto us = run_->publisher_->FindEvent(kUsCnSnapBack);
  ASSERT_TRUE(us.has_value());
  ASSERT_EQ(us->response.rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(us->response.rate_changes(0).previous_rate_pct(),
                   30 + kAllGoodsMfn);
  EXPECT_DOUBLE_EQ(us->response.rate_changes(0).new_rate_pct(),
                   54 + kAllGoodsMfn);
  auto cn = run_->publisher_->FindEvent(kCnUsSnapBack);
  ASSERT_TRUE(cn.has_value());
  ASSERT_EQ(cn->response.rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(cn->response.rate_changes(0).previous_rate_pct(), 10);
  EXPECT_DOUBLE_EQ(cn->response.rate_changes(0).new_rate_pct(), 34);

  // 24 of the 115 points the pause took off come back.
  for (const char* ticker : {"BBY", "NKE"}) {
    EXPECT_NEAR(alerts_.Score(kUsCnSnapBack, ticker),
                -alerts_.Score(kUsCnPause, ticker) * 24 / 115, 1e-6)
        << ticker;
  }
  EXPECT_THAT(alerts_.Top(kUsCnSnapBack, 5), Contains("BBY"));
  // China's 24 points back on US goods hit its exporters.
  EXPECT_LT(alerts_.Score(kCnUsSnapBack, "BA"), 0);
  EXPECT_LT(alerts_.Score(kCnUsSnapBack, "TXN"), -100);
  for (const auto& a : alerts_.events[kUsCnSnapBack]) {
    EXPECT_EQ(a.measure_id(), "us-cn-reciprocal");
    EXPECT_EQ(a.stage(), v1::STAGE_EFFECTIVE);
  }
}

TEST_F(SampleScenarioTest, RunScenarioSnapsBackOnlyWhenTheClockIsCarriedPast) {
  const ScoringParams& params = ScoringParams::Default();
  TariffBook plain;
  auto steps =
      RunScenario(plain, run_->events_, std::nullopt, *run_->table_, params);
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_EQ(steps->size(), run_->events_.size());
  for (const auto& s : *steps) EXPECT_FALSE(s.book.action.snap_back);
  EXPECT_DOUBLE_EQ(plain.Rate(C("US"), C("CN"), H("85")), 30);

  TariffBook carried;
  steps = RunScenario(carried, run_->events_, Utc("2025-11-11T00:00:00Z"),
                      *run_->table_, params);
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_EQ(steps->size(), run_->events_.size() + 2);
  const ScoredStep& first = (*steps)[run_->events_.size()];
  const ScoredStep& second = (*steps)[run_->events_.size() + 1];
  EXPECT_TRUE(first.book.action.snap_back);
  EXPECT_EQ(first.event.event_id(), kCnUsSnapBack);
  EXPECT_TRUE(second.book.action.snap_back);
  EXPECT_EQ(second.event.event_id(), kUsCnSnapBack);
  EXPECT_DOUBLE_EQ(carried.Rate(C("US"), C("CN"), H("85")), 54);
  EXPECT_DOUBLE_EQ(carried.Rate(C("CN"), C("US"), HsCode::All()), 34);
  // The same engine as the publisher: the same scores.
  for (const SubjectScore& s : second.scores.subjects) {
    if (s.subject == "BBY") {
      EXPECT_DOUBLE_EQ(s.score_bps, alerts_.Score(kUsCnSnapBack, "BBY"));
    }
  }
}

TEST_F(SampleScenarioTest, ARevokedMeasureLeavesTheSum) {
  const TariffBook& book = BookAfter(kRevokeFentanyl);
  EXPECT_EQ(book.measures().count("us-cn-fentanyl"), 0u);
  // 54 after the snap-back, less the 20% fentanyl tariff.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("85")), 34);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("72")), 50);
  const auto& r = run_->responses_[kRevokeFentanyl];
  ASSERT_EQ(r.rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(r.rate_changes(0).previous_rate_pct(), 54 + kAllGoodsMfn);
  EXPECT_DOUBLE_EQ(r.rate_changes(0).new_rate_pct(), 34 + kAllGoodsMfn);
  // Relief for China's importers: 20 points off is 20/115 of the pause; for
  // Apple, whose phones pay only this duty, all of its China tariff.
  EXPECT_GT(alerts_.Score(kRevokeFentanyl, "AAPL"), 0);
  EXPECT_NEAR(alerts_.Score(kRevokeFentanyl, "BBY"),
              alerts_.Score(kUsCnPause, "BBY") * 20 / 115, 1e-6);
}

TEST_F(SampleScenarioTest, TheCanadaIncreaseIsScoredOnceOverTwoStages) {
  // The letter prices 70% of the 25 -> 35 increase in; the order that makes
  // it effective scores the remaining 30%. Together: one EFFECTIVE 25 -> 35.
  const ScoringParams& params = ScoringParams::Default();
  TariffBook book;
  auto before = RunScenario(book, EventsBefore(kCanadaLetter), std::nullopt,
                            *run_->table_, params);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_DOUBLE_EQ(book.Rate(C("US"), C("CA"), HsCode::All()), 25);
  const v1::TariffEvent& effective = Event(kCanada35);
  auto action = ValidateEvent(effective, params);
  ASSERT_TRUE(action.ok()) << action.status();
  auto single = ScoreStep(book, *action, effective, *run_->table_, params);
  ASSERT_TRUE(single.ok()) << single.status();

  int checked = 0;
  for (const SubjectScore& s : single->scores.subjects) {
    if (s.kind != ScoreSubjectKind::kTicker || std::abs(s.score_bps) < 20) {
      continue;
    }
    SCOPED_TRACE(s.subject);
    const double announced = alerts_.Score(kCanadaLetter, s.subject);
    const double in_force = alerts_.Score(kCanada35, s.subject);
    EXPECT_NEAR(announced + in_force, s.score_bps, 1e-9);
    EXPECT_NEAR(announced, 0.7 * s.score_bps, 1e-9);
    ++checked;
  }
  // Bombardier (78% of its output made in Canada) among them; the 44.4% of
  // its exports that qualify for USMCA pay nothing.
  EXPECT_GE(checked, 2);
  EXPECT_LT(alerts_.Score(kCanada35, "BBD-B.TO"), -30);
}

TEST_F(SampleScenarioTest, SteelMakersGainFromTheSteelTariffOnly) {
  for (const char* event : {kSteel25, kSteel50}) {
    for (const char* ticker : {"NUE", "STLD", "CLF"}) {
      EXPECT_GT(alerts_.Score(event, ticker), 100) << event << " " << ticker;
    }
  }
  // The EU and Japan rates leave steel at its own 50% (the reciprocal rates
  // do not stack with section 232): no big move for steel makers.
  for (const char* event : {kEuDeal, kJapanDeal, kEu15, kJp15}) {
    for (const char* ticker : {"NUE", "STLD"}) {
      EXPECT_LT(std::abs(alerts_.Find(event, ticker).value_or(0)), 50)
          << event << " " << ticker;
    }
  }
}

TEST_F(SampleScenarioTest, ChinasRetaliationHitsUsExportersNotTesla) {
  const auto top = alerts_.Top(kCnUs125, 5);
  EXPECT_THAT(top, Contains("BA"));
  EXPECT_THAT(top, Contains("TXN"));
  EXPECT_LT(alerts_.Score(kCnUs125, "TXN"), -300);
  // Tesla's China cars are made in Shanghai: the retaliation barely touches
  // it.
  EXPECT_GT(alerts_.Find(kCnUs125, "TSLA").value_or(0), -50);
}

TEST_F(SampleScenarioTest, BrazilsExemptionsSpareEmbraer) {
  // The letter threatened 50% on everything; the order exempted civil
  // aircraft: Embraer gets back most of what the letter priced in.
  EXPECT_LT(alerts_.Score("2025-07-09-us-br-letter-50", "ERJ"), -300);
  EXPECT_GT(alerts_.Score("2025-08-06-us-br-50", "ERJ"), 200);
}

TEST_F(SampleScenarioTest, DealsBelowTheLettersAreRelief) {
  // A deal below the letter's rate, or a threat put off, takes part of what
  // was priced in out again: relief for the names the letter hurt.
  struct Case {
    const char* hurt_by;
    const char* relieved_by;
    const char* ticker;
  };
  const Case cases[] = {
      {"2025-07-07-us-jp-letter-25", kJapanDeal, "7203.T"},
      {"2025-07-07-us-kr-letter-25", "2025-07-30-us-kr-deal-15", "005380.KS"},
      {"2025-07-12-us-eu-letter-30", kEuDeal, "VOW3.DE"},
      {"2025-07-12-us-mx-letter-30", kMexicoPostponed, "STZ"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.relieved_by);
    const double hurt = alerts_.Score(c.hurt_by, c.ticker);
    const double relief = alerts_.Score(c.relieved_by, c.ticker);
    EXPECT_LT(hurt, 0);
    EXPECT_GT(relief, 0);
    // Part of the priced-in hit comes back, not more.
    EXPECT_LT(relief, -hurt);
  }
  // The Mexico threat re-priced from 30% to 10% likelihood: two thirds of
  // it comes out again.
  EXPECT_NEAR(alerts_.Score(kMexicoPostponed, "STZ"),
              -alerts_.Score("2025-07-12-us-mx-letter-30", "STZ") * 2 / 3,
              1e-6);
}

}  // namespace
}  // namespace tariffalert
