// The metrics library without an HTTP endpoint: what each call counts, the
// label children that exist from the start, the Redis command labels, and
// the naming conventions of every family. The registry is process-wide, so
// each test reads a value before and after what it does.

#include "server/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "prometheus/metric_family.h"
#include "server/metrics/registry.h"
#include "tests/testing/metric_values.h"

namespace tariffalert {
namespace {

using Labels = testing::MetricLabels;
using testing::MetricSum;
using testing::MetricValue;

double Value(const std::string& name, const Labels& labels = {}) {
  return MetricValue(name, labels);
}

double HistogramSum(const std::string& name, const Labels& labels = {}) {
  return MetricSum(name, labels);
}

TEST(PublishResultOf, SortsEveryStatusIntoOneOfFiveResults) {
  using metrics::PublishResult;
  EXPECT_EQ(metrics::PublishResultOf(absl::OkStatus(), false),
            PublishResult::kOk);
  EXPECT_EQ(metrics::PublishResultOf(absl::OkStatus(), true),
            PublishResult::kDuplicate);
  for (const absl::Status& s :
       {absl::InvalidArgumentError("x"), absl::FailedPreconditionError("x"),
        absl::AlreadyExistsError("x"), absl::OutOfRangeError("x")}) {
    EXPECT_EQ(metrics::PublishResultOf(s, false), PublishResult::kInvalid) << s;
  }
  EXPECT_EQ(metrics::PublishResultOf(absl::UnavailableError("x"), false),
            PublishResult::kUnavailable);
  EXPECT_EQ(metrics::PublishResultOf(absl::DeadlineExceededError("x"), false),
            PublishResult::kUnavailable);
  EXPECT_EQ(metrics::PublishResultOf(absl::AbortedError("x"), false),
            PublishResult::kError);
  EXPECT_EQ(metrics::PublishResultOf(absl::InternalError("x"), false),
            PublishResult::kError);
}

TEST(Metrics, EveryPublishStageAndResultSeriesExistsBeforeTheFirstEvent) {
  // rate() and alerting rules need the series at 0, not absent.
  for (const char* stage : {"unspecified", "threatened", "announced",
                            "effective", "paused", "extended", "revoked"}) {
    for (const char* result :
         {"ok", "duplicate", "invalid", "unavailable", "error"}) {
      EXPECT_GE(Value("tariffalert_events_published_total",
                      {{"stage", stage}, {"result", result}}),
                0)
          << stage << " " << result;
    }
  }
  const std::string text = metrics::TextExposition();
  EXPECT_THAT(text, ::testing::HasSubstr("tariffalert_events_published_total{"
                                         "result=\"ok\",stage=\"effective\"}"));
  EXPECT_THAT(
      text, ::testing::HasSubstr("# TYPE tariffalert_publish_duration_seconds "
                                 "histogram"));
}

TEST(Metrics, EventPublishedCountsItsStageAndResultAndObservesTheLatency) {
  const Labels effective_ok = {{"stage", "effective"}, {"result", "ok"}};
  const Labels paused_ok = {{"stage", "paused"}, {"result", "ok"}};
  const Labels unspecified_invalid = {{"stage", "unspecified"},
                                      {"result", "invalid"}};
  const double effective =
      Value("tariffalert_events_published_total", effective_ok);
  const double paused = Value("tariffalert_events_published_total", paused_ok);
  const double invalid =
      Value("tariffalert_events_published_total", unspecified_invalid);
  const double count = Value("tariffalert_publish_duration_seconds");
  const double sum = HistogramSum("tariffalert_publish_duration_seconds");

  metrics::EventPublished(3, metrics::PublishResult::kOk, 0.002);
  metrics::EventPublished(4, metrics::PublishResult::kOk, 0.003);
  // No stage, or one the server does not know: "unspecified".
  metrics::EventPublished(0, metrics::PublishResult::kInvalid, 0.0001);
  metrics::EventPublished(99, metrics::PublishResult::kInvalid, 0.0001);
  metrics::EventPublished(-1, metrics::PublishResult::kInvalid, 0.0001);

  EXPECT_EQ(Value("tariffalert_events_published_total", effective_ok),
            effective + 1);
  EXPECT_EQ(Value("tariffalert_events_published_total", paused_ok), paused + 1);
  EXPECT_EQ(Value("tariffalert_events_published_total", unspecified_invalid),
            invalid + 3);
  EXPECT_EQ(Value("tariffalert_publish_duration_seconds"), count + 5);
  EXPECT_NEAR(HistogramSum("tariffalert_publish_duration_seconds"),
              sum + 0.0053, 1e-9);
  EXPECT_STREQ(metrics::PublishStageName(6), "revoked");
  EXPECT_STREQ(metrics::PublishStageName(7), "unspecified");
}

TEST(Metrics, TheQueueGaugesAreReadFromTheSourcesAtEachCollection) {
  EXPECT_EQ(Value("tariffalert_stream_queue_fullest_alerts"), 0);
  metrics::QueueDepth a{40, 4000, 50, 5000};
  const int first = metrics::AddQueueDepthSource([&a] { return a; });
  const int second = metrics::AddQueueDepthSource([] {
    return metrics::QueueDepth{3, 90000, 3, 90000};
  });
  EXPECT_EQ(Value("tariffalert_stream_queue_fullest_alerts"), 40);
  EXPECT_EQ(Value("tariffalert_stream_queue_fullest_bytes"), 90000);
  EXPECT_EQ(Value("tariffalert_stream_queued_alerts"), 53);
  EXPECT_EQ(Value("tariffalert_stream_queued_bytes"), 95000);
  // Read again at the next scrape, not kept from the last.
  a.fullest_alerts = 7;
  EXPECT_THAT(
      metrics::TextExposition(),
      ::testing::HasSubstr("tariffalert_stream_queue_fullest_alerts 7"));
  metrics::RemoveQueueDepthSource(first);
  metrics::RemoveQueueDepthSource(second);
  EXPECT_EQ(Value("tariffalert_stream_queue_fullest_alerts"), 0);
  EXPECT_EQ(Value("tariffalert_stream_queued_bytes"), 0);
}

TEST(Metrics, ScoringAndAlertsProduced) {
  const double scored = Value("tariffalert_scoring_duration_seconds");
  const double alerts = Value("tariffalert_alerts_produced_total");
  metrics::EventScored(0.00004);
  metrics::AlertsProduced(7);
  metrics::AlertsProduced(0);
  EXPECT_EQ(Value("tariffalert_scoring_duration_seconds"), scored + 1);
  EXPECT_EQ(Value("tariffalert_alerts_produced_total"), alerts + 7);
}

TEST(Metrics, StreamWritesCountAlertsBytesAndHeartbeatsApart) {
  const double alerts = Value("tariffalert_stream_alerts_written_total");
  const double bytes = Value("tariffalert_stream_bytes_written_total");
  const double writes = Value("tariffalert_stream_writes_total");
  const double heartbeats = Value("tariffalert_stream_heartbeats_total");

  metrics::StreamWrite(3, 300);
  metrics::StreamWrite(0, 20);  // a heartbeat

  EXPECT_EQ(Value("tariffalert_stream_alerts_written_total"), alerts + 3);
  EXPECT_EQ(Value("tariffalert_stream_bytes_written_total"), bytes + 320);
  EXPECT_EQ(Value("tariffalert_stream_writes_total"), writes + 2);
  EXPECT_EQ(Value("tariffalert_stream_heartbeats_total"), heartbeats + 1);
}

TEST(Metrics, ActiveStreamsGoUpAndDown) {
  const double active = Value("tariffalert_streams_active");
  metrics::StreamOpened();
  metrics::StreamOpened();
  EXPECT_EQ(Value("tariffalert_streams_active"), active + 2);
  metrics::StreamClosed();
  metrics::StreamClosed();
  EXPECT_EQ(Value("tariffalert_streams_active"), active);
}

TEST(Metrics, CutOffsAndResumesByResult) {
  const double cutoffs = Value("tariffalert_slow_consumer_cutoffs_total");
  const double replay =
      Value("tariffalert_stream_resumes_total", {{"result", "replay"}});
  const double refused =
      Value("tariffalert_stream_resumes_total", {{"result", "refused"}});
  ASSERT_GE(Value("tariffalert_stream_resumes_total", {{"result", "ahead"}}),
            0);
  metrics::SlowConsumerCutOff();
  metrics::StreamResumed(metrics::ResumeResult::kReplay);
  metrics::StreamResumed(metrics::ResumeResult::kRefused);
  metrics::StreamResumed(metrics::ResumeResult::kRefused);
  EXPECT_EQ(Value("tariffalert_slow_consumer_cutoffs_total"), cutoffs + 1);
  EXPECT_EQ(Value("tariffalert_stream_resumes_total", {{"result", "replay"}}),
            replay + 1);
  EXPECT_EQ(Value("tariffalert_stream_resumes_total", {{"result", "refused"}}),
            refused + 2);
}

TEST(RedisCommandLabel, IsTheFirstCommandsNameFromAFixedList) {
  EXPECT_EQ(metrics::RedisCommandLabel({"GET", "ta:book"}), "GET");
  EXPECT_EQ(metrics::RedisCommandLabel({"eval", "return 1", "0"}), "EVAL");
  EXPECT_EQ(metrics::RedisCommandLabel(
                {"XREAD", "COUNT", "10", "STREAMS", "ta:alerts", "0-0"}),
            "XREAD");
  // A blocking read's time is mostly its block: kept apart.
  EXPECT_EQ(metrics::RedisCommandLabel({"XREAD", "COUNT", "10", "BLOCK", "500",
                                        "STREAMS", "ta:alerts", "0-0"}),
            "XREAD_BLOCK");
  // After STREAMS come keys, whatever they are called.
  EXPECT_EQ(metrics::RedisCommandLabel({"XREAD", "STREAMS", "BLOCK", "0-0"}),
            "XREAD");
  // Anything else shares one label: the label set stays bounded.
  EXPECT_EQ(metrics::RedisCommandLabel({"FLUSHALL"}), "OTHER");
  EXPECT_EQ(metrics::RedisCommandLabel({"GET-ME-A-NEW-SERIES"}), "OTHER");
  EXPECT_EQ(metrics::RedisCommandLabel({}), "OTHER");
}

TEST(RedisCall, TimesTheRoundTripAndCountsAFailureUnlessDone) {
  const std::vector<std::vector<std::string>> get = {{"GET", "k"}};
  const Labels label = {{"command", "GET"}};
  const double count =
      Value("tariffalert_redis_command_duration_seconds", label);
  const double errors = Value("tariffalert_redis_errors_total", label);
  ASSERT_GE(count, 0);
  ASSERT_GE(errors, 0);
  {
    metrics::RedisCall call(get);
    call.Done(true);
  }
  EXPECT_EQ(Value("tariffalert_redis_command_duration_seconds", label),
            count + 1);
  EXPECT_EQ(Value("tariffalert_redis_errors_total", label), errors);
  {
    // An early return of a failure: Done never called.
    metrics::RedisCall call(get);
  }
  {
    metrics::RedisCall call(get);
    call.Done(false);  // an error reply
  }
  EXPECT_EQ(Value("tariffalert_redis_command_duration_seconds", label),
            count + 3);
  EXPECT_EQ(Value("tariffalert_redis_errors_total", label), errors + 2);
}

TEST(RedisCall, APipelineCountsOnceUnderItsFirstCommand) {
  const Labels multi = {{"command", "MULTI"}};
  const Labels set = {{"command", "SET"}};
  const double multis =
      Value("tariffalert_redis_command_duration_seconds", multi);
  const double sets = Value("tariffalert_redis_command_duration_seconds", set);
  {
    const std::vector<std::vector<std::string>> pipeline = {
        {"MULTI"}, {"SET", "a", "1"}, {"SET", "b", "2"}, {"EXEC"}};
    metrics::RedisCall call(pipeline);
    call.Done(true);
  }
  EXPECT_EQ(Value("tariffalert_redis_command_duration_seconds", multi),
            multis + 1);
  EXPECT_EQ(Value("tariffalert_redis_command_duration_seconds", set), sets);
}

TEST(Metrics, TheExposureInfoNamesOnlyTheVersionServing) {
  metrics::ExposureLoaded("v-test-1", 0.25);
  EXPECT_EQ(Value("tariffalert_exposure_info", {{"version", "v-test-1"}}), 1);
  EXPECT_EQ(Value("tariffalert_exposure_load_duration_seconds"), 0.25);
  EXPECT_GT(Value("tariffalert_exposure_loaded_timestamp_seconds"),
            1.7e9);  // a Unix time in seconds, not milliseconds
  EXPECT_LT(Value("tariffalert_exposure_loaded_timestamp_seconds"), 1e11);

  metrics::ExposureLoaded("v-test-2", 0.5);
  EXPECT_EQ(Value("tariffalert_exposure_info", {{"version", "v-test-1"}}), -1);
  EXPECT_EQ(Value("tariffalert_exposure_info", {{"version", "v-test-2"}}), 1);
  EXPECT_EQ(Value("tariffalert_exposure_load_duration_seconds"), 0.5);

  const double rejected = Value("tariffalert_exposure_rejected_total");
  metrics::ExposureRejected();
  EXPECT_EQ(Value("tariffalert_exposure_rejected_total"), rejected + 1);
  // A rejection leaves the serving version's series alone.
  EXPECT_EQ(Value("tariffalert_exposure_info", {{"version", "v-test-2"}}), 1);
}

TEST(Metrics, GaugesTakeTheLastValue) {
  metrics::SetBook(42, 3);
  EXPECT_EQ(Value("tariffalert_book_revision"), 42);
  EXPECT_EQ(Value("tariffalert_book_pauses_pending"), 3);
  metrics::SetBook(43, 0);
  EXPECT_EQ(Value("tariffalert_book_revision"), 43);
  EXPECT_EQ(Value("tariffalert_book_pauses_pending"), 0);

  metrics::SetTailerLag(1500);
  EXPECT_EQ(Value("tariffalert_log_tailer_lag_sequences"), 1500);
  metrics::SetTailerLag(0);
  EXPECT_EQ(Value("tariffalert_log_tailer_lag_sequences"), 0);

  const double watchers = Value("tariffalert_console_watchers");
  metrics::ConsoleWatcherOpened();
  EXPECT_EQ(Value("tariffalert_console_watchers"), watchers + 1);
  metrics::ConsoleWatcherClosed();
  EXPECT_EQ(Value("tariffalert_console_watchers"), watchers);
}

TEST(Metrics, EveryFamilyFollowsThePrometheusNamingConventions) {
  const std::vector<prometheus::MetricFamily> families =
      metrics::Exposed()->Collect();
  ASSERT_GE(families.size(), 20u);
  for (const prometheus::MetricFamily& f : families) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(absl::StartsWith(f.name, "tariffalert_"));
    EXPECT_FALSE(f.help.empty());
    switch (f.type) {
      case prometheus::MetricType::Counter:
        EXPECT_TRUE(absl::EndsWith(f.name, "_total"));
        break;
      case prometheus::MetricType::Histogram:
        // Base units: seconds, never milliseconds.
        EXPECT_TRUE(absl::EndsWith(f.name, "_seconds"));
        break;
      case prometheus::MetricType::Gauge:
        EXPECT_FALSE(absl::EndsWith(f.name, "_total"));
        break;
      default:
        ADD_FAILURE() << "unexpected type";
    }
    EXPECT_FALSE(absl::StrContains(f.name, "_ms")) << "not a base unit";
  }
}

}  // namespace
}  // namespace tariffalert
