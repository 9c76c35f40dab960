#include "server/fanout/alert_hub.h"

#include <atomic>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fanout/test_alerts.h"
#include "tests/testing/fake_clock.h"

namespace tariffalert {
namespace {

using ::testing::ElementsAre;
using testing::Encoded;

// Records what the hub hands it; can refuse (as an overflowing stream does).
class RecordingSubscriber : public Subscriber {
 public:
  explicit RecordingSubscriber(AlertFilter filter = AlertFilter())
      : filter_(std::move(filter)) {}
  const AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const EncodedAlertPtr> alerts, bool more) override {
    if (refuse) return false;
    for (const auto& a : alerts) sequences.push_back(a->sequence);
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

  std::vector<uint64_t> sequences;
  std::vector<uint64_t> heartbeats;
  std::atomic<int> heartbeat_count{0};  // read across threads
  bool more_to_replay = false;
  bool refuse = false;
  QueueRoom room{1000000, 1u << 30};
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

TEST_F(AlertHubTest, EndAllEndsStreamsAndRefusesNewOnes) {
  AlertHub hub(Options(), clock_);
  RecordingSubscriber s, late;
  ASSERT_TRUE(hub.Subscribe(&s, std::nullopt).ok());
  hub.EndAll(absl::UnavailableError("shutting down"));
  EXPECT_EQ(s.ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(hub.Subscribe(&late, std::nullopt).code(),
            absl::StatusCode::kUnavailable);
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

}  // namespace
}  // namespace tariffalert
