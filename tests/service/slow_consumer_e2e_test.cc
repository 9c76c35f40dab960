// A slow consumer (DESIGN.md "Delivery semantics", issue 4): one of 20
// subscribers stops reading. Its bounded queue overflows, it is ended with
// RESOURCE_EXHAUSTED and its last delivered sequence in the ta-last-sequence
// trailer, it resumes from there and ends with every alert; the 19 others get
// every alert, dense, while it is still stopped; the process's RSS stays
// under a stated bound. Real server on 127.0.0.1:0, the test redis-server,
// real gRPC clients; every wait bounded.

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "server/service/alert_stream.h"
#include "tests/service/delivery_harness.h"
#include "tests/testing/metric_values.h"

namespace tariffalert {
namespace {

using testing::DeliveryTestBase;
using testing::Published;
using testing::Range;
using testing::Replica;
using testing::RssBytes;
using testing::SequenceStream;

// Each subscriber on its own connection, as separate processes would be. The
// stopped one also gets a small transport window (no BDP probing, 4 KiB
// lookahead), so the server's queue, not the client's buffers, takes the
// backlog.
std::shared_ptr<grpc::Channel> OwnChannel(int port, bool small_window) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (small_window) {
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4096);
  }
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

class SlowConsumerE2eTest : public DeliveryTestBase {};

TEST_F(SlowConsumerE2eTest,
       AStoppedSubscriberIsCutOffResumesAndTheOthersGetEverything) {
  // Small bounds, so the backlog the test publishes is many queues' worth.
  options_.queue.max_alerts = 256;
  options_.queue.max_bytes = 128 << 10;
  options_.queue.max_batch_alerts = 64;
  options_.queue.max_batch_bytes = 32 << 10;
  Replica a = Start();
  const int port = a.server->port();

  constexpr int kFast = 19;
  std::vector<std::unique_ptr<SequenceStream>> fast;
  for (int i = 0; i < kFast; ++i) {
    fast.push_back(std::make_unique<SequenceStream>(OwnChannel(port, false),
                                                    std::nullopt));
  }
  auto stopped = std::make_unique<SequenceStream>(
      OwnChannel(port, true), std::nullopt, /*paused=*/true);
  for (auto& s : fast) ASSERT_TRUE(s->WaitForHeartbeat());
  // The stopped one is subscribed once the hub counts 20 (it reads nothing,
  // so it cannot see its own heartbeat).
  for (int i = 0; i < 200 && a.server->hub().subscriber_count() < kFast + 1;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(a.server->hub().subscriber_count(), kFast + 1u);

  const uint64_t baseline = RssBytes();
  ASSERT_GT(baseline, 0u);
  std::atomic<bool> sampling{true};
  std::atomic<uint64_t> peak{baseline};
  std::thread sampler([&] {
    // At most 10 minutes of samples; stopped long before.
    for (int i = 0; i < 60000 && sampling; ++i) {
      const uint64_t rss = RssBytes();
      uint64_t seen = peak;
      while (rss > seen && !peak.compare_exchange_weak(seen, rss)) {
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  });

  // ~10,000 alerts: about 40 times the stopped stream's queue bound.
  const Published p = PublishAtLeast(a, 10000);
  const uint64_t last = p.last_sequence;

  // Every other subscriber has everything while the stopped one still reads
  // nothing: nobody waited for it.
  bool fast_ok = true;
  for (int i = 0; i < kFast; ++i) {
    const bool got = fast[i]->WaitForSequence(last, absl::Seconds(60));
    EXPECT_TRUE(got) << "subscriber " << i;
    EXPECT_EQ(fast[i]->sequences(), Range(1, last)) << "subscriber " << i;
    fast_ok = fast_ok && got;
  }
  const uint64_t published_bytes = fast[0]->alert_bytes();
  sampling = false;
  sampler.join();
  const uint64_t end_rss = RssBytes();
  ASSERT_TRUE(fast_ok);

  // Now it reads what its transport holds, then learns it was cut off.
  stopped->Unpause();
  ASSERT_TRUE(stopped->WaitForEnd());
  EXPECT_EQ(stopped->status().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED)
      << stopped->status().error_message();
  uint64_t cut = 0;
  ASSERT_TRUE(absl::SimpleAtoi(stopped->Trailer(kLastSequenceTrailer), &cut))
      << "trailer '" << stopped->Trailer(kLastSequenceTrailer) << "'";
  EXPECT_LT(cut, last);
  // What it got before the cut is exactly 1..cut.
  EXPECT_EQ(stopped->sequences(), Range(1, cut));
  EXPECT_EQ(stopped->last_alert(), cut);

  SequenceStream resumed(OwnChannel(port, false), cut);
  ASSERT_TRUE(resumed.WaitForSequence(last, absl::Seconds(60)));
  std::vector<uint64_t> all = stopped->sequences();
  const std::vector<uint64_t> rest = resumed.sequences();
  all.insert(all.end(), rest.begin(), rest.end());
  EXPECT_EQ(all, Range(1, last));

  // The bound: the in-process server and clients may grow by 64 MiB over
  // the baseline taken with every stream open and nothing published. What
  // the server holds by design is the hub's log (all ~10,000 alerts here,
  // ~8 MB serialized, each shared by every queue that holds it) and 20
  // queues of at most 256 alerts / 128 KiB; the clients keep 8 bytes per
  // alert. Measured growth is about a third of the bound; the rest is slack
  // for gRPC's buffers and the allocator on a loaded machine.
  constexpr uint64_t kBound = 64ull << 20;
  const uint64_t peak_rss = std::max<uint64_t>(peak, end_rss);
  RecordProperty("rss_baseline_kib", static_cast<int>(baseline >> 10));
  RecordProperty("rss_peak_kib", static_cast<int>(peak_rss >> 10));
  RecordProperty("rss_end_kib", static_cast<int>(end_rss >> 10));
  RecordProperty("alerts", static_cast<int>(last));
  RecordProperty("alert_bytes_per_subscriber",
                 static_cast<int>(published_bytes));
  RecordProperty("cut_at", static_cast<int>(cut));
  EXPECT_LE(peak_rss, baseline + kBound)
      << "baseline " << (baseline >> 10) << " KiB, peak " << (peak_rss >> 10)
      << " KiB";
}

// The operator's view of the same thing: while a subscriber has stopped,
// /metrics shows its queue as the fullest, within the bound; once it reads
// again the queue drains and the gauges fall back to 0.
TEST_F(SlowConsumerE2eTest, TheFullestQueueIsInTheMetricsUntilItDrains) {
  options_.queue.max_alerts = 5000;  // the backlog fits: no cut-off
  options_.queue.max_bytes = 16 << 20;
  Replica a = Start();
  const int port = a.server->port();
  SequenceStream reading(OwnChannel(port, false), std::nullopt);
  auto stopped = std::make_unique<SequenceStream>(
      OwnChannel(port, true), std::nullopt, /*paused=*/true);
  ASSERT_TRUE(reading.WaitForHeartbeat());
  for (int i = 0; i < 200 && a.server->hub().subscriber_count() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(a.server->hub().subscriber_count(), 2u);

  const Published p = PublishAtLeast(a, 2000);
  ASSERT_TRUE(reading.WaitForSequence(p.last_sequence, absl::Seconds(60)));
  // What the stopped stream's transport did not take is in its queue.
  const double fullest =
      testing::MetricValue("tariffalert_stream_queue_fullest_alerts");
  const double fullest_bytes =
      testing::MetricValue("tariffalert_stream_queue_fullest_bytes");
  const double queued =
      testing::MetricValue("tariffalert_stream_queued_alerts");
  RecordProperty("fullest_alerts", static_cast<int>(fullest));
  EXPECT_GT(fullest, 100) << "of " << p.last_sequence << " alerts published";
  EXPECT_LE(fullest, static_cast<double>(p.last_sequence));
  EXPECT_GT(fullest_bytes, 0);
  // The reading stream's queue is (about) empty: the total is the stopped
  // one's, give or take a batch in flight.
  EXPECT_GE(queued, fullest);
  EXPECT_LE(queued, fullest + 512);

  stopped->Unpause();
  ASSERT_TRUE(stopped->WaitForSequence(p.last_sequence, absl::Seconds(60)));
  double after = -1;
  for (int i = 0; i < 500; ++i) {
    after = testing::MetricValue("tariffalert_stream_queue_fullest_alerts");
    if (after == 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(after, 0);
  EXPECT_EQ(testing::MetricValue("tariffalert_stream_queued_alerts"), 0);
}

}  // namespace
}  // namespace tariffalert
