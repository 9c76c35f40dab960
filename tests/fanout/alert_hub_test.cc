#include "server/fanout/alert_hub.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fanout/test_alerts.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/metric_values.h"

namespace tariffalert {
namespace {

using ::testing::ElementsAre;
using testing::Encoded;
using testing::EventAlert;
using ::testing::IsEmpty;
using testing::SectorAlert;

// Records what the hub hands it; can refuse (as an overflowing stream does).
class RecordingSubscriber : public Subscriber {
 public:
  explicit RecordingSubscriber(AlertFilter filter = AlertFilter())
      : filter_(std::move(filter)) {}
  const AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const EncodedAlertPtr> alerts, bool more) override {
    if (refuse) return false;
    for (const auto& a : alerts) {
      sequences.push_back(a->sequence);
      received.push_back(a);
    }
    more_to_replay = more;
    return true;
  }
  void DeliverHeartbeat(const grpc::Slice& heartbeat,
                        uint64_t newest) override {
    v1::SubscribeAlertsResponse r;
    EXPECT_TRUE(r.ParseFromArray(heartbeat.begin(),
                                 static_cast<int>(heartbeat.size())));
    EXPECT_EQ(r.heartbeat().newest_sequence(), newest);
    heartbeats.push_back(newest);
    heartbeat_count.fetch_add(1);
  }
  void End(const absl::Status& status) override { ended = status; }
  QueueRoom Room() override { return room; }
  QueueSize Queued() override { return queued; }
  std::shared_ptr<const PortfolioWatch> portfolio() const override {
    return watch;
  }

  // "3" for alert 3, "P3" for a portfolio alert carrying sequence 3.
  std::vector<std::string> Labels() const {
    std::vector<std::string> out;
    for (const auto& a : received) {
      out.push_back(
          (a->keys.subject_kind == v1::SUBJECT_KIND_PORTFOLIO ? "P" : "") +
          std::to_string(a->sequence));
    }
    return out;
  }
  std::vector<v1::Alert> Portfolios() const {
    std::vector<v1::Alert> out;
    for (const auto& a : received) {
      if (a->keys.subject_kind != v1::SUBJECT_KIND_PORTFOLIO) continue;
      auto decoded = DecodeAlert(*a);
      EXPECT_TRUE(decoded.ok()) << decoded.status();
      if (decoded.ok()) out.push_back(*decoded);
    }
    return out;
  }

  std::vector<uint64_t> sequences;
  std::vector<EncodedAlertPtr> received;
  std::shared_ptr<const PortfolioWatch> watch;  // holdings, if any
  std::vector<uint64_t> heartbeats;
  std::atomic<int> heartbeat_count{0};  // read across threads
  bool more_to_replay = false;
  bool refuse = false;
  QueueRoom room{1000000, 1u << 30};
  QueueSize queued;
  absl::Status ended;

 private:
  AlertFilter filter_;
};

class AlertHubTest : public ::testing::Test {
 protected:
  HubOptions Options(size_t log_capacity = 1000, size_t chunk = 256) {
    HubOptions o;
    o.log_capacity = log_capacity;
    o.replay_chunk = chunk;
    o.heartbeat_interval = absl::ZeroDuration();
    return o;
  }
  void PublishRange(AlertHub& hub, uint64_t from, uint64_t to,
                    const std::string& ticker = "AAPL") {
    std::vector<EncodedAlertPtr> batch;
    for (uint64_t s = from; s <= to; ++s) batch.push_back(Encoded(s, ticker));
    hub.Publish(batch);
  }
  // AAPL 1,000,000 and NKE 500,000.
  static std::unique_ptr<PortfolioWatch> Book() {
    return std::make_unique<PortfolioWatch>(
        std::vector<Holding>{{"AAPL", 1000000}, {"NKE", 500000}},
        PortfolioContext{});
  }
  static AlertFilter Filter(void (*set)(v1::AlertFilter&)) {
    v1::AlertFilter proto;
    set(proto);
    auto f = AlertFilter::FromProto(proto);
    EXPECT_TRUE(f.ok()) << f.status();
    return *f;
  }
  // e1: AAPL (1), NKE (2), a sector (3). e2: AAPL (4), BBY (5).
  static void PublishTwoEvents(AlertHub& hub) {
    hub.Publish({EventAlert(1, "e1", "AAPL", -900, -30),
                 EventAlert(2, "e1", "NKE", -130, -10),
                 SectorAlert(3, "e1", "Information Technology", -400)});
    hub.Publish({EventAlert(4, "e2", "AAPL", -150, -5),
                 EventAlert(5, "e2", "BBY", -50, -20)});
  }
  testing::FakeClock clock_;
};

TEST_F(AlertHubTest, LiveSubscriberGetsAHeartbeatThenEveryNewAlertInOrder) {
  AlertHub hub(Options(), clock_);
  PublishRange(hub, 1, 2);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  EXPECT_THAT(s.heartbeats, ElementsAre(2));
  PublishRange(hub, 3, 5);
  EXPECT_THAT(s.sequences, ElementsAre(3, 4, 5));
  EXPECT_EQ(hub.newest_sequence(), 5u);
}

TEST_F(AlertHubTest, AnOfferedEventAfterAGapIsHeldUntilTheGapFills) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  ASSERT_TRUE(hub.Append({EventAlert(1, "e1", "AAPL", -10, -1)}));
  // This replica's event 3..4, committed after another replica's 2, which
  // the hub has not read yet.
  hub.Offer({EventAlert(3, "e3", "AAPL", -10, -1),
             EventAlert(4, "e3", "NKE", -10, -1)});
  EXPECT_THAT(s.sequences, ElementsAre(1));
  EXPECT_EQ(hub.newest_sequence(), 1u);
  EXPECT_TRUE(hub.AwaitHeld(4, absl::ZeroDuration()));
  EXPECT_TRUE(hub.AwaitHeld(1, absl::ZeroDuration()));
  EXPECT_FALSE(hub.AwaitHeld(2, absl::ZeroDuration()));
  EXPECT_FALSE(hub.AwaitHeld(5, absl::Milliseconds(5)));
  // The other replica's event comes in: both go out, in order, once.
  ASSERT_TRUE(hub.Append({EventAlert(2, "e2", "AAPL", -10, -1)}));
  EXPECT_THAT(s.sequences, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(hub.newest_sequence(), 4u);
  // The tailer bringing the same event later changes nothing.
  ASSERT_TRUE(hub.Append({EventAlert(3, "e3", "AAPL", -10, -1),
                          EventAlert(4, "e3", "NKE", -10, -1)}));
  EXPECT_THAT(s.sequences, ElementsAre(1, 2, 3, 4));
  // An offer that continues the log goes out at once.
  hub.Offer({EventAlert(5, "e5", "AAPL", -10, -1)});
  EXPECT_THAT(s.sequences, ElementsAre(1, 2, 3, 4, 5));
  hub.Unsubscribe(&s);
}

TEST_F(AlertHubTest, AwaitHeldWakesWhenAnotherThreadAppends) {
  AlertHub hub(Options(), clock_);
  std::thread appender([&hub] {
    absl::SleepFor(absl::Milliseconds(20));
    hub.Offer({EventAlert(1, "e1", "AAPL", -10, -1)});
  });
  EXPECT_TRUE(hub.AwaitHeld(1, absl::Seconds(10)));
  appender.join();
}

TEST_F(AlertHubTest, OnlyMatchingAlertsAreDelivered) {
  AlertHub hub(Options(), clock_);
  v1::AlertFilter proto;
  proto.add_tickers("BBY");
  RecordingSubscriber s(*AlertFilter::FromProto(proto));
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  hub.Publish({Encoded(1, "AAPL"), Encoded(2, "BBY"), Encoded(3, "STZ"),
               Encoded(4, "BBY")});
  EXPECT_THAT(s.sequences, ElementsAre(2, 4));
}

TEST_F(AlertHubTest, ResumeReplaysInChunksThenGoesLiveWithoutGapOrDuplicate) {
  AlertHub hub(Options(1000, /*chunk=*/4), clock_);
  PublishRange(hub, 1, 10);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, 3).ok());
  EXPECT_THAT(s.sequences, ElementsAre(4, 5, 6, 7));
  EXPECT_TRUE(s.more_to_replay);
  EXPECT_TRUE(s.heartbeats.empty());
  // Alerts published while the subscriber replays are read from the log.
  PublishRange(hub, 11, 12);
  EXPECT_EQ(s.sequences.size(), 4u);
  hub.Refill(&s);
  hub.Refill(&s);
  EXPECT_THAT(s.sequences, ElementsAre(4, 5, 6, 7, 8, 9, 10, 11, 12));
  EXPECT_FALSE(s.more_to_replay);
  EXPECT_THAT(s.heartbeats, ElementsAre(12));  // live now
  PublishRange(hub, 13, 13);
  EXPECT_EQ(s.sequences.back(), 13u);
  EXPECT_EQ(s.sequences.size(), 10u);
}

TEST_F(AlertHubTest, AReplayChunkNeverOverflowsTheSubscribersQueue) {
  AlertHub hub(Options(1000, /*chunk=*/256), clock_);
  PublishRange(hub, 1, 5);
  RecordingSubscriber s;
  s.room = QueueRoom{2, 1u << 30};
  ASSERT_TRUE(hub.Subscribe(&s, 0).ok());
  EXPECT_THAT(s.sequences, ElementsAre(1, 2));
  s.room = QueueRoom{0, 0};  // still full: nothing more yet, still replaying
  hub.Refill(&s);
  EXPECT_THAT(s.sequences, ElementsAre(1, 2));
  EXPECT_TRUE(s.more_to_replay);
  s.room = QueueRoom{10, 1u << 30};
  hub.Refill(&s);
  EXPECT_THAT(s.sequences, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_FALSE(s.more_to_replay);
}

TEST_F(AlertHubTest, ResumeAtTheNewestSequenceIsLiveAtOnce) {
  AlertHub hub(Options(), clock_);
  PublishRange(hub, 1, 3);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, 3).ok());
  EXPECT_TRUE(s.sequences.empty());
  EXPECT_THAT(s.heartbeats, ElementsAre(3));
}

TEST_F(AlertHubTest, ResumeOutsideTheLogIsOutOfRange) {
  AlertHub hub(Options(/*log_capacity=*/5), clock_);
  PublishRange(hub, 1, 10);  // keeps 6..10
  RecordingSubscriber s;
  absl::Status too_old = hub.Subscribe(&s, 3);
  EXPECT_EQ(too_old.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(too_old.message()),
              ::testing::HasSubstr("oldest retained sequence is 6"));
  absl::Status ahead = hub.Subscribe(&s, 11);
  EXPECT_EQ(ahead.code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(hub.Subscribe(&s, 5).ok());  // everything after 5 is held
  EXPECT_THAT(s.sequences, ElementsAre(6, 7, 8, 9, 10));
}

// The log's horizon for HubOptions::log_horizon, answered `horizon` on
// the hub's blocking pool once released: a test sees the subscriber while
// it waits.
struct GatedHorizon {
  explicit GatedHorizon(uint64_t horizon) : horizon(horizon) {}
  HubOptions Attach(HubOptions o, WorkPool* pool) {
    o.blocking = pool;
    o.log_horizon = [this]() -> absl::StatusOr<uint64_t> {
      if (std::this_thread::get_id() == made_on) asked_on_maker = true;
      asked.Notify();
      answer.WaitForNotificationWithTimeout(absl::Seconds(30));
      return horizon;
    };
    return o;
  }
  bool WaitAsked() {
    return asked.WaitForNotificationWithTimeout(absl::Seconds(30));
  }
  const uint64_t horizon;
  const std::thread::id made_on = std::this_thread::get_id();
  // Asked on the thread that made this (the test's, which subscribes).
  std::atomic<bool> asked_on_maker{false};
  absl::Notification asked, answer;
};

// Alerts 1..3, then `s` resumes after `after` on `hub` (made with
// log.Attach), 4..`to` are published while the log is asked, and the pool
// runs the answer out.
void ResumeWhileTheLogIsAsked(AlertHub& hub, GatedHorizon& log, WorkPool& pool,
                              RecordingSubscriber& s, uint64_t after,
                              uint64_t to) {
  std::vector<EncodedAlertPtr> first;
  for (uint64_t q = 1; q <= 3; ++q) first.push_back(Encoded(q, "AAPL"));
  hub.Publish(first);
  ASSERT_TRUE(hub.Subscribe(&s, after).ok());
  ASSERT_TRUE(log.WaitAsked());
  std::vector<EncodedAlertPtr> meanwhile;
  for (uint64_t q = 4; q <= to; ++q) meanwhile.push_back(Encoded(q, "AAPL"));
  hub.Publish(meanwhile);
  log.answer.Notify();
  pool.Stop();
}

// With a blocking pool, a resume ahead of the hub asks the log on the
// pool's thread, not the subscribing one: Subscribe returns at once, the
// subscriber gets nothing while it waits, then goes live after its resume
// point once the log says it holds that sequence.
TEST_F(AlertHubTest, AResumeAheadOfTheHubAsksTheLogOnThePoolAndThenGoesLive) {
  WorkPool pool("test", 1, 10);
  GatedHorizon log(12);
  AlertHub hub(log.Attach(Options(), &pool), clock_);
  RecordingSubscriber s;
  // 4..6 come while it waits: not for it.
  ResumeWhileTheLogIsAsked(hub, log, pool, s, /*after=*/10, /*to=*/6);
  EXPECT_FALSE(log.asked_on_maker.load());
  EXPECT_THAT(s.heartbeats, ElementsAre(6));
  EXPECT_TRUE(s.sequences.empty());
  PublishRange(hub, 7, 12);
  EXPECT_THAT(s.sequences, ElementsAre(11, 12));
  EXPECT_TRUE(s.ended.ok());
}

// The answer may come after the hub caught up past the resume point: then
// the subscriber replays from the log like any other resume.
TEST_F(AlertHubTest, AResumeThatTheHubCaughtUpWithWhileItWaitedIsReplayed) {
  WorkPool pool("test", 1, 10);
  GatedHorizon log(8);
  AlertHub hub(log.Attach(Options(), &pool), clock_);
  RecordingSubscriber s;
  ResumeWhileTheLogIsAsked(hub, log, pool, s, /*after=*/5, /*to=*/8);
  EXPECT_THAT(s.sequences, ElementsAre(6, 7, 8));
  EXPECT_THAT(s.heartbeats, ElementsAre(8));
}

// Ahead of the log too: ended OUT_OF_RANGE through End, since Subscribe
// returned before the log was asked.
TEST_F(AlertHubTest, AResumeAheadOfTheLogTooIsEndedOutOfRange) {
  WorkPool pool("test", 1, 10);
  HubOptions o = Options();
  o.blocking = &pool;
  o.log_horizon = []() -> absl::StatusOr<uint64_t> { return 5; };
  AlertHub hub(o, clock_);
  PublishRange(hub, 1, 3);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, 9).ok());
  pool.Stop();
  EXPECT_EQ(s.ended.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(s.ended.message()),
              ::testing::HasSubstr("9 is ahead of the newest sequence 5"));
  PublishRange(hub, 4, 10);
  EXPECT_TRUE(s.sequences.empty());
  EXPECT_TRUE(s.heartbeats.empty());
  EXPECT_EQ(hub.subscriber_count(), 0u);
}

// A subscriber that leaves while the log is asked is never called again.
TEST_F(AlertHubTest, ASubscriberThatLeavesWhileTheLogIsAskedIsNotStarted) {
  WorkPool pool("test", 1, 10);
  GatedHorizon log(20);
  AlertHub hub(log.Attach(Options(), &pool), clock_);
  PublishRange(hub, 1, 3);
  auto s = std::make_unique<RecordingSubscriber>();
  ASSERT_TRUE(hub.Subscribe(s.get(), 10).ok());
  ASSERT_TRUE(log.WaitAsked());
  hub.Unsubscribe(s.get());
  s.reset();  // a call to it now would be a use after free (ASan, valgrind)
  log.answer.Notify();
  pool.Stop();
  EXPECT_EQ(hub.subscriber_count(), 0u);
}

TEST_F(AlertHubTest, SubscriptionsAndResumesAreCounted) {
  auto resumes = [](const char* result) {
    return testing::MetricValue("tariffalert_stream_resumes_total",
                                {{"result", result}});
  };
  const double active = testing::MetricValue("tariffalert_streams_active");
  const double replay = resumes("replay");
  const double refused = resumes("refused");
  AlertHub hub(Options(/*log_capacity=*/5), clock_);
  PublishRange(hub, 1, 10);  // keeps 6..10
  RecordingSubscriber live, resumed, late;
  ASSERT_TRUE(hub.Subscribe(&live, std::nullopt).ok());
  ASSERT_TRUE(hub.Subscribe(&resumed, 7).ok());
  EXPECT_FALSE(hub.Subscribe(&late, 2).ok());  // no longer retained
  EXPECT_EQ(testing::MetricValue("tariffalert_streams_active"), active + 2);
  EXPECT_EQ(resumes("replay"), replay + 1);
  EXPECT_EQ(resumes("refused"), refused + 1);
  hub.Unsubscribe(&live);
  hub.Unsubscribe(&resumed);
  hub.Unsubscribe(&late);  // never subscribed: not counted down
  EXPECT_EQ(testing::MetricValue("tariffalert_streams_active"), active);
}

TEST_F(AlertHubTest, AReplayOverrunByRetentionIsEnded) {
  AlertHub hub(Options(/*log_capacity=*/4, /*chunk=*/2), clock_);
  PublishRange(hub, 1, 4);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, 0).ok());
  EXPECT_THAT(s.sequences, ElementsAre(1, 2));
  PublishRange(hub, 5, 8);  // 3 and 4 fall out before the subscriber read them
  EXPECT_EQ(s.ended.code(), absl::StatusCode::kOutOfRange);
  hub.Refill(&s);
  EXPECT_THAT(s.sequences, ElementsAre(1, 2));
}

TEST_F(AlertHubTest, ARefusingSubscriberIsNotDeliveredToAgain) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  s.refuse = true;
  PublishRange(hub, 1, 1);
  s.refuse = false;
  PublishRange(hub, 2, 2);
  EXPECT_TRUE(s.sequences.empty());
  hub.SendHeartbeats();
  EXPECT_THAT(s.heartbeats, ElementsAre(0));  // only the first one
}

TEST_F(AlertHubTest, HeartbeatsCarryTheNewestSequenceToLiveSubscribers) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber live, replaying;
  ASSERT_TRUE(hub.Subscribe(&live, std::nullopt).ok());
  PublishRange(hub, 1, 300);
  ASSERT_TRUE(hub.Subscribe(&replaying, 0).ok());  // 256 of 300 sent; replaying
  hub.SendHeartbeats();
  EXPECT_THAT(live.heartbeats, ElementsAre(0, 300));
  EXPECT_TRUE(replaying.heartbeats.empty());
}

TEST_F(AlertHubTest, UnsubscribedIsNeverCalledAgain) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber s;
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  EXPECT_EQ(hub.subscriber_count(), 1u);
  hub.Unsubscribe(&s);
  EXPECT_EQ(hub.subscriber_count(), 0u);
  PublishRange(hub, 1, 3);
  EXPECT_TRUE(s.sequences.empty());
}

TEST_F(AlertHubTest, QueuesNowGivesTheFullestQueueAndTheTotal) {
  AlertHub hub(Options(), clock_);
  EXPECT_EQ(hub.QueuesNow().fullest.alerts, 0u);
  RecordingSubscriber many_small, few_big, gone;
  many_small.queued = {40, 4000};
  few_big.queued = {3, 90000};
  gone.queued = {500, 500000};
  for (RecordingSubscriber* s : {&many_small, &few_big, &gone}) {
    ASSERT_TRUE(hub.Subscribe(s, std::nullopt).ok());
  }
  hub.Unsubscribe(&gone);
  const AlertHub::QueueUse use = hub.QueuesNow();
  EXPECT_EQ(use.fullest.alerts, 40u);
  EXPECT_EQ(use.fullest.bytes, 90000u);
  EXPECT_EQ(use.total.alerts, 43u);
  EXPECT_EQ(use.total.bytes, 94000u);
}

TEST_F(AlertHubTest, EndAllEndsStreamsAndRefusesNewOnes) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber s, late;
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  hub.EndAll(absl::UnavailableError("shutting down"));
  EXPECT_EQ(s.ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(hub.Subscribe(&late, std::nullopt).code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(AlertHubTest, EndIfEndsOnlyTheChosenStreamsAndTakesNewOnes) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber revoked, kept, late;
  ASSERT_TRUE(hub.Subscribe(&revoked, std::nullopt).ok());
  ASSERT_TRUE(hub.Subscribe(&kept, std::nullopt).ok());
  EXPECT_EQ(hub.EndIf([&](const Subscriber& s) { return &s == &revoked; },
                      absl::UnauthenticatedError("token revoked")),
            1u);
  EXPECT_EQ(revoked.ended.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(kept.ended.ok());
  // An ended stream is not ended twice.
  EXPECT_EQ(hub.EndIf([](const Subscriber&) { return true; },
                      absl::UnauthenticatedError("again")),
            1u);
  EXPECT_EQ(revoked.ended.message(), "token revoked");
  EXPECT_TRUE(hub.Subscribe(&late, std::nullopt).ok());
  hub.Unsubscribe(&late);
  hub.Unsubscribe(&kept);
  hub.Unsubscribe(&revoked);
}

TEST_F(AlertHubTest, TheHeartbeatThreadStopsWithTheHub) {
  HubOptions o = Options();
  o.heartbeat_interval = absl::Milliseconds(5);
  RecordingSubscriber s;
  {
    AlertHub hub(o, clock_);
    ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
    // Bounded wait for a timer heartbeat beyond the first.
    for (int i = 0; i < 1000 && s.heartbeat_count.load() < 2; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    hub.Unsubscribe(&s);
  }
  EXPECT_GE(s.heartbeats.size(), 2u);
}

// A live event's portfolio alerts are made before the hub's lock is
// taken: while one is computed, another thread's call into the hub goes
// through (it would wait for the publish's end if the lock were held).
TEST_F(AlertHubTest, PortfolioAlertsAreMadeWithoutTheHubsLock) {
  AlertHub* hub_ptr = nullptr;
  int computed = 0;
  int blocked = 0;
  // Joined after the publishes: a thread still waiting for the lock gets it
  // once the publish is over.
  std::vector<std::thread> others;
  std::vector<std::unique_ptr<absl::Notification>> answers;
  PortfolioContext context;
  context.exposure = [&]() -> std::shared_ptr<const ExposureTable> {
    ++computed;
    answers.push_back(std::make_unique<absl::Notification>());
    absl::Notification* answered = answers.back().get();
    others.emplace_back([hub_ptr, answered] {
      (void)hub_ptr->newest_sequence();
      answered->Notify();
    });
    if (!answered->WaitForNotificationWithTimeout(absl::Seconds(5))) {
      ++blocked;
    }
    return nullptr;
  };
  AlertHub hub(Options(), clock_);
  hub_ptr = &hub;
  RecordingSubscriber s;
  s.watch = std::make_shared<const PortfolioWatch>(
      std::vector<Holding>{{"AAPL", 1000000}}, context);
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  PublishTwoEvents(hub);
  for (std::thread& t : others) t.join();
  EXPECT_EQ(computed, 2);
  EXPECT_EQ(blocked, 0);
  EXPECT_THAT(s.Labels(), ElementsAre("1", "2", "3", "P3", "4", "5", "P5"));
}

TEST_F(AlertHubTest, HoldingsGetOnePortfolioAlertPerEventAfterItsAlerts) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber all;
  all.watch = Book();
  // Filters do not apply to the portfolio alert...
  RecordingSubscriber one_ticker(
      Filter([](v1::AlertFilter& f) { f.add_tickers("BBY"); }));
  one_ticker.watch = Book();
  // ...but subject_kinds without PORTFOLIO turns it off.
  RecordingSubscriber tickers_only(Filter([](v1::AlertFilter& f) {
    f.add_subject_kinds(v1::SUBJECT_KIND_TICKER);
  }));
  tickers_only.watch = Book();
  RecordingSubscriber portfolio_only(Filter([](v1::AlertFilter& f) {
    f.add_subject_kinds(v1::SUBJECT_KIND_PORTFOLIO);
  }));
  portfolio_only.watch = Book();
  RecordingSubscriber no_holdings;
  for (auto* s :
       {&all, &one_ticker, &tickers_only, &portfolio_only, &no_holdings}) {
    ASSERT_TRUE(hub.Subscribe(s, std::nullopt).ok());
  }
  PublishTwoEvents(hub);

  EXPECT_THAT(all.Labels(), ElementsAre("1", "2", "3", "P3", "4", "5", "P5"));
  EXPECT_THAT(one_ticker.Labels(), ElementsAre("P3", "5", "P5"));
  EXPECT_THAT(tickers_only.Labels(), ElementsAre("1", "2", "4", "5"));
  EXPECT_THAT(portfolio_only.Labels(), ElementsAre("P3", "P5"));
  EXPECT_THAT(no_holdings.Labels(), ElementsAre("1", "2", "3", "4", "5"));
  EXPECT_EQ(hub.newest_sequence(), 5u);  // portfolio alerts take no sequence

  const std::vector<v1::Alert> p = all.Portfolios();
  ASSERT_EQ(p.size(), 2u);
  // e1: 1,000,000 x -30% + 500,000 x -10% = -350,000 of 1,500,000.
  EXPECT_EQ(p[0].subject_kind(), v1::SUBJECT_KIND_PORTFOLIO);
  EXPECT_EQ(p[0].subject(), "portfolio");
  EXPECT_EQ(p[0].alert_id(), "e1/P/portfolio");
  EXPECT_EQ(p[0].event_id(), "e1");
  EXPECT_EQ(p[0].sequence(), 3u);
  EXPECT_DOUBLE_EQ(p[0].portfolio().impact_value(), -350000);
  EXPECT_DOUBLE_EQ(p[0].portfolio().position_value(), 1500000);
  EXPECT_NEAR(p[0].score_bps(), -2333.333, 1e-3);
  EXPECT_EQ(p[0].severity(), v1::SEVERITY_CRITICAL);
  ASSERT_EQ(p[0].portfolio().top_holdings_size(), 2);
  EXPECT_EQ(p[0].portfolio().top_holdings(0).ticker(), "AAPL");
  EXPECT_EQ(p[0].portfolio().top_holdings(0).name(), "AAPL Inc.");
  EXPECT_EQ(p[0].headline(), "headline of e1");
  EXPECT_EQ(p[0].imposing_country(), "US");
  EXPECT_EQ(p[0].exposure_version(), "v7");
  EXPECT_EQ(p[0].book_revision(), 3u);
  EXPECT_EQ(p[0].created_time().seconds(), 1000);
  EXPECT_THAT(p[0].explanation(),
              ::testing::StartsWith("Portfolio -2333.3 bps (-350.0k of 1.50M) "
                                    "from e1: AAPL -300.0k, NKE -50.0k"));
  // e2: AAPL 1,000,000 x -5% = -50,000 (-333.3 bps); NKE not scored: 0.
  EXPECT_DOUBLE_EQ(p[1].portfolio().impact_value(), -50000);
  EXPECT_EQ(p[1].severity(), v1::SEVERITY_HIGH);
  EXPECT_EQ(p[1].sequence(), 5u);
  // The filtered stream got the same figures.
  EXPECT_DOUBLE_EQ(one_ticker.Portfolios()[0].portfolio().impact_value(),
                   -350000);
}

TEST_F(AlertHubTest, OnePublishOfTwoEventsMakesTwoPortfolioAlerts) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber s;
  s.watch = Book();
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  hub.Publish({EventAlert(1, "a", "AAPL", -900, -30),
               EventAlert(2, "b", "NKE", -130, -10)});
  EXPECT_THAT(s.Labels(), ElementsAre("1", "P1", "2", "P2"));
}

TEST_F(AlertHubTest, AReplayRegeneratesThePortfolioAlertsOfReplayedEvents) {
  AlertHub hub(Options(), clock_);
  PublishTwoEvents(hub);
  RecordingSubscriber mid_event, at_event_end;
  mid_event.watch = Book();
  at_event_end.watch = Book();
  // After 2 (inside e1): e1's portfolio, computed from all of e1, is owed.
  ASSERT_TRUE(hub.Subscribe(&mid_event, 2).ok());
  EXPECT_THAT(mid_event.Labels(), ElementsAre("3", "P3", "4", "5", "P5"));
  EXPECT_DOUBLE_EQ(mid_event.Portfolios()[0].portfolio().impact_value(),
                   -350000);
  // After 3, the end of e1: its portfolio alert came with sequence 3.
  ASSERT_TRUE(hub.Subscribe(&at_event_end, 3).ok());
  EXPECT_THAT(at_event_end.Labels(), ElementsAre("4", "5", "P5"));
  // Live from here on.
  hub.Publish({EventAlert(6, "e3", "NKE", -130, -10)});
  EXPECT_THAT(at_event_end.Labels(), ElementsAre("4", "5", "P5", "6", "P6"));
}

TEST_F(AlertHubTest, AReplayChunkKeepsAPortfolioAlertWithItsEventsLastAlert) {
  AlertHub hub(Options(1000, /*chunk=*/3), clock_);
  PublishTwoEvents(hub);
  RecordingSubscriber s;
  s.watch = Book();
  ASSERT_TRUE(hub.Subscribe(&s, 0).ok());
  // 3 and its portfolio alert do not both fit after 1 and 2.
  EXPECT_THAT(s.Labels(), ElementsAre("1", "2"));
  EXPECT_TRUE(s.more_to_replay);
  hub.Refill(&s);
  EXPECT_THAT(s.Labels(), ElementsAre("1", "2", "3", "P3", "4"));
  hub.Refill(&s);
  EXPECT_THAT(s.Labels(), ElementsAre("1", "2", "3", "P3", "4", "5", "P5"));
  EXPECT_FALSE(s.more_to_replay);
}

TEST_F(AlertHubTest, AnEventPartlyOutOfTheLogGetsNoPortfolioAlertOnReplay) {
  AlertHub hub(Options(/*log_capacity=*/4), clock_);
  PublishTwoEvents(hub);  // keeps 2..5: e1's first alert is gone
  RecordingSubscriber s;
  s.watch = Book();
  ASSERT_TRUE(hub.Subscribe(&s, 1).ok());
  EXPECT_THAT(s.Labels(), ElementsAre("2", "3", "4", "5", "P5"));
}

TEST_F(AlertHubTest, QueryFiltersByFilterAndTimeRangeAndPages) {
  AlertHub hub(Options(), clock_);
  // Created at 100, 200, ..., 800 s; AAPL on odd sequences.
  for (uint64_t seq = 1; seq <= 8; ++seq) {
    hub.Publish({EventAlert(seq, "e" + std::to_string(seq),
                            seq % 2 == 1 ? "AAPL" : "NKE", -100, -1,
                            static_cast<int64_t>(seq) * 100)});
  }
  const AlertFilter aapl =
      Filter([](v1::AlertFilter& f) { f.add_tickers("AAPL"); });
  auto seqs = [](const AlertPage& p) {
    std::vector<uint64_t> out;
    for (const auto& a : p.alerts) out.push_back(a->sequence);
    return out;
  };
  // Everything, in pages of 3.
  AlertPage p = hub.Query(AlertFilter(), absl::InfinitePast(),
                          absl::InfiniteFuture(), 0, 3);
  EXPECT_THAT(seqs(p), ElementsAre(1, 2, 3));
  EXPECT_TRUE(p.more);
  EXPECT_EQ(p.last_sequence, 3u);
  EXPECT_EQ(p.oldest_sequence, 1u);
  p = hub.Query(AlertFilter(), absl::InfinitePast(), absl::InfiniteFuture(), 6,
                3);
  EXPECT_THAT(seqs(p), ElementsAre(7, 8));
  EXPECT_FALSE(p.more);
  // A page that ends on the last match says there is no more.
  p = hub.Query(aapl, absl::InfinitePast(), absl::InfiniteFuture(), 0, 4);
  EXPECT_THAT(seqs(p), ElementsAre(1, 3, 5, 7));
  EXPECT_FALSE(p.more);
  // [300 s, 700 s): sequences 3..6, AAPL of them 3 and 5.
  const absl::Time from = absl::FromUnixSeconds(300);
  const absl::Time to = absl::FromUnixSeconds(700);
  p = hub.Query(aapl, from, to, 0, 1);
  EXPECT_THAT(seqs(p), ElementsAre(3));
  EXPECT_TRUE(p.more);
  p = hub.Query(aapl, from, to, p.last_sequence, 1);
  EXPECT_THAT(seqs(p), ElementsAre(5));
  EXPECT_FALSE(p.more);
  // Beyond the newest: nothing.
  p = hub.Query(aapl, from, to, 8, 10);
  EXPECT_THAT(seqs(p), IsEmpty());
  EXPECT_FALSE(p.more);
}

TEST_F(AlertHubTest, QueryStartsAtTheOldestHeldAlertAndSpansSlices) {
  AlertHub hub(Options(/*log_capacity=*/10000), clock_);
  PublishRange(hub, 1, 9000);
  PublishRange(hub, 9001, 12000, "NKE");  // 1..2000 fall out
  const AlertFilter nke =
      Filter([](v1::AlertFilter& f) { f.add_tickers("NKE"); });
  AlertPage p =
      hub.Query(nke, absl::InfinitePast(), absl::InfiniteFuture(), 0, 2);
  ASSERT_EQ(p.alerts.size(), 2u);
  EXPECT_EQ(p.alerts[0]->sequence, 9001u);
  EXPECT_EQ(p.oldest_sequence, 2001u);
  p = hub.Query(AlertFilter(), absl::InfinitePast(), absl::InfiniteFuture(), 0,
                1);
  EXPECT_EQ(p.alerts[0]->sequence, 2001u);
}

TEST_F(AlertHubTest, LoggedReturnsTheHeldPartOfARange) {
  AlertHub hub(Options(/*log_capacity=*/5), clock_);
  EXPECT_EQ(hub.oldest_sequence(), 0u);
  EXPECT_TRUE(hub.Logged(1, 3).empty());
  PublishRange(hub, 1, 8);  // keeps 4..8
  EXPECT_EQ(hub.oldest_sequence(), 4u);
  std::vector<uint64_t> got;
  for (const auto& a : hub.Logged(2, 6)) got.push_back(a->sequence);
  EXPECT_THAT(got, ElementsAre(4, 5, 6));
  got.clear();
  for (const auto& a : hub.Logged(7, 100)) got.push_back(a->sequence);
  EXPECT_THAT(got, ElementsAre(7, 8));
  EXPECT_TRUE(hub.Logged(9, 12).empty());
  auto decoded = DecodeAlert(*hub.Logged(5, 5).front());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sequence(), 5u);
  EXPECT_EQ(decoded->subject(), "AAPL");
}

}  // namespace
}  // namespace tariffalert
