#include "server/fanout/subscriber_queue.h"

#include "gtest/gtest.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fanout/test_alerts.h"

namespace tariffalert {
namespace {

using testing::Encoded;

// Parses a batch the way a client would: one SubscribeAlertsResponse.
v1::SubscribeAlertsResponse Parse(const Batch& batch) {
  std::string bytes;
  for (const grpc::Slice& s : batch.slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  v1::SubscribeAlertsResponse r;
  EXPECT_TRUE(r.ParseFromString(bytes));
  return r;
}

TEST(SubscriberQueueTest, EverythingQueuedDuringAWriteGoesOutAsOneMessage) {
  SubscriberQueue q(QueueLimits{});
  for (uint64_t s = 1; s <= 3; ++s)
    ASSERT_TRUE(q.Push(Encoded(s, "T" + std::to_string(s))));
  Batch b = q.TakeBatch();
  EXPECT_EQ(b.alert_count, 3u);
  EXPECT_EQ(b.resume_sequence, 3u);
  v1::SubscribeAlertsResponse r = Parse(b);
  ASSERT_EQ(r.alerts_size(), 3);
  EXPECT_EQ(r.alerts(0).sequence(), 1u);
  EXPECT_EQ(r.alerts(1).subject(), "T2");
  EXPECT_EQ(r.alerts(2).sequence(), 3u);
  EXPECT_FALSE(r.has_heartbeat());
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.TakeBatch().empty());
}

EncodedAlertPtr Portfolio(uint64_t sequence) {
  v1::Alert a = testing::MakeAlert(sequence, "portfolio", -10);
  a.set_subject_kind(v1::SUBJECT_KIND_PORTFOLIO);
  return EncodeAlert(a);
}

TEST(SubscriberQueueTest, APortfolioAlertStaysInTheBatchOfItsEventsLastAlert) {
  QueueLimits limits;
  limits.max_batch_alerts = 2;
  SubscriberQueue q(limits);
  ASSERT_TRUE(q.Push(Encoded(1, "A")));
  ASSERT_TRUE(q.Push(Encoded(2, "B")));
  ASSERT_TRUE(q.Push(Portfolio(2)));
  ASSERT_TRUE(q.Push(Encoded(3, "C")));
  ASSERT_TRUE(q.Push(Encoded(4, "D")));
  ASSERT_TRUE(q.Push(Portfolio(5)));  // its event's last alert was filtered
  Batch b = q.TakeBatch();
  EXPECT_EQ(b.alert_count, 3u);  // past the batch bound, with 2
  EXPECT_EQ(b.resume_sequence, 2u);
  EXPECT_EQ(q.TakeBatch().alert_count, 2u);
  b = q.TakeBatch();
  EXPECT_EQ(b.alert_count, 1u);
  EXPECT_EQ(b.resume_sequence, 5u);
  EXPECT_EQ(Parse(b).alerts(0).subject_kind(), v1::SUBJECT_KIND_PORTFOLIO);
}

TEST(SubscriberQueueTest, BoundedInAlerts) {
  QueueLimits limits;
  limits.max_alerts = 2;
  SubscriberQueue q(limits);
  EXPECT_TRUE(q.Push(Encoded(1, "A")));
  EXPECT_TRUE(q.Push(Encoded(2, "B")));
  EXPECT_FALSE(q.Push(Encoded(3, "C")));
  EXPECT_EQ(q.alert_count(), 2u);
  q.TakeBatch();
  EXPECT_TRUE(q.Push(Encoded(3, "C")));  // room again once sent
}

TEST(SubscriberQueueTest, BoundedInBytes) {
  const size_t one = Encoded(1, "A")->bytes.size();
  QueueLimits limits;
  limits.max_bytes = one * 2 + one / 2;
  SubscriberQueue q(limits);
  EXPECT_TRUE(q.Push(Encoded(1, "A")));
  EXPECT_TRUE(q.Push(Encoded(2, "B")));
  EXPECT_FALSE(q.Push(Encoded(3, "C")));
  EXPECT_EQ(q.bytes(), one * 2);
}

TEST(SubscriberQueueTest, BatchesRespectTheWriteLimits) {
  QueueLimits limits;
  limits.max_batch_alerts = 2;
  SubscriberQueue q(limits);
  for (uint64_t s = 1; s <= 5; ++s) ASSERT_TRUE(q.Push(Encoded(s, "T")));
  EXPECT_EQ(q.TakeBatch().resume_sequence, 2u);
  EXPECT_EQ(q.TakeBatch().resume_sequence, 4u);
  Batch last = q.TakeBatch();
  EXPECT_EQ(last.alert_count, 1u);
  EXPECT_EQ(last.resume_sequence, 5u);
}

TEST(SubscriberQueueTest, HeartbeatsKeepTheirPlaceAndCoalesce) {
  SubscriberQueue q(QueueLimits{});
  ASSERT_TRUE(q.Push(Encoded(1, "A")));
  q.PushHeartbeat(EncodeHeartbeat(1, 0), 1);
  q.PushHeartbeat(EncodeHeartbeat(3, 0), 3);  // replaces the one above
  ASSERT_TRUE(q.Push(Encoded(4, "B")));

  Batch first = q.TakeBatch();
  EXPECT_EQ(Parse(first).alerts_size(), 1);
  Batch heartbeat = q.TakeBatch();
  v1::SubscribeAlertsResponse hb = Parse(heartbeat);
  EXPECT_EQ(hb.alerts_size(), 0);
  ASSERT_TRUE(hb.has_heartbeat());
  EXPECT_EQ(hb.heartbeat().newest_sequence(), 3u);
  EXPECT_EQ(heartbeat.resume_sequence, 3u);
  EXPECT_EQ(Parse(q.TakeBatch()).alerts(0).sequence(), 4u);
  EXPECT_TRUE(q.empty());
}

TEST(SubscriberQueueTest, ClearDropsEverything) {
  SubscriberQueue q(QueueLimits{});
  ASSERT_TRUE(q.Push(Encoded(1, "A")));
  q.PushHeartbeat(EncodeHeartbeat(1, 0), 1);
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.TakeBatch().empty());
}

}  // namespace
}  // namespace tariffalert
