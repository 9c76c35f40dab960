#ifndef TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_
#define TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_

// The gRPC services: thin adapters from the wire to the publisher and the hub.
// Every unary method honours the client's deadline: a call whose deadline
// has passed is not started.

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/work_pool.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/portfolio_alert.h"
#include "server/fanout/subscriber_queue.h"
#include "server/ingest/publisher.h"
#include "server/security/tokens.h"
#include "server/service/server.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.pb.h"

namespace tariffalert {

// Both methods are registered raw and parse their requests themselves
// (server/service/request_parser.h), so that bad bytes get INVALID_ARGUMENT
// naming the field.
// Whose streams a call counts among: "token <name>" for its token in
// `tokens`, or "host <address>" on a server without tokens (`tokens` null).
// With a token, its hash too, so a stream can learn that it was revoked.
struct StreamClient {
  std::string key;
  std::optional<Sha256Digest> token_digest;
};
StreamClient StreamClientOf(const grpc::ServerContextBase& context,
                            const TokenStore* tokens);

class TariffEventServiceImpl final
    : public v1::TariffEventService::WithRawCallbackMethod_PublishEvent<
          v1::TariffEventService::WithRawCallbackMethod_GetEvent<
              v1::TariffEventService::Service>> {
 public:
  // PublishEvent runs on `publishes`' threads, GetEvent (which may read
  // Redis) on `calls`' (server/service/unary_call.h); both must outlive the
  // service's calls.
  TariffEventServiceImpl(Publisher* publisher, const AlertHub* hub,
                         WorkPool* publishes, WorkPool* calls);

  grpc::ServerUnaryReactor* PublishEvent(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  // The event, the first response to its publish (its rate changes) and its
  // alerts still in the log. An event this server does not remember
  // (published elsewhere, before a restart, or forgotten) is read from its
  // record in Redis; NOT_FOUND if there is none.
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;

  // The work of the two methods, apart from the bytes.
  absl::StatusOr<v1::PublishEventResponse> Publish(
      const v1::PublishEventRequest& request, absl::Time deadline);
  absl::StatusOr<v1::GetEventResponse> Get(const v1::GetEventRequest& request);

 private:
  Publisher* const publisher_;
  const AlertHub* const hub_;
  WorkPool* const publishes_;
  WorkPool* const calls_;
};

// Both methods are registered raw: responses are made of pre-serialized
// alert bytes shared by every stream and page (server/fanout/encoded_alert.h).
// SubscribeAlerts is served on the completion-queue (async) API, one
// ServerCompletionQueue per stream thread, each thread running its queue's
// Next loop with kRequestsPerQueue calls requested ahead; a stream
// (server/service/alert_stream.h) lives on the queue its call was accepted on.
// ListAlerts stays on the callback API.
//
// Lifetime: AddTo before the server's BuildAndStart, Start after it; Stop
// after the server's Shutdown and Wait returned, before the service is
// destroyed.
class AlertServiceImpl final
    : public v1::AlertService::WithRawMethod_SubscribeAlerts<
          v1::AlertService::WithRawCallbackMethod_ListAlerts<
              v1::AlertService::Service>> {
 public:
  static constexpr size_t kRequestsPerQueue = 16;

  // `portfolio`: parameters and exposure table for subscribers that send
  // holdings. `stream_threads`: threads (a completion queue each) that run
  // the streams; 0: one per core.
  // `request_limits`: the filter and holdings limits of ServerLimits.
  AlertServiceImpl(AlertHub* hub, QueueLimits limits,
                   PortfolioContext portfolio = {}, size_t stream_threads = 0,
                   ServerLimits request_limits = {});
  ~AlertServiceImpl() override;
  AlertServiceImpl(const AlertServiceImpl&) = delete;
  AlertServiceImpl& operator=(const AlertServiceImpl&) = delete;

  // Registers the service with `builder` and adds the completion queues.
  void AddTo(grpc::ServerBuilder* builder);
  // After BuildAndStart: requests the first calls and starts the threads.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // After the server's Shutdown and Wait (every call is then over or
  // cancelled): stops requesting calls, waits for the streams to go, then
  // shuts the queues down, drains them and joins the threads. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

  // For the streams.
  AlertHub* hub() const { return hub_; }
  const QueueLimits& limits() const { return limits_; }
  const ServerLimits& request_limits() const { return request_limits_; }
  const PortfolioContext& portfolio_context() const { return portfolio_; }
  // Requests another SubscribeAlerts call on `cq`, unless stopping.
  void Request(grpc::ServerCompletionQueue* cq) ABSL_LOCKS_EXCLUDED(mu_);
  // A stream (possibly one that never got a call) was deleted.
  void StreamGone() ABSL_LOCKS_EXCLUDED(mu_);
  // The tokens the auth processor checks calls against; null without.
  // Before Start.
  void set_token_store(const TokenStore* tokens) { tokens_ = tokens; }
  const TokenStore* token_store() const { return tokens_; }
  // What hides alerts from streams whose filter sets respect_silences (the
  // console state); null: such streams see every alert. Before Start.
  void set_alert_muter(std::shared_ptr<const AlertMuter> muter) {
    muter_ = std::move(muter);
  }
  const std::shared_ptr<const AlertMuter>& alert_muter() const {
    return muter_;
  }
  // Ends, with UNAUTHENTICATED, every stream whose token is no longer in
  // the tokens file (after a reload). Returns how many.
  size_t EndRevokedStreams();
  // A SubscribeAlerts call of `client` (StreamClientOf) may stream: fewer
  // than max_streams open in all and max_streams_per_token for the client;
  // else RESOURCE_EXHAUSTED naming the limit. ReleaseStream when it ends.
  absl::Status AdmitStream(const std::string& client) ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseStream(const std::string& client) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run(grpc::ServerCompletionQueue* cq);

  AlertHub* const hub_;
  const QueueLimits limits_;
  const ServerLimits request_limits_;
  const PortfolioContext portfolio_;
  std::shared_ptr<const AlertMuter> muter_;
  const size_t thread_count_;
  const TokenStore* tokens_ = nullptr;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::thread> threads_;

  absl::Mutex mu_;
  // Set by Stop(): no new requests, so nothing new starts on a queue.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Streams not yet deleted, including those still waiting for a call.
  size_t streams_ ABSL_GUARDED_BY(mu_) = 0;
  // Streams admitted and not yet ended, in all and per client.
  int open_streams_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> open_by_client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_
