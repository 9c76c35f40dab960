#ifndef TARIFF_ALERT_BENCH_CQ_ALERT_SERVICE_H_
#define TARIFF_ALERT_BENCH_CQ_ALERT_SERVICE_H_

// SubscribeAlerts on gRPC's completion-queue (async) API, for the B2/B3
// comparison with the callback API that issue 5 asked for (fanout_server
// --api cq). Not the production path: server/service/alert_stream.h is, which
// since issue 5 uses these mechanics too (fanout_server --api callback runs
// it); this match-all variant stays as the baseline.
//
// The method is registered raw, as in production, so every stream writes the
// hub's pre-serialized alert bytes. One ServerCompletionQueue per thread, each
// thread running its own CQ's Next loop, with several RequestSubscribeAlerts
// outstanding on each CQ. A stream lives on the CQ its call was accepted on.
//
// Each stream is a Subscriber of the hub with the same queue and batching as
// AlertStream: one write in flight, which carries everything queued meanwhile
// as one message. Deliver (called by the hub under its lock, from the
// publisher or heartbeat thread) only queues and, if the stream is idle,
// wakes its CQ thread with an Alarm set to the past; every Write and Finish
// is started on a CQ thread, so the writes of many streams go out on both
// cores while the publisher moves on. Starting the write in Deliver itself,
// on the publisher's thread under the hub's lock, was measured too (issue 5):
// on B2 with 100 subscribers it delivered 40-50% less per second and 30-55%
// less per server CPU-second, and B3 was no better.
// Only live subscriptions with the match-all filter: the request is parsed
// and otherwise ignored (no resume, no filter, no holdings).
//
// Lock order: the hub's lock, then a stream's. A stream never calls into the
// hub while holding its own lock.

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/subscriber_queue.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"

namespace tariffalert::bench {

struct CqServiceOptions {
  size_t threads = 2;           // one CQ each
  size_t requests_per_cq = 16;  // RequestSubscribeAlerts kept outstanding
  QueueLimits limits;
};

using RawSubscribeService =
    v1::AlertService::WithRawMethod_SubscribeAlerts<v1::AlertService::Service>;

class CqAlertService {
 public:
  CqAlertService(AlertHub* hub, CqServiceOptions options);
  // Stop() must have run if Start() did.
  ~CqAlertService();
  CqAlertService(const CqAlertService&) = delete;
  CqAlertService& operator=(const CqAlertService&) = delete;

  // Before builder->BuildAndStart(): registers the service and adds the CQs.
  void AddTo(grpc::ServerBuilder* builder);
  // After BuildAndStart(): posts the requests and starts the CQ threads.
  void Start();
  // After the server's Shutdown() returned (every call is then over or
  // cancelled): waits for the streams to finish and go, then shuts the CQs
  // down, drains them and joins their threads.
  void Stop();

  // For the streams.
  RawSubscribeService* service() { return &service_; }
  AlertHub* hub() const { return hub_; }
  const CqServiceOptions& options() const { return options_; }
  // Posts a new RequestSubscribeAlerts on `cq`, unless stopping.
  void Request(grpc::ServerCompletionQueue* cq) ABSL_LOCKS_EXCLUDED(mu_);
  void StreamGone() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run(grpc::ServerCompletionQueue* cq);

  AlertHub* const hub_;
  const CqServiceOptions options_;
  RawSubscribeService service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::thread> threads_;

  absl::Mutex mu_;
  // Set by Stop(): no new requests, so nothing new starts on a CQ.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Streams not yet deleted, including those still waiting for a call.
  size_t streams_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tariffalert::bench

#endif  // TARIFF_ALERT_BENCH_CQ_ALERT_SERVICE_H_
