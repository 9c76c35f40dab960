// The client library end to end: a real server on 127.0.0.1:0 against the
// test redis-server, and an AlertSubscriber that must end up with every
// sequence exactly once, in order, whatever ends its streams: a slow-consumer
// cut-off, a dropped or frozen connection, heartbeat silence, retention, a
// server shutdown. Every wait is bounded; no assertion is on a duration.

#include <unistd.h>

#include <fstream>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "clients/lib/alert_subscriber.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_exposure_store.h"
#include "server/service/server.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/clients/tcp_proxy.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31\n"
    "BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04\n"
    "STZ,Constellation Brands,Consumer Staples,US,40000000000,0.49,0.33\n"
    "NUE,Nucor,Materials,US,35000000000,0.85,0.12\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.43\n"
    "AAPL,sourcing,CN,*,0.7\n"
    "BBY,revenue,US,*,0.92\n"
    "BBY,sourcing,CN,*,0.55\n"
    "BBY,sourcing,MX,*,0.2\n"
    "STZ,revenue,US,*,0.98\n"
    "STZ,production,MX,*,0.85\n"
    "NUE,revenue,US,*,0.95\n"
    "NUE,production,US,*,1\n";

// Records what the subscriber hands over; tests wait on it, bounded.
class Recorder : public AlertHandler {
 public:
  // The first OnAlerts blocks until Release(): a consumer that stalls.
  void BlockFirstBatch() { block_ = true; }
  void Release() { release_.Notify(); }

  void OnAlerts(absl::Span<const v1::Alert> alerts) override {
    if (block_ && !blocked_once_) {
      blocked_once_ = true;
      release_.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    absl::MutexLock lock(&mu_);
    for (const v1::Alert& a : alerts) sequences_.push_back(a.sequence());
  }
  void OnHeartbeat(const v1::Heartbeat& heartbeat) override {
    absl::MutexLock lock(&mu_);
    ++heartbeats_;
  }
  void OnStateChange(const StateChange& change) override {
    absl::MutexLock lock(&mu_);
    states_.push_back(change);
  }
  void OnGap(const Gap& gap) override {
    absl::MutexLock lock(&mu_);
    gaps_.push_back(gap);
  }

  bool WaitForSequence(uint64_t sequence,
                       absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !sequences_.empty() && sequences_.back() >= sequence;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }
  // Until `n` state changes of `state` have been seen.
  bool WaitForState(SubscriberState state, int n = 1,
                    absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      int count = 0;
      for (const auto& s : states_) count += s.state == state;
      return count >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

  std::vector<uint64_t> sequences() {
    absl::MutexLock lock(&mu_);
    return sequences_;
  }
  std::vector<StateChange> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  std::vector<Gap> gaps() {
    absl::MutexLock lock(&mu_);
    return gaps_;
  }
  std::vector<StateChange> Reconnects() {
    std::vector<StateChange> out;
    for (const auto& s : states()) {
      if (s.state == SubscriberState::kReconnecting) out.push_back(s);
    }
    return out;
  }

 private:
  bool block_ = false;
  bool blocked_once_ = false;  // the subscriber's thread only
  absl::Notification release_;
  absl::Mutex mu_;
  std::vector<uint64_t> sequences_ ABSL_GUARDED_BY(mu_);
  int heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<StateChange> states_ ABSL_GUARDED_BY(mu_);
  std::vector<Gap> gaps_ ABSL_GUARDED_BY(mu_);
};

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

class AlertSubscriberE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.redis = testing::TestRedisOptions();
    Load();
    options_.listen_address = "127.0.0.1:0";
    // Plaintext on loopback; tests/security covers TLS and tokens.
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(20);
    options_.hub.heartbeat_interval = absl::Milliseconds(200);
  }
  void TearDown() override {
    if (subscriber_ != nullptr) subscriber_->Stop();
  }

  void StartServer() {
    auto server = TariffAlertServer::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    publisher_ = v1::TariffEventService::NewStub(channel_);
  }

  void Load() {
    auto loaded =
        testing::LoadTestExposure(options_.redis, kCompanies, kExposures);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
  }

  // Event i moves the US tariff on China (even i) or Mexico (odd i) to a
  // new rate each time, so every event makes alerts. Returns the last
  // sequence of the last event published.
  uint64_t PublishEvents(int first, int count) {
    uint64_t last = 0;
    for (int i = first; i < first + count; ++i) {
      v1::PublishEventRequest request;
      v1::TariffEvent* e = request.mutable_event();
      e->set_event_id(absl::StrCat("ev-", i));
      e->set_imposing_country("US");
      e->add_target_countries(i % 2 == 0 ? "CN" : "MX");
      e->set_new_rate_pct(10 + i);
      e->set_stage(v1::STAGE_EFFECTIVE);
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
      v1::PublishEventResponse response;
      grpc::Status s = publisher_->PublishEvent(&context, request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      EXPECT_GT(response.alert_count(), 0u) << i;
      last = std::max<uint64_t>(last, response.last_sequence());
    }
    return last;
  }

  SubscriberOptions ClientOptions(int port) {
    SubscriberOptions o;
    o.server_address = absl::StrCat("127.0.0.1:", port);
    o.initial_backoff = absl::Milliseconds(20);
    o.max_backoff = absl::Milliseconds(200);
    o.deadline = absl::Now() + absl::Seconds(90);
    return o;
  }

  void Subscribe(SubscriberOptions o) {
    subscriber_ = std::make_unique<AlertSubscriber>(std::move(o), &recorder_);
    ASSERT_TRUE(subscriber_->Start().ok());
  }

  ServerOptions options_;
  std::unique_ptr<TariffAlertServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TariffEventService::Stub> publisher_;
  Recorder recorder_;
  std::unique_ptr<AlertSubscriber> subscriber_;
};

// A consumer that stalls while alerts pour in overflows its server queue and
// is cut off with RESOURCE_EXHAUSTED; the library resumes after what it had
// and the consumer ends up with every alert once.
TEST_F(AlertSubscriberE2eTest, ASlowConsumerIsCutOffAndResumesWithoutLoss) {
  options_.queue.max_alerts = 16;
  StartServer();
  recorder_.BlockFirstBatch();
  SubscriberOptions o = ClientOptions(server_->port());
  o.receive_window_bytes = 64 << 10;
  Subscribe(o);
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kLive));

  // The first event's batch blocks the handler; 300 more queue up behind
  // it, far more than the 64 KiB window and the 16-alert queue hold.
  const uint64_t last = PublishEvents(0, 300);
  recorder_.Release();
  ASSERT_TRUE(recorder_.WaitForSequence(last, absl::Seconds(60)));

  EXPECT_EQ(recorder_.sequences(), Range(1, last));
  const SubscriberStats stats = subscriber_->stats();
  EXPECT_GE(stats.slow_consumer_cutoffs, 1);
  EXPECT_EQ(stats.alerts_delivered, last);
  bool cut_off = false;
  for (const StateChange& r : recorder_.Reconnects()) {
    if (r.status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) continue;
    cut_off = true;
    ASSERT_TRUE(r.server_last_sequence.has_value());
    // The trailer never claims more than the client had.
    EXPECT_LE(*r.server_last_sequence, *r.resume_after);
  }
  EXPECT_TRUE(cut_off);
}

// The connection drops mid-stream (the proxy closes it) while events keep
// coming: the library reconnects and resumes after the last sequence seen.
TEST_F(AlertSubscriberE2eTest, ADroppedConnectionIsResumedWithoutLossOrRepeat) {
  StartServer();
  testing::TcpProxy proxy(server_->port());
  ASSERT_NE(proxy.port(), 0);
  Subscribe(ClientOptions(proxy.port()));
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kLive));
  uint64_t last = PublishEvents(0, 10);
  ASSERT_TRUE(recorder_.WaitForSequence(last));
  for (int round = 0; round < 3; ++round) {
    proxy.Cut();
    last = PublishEvents(10 + round * 10, 10);
    ASSERT_TRUE(recorder_.WaitForSequence(last)) << "round " << round;
  }
  EXPECT_EQ(recorder_.sequences(), Range(1, last));
  EXPECT_GE(subscriber_->stats().reconnects, 3);
  EXPECT_GE(proxy.connections(), 4);
  for (const StateChange& r : recorder_.Reconnects()) {
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << r.status.error_message();
    EXPECT_TRUE(r.resume_after.has_value());
  }
}

// The connection stays open but nothing comes through (a half-open
// connection, a stalled middlebox): only heartbeat silence shows it. The
// library cancels, opens a new connection and resumes.
TEST_F(AlertSubscriberE2eTest, AFrozenConnectionIsDetectedByHeartbeatSilence) {
  StartServer();
  testing::TcpProxy proxy(server_->port());
  ASSERT_NE(proxy.port(), 0);
  SubscriberOptions o = ClientOptions(proxy.port());
  o.heartbeat_timeout = absl::Seconds(1);  // server heartbeats every 200 ms
  Subscribe(o);
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kLive));
  uint64_t last = PublishEvents(0, 5);
  ASSERT_TRUE(recorder_.WaitForSequence(last));
  proxy.Freeze();
  last = PublishEvents(5, 5);
  ASSERT_TRUE(recorder_.WaitForSequence(last));
  EXPECT_EQ(recorder_.sequences(), Range(1, last));
  EXPECT_GE(subscriber_->stats().heartbeat_silences, 1);
  EXPECT_GE(proxy.connections(), 2);
  const auto reconnects = recorder_.Reconnects();
  ASSERT_FALSE(reconnects.empty());
  EXPECT_TRUE(reconnects.front().heartbeat_silence);
  EXPECT_THAT(reconnects.front().status.error_message(),
              HasSubstr("heartbeat silence"));
}

// A server whose heartbeats are rarer than the client's silence timeout: the
// stream is resumed again and again, and nothing is lost or repeated.
TEST_F(AlertSubscriberE2eTest, HeartbeatSilenceResumesWithoutLoss) {
  options_.hub.heartbeat_interval = absl::Seconds(60);
  StartServer();
  SubscriberOptions o = ClientOptions(server_->port());
  o.heartbeat_timeout = absl::Milliseconds(300);
  Subscribe(o);
  uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    // Each round waits for one more silence, then publishes.
    ASSERT_TRUE(
        recorder_.WaitForState(SubscriberState::kReconnecting, round + 1));
    last = PublishEvents(round * 4, 4);
    ASSERT_TRUE(recorder_.WaitForSequence(last));
  }
  EXPECT_EQ(recorder_.sequences(), Range(1, last));
  EXPECT_GE(subscriber_->stats().heartbeat_silences, 3);
}

// Resuming from before the log's retention: the gap is reported with the
// oldest sequence held, and the stream continues from there.
TEST_F(AlertSubscriberE2eTest, AResumePointOutOfRetentionIsReportedAsAGap) {
  options_.hub.log_capacity = 20;
  StartServer();
  const uint64_t before = PublishEvents(0, 12);
  ASSERT_GT(before, 40u);
  SubscriberOptions o = ClientOptions(server_->port());
  o.resume_after_sequence = 0;
  Subscribe(o);
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kLive));
  const uint64_t last = PublishEvents(12, 2);
  ASSERT_TRUE(recorder_.WaitForSequence(last));

  const auto gaps = recorder_.gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].resume_after, 0u);
  EXPECT_GT(gaps[0].oldest_retained, 1u);
  EXPECT_EQ(gaps[0].status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(recorder_.sequences(), Range(gaps[0].oldest_retained, last));
  EXPECT_EQ(subscriber_->stats().gaps, 1);
}

// A bad filter is permanent: one attempt, then the subscriber stops with the
// server's status.
TEST_F(AlertSubscriberE2eTest, ABadFilterStopsItWithTheStatus) {
  StartServer();
  SubscriberOptions o = ClientOptions(server_->port());
  o.filter.add_countries("Narnia");
  Subscribe(o);
  const auto status = subscriber_->Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status->error_message(), HasSubstr("filter.countries[0]"));
  EXPECT_EQ(subscriber_->stats().streams, 1);
  EXPECT_TRUE(recorder_.Reconnects().empty());
  ASSERT_FALSE(recorder_.states().empty());
  EXPECT_EQ(recorder_.states().back().state, SubscriberState::kStopped);
}

// Server shutdown: the stream ends with UNAVAILABLE and the library keeps
// trying. A server restarted on the same port (and the same Redis) has the
// shared log: the library resumes there, and gets what is published next,
// with nothing repeated.
TEST_F(AlertSubscriberE2eTest, AfterShutdownItResumesOnTheRestartedServer) {
  StartServer();
  const int port = server_->port();
  Subscribe(ClientOptions(port));
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kLive));
  const uint64_t last = PublishEvents(0, 3);
  ASSERT_TRUE(recorder_.WaitForSequence(last));

  server_->Shutdown(absl::Seconds(1));
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kReconnecting, 2));
  const auto reconnects = recorder_.Reconnects();
  EXPECT_EQ(reconnects[0].status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(reconnects[0].status.error_message(), HasSubstr("shutting down"));
  EXPECT_EQ(reconnects[0].resume_after, last);
  EXPECT_GE(subscriber_->stats().reconnects, 2);  // nothing listening

  server_.reset();
  options_.listen_address = absl::StrCat("127.0.0.1:", port);
  StartServer();
  const uint64_t later = PublishEvents(3, 6);
  ASSERT_GT(later, last);
  ASSERT_TRUE(recorder_.WaitForSequence(later));
  EXPECT_EQ(recorder_.sequences(), Range(1, later));
  EXPECT_FALSE(subscriber_->Wait(absl::ZeroDuration()).has_value())
      << "it is still running";
}

// Stop is prompt whatever the subscriber is doing: waiting between attempts
// against a port nobody listens on, or reading a live stream.
TEST_F(AlertSubscriberE2eTest, StopEndsItWhileRetryingAndWhileLive) {
  StartServer();
  {
    int dead_port = 0;
    {
      testing::TcpProxy closed(1);  // binds a port, then goes away
      dead_port = closed.port();
    }
    Recorder recorder;
    SubscriberOptions o = ClientOptions(dead_port);
    o.initial_backoff = absl::Seconds(2);
    o.max_backoff = absl::Seconds(2);
    AlertSubscriber subscriber(o, &recorder);
    ASSERT_TRUE(subscriber.Start().ok());
    ASSERT_TRUE(recorder.WaitForState(SubscriberState::kReconnecting));
    subscriber.Stop();
    const auto status = subscriber.Wait(absl::ZeroDuration());
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(status->ok()) << status->error_message();
    EXPECT_EQ(recorder.states().back().state, SubscriberState::kStopped);
  }
  Subscribe(ClientOptions(server_->port()));
  ASSERT_TRUE(recorder_.WaitForState(SubscriberState::kLive));
  subscriber_->Stop();
  const auto status = subscriber_->Wait(absl::ZeroDuration());
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok());
}

}  // namespace
}  // namespace tariffalert
