// Resume (DESIGN.md "Delivery semantics"): a subscriber that comes back with
// resume_after_sequence = S gets exactly the alerts after S, in order, no
// duplicate, then live ones; while publishing goes on; on another replica of
// the same Redis; after its replica shut down; and OUT_OF_RANGE naming the
// oldest sequence held when S fell out of the retained log. Real servers on
// 127.0.0.1:0, the test redis-server, real gRPC clients; every wait bounded.

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/service/alert_stream.h"
#include "tests/service/delivery_harness.h"
#include "tests/service/stream_client.h"

namespace tariffalert {
namespace {

using testing::DeliveryTestBase;
using testing::Published;
using testing::Range;
using testing::Replica;
using testing::SequenceStream;
using testing::StreamClient;

class ResumeE2eTest : public DeliveryTestBase {
 protected:
  static std::vector<uint64_t> Sequences(const std::vector<v1::Alert>& alerts) {
    std::vector<uint64_t> out;
    for (const auto& a : alerts) out.push_back(a.sequence());
    return out;
  }
  static v1::SubscribeAlertsRequest ResumeAfter(uint64_t sequence) {
    v1::SubscribeAlertsRequest r;
    r.set_resume_after_sequence(sequence);
    return r;
  }
};

TEST_F(ResumeE2eTest,
       AResumedSubscriberGetsExactlyTheMissedAlertsThenLiveOnes) {
  Replica a = Start();
  // Stays connected throughout: what every alert looks like.
  StreamClient reference(a.channel, {});
  ASSERT_TRUE(reference.WaitForHeartbeat());
  auto leaver =
      std::make_unique<StreamClient>(a.channel, v1::SubscribeAlertsRequest{});
  ASSERT_TRUE(leaver->WaitForHeartbeat());

  const Published before = PublishAtLeast(a, 100);
  ASSERT_TRUE(leaver->WaitForSequence(before.last_sequence));
  ASSERT_EQ(Sequences(leaver->alerts()), Range(1, before.last_sequence));
  const uint64_t last_seen = leaver->alerts().back().sequence();
  leaver.reset();  // disconnects

  const Published missed = PublishAtLeast(a, 1000);
  ASSERT_EQ(missed.first_sequence, last_seen + 1);
  ASSERT_GE(missed.last_sequence - last_seen, 1000u);

  StreamClient resumed(a.channel, ResumeAfter(last_seen));
  v1::SubscribeAlertsRequest tickers_only = ResumeAfter(last_seen);
  tickers_only.mutable_filter()->add_subject_kinds(v1::SUBJECT_KIND_TICKER);
  StreamClient filtered(a.channel, tickers_only);
  ASSERT_TRUE(resumed.WaitForSequence(missed.last_sequence));
  ASSERT_TRUE(filtered.WaitForSequence(missed.last_sequence));
  // The replay: exactly the missed ones, in order, nothing twice.
  EXPECT_EQ(Sequences(resumed.alerts()),
            Range(last_seen + 1, missed.last_sequence));
  // The replay's closing heartbeat follows its last alert: wait for it
  // rather than race it.
  ASSERT_TRUE(resumed.WaitForHeartbeat());

  // Then live.
  const Published live = PublishAtLeast(a, 100);
  ASSERT_TRUE(reference.WaitForSequence(live.last_sequence));
  ASSERT_TRUE(resumed.WaitForSequence(live.last_sequence));
  ASSERT_TRUE(filtered.WaitForSequence(live.last_sequence));
  const std::vector<v1::Alert> got = resumed.alerts();
  EXPECT_EQ(Sequences(got), Range(last_seen + 1, live.last_sequence));

  // The same alerts as the subscriber that never left, not just the numbers.
  const std::vector<v1::Alert> all = reference.alerts();
  ASSERT_EQ(Sequences(all), Range(1, live.last_sequence));
  std::vector<uint64_t> ticker_sequences;
  for (const v1::Alert& r : all) {
    if (r.sequence() <= last_seen) continue;
    const v1::Alert& g = got[r.sequence() - last_seen - 1];
    EXPECT_EQ(g.alert_id(), r.alert_id()) << "sequence " << r.sequence();
    EXPECT_EQ(g.event_id(), r.event_id()) << "sequence " << r.sequence();
    if (r.subject_kind() == v1::SUBJECT_KIND_TICKER) {
      ticker_sequences.push_back(r.sequence());
    }
  }
  // A filtered resume replays the matching ones only, no gap among them.
  EXPECT_FALSE(ticker_sequences.empty());
  EXPECT_LT(ticker_sequences.size(), got.size());
  EXPECT_EQ(Sequences(filtered.alerts()), ticker_sequences);
}

TEST_F(ResumeE2eTest,
       ResumingWhilePublishingContinuesEndsWithTheDenseSequence) {
  Replica a = Start();
  auto leaver = std::make_unique<SequenceStream>(a.channel, std::nullopt);
  ASSERT_TRUE(leaver->WaitForHeartbeat());
  const Published before = PublishAtLeast(a, 50);
  ASSERT_TRUE(leaver->WaitForSequence(before.last_sequence));
  ASSERT_EQ(leaver->sequences(), Range(1, before.last_sequence));
  const uint64_t last_seen = leaver->last_alert();
  leaver.reset();
  const Published missed = PublishAtLeast(a, 1000);
  ASSERT_GE(missed.last_sequence - last_seen, 1000u);

  // A publisher keeps going while subscribers resume at different points of
  // its run: each switch from replay to live happens under new alerts.
  constexpr int kEvents = 150;
  absl::Mutex mu;
  int published_events = 0;     // guarded by mu
  uint64_t last_published = 0;  // guarded by mu
  int failures = 0;             // guarded by mu
  std::thread publisher([&] {
    for (int i = 0; i < kEvents; ++i) {
      auto r = PublishNext(a);
      absl::MutexLock lock(&mu);
      if (!r.ok()) {
        ++failures;
        continue;
      }
      ++published_events;
      if (r->alert_count() > 0) last_published = r->last_sequence();
    }
  });
  auto reached = [&](int n) {
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      return published_events + failures >= n;
    };
    return mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(60));
  };
  std::vector<std::unique_ptr<SequenceStream>> resumed;
  for (int at : {1, 10, 40, 90}) {
    EXPECT_TRUE(reached(at));
    resumed.push_back(std::make_unique<SequenceStream>(a.channel, last_seen));
  }
  publisher.join();
  uint64_t last = 0;
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(published_events, kEvents);
    last = last_published;
  }
  ASSERT_GT(last, missed.last_sequence);
  for (size_t i = 0; i < resumed.size(); ++i) {
    ASSERT_TRUE(resumed[i]->WaitForSequence(last)) << "subscriber " << i;
    EXPECT_EQ(resumed[i]->sequences(), Range(last_seen + 1, last))
        << "subscriber " << i;
  }
}

TEST_F(ResumeE2eTest, AlertsPublishedOnOneReplicaResumeOnAnother) {
  Replica a = Start();
  Replica b = Start();
  SequenceStream watcher_on_b(b.channel, std::nullopt);
  ASSERT_TRUE(watcher_on_b.WaitForHeartbeat());
  auto leaver = std::make_unique<SequenceStream>(a.channel, std::nullopt);
  ASSERT_TRUE(leaver->WaitForHeartbeat());
  const Published before = PublishAtLeast(a, 100);
  ASSERT_TRUE(leaver->WaitForSequence(before.last_sequence));
  const uint64_t last_seen = leaver->last_alert();
  ASSERT_EQ(last_seen, before.last_sequence);
  leaver.reset();

  const Published missed = PublishAtLeast(a, 1000);
  // B has them once one of its own subscribers does.
  ASSERT_TRUE(watcher_on_b.WaitForSequence(missed.last_sequence));
  SequenceStream on_b(b.channel, last_seen);
  ASSERT_TRUE(on_b.WaitForSequence(missed.last_sequence));
  EXPECT_EQ(on_b.sequences(), Range(last_seen + 1, missed.last_sequence));

  // And live on B from A's next publishes.
  const Published live = PublishAtLeast(a, 50);
  ASSERT_TRUE(on_b.WaitForSequence(live.last_sequence));
  EXPECT_EQ(on_b.sequences(), Range(last_seen + 1, live.last_sequence));
  ASSERT_TRUE(watcher_on_b.WaitForSequence(live.last_sequence));
  EXPECT_EQ(watcher_on_b.sequences(), Range(1, live.last_sequence));
}

// Events on this table are large (2,000 companies source from CN): a
// replica that tails one from the shared log takes a while over it, so a
// client that saw the event's last alert on another replica and resumes here
// at once comes before the tail does.
class BigEventResumeE2eTest : public ResumeE2eTest {
 protected:
  void SetUp() override {
    ResumeE2eTest::SetUp();
    const std::string dir = ::testing::TempDir();
    const std::string c = absl::StrCat(dir, "/big_", ::getpid(), "_c.csv");
    const std::string e = absl::StrCat(dir, "/big_", ::getpid(), "_e.csv");
    {
      std::ofstream companies(c);
      std::ofstream exposures(e);
      companies << "ticker,name,sector,country,market_cap_usd,cogs_ratio,"
                   "operating_margin\n";
      exposures << "ticker,kind,country,product,share\n";
      for (int i = 0; i < 2000; ++i) {
        companies << "B" << i << ",Big " << i
                  << ",Industrials,US,1000000000,0.5,0.1\n";
        exposures << "B" << i << ",revenue,US,*,0.8\n"
                  << "B" << i << ",sourcing,CN,*,0.5\n";
      }
    }
    RedisExposureStore store(std::make_unique<RedisConnection>(options_.redis));
    auto loaded = LoadExposure(store, c, e);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
  }

  // The n-th big event (US on CN, 25% and 50% in turn), published on `r`.
  static absl::StatusOr<v1::PublishEventResponse> PublishBig(Replica& r,
                                                             int n) {
    v1::PublishEventRequest request;
    v1::TariffEvent& event = *request.mutable_event();
    event = testing::NthEvent(0);
    event.set_event_id(absl::StrCat("big-", n));
    event.set_new_rate_pct(n % 2 == 0 ? 25 : 50);
    v1::PublishEventResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    grpc::Status s = r.events->PublishEvent(&context, request, &response);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    if (response.alert_count() < 2000) {
      return absl::InternalError(
          absl::StrCat("only ", response.alert_count(), " alerts"));
    }
    return response;
  }
};

// The resume must be served (then exactly the alerts after S), not refused
// as ahead of B's newest. Tried after each of 5 events.
TEST_F(BigEventResumeE2eTest, AResumeOnAReplicaStillReadingTheLogIsServed) {
  Replica a = Start();
  Replica b = Start();
  constexpr int kTries = 5;
  int refused = 0;
  std::string first_refusal;
  std::vector<std::unique_ptr<SequenceStream>> resumed;
  std::vector<uint64_t> resumed_after;
  uint64_t last = 0;
  for (int i = 0; i <= kTries; ++i) {
    auto r = PublishBig(a, i);
    ASSERT_TRUE(r.ok()) << r.status();
    // What the previous try's stream got: this event's alerts, nothing of
    // what it resumed after.
    if (!resumed.empty() && resumed.back() != nullptr) {
      SequenceStream& s = *resumed.back();
      ASSERT_TRUE(s.WaitForSequence(r->last_sequence()));
      EXPECT_EQ(s.sequences(), Range(last + 1, r->last_sequence()))
          << "try " << i - 1;
      resumed.back().reset();
    }
    last = r->last_sequence();
    if (i == kTries) break;
    auto on_b = std::make_unique<SequenceStream>(b.channel, last);
    // Served: its first message is a heartbeat.
    if (on_b->WaitForHeartbeat()) {
      resumed.push_back(std::move(on_b));
      continue;
    }
    ASSERT_TRUE(on_b->WaitForEnd());
    ++refused;
    if (first_refusal.empty()) {
      first_refusal = absl::StrCat("try ", i, ": ", on_b->status().error_code(),
                                   " ", on_b->status().error_message());
    }
    resumed.push_back(nullptr);
  }
  EXPECT_EQ(refused, 0) << refused << " of " << kTries
                        << " resumes refused; first: " << first_refusal;
}

// A resumed stream that ends before it delivered anything must name its
// resume point (or later) in ta-last-sequence: a client that resumes from
// the trailer would otherwise get again what it already had. Here the
// resume is served ahead of B's hub, B's first heartbeat names B's newest,
// which is behind S, and B shuts down before publishing anything new. (No
// periodic heartbeats, which would name S once B caught up.)
TEST_F(BigEventResumeE2eTest,
       TheTrailerOfAResumeServedAheadOfTheHubIsNotBeforeTheResumePoint) {
  options_.hub.heartbeat_interval = absl::Hours(1);
  Replica a = Start();
  Replica b = Start();
  // B stops reading the log, so it is behind whatever A publishes now.
  b.server->StopFollowingLog();
  auto r = PublishBig(a, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  const uint64_t resume_point = r->last_sequence();
  auto ahead = std::make_unique<SequenceStream>(b.channel, resume_point);
  ASSERT_TRUE(ahead->WaitForHeartbeat()) << ahead->status().error_message();
  ASSERT_LT(ahead->first_heartbeat(), resume_point);
  b.server->Shutdown(absl::Seconds(1));
  ASSERT_TRUE(ahead->WaitForEnd());
  EXPECT_EQ(ahead->status().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(ahead->sequences().empty());
  uint64_t trailer = 0;
  ASSERT_TRUE(absl::SimpleAtoi(ahead->Trailer(kLastSequenceTrailer), &trailer))
      << "'" << ahead->Trailer(kLastSequenceTrailer) << "'";
  EXPECT_GE(trailer, resume_point)
      << "the first heartbeat named " << ahead->first_heartbeat();
}

// A publisher and three subscribers on A; A shuts down mid-stream. The
// publisher retries what failed on B with the same event_id (as a feed
// handler would), the subscribers resume on B after their last alert: in the
// end each has every alert of every acknowledged event, once.
TEST_F(ResumeE2eTest,
       SubscribersOfAShutDownReplicaResumeOnAnotherWithNothingLost) {
  Replica a = Start();
  Replica b = Start();
  constexpr int kSubscribers = 3;
  std::vector<std::unique_ptr<SequenceStream>> on_a;
  for (int i = 0; i < kSubscribers; ++i) {
    on_a.push_back(std::make_unique<SequenceStream>(a.channel, std::nullopt));
    ASSERT_TRUE(on_a.back()->WaitForHeartbeat());
  }

  constexpr int kEvents = 200;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> a_failed{false};
  std::map<uint64_t, uint64_t> ranges;  // first -> last; publisher thread only
  std::vector<std::string> errors;      // publisher thread only
  int duplicates = 0;                   // publisher thread only
  std::thread publisher([&] {
    for (int i = 0; i < kEvents; ++i) {
      v1::PublishEventRequest request;
      *request.mutable_event() = testing::NthEvent(next_event_++);
      bool done = false;
      for (int attempt = 0; attempt < 5 && !done; ++attempt) {
        Replica& target = a_failed ? b : a;
        v1::PublishEventResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(10));
        grpc::Status s =
            target.events->PublishEvent(&context, request, &response);
        if (!s.ok()) {
          // Whatever A answered while going down: fail over to B.
          if (&target == &a) {
            a_failed = true;
          } else {
            errors.push_back(s.error_message());
          }
          continue;
        }
        done = true;
        ++acknowledged;
        if (response.duplicate()) ++duplicates;
        if (response.alert_count() > 0) {
          ranges[response.first_sequence()] = response.last_sequence();
        }
      }
      if (!done) errors.push_back(absl::StrCat("event ", i, " not published"));
    }
  });

  // Mid-stream: the subscribers have seen some of the publisher's alerts.
  // (No ASSERT until the publisher is joined.)
  {
    bool seen = false;
    for (int i = 0; i < 600 && !seen; ++i) {
      seen = acknowledged >= 40;
      if (!seen) absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_TRUE(seen);
  }
  for (auto& s : on_a) EXPECT_TRUE(s->WaitForSequence(1));
  a.server->Shutdown(absl::Seconds(1));

  std::vector<std::unique_ptr<SequenceStream>> on_b;
  for (int i = 0; i < kSubscribers; ++i) {
    SequenceStream& s = *on_a[i];
    EXPECT_TRUE(s.WaitForEnd()) << "subscriber " << i;
    EXPECT_EQ(s.status().error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.status().error_message();
    const uint64_t last = s.last_alert();
    EXPECT_GT(last, 0u);
    uint64_t trailer = 0;
    EXPECT_TRUE(absl::SimpleAtoi(s.Trailer(kLastSequenceTrailer), &trailer))
        << "subscriber " << i;
    // An unfiltered stream's last delivered point is its last alert (or a
    // heartbeat naming it).
    EXPECT_EQ(trailer, last) << "subscriber " << i;
    on_b.push_back(std::make_unique<SequenceStream>(b.channel, last));
  }
  publisher.join();
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_EQ(acknowledged.load(), kEvents);
  EXPECT_TRUE(a_failed.load());

  // One set of alerts per event, and the sets tile 1..last.
  ASSERT_FALSE(ranges.empty());
  uint64_t next = 1;
  for (const auto& [first, last] : ranges) {
    EXPECT_EQ(first, next);
    next = last + 1;
  }
  const uint64_t final_sequence = ranges.rbegin()->second;
  for (int i = 0; i < kSubscribers; ++i) {
    ASSERT_TRUE(on_b[i]->WaitForSequence(final_sequence))
        << "subscriber " << i << ": " << on_b[i]->status().error_code() << " "
        << on_b[i]->status().error_message();
    std::vector<uint64_t> all = on_a[i]->sequences();
    const std::vector<uint64_t> rest = on_b[i]->sequences();
    all.insert(all.end(), rest.begin(), rest.end());
    EXPECT_EQ(all, Range(1, final_sequence)) << "subscriber " << i;
  }
  RecordProperty("duplicate_publish_responses", duplicates);
}

TEST_F(ResumeE2eTest,
       ResumeFromBeforeTheRetainedLogIsOutOfRangeNamingTheOldest) {
  options_.hub.log_capacity = 50;
  Replica a = Start();
  const Published p = PublishAtLeast(a, 200);
  const uint64_t oldest = a.server->hub().oldest_sequence();
  ASSERT_EQ(oldest, p.last_sequence - 49);

  for (uint64_t after : {uint64_t{0}, uint64_t{1}, oldest - 2}) {
    SequenceStream s(a.channel, after);
    ASSERT_TRUE(s.WaitForEnd()) << "after " << after;
    EXPECT_EQ(s.status().error_code(), grpc::StatusCode::OUT_OF_RANGE)
        << "after " << after;
    EXPECT_TRUE(absl::StrContains(
        s.status().error_message(),
        absl::StrCat("the oldest retained sequence is ", oldest)))
        << s.status().error_message();
    EXPECT_TRUE(s.sequences().empty());
  }
  // Right at the edge: everything held is replayed.
  SequenceStream edge(a.channel, oldest - 1);
  ASSERT_TRUE(edge.WaitForSequence(p.last_sequence));
  EXPECT_EQ(edge.sequences(), Range(oldest, p.last_sequence));
}

}  // namespace
}  // namespace tariffalert
