#ifndef TARIFF_ALERT_TESTS_SERVICE_DELIVERY_HARNESS_H_
#define TARIFF_ALERT_TESTS_SERVICE_DELIVERY_HARNESS_H_

// Shared by the resume, slow-consumer and soak tests: an exposure table on
// which every event yields a dozen alerts, replicas on the test Redis (one
// key prefix per test, shared by the test's replicas), an event source whose
// every event moves the book, a light stream client that keeps only
// sequences (so that thousands of alerts do not weigh on the RSS the tests
// measure), and this process's RSS. Every wait is bounded.

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_exposure_store.h"
#include "server/service/server.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/testing/redis_env.h"

namespace tariffalert::testing {

// The countries events target; each company sources from one of them.
inline constexpr const char* kTargets[] = {"CN", "MX", "VN", "DE"};
inline constexpr int kTargetCount = 4;

// 24 US-listed companies in 6 sectors, company i sourcing from kTargets[i % 4]
// (and, for every third, producing there too): an event on one target scores
// 6 companies and their sectors.
struct ExposureCsv {
  std::string companies;
  std::string exposures;
};
inline ExposureCsv TestExposureCsv() {
  static constexpr const char* kSectors[] = {"Information Technology",
                                             "Consumer Discretionary",
                                             "Industrials",
                                             "Consumer Staples",
                                             "Materials",
                                             "Health Care"};
  std::ostringstream c, e;
  c << "ticker,name,sector,country,market_cap_usd,cogs_ratio,"
       "operating_margin\n";
  e << "ticker,kind,country,product,share\n";
  for (int i = 0; i < 24; ++i) {
    const std::string ticker = absl::StrCat("T", i < 10 ? "0" : "", i);
    c << ticker << ",Company " << i << "," << kSectors[i % 6] << ",US,"
      << (1 + i) * 1000000000LL << "," << 0.4 + 0.01 * i << ","
      << 0.05 + 0.005 * i << "\n";
    e << ticker << ",revenue,US,*,0.6\n";
    e << ticker << ",sourcing," << kTargets[i % kTargetCount] << ",*,"
      << 0.3 + 0.02 * i << "\n";
    if (i % 3 == 0) {
      e << ticker << ",production," << kTargets[i % kTargetCount] << ",*,0.4\n";
    }
  }
  return ExposureCsv{c.str(), e.str()};
}

// The n-th event of a run: the US on kTargets[n % 4], each target's rate
// alternating between 25% and 50%, so that every event changes the book and
// produces alerts.
inline v1::TariffEvent NthEvent(uint64_t n) {
  const std::string target = kTargets[n % kTargetCount];
  v1::TariffEvent e;
  e.set_event_id(absl::StrCat("ev-", n));
  e.set_imposing_country("US");
  e.add_target_countries(target);
  e.set_measure_id(absl::StrCat("m-", target));
  e.set_new_rate_pct((n / kTargetCount) % 2 == 0 ? 25 : 50);
  e.set_stage(v1::STAGE_EFFECTIVE);
  return e;
}

// VmRSS of this process (servers and clients alike), in bytes; 0 if unknown.
inline uint64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
    }
  }
  return 0;
}

inline std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

// One replica and a client channel to it.
struct Replica {
  std::unique_ptr<TariffAlertServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::TariffEventService::Stub> events;
};

// A server with `options` and a channel to it; fails the test (and returns
// an empty Replica) if it does not start.
inline Replica StartReplica(const ServerOptions& options) {
  Replica r;
  auto server = TariffAlertServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return r;
  r.server = *std::move(server);
  r.channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", r.server->port()),
                                  grpc::InsecureChannelCredentials());
  r.events = v1::TariffEventService::NewStub(r.channel);
  return r;
}

// What a run of publishes produced.
struct Published {
  int events = 0;
  uint64_t alerts = 0;
  uint64_t first_sequence = 0;  // 0 if no alert
  uint64_t last_sequence = 0;
};

class DeliveryTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.redis = TestRedisOptions();
    const ExposureCsv csv = TestExposureCsv();
    auto loaded =
        LoadTestExposure(options_.redis, csv.companies, csv.exposures);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    options_.listen_address = "127.0.0.1:0";
    // Plaintext on loopback; tests/security covers TLS and tokens.
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(50);
    options_.hub.heartbeat_interval = absl::Milliseconds(200);
  }

  Replica Start() { return StartReplica(options_); }
  static Replica Start(const ServerOptions& options) {
    return StartReplica(options);
  }

  // Publishes the next event of the run on `r` (thread-safe).
  absl::StatusOr<v1::PublishEventResponse> PublishNext(Replica& r) {
    v1::PublishEventRequest request;
    *request.mutable_event() = NthEvent(next_event_++);
    v1::PublishEventResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Status s = r.events->PublishEvent(&context, request, &response);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          s.error_message());
    }
    return response;
  }

  // Publishes events on `r` until at least `alerts` alerts were made (at most
  // `max_events` events). Fails the test on an error.
  Published PublishAtLeast(Replica& r, uint64_t alerts, int max_events = 5000) {
    Published p;
    while (p.alerts < alerts && p.events < max_events) {
      auto response = PublishNext(r);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      ++p.events;
      if (response->alert_count() == 0) continue;
      EXPECT_FALSE(response->duplicate());
      if (p.first_sequence == 0) p.first_sequence = response->first_sequence();
      // Dense across this run's own publishes (one publisher at a time).
      if (p.last_sequence != 0) {
        EXPECT_EQ(response->first_sequence(), p.last_sequence + 1);
      }
      p.last_sequence = response->last_sequence();
      p.alerts += response->alert_count();
    }
    EXPECT_GE(p.alerts, alerts) << "after " << p.events << " events";
    return p;
  }

  ServerOptions options_;
  std::atomic<uint64_t> next_event_{0};
};

// A SubscribeAlerts stream that keeps only the sequences it receives. With
// `paused` it reads nothing until Unpause(): a consumer that stopped reading,
// whose transport window soon fills.
class SequenceStream {
 public:
  SequenceStream(std::shared_ptr<grpc::Channel> channel,
                 std::optional<uint64_t> resume_after, bool paused = false,
                 absl::Duration deadline = absl::Seconds(90))
      : stub_(v1::AlertService::NewStub(channel)), paused_(paused) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::SubscribeAlertsRequest request;
    if (resume_after) request.set_resume_after_sequence(*resume_after);
    reader_ = stub_->SubscribeAlerts(&context_, request);
    thread_ = std::thread([this] { Run(); });
  }
  ~SequenceStream() {
    Cancel();
    thread_.join();
  }

  void Unpause() {
    absl::MutexLock lock(&mu_);
    paused_ = false;
  }
  void Cancel() {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  // Until an alert or heartbeat at or past `sequence`, or the end.
  bool WaitForSequence(uint64_t sequence,
                       absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return newest_seen_ >= sequence || finished_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout) &&
           newest_seen_ >= sequence;
  }
  bool WaitForHeartbeat(absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return heartbeats_ > 0 || finished_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout) &&
           heartbeats_ > 0;
  }
  bool WaitForEnd(absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&finished_), timeout);
  }

  std::vector<uint64_t> sequences() {
    absl::MutexLock lock(&mu_);
    return sequences_;
  }
  uint64_t last_alert() {
    absl::MutexLock lock(&mu_);
    return sequences_.empty() ? 0 : sequences_.back();
  }
  size_t messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  // The newest_sequence of the stream's first heartbeat (0 before it).
  uint64_t first_heartbeat() {
    absl::MutexLock lock(&mu_);
    return first_heartbeat_;
  }
  // The serialized size of the alerts received.
  uint64_t alert_bytes() {
    absl::MutexLock lock(&mu_);
    return alert_bytes_;
  }
  // After WaitForEnd.
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  // After WaitForEnd; "" if absent.
  std::string Trailer(const std::string& key) {
    absl::MutexLock lock(&mu_);
    for (const auto& [k, v] : context_.GetServerTrailingMetadata()) {
      if (k == key) return std::string(v.data(), v.size());
    }
    return "";
  }

 private:
  void Run() {
    {
      absl::MutexLock lock(&mu_);
      auto go = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !paused_ || cancelled_;
      };
      // Bounded by the stream's deadline, after which Read fails anyway.
      mu_.AwaitWithTimeout(absl::Condition(&go), absl::Seconds(90));
    }
    v1::SubscribeAlertsResponse r;
    while (reader_->Read(&r)) {
      absl::MutexLock lock(&mu_);
      ++messages_;
      for (const auto& a : r.alerts()) {
        alert_bytes_ += a.ByteSizeLong();
        sequences_.push_back(a.sequence());
        newest_seen_ = std::max(newest_seen_, a.sequence());
      }
      if (r.has_heartbeat()) {
        ++heartbeats_;
        first_heartbeat_ = heartbeats_ == 1 ? r.heartbeat().newest_sequence()
                                            : first_heartbeat_;
        newest_seen_ = std::max(newest_seen_, r.heartbeat().newest_sequence());
      }
    }
    grpc::Status status = reader_->Finish();
    absl::MutexLock lock(&mu_);
    status_ = status;
    finished_ = true;
  }

  std::unique_ptr<v1::AlertService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeAlertsResponse>> reader_;
  absl::Mutex mu_;
  bool paused_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> sequences_ ABSL_GUARDED_BY(mu_);
  uint64_t newest_seen_ ABSL_GUARDED_BY(mu_) = 0;
  size_t heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t alert_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t first_heartbeat_ ABSL_GUARDED_BY(mu_) = 0;
  size_t messages_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_SERVICE_DELIVERY_HARNESS_H_
