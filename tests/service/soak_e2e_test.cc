// Soak (issue 4; ctest label "soak"): steady publishing on two replicas of one
// Redis for about two minutes (TA_SOAK_SECONDS, 5..3600, overrides), with 50
// subscribers that disconnect at random points of the sequence and resume on
// a random replica (fixed seed); some sessions stall for a second and may be
// cut off as slow consumers (the ta-last-sequence trailer must name their
// last alert), then resume the same way. In the end every subscriber has
// received 1..last exactly once, in order, and the process's RSS has grown
// by less than a stated bound after warm-up. The schedule is random, the
// outcome is not: every wait and loop is bounded and nothing asserts a
// duration.

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/service/alert_stream.h"
#include "tests/service/delivery_harness.h"

namespace tariffalert {
namespace {

using testing::DeliveryTestBase;
using testing::Replica;
using testing::RssBytes;

constexpr int kSubscribers = 50;
constexpr uint64_t kSeed = 20260404;
// One event (9 alerts) per interval, alternating between the replicas.
constexpr absl::Duration kPublishInterval = absl::Milliseconds(20);
// A subscriber disconnects after 1..kMaxSessionAlerts alerts.
constexpr uint64_t kMaxSessionAlerts = 400;
// One session in kStallOdds stops reading for kStall halfway through, long
// enough for its queue (bounded small below) to overflow at the publishing
// rate: it may then be cut off, and resumes like any other.
constexpr int kStallOdds = 8;
constexpr absl::Duration kStall = absl::Seconds(1);
// Alerts each replica's hub keeps: the log reaches its steady size early.
constexpr size_t kLogCapacity = 5000;
// RSS may grow this much after warm-up (see the test's end).
constexpr uint64_t kRssGrowthBound = 32ull << 20;

absl::Duration SoakDuration() {
  int seconds = 120;
  if (const char* env = std::getenv("TA_SOAK_SECONDS"); env != nullptr) {
    int parsed = 0;
    if (absl::SimpleAtoi(env, &parsed)) seconds = parsed;
  }
  return absl::Seconds(std::clamp(seconds, 5, 3600));
}

// What one subscriber saw over all its sessions.
struct Tally {
  uint64_t next = 1;  // the sequence it expects next
  uint64_t received = 0;
  uint64_t gaps = 0;
  uint64_t repeats = 0;
  uint64_t first_bad = 0;  // the sequence of the first gap or repeat
  int sessions = 0;
  int stalls = 0;
  int cut_off = 0;  // RESOURCE_EXHAUSTED
  int other_ends = 0;
  std::string first_error;
  int trailer_mismatches = 0;
  std::string first_mismatch;
};

class SoakE2eTest : public DeliveryTestBase {};

TEST_F(SoakE2eTest,
       FiftySubscribersResumingAtRandomEachGetTheCompleteSequence) {
  const absl::Duration duration = SoakDuration();
  options_.hub.log_capacity = kLogCapacity;
  // The publisher's in-process dedupe map is a cache in front of the event
  // records in Redis, bounded by count (100,000 events by default, about
  // 1 KiB each): at this rate it would grow for the whole run by design and
  // hide what the bound below is for. Kept small, it is full after warm-up.
  options_.publisher.dedupe_capacity = 1000;
  options_.queue.max_alerts = 128;
  options_.queue.max_bytes = 256 << 10;
  // Redis keeps more than the hubs: a resume never depends on the trim.
  options_.alert_log.retention = 4 * kLogCapacity;
  Replica replicas[2] = {Start(), Start()};
  ASSERT_NE(replicas[0].server, nullptr);
  ASSERT_NE(replicas[1].server, nullptr);
  const uint64_t rss_start = RssBytes();
  // The subscribers' connections, one per replica, with small stream windows
  // (no BDP probing, 4 KiB lookahead): a stalled stream's backlog stays in
  // the server's queue, where the bound applies, not in client buffers.
  std::shared_ptr<grpc::Channel> channels[2];
  for (int r = 0; r < 2; ++r) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4096);
    channels[r] = grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", replicas[r].server->port()),
        grpc::InsecureChannelCredentials(), args);
  }

  // Set once publishing has stopped: the last sequence every subscriber must
  // reach. Until then 0.
  std::atomic<uint64_t> final_sequence{0};
  std::atomic<bool> abort{false};
  std::atomic<int> done{0};
  std::vector<Tally> tallies(kSubscribers);  // one per thread
  std::vector<std::thread> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    subscribers.emplace_back([&, i] {
      struct Done {
        std::atomic<int>& n;
        ~Done() { ++n; }
      } count_me{done};
      Tally& t = tallies[i];
      std::mt19937_64 rng(kSeed + i);
      // A run has a few hundred sessions per subscriber: each ends after at
      // most kMaxSessionAlerts alerts, a cut-off, a 30 s deadline, or the end.
      for (int session = 0; session < 100000 && !abort; ++session) {
        const uint64_t final = final_sequence;
        if (final != 0 && t.next > final) return;
        const int replica = static_cast<int>(rng() % 2);
        const uint64_t leave_at = t.next + rng() % kMaxSessionAlerts;
        const bool stall = rng() % kStallOdds == 0;
        const uint64_t stall_at = t.next + (leave_at - t.next) / 2;
        auto stub = v1::AlertService::NewStub(channels[replica]);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
        v1::SubscribeAlertsRequest request;
        request.set_resume_after_sequence(t.next - 1);
        auto reader = stub->SubscribeAlerts(&context, request);
        ++t.sessions;
        bool left = false;
        bool stalled = false;
        v1::SubscribeAlertsResponse response;
        // Heartbeats come every 200 ms, so each Read returns soon.
        while (!left && reader->Read(&response)) {
          for (const v1::Alert& a : response.alerts()) {
            const uint64_t s = a.sequence();
            ++t.received;
            if (s != t.next) {
              if (t.first_bad == 0) t.first_bad = s;
              if (s < t.next) {
                ++t.repeats;
                continue;
              }
              ++t.gaps;
            }
            t.next = s + 1;
          }
          if (stall && !stalled && t.next > stall_at) {
            stalled = true;
            ++t.stalls;
            absl::SleepFor(kStall);
          }
          const uint64_t f = final_sequence;
          if (t.next > leave_at || (f != 0 && t.next > f) || abort) {
            context.TryCancel();
            left = true;
          }
        }
        const grpc::Status status = reader->Finish();
        if (left) continue;
        if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++t.cut_off;
          // The trailer names where this subscriber stands: it got every
          // alert, so its own last one.
          std::string trailer;
          for (const auto& [k, v] : context.GetServerTrailingMetadata()) {
            if (k == kLastSequenceTrailer)
              trailer = std::string(v.data(), v.size());
          }
          uint64_t named = 0;
          if (!absl::SimpleAtoi(trailer, &named) || named != t.next - 1) {
            if (t.trailer_mismatches++ == 0) {
              t.first_mismatch = absl::StrCat("trailer '", trailer,
                                              "' after sequence ", t.next - 1);
            }
          }
        } else if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
          // Any other end breaks the contract, e.g. OUT_OF_RANGE "ahead of
          // the newest sequence": a replica that had not yet read the shared
          // log that far refused the resume. The subscriber resumes anyway,
          // so the sequence checks below stand on their own.
          ++t.other_ends;
          if (t.first_error.empty()) {
            t.first_error =
                absl::StrCat(status.error_code(), ": ", status.error_message());
          }
        }
      }
    });
  }

  // Steady publishing; RSS baseline once the hubs' logs are full (or a
  // quarter of the way in, on short runs), then sampled every second.
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  uint64_t published_alerts = 0;
  uint64_t last_sequence = 0;
  int events = 0;
  int failures = 0;
  std::string first_failure;
  uint64_t rss_baseline = 0;
  uint64_t rss_peak = 0;
  absl::Time next_sample = start;
  absl::Time next_report = start;
  std::ostringstream timeline;  // RSS / heap in use every 10 s
  const int max_events = static_cast<int>(duration / kPublishInterval) + 1;
  for (int i = 0; i < max_events && absl::Now() < end; ++i) {
    auto response = PublishNext(replicas[i % 2]);
    if (response.ok()) {
      ++events;
      published_alerts += response->alert_count();
      if (response->alert_count() > 0) {
        if (response->first_sequence() != last_sequence + 1) {
          if (first_failure.empty()) {
            first_failure = absl::StrCat("event ", i, " starts at ",
                                         response->first_sequence(), " after ",
                                         last_sequence);
          }
          ++failures;
        }
        last_sequence = response->last_sequence();
      }
    } else {
      if (first_failure.empty()) first_failure = response.status().ToString();
      ++failures;
    }
    const absl::Time now = absl::Now();
    if (rss_baseline == 0 && (published_alerts >= kLogCapacity + 1000 ||
                              now - start >= duration / 4)) {
      rss_baseline = RssBytes();
      rss_peak = rss_baseline;
    }
    if (rss_baseline != 0 && now >= next_sample) {
      const uint64_t rss = RssBytes();
      rss_peak = std::max(rss_peak, rss);
      if (now >= next_report) {
        const struct mallinfo2 heap = mallinfo2();
        timeline << " " << (now - start) / absl::Seconds(1)
                 << "s:" << (rss >> 20) << "/"
                 << ((heap.uordblks + heap.hblkhd) >> 20) << "MiB";
        next_report = now + absl::Seconds(10);
      }
      next_sample = now + absl::Seconds(1);
    }
    absl::SleepFor(kPublishInterval);
  }
  final_sequence = last_sequence;

  // Every subscriber catches up to the end and leaves (bounded: then the
  // stragglers are told to stop, which each sees within a heartbeat).
  bool drained = false;
  for (int i = 0; i < 900 && !drained; ++i) {
    drained = done == kSubscribers;
    if (!drained) absl::SleepFor(absl::Milliseconds(100));
  }
  if (!drained) abort = true;
  for (auto& t : subscribers) t.join();
  const uint64_t rss_end = RssBytes();
  rss_peak = std::max(rss_peak, rss_end);

  EXPECT_EQ(failures, 0) << first_failure;
  EXPECT_TRUE(drained);
  ASSERT_GT(last_sequence, 0u);
  EXPECT_EQ(published_alerts, last_sequence);
  int sessions = 0, stalls = 0, cut_off = 0, other_ends = 0;
  for (int i = 0; i < kSubscribers; ++i) {
    const Tally& t = tallies[i];
    sessions += t.sessions;
    stalls += t.stalls;
    cut_off += t.cut_off;
    other_ends += t.other_ends;
    EXPECT_EQ(t.next, last_sequence + 1) << "subscriber " << i;
    EXPECT_EQ(t.received, last_sequence) << "subscriber " << i;
    EXPECT_EQ(t.gaps, 0u) << "subscriber " << i << ", first at " << t.first_bad;
    EXPECT_EQ(t.repeats, 0u)
        << "subscriber " << i << ", first at " << t.first_bad;
    EXPECT_EQ(t.other_ends, 0) << "subscriber " << i << ": " << t.first_error;
    EXPECT_EQ(t.trailer_mismatches, 0)
        << "subscriber " << i << ": " << t.first_mismatch;
  }

  // The bound: after warm-up (both hubs' logs at their 5,000-alert capacity,
  // the dedupe caches full, every subscriber connected) the process holds a
  // fixed amount: two logs, two caches, 50 streams' queues, 50 client
  // threads. Growth beyond 32 MiB over the rest of the run means something
  // accumulates per alert or per resume (tens of thousands and about ten
  // thousand of them in two minutes); measured growth is far less (the
  // timeline printed below gives RSS / heap in use every 10 s).
  RecordProperty("soak_seconds", static_cast<int>(duration / absl::Seconds(1)));
  RecordProperty("events", events);
  RecordProperty("alerts", static_cast<int>(last_sequence));
  RecordProperty("resumes", sessions - kSubscribers);
  RecordProperty("stalls", stalls);
  RecordProperty("cut_offs", cut_off);
  RecordProperty("rss_start_kib", static_cast<int>(rss_start >> 10));
  RecordProperty("rss_baseline_kib", static_cast<int>(rss_baseline >> 10));
  RecordProperty("rss_peak_kib", static_cast<int>(rss_peak >> 10));
  RecordProperty("rss_end_kib", static_cast<int>(rss_end >> 10));
  std::cout << "soak: " << duration << ", " << events << " events, "
            << last_sequence << " alerts, " << kSubscribers << " subscribers, "
            << sessions - kSubscribers << " resumes, " << stalls << " stalls, "
            << cut_off << " cut-offs, " << other_ends
            << " other stream ends; RSS start " << (rss_start >> 10)
            << " KiB, after warm-up " << (rss_baseline >> 10) << " KiB, peak "
            << (rss_peak >> 10) << " KiB, end " << (rss_end >> 10) << " KiB;"
            << timeline.str() << std::endl;
  ASSERT_GT(rss_baseline, 0u);
  EXPECT_LE(rss_peak, rss_baseline + kRssGrowthBound);
}

}  // namespace
}  // namespace tariffalert
