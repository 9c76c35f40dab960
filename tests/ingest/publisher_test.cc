#include "server/ingest/publisher.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/exposure_csv.h"
#include "server/tariff_book/event_log.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/testing/codes.h"
#include "tests/testing/collecting_subscriber.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/metric_values.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Apple sources from China; Constellation brews in Mexico; Nucor makes steel
// at home. Every score is linear in the rate change.
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

// Apple's import-cost score per percentage point of US tariff on Chinese
// goods: -(1/100) x 0.8 sourced from CN x 0.4 revenue in US x 0.5 COGS x
// (1 - 0.4 pass-through) x 10000 = -9.6 bps.
constexpr double kAaplBpsPerPoint = -9.6;

// The FakeClock's start, 2025-07-08T18:40:00Z, and days after it.
absl::Time Day(int n) {
  return absl::FromUnixSeconds(1752000000) + absl::Hours(24 * n);
}

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}

v1::TariffEvent Event(const std::string& id, const std::string& target,
                      double rate, v1::Stage stage = v1::STAGE_EFFECTIVE,
                      const std::string& measure = "") {
  v1::TariffEvent e;
  e.set_event_id(id);
  e.set_imposing_country("US");
  if (!target.empty()) e.add_target_countries(target);
  e.set_new_rate_pct(rate);
  e.set_stage(stage);
  e.set_measure_id(measure);
  e.set_headline("test");
  return e;
}

v1::TariffEvent Threat(const std::string& id, const std::string& target,
                       double rate, double probability,
                       v1::Stage stage = v1::STAGE_THREATENED,
                       const std::string& measure = "") {
  v1::TariffEvent e = Event(id, target, rate, stage, measure);
  e.set_probability(probability);
  return e;
}

v1::TariffEvent Pause(const std::string& id, const std::string& measure,
                      double rate, absl::Time start, absl::Time expires) {
  v1::TariffEvent e = Event(id, "", rate, v1::STAGE_PAUSED, measure);
  SetTime(start, e.mutable_effective_time());
  SetTime(expires, e.mutable_expires_time());
  return e;
}

v1::TariffEvent Extend(const std::string& id, const std::string& measure,
                       absl::Time expires) {
  v1::TariffEvent e = Event(id, "", 0, v1::STAGE_EXTENDED, measure);
  e.clear_new_rate_pct();
  SetTime(expires, e.mutable_expires_time());
  return e;
}

// A named measure, or with `target` the default measure of that partner.
v1::TariffEvent Revoke(const std::string& id, const std::string& measure,
                       const std::string& target = "") {
  v1::TariffEvent e = Event(id, target, 0, v1::STAGE_REVOKED, measure);
  e.clear_new_rate_pct();
  return e;
}

// Score by "T/<ticker>" or "S/<sector>" of the alerts of one event.
std::map<std::string, double> Scores(const std::vector<v1::Alert>& alerts,
                                     const std::string& event_id) {
  std::map<std::string, double> out;
  for (const v1::Alert& a : alerts) {
    if (a.event_id() != event_id) continue;
    const char* kind =
        a.subject_kind() == v1::SUBJECT_KIND_TICKER ? "T/" : "S/";
    out[absl::StrCat(kind, a.subject())] = a.score_bps();
  }
  return out;
}

// The sum of several events' scores per subject.
std::map<std::string, double> Sum(
    std::initializer_list<std::map<std::string, double>> parts) {
  std::map<std::string, double> out;
  for (const auto& part : parts) {
    for (const auto& [k, v] : part) out[k] += v;
  }
  return out;
}

void ExpectSameScores(const std::map<std::string, double>& got,
                      const std::map<std::string, double>& want) {
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    ASSERT_NE(it, got.end()) << k;
    EXPECT_NEAR(it->second, v, 1e-9) << k;
  }
}

// An EventLog that passes everything to an InMemoryEventLog: the fakes
// below override what they change.
class WrappedEventLog : public EventLog {
 public:
  WrappedEventLog() = default;
  explicit WrappedEventLog(TariffBook start) : inner(std::move(start)) {}
  absl::StatusOr<TariffBook> LoadBook() override { return inner.LoadBook(); }
  absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) override {
    return inner.FindEvent(event_id);
  }
  std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) override {
    return inner.Commit(commits);
  }
  absl::StatusOr<uint64_t> LastSequence() override {
    return inner.LastSequence();
  }
  absl::StatusOr<std::vector<LoggedAlert>> ReadAfter(
      uint64_t after, size_t max_events, absl::Duration block) override {
    return inner.ReadAfter(after, max_events, block);
  }

  InMemoryEventLog inner;
};

// An EventLog around an InMemoryEventLog that fails the ways a shared log
// can: unreachable, or written by another replica in between.
class FlakyEventLog : public WrappedEventLog {
 public:
  FlakyEventLog() = default;
  explicit FlakyEventLog(TariffBook start)
      : WrappedEventLog(std::move(start)) {}
  absl::StatusOr<TariffBook> LoadBook() override {
    ++loads;
    if (unavailable) return absl::UnavailableError("fake event log down");
    return inner.LoadBook();
  }
  absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) override {
    if (unavailable) return absl::UnavailableError("fake event log down");
    return inner.FindEvent(event_id);
  }
  std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) override {
    std::vector<absl::StatusOr<CommitOutcome>> out;
    for (const EventCommit* c : commits) {
      ++stores;
      if (unavailable) {
        out.push_back(absl::UnavailableError("fake event log down"));
        continue;
      }
      if (conflicts > 0) {
        --conflicts;
        // Another replica publishes the fentanyl measure first.
        auto current = inner.LoadBook();
        EXPECT_TRUE(current.ok());
        TariffAction other;
        other.event_id = "other-replica";
        other.importer = C("US");
        other.targets = {C("CN")};
        other.stage = Stage::kEffective;
        other.new_rate_pct = 20;
        other.measure_id = "us-cn-fentanyl";
        auto step = current->Plan(other);
        EXPECT_TRUE(step.ok()) << step.status();
        EventCommit theirs;
        theirs.event_id = other.event_id;
        theirs.expected_revision = current->revision();
        theirs.next_book = step->next.get();
        const EventCommit* one[] = {&theirs};
        auto stored = inner.Commit(one);
        EXPECT_TRUE(stored[0].ok() &&
                    stored[0]->kind == CommitOutcome::kCommitted);
      }
      const EventCommit* one[] = {c};
      out.push_back(std::move(inner.Commit(one)[0]));
    }
    return out;
  }
  bool unavailable = false;
  int conflicts = 0;
  int loads = 0;
  int stores = 0;
};

// One publisher with its own book store and hub; every alert the hub logs
// reaches `collector`.
struct Pipeline {
  Pipeline(const testing::FakeClock& clock,
           std::shared_ptr<const ExposureTable>* table, EventLog* store,
           PublisherOptions options = {}) {
    HubOptions hub_options;
    hub_options.heartbeat_interval = absl::ZeroDuration();
    hub = std::make_unique<AlertHub>(hub_options, clock);
    EXPECT_TRUE(hub->Subscribe(&collector, std::nullopt).ok());
    publisher = std::make_unique<Publisher>(
        options, [table] { return *table; }, ScoringParams::Default(),
        hub.get(), clock, store);
    const absl::Status init = publisher->Init();
    EXPECT_TRUE(init.ok()) << init;
  }
  ~Pipeline() { hub->Unsubscribe(&collector); }

  // The bytes of every logged alert, in sequence order.
  std::vector<std::string> LoggedBytes() const {
    std::vector<std::string> out;
    for (const EncodedAlertPtr& a : hub->Logged(1, hub->newest_sequence())) {
      out.emplace_back(reinterpret_cast<const char*>(a->bytes.begin()),
                       a->bytes.size());
    }
    return out;
  }

  std::unique_ptr<AlertHub> hub;
  testing::CollectingSubscriber collector;
  std::unique_ptr<Publisher> publisher;
};

class PublisherTest : public ::testing::Test {
 protected:
  PublisherTest() {
    auto parsed = ParseExposureFiles({kCompanies, kExposures}, "companies.csv",
                                     "exposures.csv", "7");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    table_ = *parsed;
    main_ = std::make_unique<Pipeline>(clock_, &table_, &store_);
  }

  Publisher& publisher() { return *main_->publisher; }
  std::vector<v1::Alert>& received() { return main_->collector.received; }

  double BookRate(const char* exporter, HsCode product = HsCode::All()) {
    auto book = publisher().CurrentBook();
    EXPECT_TRUE(book.ok()) << book.status();
    return book.ok() ? book->Rate(C("US"), C(exporter), product) : -1;
  }

  // Publishes on a fresh pipeline (empty book, same clock and table) and
  // returns the scores of the last event.
  std::map<std::string, double> ScoresOnAFreshBook(
      const std::vector<v1::TariffEvent>& events) {
    InMemoryEventLog store;
    Pipeline fresh(clock_, &table_, &store);
    for (const v1::TariffEvent& e : events) {
      auto r = fresh.publisher->Publish(e);
      EXPECT_TRUE(r.ok()) << e.event_id() << ": " << r.status();
    }
    return Scores(fresh.collector.received, events.back().event_id());
  }

  testing::FakeClock clock_;
  std::shared_ptr<const ExposureTable> table_;
  InMemoryEventLog store_;
  std::unique_ptr<Pipeline> main_;
};

// ------------------------------------------------------------ the basics

TEST_F(PublisherTest, AlertsGetDenseSequencesAcrossEvents) {
  auto first = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_GT(first->alert_count(), 0u);
  EXPECT_EQ(first->first_sequence(), 1u);
  EXPECT_EQ(first->last_sequence(), first->alert_count());
  auto second = publisher().Publish(Event("e2", "MX", 25));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->first_sequence(), first->last_sequence() + 1);
  ASSERT_EQ(received().size(), first->alert_count() + second->alert_count());
  for (size_t i = 0; i < received().size(); ++i) {
    EXPECT_EQ(received()[i].sequence(), i + 1);
  }
}

TEST_F(PublisherTest, AlertsCarryTheirProvenance) {
  clock_.Advance(absl::Seconds(42));
  auto r = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exposure_version(), "7");
  EXPECT_EQ(r->book_revision(), 1u);
  ASSERT_FALSE(received().empty());
  const v1::Alert& top = received().front();
  EXPECT_EQ(top.subject(), "AAPL");  // the largest |score| comes first
  EXPECT_EQ(top.alert_id(), "e1/T/AAPL");
  EXPECT_EQ(top.event_id(), "e1");
  EXPECT_EQ(top.measure_id(), "US>CN:*");  // the event's default measure
  EXPECT_EQ(top.stage(), v1::STAGE_EFFECTIVE);
  EXPECT_EQ(top.exposure_version(), "7");
  EXPECT_EQ(top.book_revision(), 1u);
  EXPECT_EQ(top.model_version(), ScoringParams::Default().model_version());
  EXPECT_EQ(top.created_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(top.imposing_country(), "US");
  EXPECT_EQ(top.target_countries(0), "CN");
  EXPECT_EQ(top.headline(), "test");
  EXPECT_NEAR(top.score_bps(), 30 * kAaplBpsPerPoint, 1e-9);  // -288 bps
  EXPECT_THAT(top.explanation(), HasSubstr("0% -> 30%"));
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_EQ(r->rate_changes(0).target_country(), "CN");
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 0);
  EXPECT_EQ(r->rate_changes(0).new_rate_pct(), 30);
}

TEST_F(PublisherTest, StackedMeasuresAreScoredOnTheirOwnChange) {
  ASSERT_TRUE(publisher()
                  .Publish(Event("fentanyl", "CN", 20, v1::STAGE_EFFECTIVE,
                                 "us-cn-fentanyl"))
                  .ok());
  auto r = publisher().Publish(
      Event("reciprocal", "CN", 10, v1::STAGE_EFFECTIVE, "us-cn-reciprocal"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 20);
  EXPECT_EQ(r->rate_changes(0).new_rate_pct(), 30);
  EXPECT_NEAR(Scores(received(), "reciprocal").at("T/AAPL"),
              10 * kAaplBpsPerPoint, 1e-9);  // -96 bps
  EXPECT_EQ(BookRate("CN"), 30);
}

TEST_F(PublisherTest, ARepeatedEventIdReturnsTheFirstResponseAndNoNewAlert) {
  auto first = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(first.ok());
  const size_t alerts = received().size();
  auto repeat = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(repeat.ok());
  EXPECT_TRUE(repeat->duplicate());
  EXPECT_FALSE(first->duplicate());
  EXPECT_EQ(repeat->first_sequence(), first->first_sequence());
  EXPECT_EQ(repeat->alert_count(), first->alert_count());
  EXPECT_EQ(received().size(), alerts);
  EXPECT_EQ(publisher().book_revision(), 1u);
}

TEST_F(PublisherTest, AReusedEventIdWithOtherContentIsRefused) {
  ASSERT_TRUE(publisher().Publish(Event("e1", "CN", 30)).ok());
  const size_t alerts = received().size();
  auto other = publisher().Publish(Event("e1", "CN", 60));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(other.status().message()),
              HasSubstr("event.event_id"));
  EXPECT_EQ(received().size(), alerts);
  EXPECT_EQ(publisher().book_revision(), 1u);
}

TEST_F(PublisherTest, ARejectedEventLeavesNoTrace) {
  v1::TariffEvent bad = Event("bad", "CN", 30);
  bad.set_new_rate_pct(-5);
  auto r = publisher().Publish(bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("event.new_rate_pct"));
  EXPECT_TRUE(received().empty());
  EXPECT_EQ(publisher().book_revision(), 0u);
  EXPECT_FALSE(publisher().FindEvent("bad").has_value());
  // The id was not used up: the corrected event goes through.
  bad.set_new_rate_pct(5);
  auto fixed = publisher().Publish(bad);
  ASSERT_TRUE(fixed.ok());
  EXPECT_FALSE(fixed->duplicate());
}

TEST_F(PublisherTest, TheBookNotTheEventDecidesTheChange) {
  ASSERT_TRUE(publisher()
                  .Publish(Event("raise", "CN", 145, v1::STAGE_EFFECTIVE,
                                 "us-cn-reciprocal"))
                  .ok());
  v1::TariffEvent pause =
      Pause("pause", "us-cn-reciprocal", 30, Day(0), Day(90));
  pause.set_previous_rate_pct(100);  // wrong: the book holds 145
  received().clear();
  auto r = publisher().Publish(pause);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("differs from the book's 145%"));
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 145);
  EXPECT_EQ(r->rate_changes(0).new_rate_pct(), 30);
  // Apple gains from the lower rate: -115 pp instead of the -70 the event
  // claimed.
  ASSERT_FALSE(received().empty());
  EXPECT_EQ(received().front().subject(), "AAPL");
  EXPECT_DOUBLE_EQ(received().front().contributions(0).delta_pct(), -115);
  EXPECT_NEAR(received().front().score_bps(), -115 * kAaplBpsPerPoint, 1e-9);
}

TEST_F(PublisherTest, WithoutAnExposureTableItSaysSo) {
  table_ = std::make_shared<const ExposureTable>("", std::vector<Company>{});
  auto r = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->alert_count(), 0u);
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("no exposure table"));
}

TEST_F(PublisherTest, DedupeForgetsTheOldestBeyondItsCapacity) {
  PublisherOptions options;
  options.dedupe_capacity = 2;
  InMemoryEventLog store;
  Pipeline small(clock_, &table_, &store, options);
  Publisher& p = *small.publisher;
  ASSERT_TRUE(p.Publish(Event("a", "CN", 10)).ok());
  ASSERT_TRUE(p.Publish(Event("b", "CN", 20)).ok());
  ASSERT_TRUE(p.Publish(Event("c", "CN", 30)).ok());
  EXPECT_TRUE(p.Publish(Event("c", "CN", 30))->duplicate());
  // Forgotten here, the oldest is still a repeat by the log's record, and
  // publishes nothing again.
  EXPECT_FALSE(p.FindEvent("a").has_value());
  const uint64_t newest = small.hub->newest_sequence();
  auto again = p.Publish(Event("a", "CN", 10));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->first_sequence(), 1u);
  EXPECT_EQ(small.hub->newest_sequence(), newest);
  EXPECT_EQ(p.book_revision(), 3u);
}

TEST_F(PublisherTest, FindEventReturnsTheEventAndItsResponse) {
  const v1::TariffEvent event = Event("e1", "CN", 30);
  auto r = publisher().Publish(event);
  ASSERT_TRUE(r.ok());
  auto found = publisher().FindEvent("e1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->event.SerializeAsString(), event.SerializeAsString());
  EXPECT_EQ(found->response.SerializeAsString(), r->SerializeAsString());
  EXPECT_EQ(found->response.first_sequence(), 1u);
  EXPECT_FALSE(publisher().FindEvent("e2").has_value());
}

// ------------------------------------------------------- threats priced in

TEST_F(PublisherTest, AThreatIsPricedInAndTheBookRemembersIt) {
  auto threat = publisher().Publish(Threat("threat", "CN", 25, 0.3));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_EQ(threat->book_revision(), 1u);  // the book now holds the threat
  EXPECT_EQ(BookRate("CN"), 0);            // but no rate changed
  ASSERT_EQ(threat->rate_changes_size(), 1);
  EXPECT_EQ(threat->rate_changes(0).new_rate_pct(), 25);  // if it happens
  // 0.3 x 25 pp x -9.6 bps = -72 bps.
  EXPECT_NEAR(Scores(received(), "threat").at("T/AAPL"), -72, 1e-9);

  auto effective = publisher().Publish(Event("effective", "CN", 25));
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_EQ(effective->book_revision(), 2u);
  EXPECT_EQ(BookRate("CN"), 25);
  // The rest: 0.7 x 25 pp x -9.6 bps = -168 bps.
  EXPECT_NEAR(Scores(received(), "effective").at("T/AAPL"), -168, 1e-9);
}

TEST_F(PublisherTest, ThreatenedThenEffectiveScoresLikeOneEffective) {
  ASSERT_TRUE(publisher().Publish(Threat("threat", "CN", 25, 0.3)).ok());
  ASSERT_TRUE(publisher().Publish(Event("effective", "CN", 25)).ok());
  const auto once = ScoresOnAFreshBook({Event("once", "CN", 25)});
  EXPECT_NEAR(once.at("T/AAPL"), -240, 1e-9);
  ExpectSameScores(
      Sum({Scores(received(), "threat"), Scores(received(), "effective")}),
      once);
}

TEST_F(PublisherTest, ThreatAnnouncementAndEffectiveScoreLikeOneEffective) {
  ASSERT_TRUE(publisher().Publish(Threat("threat", "MX", 25, 0.3)).ok());
  ASSERT_TRUE(
      publisher()
          .Publish(Threat("announced", "MX", 25, 0.7, v1::STAGE_ANNOUNCED))
          .ok());
  ASSERT_TRUE(publisher().Publish(Event("effective", "MX", 25)).ok());
  ExpectSameScores(
      Sum({Scores(received(), "threat"), Scores(received(), "announced"),
           Scores(received(), "effective")}),
      ScoresOnAFreshBook({Event("once", "MX", 25)}));
}

TEST_F(PublisherTest, AWithdrawnThreatGivesBackWhatWasPricedIn) {
  ASSERT_TRUE(publisher().Publish(Threat("threat", "CN", 25, 0.3)).ok());
  auto revoked = publisher().Publish(Revoke("withdrawn", "", "CN"));
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  const auto threat = Scores(received(), "threat");
  const auto withdrawn = Scores(received(), "withdrawn");
  EXPECT_NEAR(withdrawn.at("T/AAPL"), 72, 1e-9);
  ASSERT_EQ(withdrawn.size(), threat.size());
  for (const auto& [k, v] : threat) EXPECT_NEAR(withdrawn.at(k), -v, 1e-9) << k;
  EXPECT_EQ(BookRate("CN"), 0);
}

TEST_F(PublisherTest, AThreatAtAnotherRateThanTheEffectiveOne) {
  ASSERT_TRUE(publisher().Publish(Threat("threat", "CN", 50, 0.3)).ok());
  ASSERT_TRUE(publisher().Publish(Event("effective", "CN", 25)).ok());
  EXPECT_NEAR(Scores(received(), "threat").at("T/AAPL"), -144, 1e-9);
  EXPECT_NEAR(Scores(received(), "effective").at("T/AAPL"), -96, 1e-9);
  ExpectSameScores(
      Sum({Scores(received(), "threat"), Scores(received(), "effective")}),
      ScoresOnAFreshBook({Event("once", "CN", 25)}));
}

// A measure in force at 10% is threatened at 60% (p 0.5, priced at 35%) and
// comes in at 30%: the EFFECTIVE event gives back the 5 pp priced too much.
TEST_F(PublisherTest, AThreatAboveTheRateThatComesInIsGivenBack) {
  ASSERT_TRUE(publisher()
                  .Publish(Event("start", "CN", 10, v1::STAGE_EFFECTIVE, "r"))
                  .ok());
  ASSERT_TRUE(
      publisher()
          .Publish(Threat("threat", "CN", 60, 0.5, v1::STAGE_THREATENED, "r"))
          .ok());
  auto effective = publisher().Publish(
      Event("effective", "CN", 30, v1::STAGE_EFFECTIVE, "r"));
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_NEAR(Scores(received(), "threat").at("T/AAPL"), -240, 1e-9);
  // 30 - 35 priced = -5 pp: +48 bps back.
  EXPECT_NEAR(Scores(received(), "effective")["T/AAPL"], 48, 1e-9);
  ExpectSameScores(
      Sum({Scores(received(), "threat"), Scores(received(), "effective")}),
      ScoresOnAFreshBook({Event("start", "CN", 10, v1::STAGE_EFFECTIVE, "r"),
                          Event("once", "CN", 30, v1::STAGE_EFFECTIVE, "r")}));
}

// ------------------------------------------------------- pause and clock

class PauseTest : public PublisherTest {
 protected:
  // 125% in force, then paused at 10% from now (day 0) for 90 days.
  void SetUp() override {
    ASSERT_TRUE(publisher()
                    .Publish(Event("raise", "CN", 125, v1::STAGE_EFFECTIVE,
                                   "us-cn-reciprocal"))
                    .ok());
    auto pause = publisher().Publish(
        Pause("pause", "us-cn-reciprocal", 10, Day(0), Day(90)));
    ASSERT_TRUE(pause.ok()) << pause.status();
    pause_scores_ = Scores(received(), "pause");
    ASSERT_FALSE(pause_scores_.empty());
    // 115 pp off: +1104 bps for Apple.
    ASSERT_NEAR(pause_scores_.at("T/AAPL"), 1104, 1e-9);
    ASSERT_EQ(BookRate("CN"), 10);
  }

  std::map<std::string, double> pause_scores_;
};

constexpr char kSnapBackId[] =
    "us-cn-reciprocal/snap-back/2025-10-06T18:40:00Z";

TEST_F(PauseTest, NothingSnapsBackBeforeTheExpiry) {
  const size_t alerts = received().size();
  const uint64_t revision = publisher().book_revision();
  clock_.Advance(absl::Hours(24 * 89));
  auto due = publisher().PublishDue();
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, 0);
  EXPECT_EQ(received().size(), alerts);
  EXPECT_EQ(publisher().book_revision(), revision);
  EXPECT_EQ(BookRate("CN"), 10);
}

TEST_F(PauseTest, ThePauseSnapsBackOnceAfterItsExpiry) {
  clock_.Advance(absl::Hours(24 * 90 + 1));
  auto due = publisher().PublishDue();
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, 1);
  EXPECT_EQ(BookRate("CN"), 125);
  EXPECT_EQ(publisher().book_revision(), 3u);

  const auto snap = Scores(received(), kSnapBackId);
  ASSERT_EQ(snap.size(), pause_scores_.size());
  for (const auto& [k, v] : pause_scores_) {
    EXPECT_NEAR(snap.at(k), -v, 1e-9) << k;
  }
  EXPECT_NEAR(snap.at("T/AAPL"), -1104, 1e-9);
  for (const v1::Alert& a : received()) {
    if (a.event_id() != kSnapBackId) continue;
    EXPECT_EQ(a.stage(), v1::STAGE_EFFECTIVE) << a.alert_id();
    EXPECT_EQ(a.measure_id(), "us-cn-reciprocal") << a.alert_id();
    EXPECT_EQ(a.book_revision(), 3u);
    EXPECT_EQ(a.imposing_country(), "US");
  }
  auto found = publisher().FindEvent(kSnapBackId);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->event.stage(), v1::STAGE_EFFECTIVE);
  EXPECT_EQ(found->event.new_rate_pct(), 125);
  EXPECT_EQ(found->response.alert_count(), snap.size());
  ASSERT_EQ(found->response.rate_changes_size(), 1);
  EXPECT_EQ(found->response.rate_changes(0).previous_rate_pct(), 10);
  EXPECT_EQ(found->response.rate_changes(0).new_rate_pct(), 125);

  // Exactly once.
  const size_t alerts = received().size();
  clock_.Advance(absl::Hours(24));
  due = publisher().PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 0);
  EXPECT_EQ(received().size(), alerts);
  EXPECT_EQ(publisher().book_revision(), 3u);
}

TEST_F(PauseTest, ASnapBackIsPublishedBeforeTheNextEvent) {
  clock_.Advance(absl::Hours(24 * 91));
  auto r = publisher().Publish(Event("mexico", "MX", 25));
  ASSERT_TRUE(r.ok()) << r.status();
  // The snap-back's alerts come first, then the event's.
  const auto snap = Scores(received(), kSnapBackId);
  ASSERT_FALSE(snap.empty());
  const uint64_t mexico_first = r->first_sequence();
  for (const v1::Alert& a : received()) {
    if (a.event_id() == kSnapBackId) {
      EXPECT_LT(a.sequence(), mexico_first);
    }
  }
  EXPECT_EQ(r->book_revision(), 4u);
  EXPECT_EQ(BookRate("CN"), 125);
  auto due = publisher().PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 0);
}

TEST_F(PauseTest, AnExtensionMovesTheSnapBack) {
  clock_.Advance(absl::Hours(24 * 30));
  const size_t alerts = received().size();
  auto extended =
      publisher().Publish(Extend("extend", "us-cn-reciprocal", Day(180)));
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->alert_count(), 0u);  // no rate changed
  EXPECT_EQ(extended->first_sequence(), 0u);
  EXPECT_EQ(received().size(), alerts);
  EXPECT_EQ(extended->book_revision(), 3u);

  clock_.Advance(absl::Hours(24 * 61));  // day 91
  auto due = publisher().PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 0);
  EXPECT_EQ(BookRate("CN"), 10);

  clock_.Advance(absl::Hours(24 * 90));  // day 181
  due = publisher().PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 1);
  EXPECT_EQ(BookRate("CN"), 125);
  const auto snap =
      Scores(received(), "us-cn-reciprocal/snap-back/2026-01-04T18:40:00Z");
  EXPECT_NEAR(snap.at("T/AAPL"), -1104, 1e-9);
}

TEST_F(PauseTest, ARevokedPauseNeverSnapsBack) {
  ASSERT_TRUE(publisher().Publish(Revoke("revoke", "us-cn-reciprocal")).ok());
  EXPECT_EQ(BookRate("CN"), 0);
  const size_t alerts = received().size();
  clock_.Advance(absl::Hours(24 * 200));
  auto due = publisher().PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 0);
  EXPECT_EQ(received().size(), alerts);
}

TEST_F(PauseTest, ReplicasSharingTheBookPublishASnapBackOnce) {
  Pipeline replica(clock_, &table_, &store_);
  clock_.Advance(absl::Hours(24 * 91));
  auto due = publisher().PublishDue();
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, 1);
  // The replica's book still shows the pause; the store says it lapsed.
  due = replica.publisher->PublishDue();
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, 0);
  EXPECT_THAT(replica.collector.received, IsEmpty());
  EXPECT_EQ(replica.publisher->book_revision(), 3u);
}

TEST_F(PauseTest, ASnapBackWaitsForTheStore) {
  FlakyEventLog flaky(*store_.LoadBook());
  Pipeline p(clock_, &table_, &flaky);
  ASSERT_EQ(p.publisher->book_revision(), 2u);
  clock_.Advance(absl::Hours(24 * 91));
  flaky.unavailable = true;
  auto due = p.publisher->PublishDue();
  EXPECT_EQ(due.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(p.collector.received, IsEmpty());
  EXPECT_EQ(p.publisher->book_revision(), 2u);

  flaky.unavailable = false;
  due = p.publisher->PublishDue();
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, 1);
  EXPECT_NEAR(Scores(p.collector.received, kSnapBackId).at("T/AAPL"), -1104,
              1e-9);
}

TEST_F(PublisherTest, WithTheEventClockPausesLapseByEventTime) {
  PublisherOptions options;
  options.book_clock = BookClock::kEvents;
  InMemoryEventLog store;
  Pipeline replay(clock_, &table_, &store, options);
  Publisher& p = *replay.publisher;
  v1::TariffEvent raise = Event("raise", "CN", 125, v1::STAGE_EFFECTIVE, "r");
  SetTime(Day(-10), raise.mutable_effective_time());
  ASSERT_TRUE(p.Publish(raise).ok());
  ASSERT_TRUE(p.Publish(Pause("pause", "r", 10, Day(0), Day(90))).ok());

  // The wall clock does not move this book.
  clock_.Advance(absl::Hours(24 * 365));
  auto due = p.PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, 0);
  EXPECT_EQ(p.CurrentBook()->Rate(C("US"), C("CN"), HsCode::All()), 10);

  // An event dated after the expiry does, and the snap-back comes first.
  v1::TariffEvent mexico = Event("mexico", "MX", 25);
  SetTime(Day(91), mexico.mutable_effective_time());
  auto r = p.Publish(mexico);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto snap =
      Scores(replay.collector.received, "r/snap-back/2025-10-06T18:40:00Z");
  EXPECT_NEAR(snap.at("T/AAPL"), -1104, 1e-9);
  for (const v1::Alert& a : replay.collector.received) {
    if (a.event_id() != "mexico") {
      EXPECT_LT(a.sequence(), r->first_sequence());
    }
  }
  auto book = p.CurrentBook();
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(book->Rate(C("US"), C("CN"), HsCode::All()), 125);
  EXPECT_EQ(book->clock(), Day(91));
}

// PublishDue says how many snap-backs it published.
// (It must not count by the growth of the dedupe memory, which stops growing
// once dedupe_capacity is reached.)
TEST_F(PublisherTest, PublishDueCountsSnapBacksWhenTheDedupeMemoryIsFull) {
  PublisherOptions options;
  options.dedupe_capacity = 2;
  InMemoryEventLog store;
  Pipeline small(clock_, &table_, &store, options);
  Publisher& p = *small.publisher;
  ASSERT_TRUE(
      p.Publish(Event("raise", "CN", 125, v1::STAGE_EFFECTIVE, "r")).ok());
  ASSERT_TRUE(p.Publish(Pause("pause", "r", 10, Day(0), Day(90))).ok());
  clock_.Advance(absl::Hours(24 * 91));
  const size_t alerts = small.collector.received.size();
  auto due = p.PublishDue();
  ASSERT_TRUE(due.ok());
  EXPECT_GT(small.collector.received.size(), alerts);  // it did publish
  EXPECT_EQ(*due, 1);
}

// ---------------------------------------------------------- bad input

TEST_F(PauseTest, EventsThatDoNotFitTheBookLeaveNoTrace) {
  struct Case {
    const char* name;
    v1::TariffEvent event;
    absl::StatusCode code;
    const char* says;
  };
  v1::TariffEvent china =
      Event("china", "", 34, v1::STAGE_EFFECTIVE, "us-cn-reciprocal");
  china.set_imposing_country("CN");
  v1::TariffEvent backwards =
      Pause("backwards", "us-cn-reciprocal", 10, Day(90), Day(30));
  v1::TariffEvent no_expiry =
      Pause("no-expiry", "us-cn-reciprocal", 10, Day(0), Day(90));
  no_expiry.clear_expires_time();
  ASSERT_TRUE(
      publisher()
          .Publish(Event("fentanyl", "CN", 20, v1::STAGE_EFFECTIVE, "fentanyl"))
          .ok());
  const Case cases[] = {
      {"ExtendUnknown", Extend("x1", "ghost-measure", Day(180)),
       absl::StatusCode::kFailedPrecondition, "ghost-measure"},
      {"RevokeUnknown", Revoke("x2", "ghost-measure"),
       absl::StatusCode::kFailedPrecondition, "ghost-measure"},
      {"ExtendNotPaused", Extend("x3", "fentanyl", Day(180)),
       absl::StatusCode::kFailedPrecondition, "fentanyl"},
      {"PauseNotInForce", Pause("x4", "ghost-measure", 10, Day(0), Day(90)),
       absl::StatusCode::kFailedPrecondition, "ghost-measure"},
      {"OtherImporter", china, absl::StatusCode::kInvalidArgument,
       "event.imposing_country"},
      {"ExpiresBeforeEffective", backwards, absl::StatusCode::kInvalidArgument,
       "event.expires_time"},
      {"PauseWithoutExpiry", no_expiry, absl::StatusCode::kInvalidArgument,
       "event.expires_time"},
  };
  const uint64_t revision = publisher().book_revision();
  const size_t alerts = received().size();
  const uint64_t newest = main_->hub->newest_sequence();
  for (const Case& c : cases) {
    auto r = publisher().Publish(c.event);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.says)) << c.name;
    EXPECT_EQ(publisher().book_revision(), revision) << c.name;
    EXPECT_EQ(received().size(), alerts) << c.name;
    EXPECT_EQ(main_->hub->newest_sequence(), newest) << c.name;
    EXPECT_FALSE(publisher().FindEvent(c.event.event_id()).has_value())
        << c.name;
  }
  auto stored = store_.LoadBook();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->revision(), revision);
  EXPECT_EQ(stored->Rate(C("US"), C("CN"), HsCode::All()), 30);
  EXPECT_EQ(stored->measures().at("us-cn-reciprocal").pause->expires, Day(90));
}

// ----------------------------------------------- determinism and the store

TEST_F(PublisherTest, FreshPublishersGiveTheSameAlertBytes) {
  v1::TariffEvent steel =
      Event("steel", "", 50, v1::STAGE_EFFECTIVE, "us-steel");
  steel.add_product_codes("72");
  const std::vector<v1::TariffEvent> events = {
      Event("fentanyl", "CN", 20, v1::STAGE_EFFECTIVE, "us-cn-fentanyl"),
      Threat("threat", "MX", 25, 0.3),
      steel,
      Event("raise", "CN", 125, v1::STAGE_EFFECTIVE, "us-cn-reciprocal"),
      Pause("pause", "us-cn-reciprocal", 10, Day(0), Day(90)),
  };
  InMemoryEventLog store_a, store_b;
  Pipeline a(clock_, &table_, &store_a);
  Pipeline b(clock_, &table_, &store_b);
  for (const v1::TariffEvent& e : events) {
    auto ra = a.publisher->Publish(e);
    auto rb = b.publisher->Publish(e);
    ASSERT_TRUE(ra.ok()) << e.event_id() << ": " << ra.status();
    ASSERT_TRUE(rb.ok()) << e.event_id() << ": " << rb.status();
    EXPECT_EQ(ra->SerializeAsString(), rb->SerializeAsString());
  }
  const std::vector<std::string> bytes = a.LoggedBytes();
  EXPECT_GT(bytes.size(), 5u);
  EXPECT_EQ(bytes, b.LoggedBytes());
}

TEST_F(PublisherTest, AStoreConflictMakesThePublisherReloadAndRetry) {
  FlakyEventLog flaky;
  flaky.conflicts = 1;
  Pipeline p(clock_, &table_, &flaky);
  auto r = p.publisher->Publish(
      Event("reciprocal", "CN", 10, v1::STAGE_EFFECTIVE, "us-cn-reciprocal"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(flaky.stores, 2);
  EXPECT_EQ(flaky.loads, 2);  // Init, then the reload after the conflict
  // Planned again on the other replica's book: 20 -> 30.
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 20);
  EXPECT_EQ(r->rate_changes(0).new_rate_pct(), 30);
  EXPECT_EQ(r->book_revision(), 2u);
  auto stored = flaky.inner.LoadBook();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->revision(), 2u);
  EXPECT_EQ(stored->Rate(C("US"), C("CN"), HsCode::All()), 30);
  // One event's alerts, once, from sequence 1.
  EXPECT_EQ(r->first_sequence(), 1u);
  EXPECT_EQ(p.collector.received.size(), r->alert_count());
  EXPECT_NEAR(Scores(p.collector.received, "reciprocal").at("T/AAPL"),
              10 * kAaplBpsPerPoint, 1e-9);
}

TEST_F(PublisherTest, AStoreThatFailsGivesUnavailableAndPublishesNothing) {
  FlakyEventLog flaky;
  Pipeline p(clock_, &table_, &flaky);
  ASSERT_TRUE(p.publisher->Publish(Event("e1", "CN", 10)).ok());
  const size_t alerts = p.collector.received.size();

  flaky.unavailable = true;
  auto r = p.publisher->Publish(Event("e2", "CN", 30));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(p.collector.received.size(), alerts);
  EXPECT_EQ(p.hub->newest_sequence(), alerts);
  EXPECT_EQ(p.publisher->book_revision(), 1u);
  EXPECT_FALSE(p.publisher->FindEvent("e2").has_value());
  EXPECT_EQ(p.publisher->CurrentBook().status().code(),
            absl::StatusCode::kUnavailable);

  // Back up: the same event_id goes through, once.
  flaky.unavailable = false;
  r = p.publisher->Publish(Event("e2", "CN", 30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->duplicate());
  EXPECT_EQ(r->book_revision(), 2u);
  EXPECT_EQ(r->first_sequence(), alerts + 1);
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 10);
}

// An in-memory log whose round trip takes a while, counting them: lets
// publishes overlap as they do against Redis.
class SlowEventLog : public WrappedEventLog {
 public:
  std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) override {
    round_trips.fetch_add(1);
    absl::SleepFor(absl::Milliseconds(2));
    return inner.Commit(commits);
  }
  std::atomic<int> round_trips{0};
};

TEST_F(PublisherTest, OverlappingPublishesAreCommittedTogetherInOrder) {
  SlowEventLog log;
  Pipeline p(clock_, &table_, &log);
  constexpr int kThreads = 6;
  constexpr int kEach = 20;
  std::vector<absl::StatusOr<v1::PublishEventResponse>> responses(
      kThreads * kEach, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int n = t * kEach + i;
        // Each its own measure on CN: every event moves the book.
        responses[n] = p.publisher->Publish(
            Event(absl::StrCat("e", n), "CN", 1 + n % 7, v1::STAGE_EFFECTIVE,
                  absl::StrCat("us-cn-", n)));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  uint64_t alerts = 0;
  for (const auto& r : responses) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->duplicate());
    alerts += r->alert_count();
  }
  // Every event once, on the book the ones before it left: revisions
  // 1..N, each a different event's.
  std::vector<uint64_t> revisions;
  for (const auto& r : responses) revisions.push_back(r->book_revision());
  std::sort(revisions.begin(), revisions.end());
  for (size_t i = 0; i < revisions.size(); ++i) {
    EXPECT_EQ(revisions[i], i + 1);
  }
  EXPECT_EQ(p.publisher->book_revision(), revisions.size());
  EXPECT_EQ(log.inner.LoadBook()->revision(), revisions.size());
  // The streams got every alert once, in sequence order, dense, each within
  // its event's response.
  const std::vector<v1::Alert>& received = p.collector.received;
  ASSERT_EQ(received.size(), alerts);
  std::map<std::string, const v1::PublishEventResponse*> by_event;
  for (const auto& r : responses) by_event[r->event_id()] = &*r;
  for (size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(received[i].sequence(), i + 1);
    const v1::PublishEventResponse& r = *by_event.at(received[i].event_id());
    EXPECT_GE(received[i].sequence(), r.first_sequence());
    EXPECT_LE(received[i].sequence(), r.last_sequence());
  }
  // Overlapping publishes shared round trips (group commit).
  EXPECT_LT(log.round_trips.load(), kThreads * kEach);
  RecordProperty("round_trips", log.round_trips.load());
}

TEST_F(PublisherTest, InitIsUnavailableWhenTheBookCannotBeRead) {
  FlakyEventLog flaky;
  flaky.unavailable = true;
  HubOptions hub_options;
  AlertHub hub(hub_options, clock_);
  Publisher p(
      PublisherOptions{}, [this] { return table_; }, ScoringParams::Default(),
      &hub, clock_, &flaky);
  EXPECT_EQ(p.Init().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PublisherTest, ReplicasSharingAStoreSeeEachOthersMeasures) {
  Pipeline other(clock_, &table_, &store_);
  ASSERT_TRUE(other.publisher
                  ->Publish(Event("fentanyl", "CN", 20, v1::STAGE_EFFECTIVE,
                                  "us-cn-fentanyl"))
                  .ok());
  // This replica's book is stale: its store write conflicts, it reloads.
  auto r = publisher().Publish(
      Event("reciprocal", "CN", 10, v1::STAGE_EFFECTIVE, "us-cn-reciprocal"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_EQ(r->rate_changes(0).previous_rate_pct(), 20);
  EXPECT_EQ(r->book_revision(), 2u);
  EXPECT_EQ(BookRate("CN"), 30);
}

TEST_F(PublisherTest, AnAlertThatCannotBeEncodedFailsTheWholeEventLoudly) {
  // The loader refuses such a name; a table that has one anyway (an older
  // loader, another tool) must not lose the company's alert silently.
  const std::shared_ptr<const ExposureTable> good = table_;
  std::vector<Company> companies(good->companies().begin(),
                                 good->companies().end());
  for (Company& c : companies) {
    if (c.ticker == "AAPL") c.name = "Apple\xFF Inc.";
  }
  table_ = std::make_shared<const ExposureTable>("8", std::move(companies));
  auto r = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  EXPECT_EQ(r.status().message(),
            "alert e1/T/AAPL of event e1 for AAPL cannot be encoded: a text "
            "field is not valid UTF-8 (exposure version 8); nothing was "
            "published: load a corrected exposure table and retry with the "
            "same event_id");
  EXPECT_THAT(received(), IsEmpty());
  EXPECT_EQ(main_->hub->newest_sequence(), 0u);
  EXPECT_EQ(publisher().book_revision(), 0u);
  EXPECT_FALSE(publisher().FindEvent("e1").has_value());

  // Corrected: the same event_id goes out whole.
  table_ = good;
  r = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->book_revision(), 1u);
  EXPECT_EQ(received().size(), r->alert_count());
  EXPECT_EQ(received().front().subject(), "AAPL");
}

// ------------------------------------------- event times and a lost answer

// A log that can lose the answer to a commit it did store (a timeout after
// the script ran).
class LosingEventLog : public WrappedEventLog {
 public:
  std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) override {
    auto out = inner.Commit(commits);
    if (lose_answer) {
      for (auto& o : out) {
        o = absl::DeadlineExceededError("fake log: no reply to EVAL");
      }
    }
    return out;
  }
  bool lose_answer = false;
};

TEST_F(PublisherTest, AnEffectiveEventDatedAheadOfTheClockIsRefused) {
  v1::TariffEvent e = Event("next-month", "CN", 30);
  SetTime(clock_.Now() + absl::Hours(24 * 30), e.mutable_effective_time());
  auto r = publisher().Publish(e);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(),
              HasSubstr("event.effective_time: 2025-08-07T18:40:00Z is ahead "
                        "of the book's clock"));
  EXPECT_THAT(r.status().message(), HasSubstr("publish it as STAGE_ANNOUNCED"));
  EXPECT_EQ(publisher().book_revision(), 0u);
  EXPECT_THAT(received(), IsEmpty());
  EXPECT_FALSE(publisher().FindEvent("next-month").has_value());

  // Within the skew it is taken; so is the announcement of the same date.
  SetTime(clock_.Now() + absl::Minutes(5), e.mutable_effective_time());
  EXPECT_TRUE(publisher().Publish(e).ok());
  v1::TariffEvent announced =
      Threat("announced", "MX", 25, 0.7, v1::STAGE_ANNOUNCED);
  SetTime(clock_.Now(), announced.mutable_announced_time());
  SetTime(clock_.Now() + absl::Hours(24 * 30),
          announced.mutable_effective_time());
  EXPECT_TRUE(publisher().Publish(announced).ok());
  // A late report of what took effect long ago changes the book now.
  v1::TariffEvent late = Event("late", "MX", 10);
  SetTime(Day(-3000), late.mutable_effective_time());
  EXPECT_TRUE(publisher().Publish(late).ok());
}

TEST_F(PublisherTest, EventTimesMoreThanTenYearsAheadAreRefused) {
  PublisherOptions options;
  options.book_clock = BookClock::kEvents;
  InMemoryEventLog store;
  Pipeline replay(clock_, &table_, &store, options);
  // The event clock takes dates ahead of the wall clock (a replay)...
  v1::TariffEvent e = Event("next-year", "CN", 30);
  SetTime(clock_.Now() + absl::Hours(24 * 365), e.mutable_effective_time());
  EXPECT_TRUE(replay.publisher->Publish(e).ok());
  // ...but not absurd ones.
  e.set_event_id("in-2040");
  SetTime(clock_.Now() + absl::Hours(24 * 365 * 15),
          e.mutable_effective_time());
  auto r = replay.publisher->Publish(e);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("event.effective_time: 2040-07-04T18:40:00Z is more "
                        "than 3653 days ahead"));
}

TEST_F(PublisherTest, AnUnreachableStoreFailsFastAndStoresNothing) {
  publisher().SetStoreReachable(false);
  auto r = publisher().Publish(Event("e1", "CN", 30));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("Redis is unreachable"));
  EXPECT_EQ(publisher().CurrentBook().status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(publisher().book_revision(), 0u);
  EXPECT_THAT(received(), IsEmpty());
  publisher().SetStoreReachable(true);
  EXPECT_TRUE(publisher().Publish(Event("e1", "CN", 30)).ok());
}

TEST_F(PublisherTest, EachPublishIsCountedByItsResultAndTimed) {
  // Event() is an EFFECTIVE event.
  auto published = [](const char* result) {
    return testing::MetricValue("tariffalert_events_published_total",
                                {{"stage", "effective"}, {"result", result}});
  };
  const double ok = published("ok");
  const double duplicate = published("duplicate");
  const double invalid = published("invalid");
  const double unavailable = published("unavailable");
  const double timed =
      testing::MetricValue("tariffalert_publish_duration_seconds");
  const double scored =
      testing::MetricValue("tariffalert_scoring_duration_seconds");
  const double produced =
      testing::MetricValue("tariffalert_alerts_produced_total");

  auto first = publisher().Publish(Event("e1", "CN", 30));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(publisher().Publish(Event("e1", "CN", 30)).ok());  // a repeat
  EXPECT_FALSE(publisher().Publish(Event("e2", "CN", -5)).ok());
  publisher().SetStoreReachable(false);
  EXPECT_FALSE(publisher().Publish(Event("e3", "CN", 40)).ok());
  publisher().SetStoreReachable(true);

  EXPECT_EQ(published("ok"), ok + 1);
  EXPECT_EQ(published("duplicate"), duplicate + 1);
  EXPECT_EQ(published("invalid"), invalid + 1);
  EXPECT_EQ(published("unavailable"), unavailable + 1);
  EXPECT_EQ(testing::MetricValue("tariffalert_publish_duration_seconds"),
            timed + 4);
  // Only e1 reached the book: the repeat was answered from memory, the
  // others were refused before.
  EXPECT_EQ(testing::MetricValue("tariffalert_scoring_duration_seconds"),
            scored + 1);
  EXPECT_EQ(testing::MetricValue("tariffalert_alerts_produced_total"),
            produced + first->alert_count());
  EXPECT_EQ(testing::MetricValue("tariffalert_book_revision"), 1);
  EXPECT_EQ(testing::MetricValue("tariffalert_book_pauses_pending"), 0);
}

TEST_F(PublisherTest, APublishWhoseDeadlinePassedStartsNothing) {
  auto r = publisher().Publish(Event("e1", "CN", 30), absl::Now());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(publisher().book_revision(), 0u);
  EXPECT_FALSE(publisher().FindEvent("e1").has_value());
}

TEST_F(PublisherTest, ALostCommitAnswerSaysOutcomeUnknownAndTheRetryFindsIt) {
  LosingEventLog store;
  Pipeline p(clock_, &table_, &store);
  store.lose_answer = true;
  const v1::TariffEvent event = Event("e1", "CN", 30);
  auto r = p.publisher->Publish(event);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(),
              HasSubstr("outcome unknown: retry with the same event_id, which "
                        "is idempotent"));
  // Not remembered here, but found from the store's record.
  EXPECT_FALSE(p.publisher->FindEvent("e1").has_value());
  auto looked = p.publisher->LookUpEvent("e1");
  ASSERT_TRUE(looked.ok()) << looked.status();
  ASSERT_TRUE(looked->has_value());
  EXPECT_TRUE((*looked)->from_record);
  EXPECT_EQ((*looked)->event.event_id(), "e1");
  EXPECT_FALSE((*looked)->response.duplicate());
  EXPECT_EQ((*looked)->response.first_sequence(), 1u);
  auto missing = p.publisher->LookUpEvent("e2");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  // The retry is a duplicate, and from then on the event is known as sent.
  store.lose_answer = false;
  r = p.publisher->Publish(event);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->duplicate());
  EXPECT_EQ(r->first_sequence(), 1u);
  auto found = p.publisher->FindEvent("e1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->event.SerializeAsString(), event.SerializeAsString());
  EXPECT_FALSE(found->response.duplicate());
}

}  // namespace
}  // namespace tariffalert
