// The client library's pure parts: where a subscriber stands, which alerts
// are repeats, what each way a stream ends leads to, and the backoff.

#include "clients/lib/resume_tracker.h"

#include <vector>

#include "absl/time/time.h"
#include "clients/lib/backoff.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

v1::SubscribeAlertsResponse Alerts(
    std::initializer_list<std::pair<uint64_t, v1::SubjectKind>> alerts) {
  v1::SubscribeAlertsResponse r;
  for (const auto& [seq, kind] : alerts) {
    v1::Alert* a = r.add_alerts();
    a->set_sequence(seq);
    a->set_subject_kind(kind);
  }
  return r;
}

std::vector<uint64_t> Sequences(const std::vector<v1::Alert>& alerts) {
  std::vector<uint64_t> out;
  for (const auto& a : alerts) out.push_back(a.sequence());
  return out;
}

constexpr v1::SubjectKind kTicker = v1::SUBJECT_KIND_TICKER;
constexpr v1::SubjectKind kPortfolio = v1::SUBJECT_KIND_PORTFOLIO;

TEST(ResumeTrackerTest, LiveStartHasNoPositionUntilTheFirstMessage) {
  ResumeTracker t(std::nullopt);
  EXPECT_EQ(t.resume_after(), std::nullopt);
  t.OnHeartbeat(41);
  EXPECT_EQ(t.resume_after(), 41u);
  ResumeTracker from(0);
  EXPECT_EQ(from.resume_after(), 0u);
}

TEST(ResumeTrackerTest, DropsRepeatsAndAlertsOutOfOrder) {
  ResumeTracker t(4);
  std::vector<v1::Alert> out;
  auto r = Alerts({{3, kTicker}, {4, kTicker}, {5, kTicker}, {6, kTicker}});
  EXPECT_EQ(t.Accept(r, &out), 2u);
  EXPECT_EQ(Sequences(out), (std::vector<uint64_t>{5, 6}));
  r = Alerts({{6, kTicker}, {5, kTicker}, {7, kTicker}});
  EXPECT_EQ(t.Accept(r, &out), 2u);
  EXPECT_EQ(Sequences(out), (std::vector<uint64_t>{7}));
  EXPECT_EQ(t.resume_after(), 7u);
}

TEST(ResumeTrackerTest, OnePortfolioAlertPassesAfterItsEventsLastAlert) {
  ResumeTracker t(0);
  std::vector<v1::Alert> out;
  auto r = Alerts({{1, kTicker}, {2, kTicker}, {2, kPortfolio}});
  EXPECT_EQ(t.Accept(r, &out), 0u);
  EXPECT_EQ(out.size(), 3u);
  // The same portfolio alert again (a replay from before 2) is a repeat.
  r = Alerts({{2, kTicker}, {2, kPortfolio}, {3, kTicker}});
  EXPECT_EQ(t.Accept(r, &out), 2u);
  EXPECT_EQ(Sequences(out), (std::vector<uint64_t>{3}));
}

TEST(ResumeTrackerTest, HeartbeatsMoveThePositionForwardOnly) {
  ResumeTracker t(10);
  t.OnHeartbeat(25);
  EXPECT_EQ(t.resume_after(), 25u);
  t.OnHeartbeat(20);
  EXPECT_EQ(t.resume_after(), 25u);
  std::vector<v1::Alert> out;
  auto r = Alerts({{24, kTicker}, {26, kTicker}});
  EXPECT_EQ(t.Accept(r, &out), 1u);
  EXPECT_EQ(Sequences(out), (std::vector<uint64_t>{26}));
}

TEST(ResumeTrackerTest, TransientEndsResume) {
  for (grpc::StatusCode code :
       {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::RESOURCE_EXHAUSTED,
        grpc::StatusCode::CANCELLED, grpc::StatusCode::INTERNAL,
        grpc::StatusCode::DEADLINE_EXCEEDED, grpc::StatusCode::UNKNOWN,
        grpc::StatusCode::OK}) {
    ResumeTracker t(7);
    auto action = t.OnStreamEnd(grpc::Status(code, "x"), std::nullopt);
    EXPECT_EQ(action.kind, ResumeTracker::EndAction::kResume) << code;
    EXPECT_EQ(t.resume_after(), 7u);
  }
}

TEST(ResumeTrackerTest, PermanentErrorsStop) {
  for (grpc::StatusCode code :
       {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::UNAUTHENTICATED,
        grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::UNIMPLEMENTED,
        grpc::StatusCode::FAILED_PRECONDITION}) {
    ResumeTracker t(7);
    auto action =
        t.OnStreamEnd(grpc::Status(code, "filter.x: bad"), std::nullopt);
    EXPECT_EQ(action.kind, ResumeTracker::EndAction::kStop) << code;
    EXPECT_EQ(action.status.error_code(), code);
  }
}

TEST(ResumeTrackerTest, TheTrailerCountsOnlyWithoutAPositionOfOurOwn) {
  ResumeTracker mine(30);
  mine.OnStreamEnd(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "x"), 12);
  EXPECT_EQ(mine.resume_after(), 30u);
  ResumeTracker none(std::nullopt);
  none.OnStreamEnd(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "x"), 12);
  EXPECT_EQ(none.resume_after(), 12u);
}

TEST(ResumeTrackerTest, BehindRetentionIsAGapFromTheOldestRetained) {
  ResumeTracker t(3);
  auto action = t.OnStreamEnd(
      grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                   "resume_after_sequence: alerts after 3 are no longer "
                   "retained; the oldest retained sequence is 21"),
      std::nullopt);
  EXPECT_EQ(action.kind, ResumeTracker::EndAction::kGap);
  EXPECT_EQ(action.gap_after, 3u);
  EXPECT_EQ(action.oldest_retained, 21u);
  EXPECT_EQ(t.resume_after(), 20u);
  // A replay that fell behind mid-stream says it differently.
  action = t.OnStreamEnd(
      grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                   "replay fell behind the alert log's retention; resume "
                   "after 20 is no longer possible (oldest retained 40)"),
      std::nullopt);
  EXPECT_EQ(action.kind, ResumeTracker::EndAction::kGap);
  EXPECT_EQ(t.resume_after(), 39u);
}

TEST(ResumeTrackerTest, AheadOfTheServersLogStops) {
  ResumeTracker t(500);
  auto action = t.OnStreamEnd(
      grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                   "resume_after_sequence: 500 is ahead of the newest "
                   "sequence 3"),
      std::nullopt);
  EXPECT_EQ(action.kind, ResumeTracker::EndAction::kStop);
  EXPECT_EQ(action.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(t.resume_after(), 500u);
}

TEST(ResumeTrackerTest, OldestRetainedParsing) {
  EXPECT_EQ(ResumeTracker::OldestRetained("the oldest retained sequence is 9"),
            9u);
  EXPECT_EQ(ResumeTracker::OldestRetained("(oldest retained 123)"), 123u);
  EXPECT_EQ(ResumeTracker::OldestRetained("ahead of the newest sequence 3"),
            std::nullopt);
  EXPECT_EQ(ResumeTracker::OldestRetained("oldest retained. 5"), std::nullopt);
  EXPECT_EQ(ResumeTracker::OldestRetained("oldest retained"), std::nullopt);
  EXPECT_EQ(
      ResumeTracker::OldestRetained("oldest retained 99999999999999999999999"),
      std::nullopt);
}

TEST(BackoffTest, DoublesToTheCapWithJitterAndResets) {
  Backoff b(absl::Milliseconds(100), absl::Seconds(2), 0.2);
  std::vector<absl::Duration> mid;
  for (int i = 0; i < 7; ++i) mid.push_back(b.Next(0.5));
  EXPECT_EQ(mid,
            (std::vector<absl::Duration>{
                absl::Milliseconds(100), absl::Milliseconds(200),
                absl::Milliseconds(400), absl::Milliseconds(800),
                absl::Milliseconds(1600), absl::Seconds(2), absl::Seconds(2)}));
  b.Reset();
  EXPECT_EQ(b.Next(0.0), absl::Milliseconds(80));
  EXPECT_EQ(b.Next(1.0), absl::Milliseconds(240));
  for (int i = 0; i < 10; ++i) EXPECT_LE(b.Next(0.999), absl::Seconds(2));
}

}  // namespace
}  // namespace tariffalert
