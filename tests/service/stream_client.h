#ifndef TARIFF_ALERT_TESTS_SERVICE_STREAM_CLIENT_H_
#define TARIFF_ALERT_TESTS_SERVICE_STREAM_CLIENT_H_

// A SubscribeAlerts client for tests: reads on its own thread into a list the
// test waits on, with a bound on every wait.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"

namespace tariffalert::testing {

class StreamClient {
 public:
  StreamClient(std::shared_ptr<grpc::Channel> channel,
               v1::SubscribeAlertsRequest request)
      : stub_(v1::AlertService::NewStub(channel)) {
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(60));
    reader_ = stub_->SubscribeAlerts(&context_, request);
    thread_ = std::thread([this] { Run(); });
  }
  ~StreamClient() {
    context_.TryCancel();
    thread_.join();
  }

  // Waits until `done` holds over what was received, up to `timeout`.
  // (Predicates are the members below: they read private state.)
  template <typename Pred>
  bool WaitFor(Pred done, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return done(*this); };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
  bool WaitForHeartbeat(absl::Duration timeout = absl::Seconds(10)) {
    return WaitFor([](const StreamClient& c) { return !c.heartbeats_.empty(); },
                   timeout);
  }
  bool WaitForSequence(uint64_t sequence,
                       absl::Duration timeout = absl::Seconds(10)) {
    return WaitFor(
        [sequence](const StreamClient& c) {
          return c.newest_seen_ >= sequence || c.finished_;
        },
        timeout);
  }
  bool WaitForAlertCount(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    return WaitFor(
        [n](const StreamClient& c) {
          return c.alerts_.size() >= n || c.finished_;
        },
        timeout);
  }
  bool WaitForEnd(absl::Duration timeout = absl::Seconds(10)) {
    return WaitFor([](const StreamClient& c) { return c.finished_; }, timeout);
  }

  std::vector<v1::Alert> alerts() {
    absl::MutexLock lock(&mu_);
    return alerts_;
  }
  std::vector<uint64_t> heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  int messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  // After WaitForEnd.
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::string Trailer(const std::string& key) {
    absl::MutexLock lock(&mu_);
    for (const auto& [k, v] : context_.GetServerTrailingMetadata()) {
      if (k == key) return std::string(v.data(), v.size());
    }
    return "";
  }

 private:
  void Run() {
    v1::SubscribeAlertsResponse r;
    while (true) {
      if (!reader_->Read(&r)) break;
      absl::MutexLock lock(&mu_);
      ++messages_;
      for (const auto& a : r.alerts()) {
        alerts_.push_back(a);
        newest_seen_ = std::max(newest_seen_, a.sequence());
      }
      if (r.has_heartbeat()) {
        heartbeats_.push_back(r.heartbeat().newest_sequence());
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
  std::vector<v1::Alert> alerts_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> heartbeats_ ABSL_GUARDED_BY(mu_);
  uint64_t newest_seen_ ABSL_GUARDED_BY(mu_) = 0;
  int messages_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_SERVICE_STREAM_CLIENT_H_
