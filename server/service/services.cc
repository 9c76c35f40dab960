#include "server/service/services.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/log.h"
#include "server/fanout/alert_history.h"
#include "server/service/alert_stream.h"
#include "server/service/grpc_status.h"

namespace tariffalert {

grpc::ServerUnaryReactor* TariffEventServiceImpl::PublishEvent(
    grpc::CallbackServerContext* context,
    const v1::PublishEventRequest* request,
    v1::PublishEventResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->has_event()) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "event: missing"));
    return reactor;
  }
  auto result = publisher_->Publish(request->event());
  if (!result.ok()) {
    reactor->Finish(ToGrpcStatus(result.status()));
    return reactor;
  }
  *response = *std::move(result);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* TariffEventServiceImpl::GetEvent(
    grpc::CallbackServerContext* context, const v1::GetEventRequest* request,
    v1::GetEventResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto found = publisher_->FindEvent(request->event_id());
  if (!found) {
    reactor->Finish(grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("event_id: '", request->event_id(),
                     "' was not published on this server or is forgotten")));
    return reactor;
  }
  *response->mutable_event() = found->event;
  *response->mutable_result() = found->response;
  if (found->response.alert_count() > 0) {
    for (const EncodedAlertPtr& a :
         hub_->Logged(found->response.first_sequence(),
                      found->response.last_sequence())) {
      auto alert = DecodeAlert(*a);
      if (!alert.ok()) {
        reactor->Finish(ToGrpcStatus(alert.status()));
        return reactor;
      }
      *response->add_alerts() = *std::move(alert);
    }
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

AlertServiceImpl::AlertServiceImpl(AlertHub* hub, QueueLimits limits,
                                   PortfolioContext portfolio,
                                   size_t stream_threads)
    : hub_(hub),
      limits_(limits),
      portfolio_(std::move(portfolio)),
      thread_count_(
          stream_threads > 0
              ? stream_threads
              : std::max<size_t>(std::thread::hardware_concurrency(), 1)) {}

AlertServiceImpl::~AlertServiceImpl() {
  // A queue destroyed with a stream still on it would abort in gRPC.
  Stop();
}

void AlertServiceImpl::AddTo(grpc::ServerBuilder* builder) {
  builder->RegisterService(this);
  for (size_t i = 0; i < thread_count_; ++i) {
    cqs_.push_back(builder->AddCompletionQueue());
  }
}

void AlertServiceImpl::Start() {
  for (auto& cq : cqs_) {
    for (size_t i = 0; i < kRequestsPerQueue; ++i) Request(cq.get());
  }
  for (auto& cq : cqs_) {
    grpc::ServerCompletionQueue* q = cq.get();
    threads_.emplace_back([this, q] { Run(q); });
  }
}

void AlertServiceImpl::Request(grpc::ServerCompletionQueue* cq) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  ++streams_;
  (new AlertStream(this, cq))->Request();
}

void AlertServiceImpl::StreamGone() {
  absl::MutexLock lock(&mu_);
  --streams_;
}

void AlertServiceImpl::Run(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<AlertStream::Tag*>(tag);
    t->stream->Proceed(t->op, ok);
  }
}

void AlertServiceImpl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopping_ = true;
    // After the server's Shutdown every call is over or cancelled and every
    // outstanding request fails, so each stream's last tags are on their way.
    auto none_left = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return streams_ == 0;
    };
    while (
        !mu_.AwaitWithTimeout(absl::Condition(&none_left), absl::Seconds(10))) {
      // Shutting the queues down under a live stream would abort in gRPC.
      TA_LOG(ERROR) << streams_
                    << " alert streams not gone 10 s after the server shut "
                       "down; still waiting";
    }
    stopped_ = true;
  }
  for (auto& cq : cqs_) cq->Shutdown();
  if (threads_.empty()) {
    // Never started: nothing was requested, so the queues hold nothing.
    void* tag = nullptr;
    bool ok = false;
    for (auto& cq : cqs_) {
      while (cq->Next(&tag, &ok)) {
      }
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

grpc::ServerUnaryReactor* AlertServiceImpl::ListAlerts(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ListAlertsRequest parsed;
  grpc::ByteBuffer copy(*request);
  grpc::ProtoBufferReader reader(&copy);
  if (!parsed.ParseFromZeroCopyStream(&reader)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request: not a ListAlertsRequest"));
    return reactor;
  }
  auto page = ListLoggedAlerts(*hub_, parsed);
  if (!page.ok()) {
    reactor->Finish(ToGrpcStatus(page.status()));
    return reactor;
  }
  std::vector<grpc::Slice> slices = EncodeListAlertsResponse(*page);
  *response = grpc::ByteBuffer(slices.data(), slices.size());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace tariffalert
