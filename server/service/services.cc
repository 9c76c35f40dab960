#include "server/service/services.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/fanout/alert_history.h"
#include "server/scoring/portfolio.h"
#include "server/service/alert_stream.h"
#include "server/service/grpc_status.h"

namespace tariffalert {
namespace {

// A reactor that only finishes: for requests rejected before streaming.
class RejectedStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit RejectedStream(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

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

grpc::ServerWriteReactor<grpc::ByteBuffer>* AlertServiceImpl::SubscribeAlerts(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  v1::SubscribeAlertsRequest parsed;
  grpc::ByteBuffer copy(*request);
  grpc::ProtoBufferReader reader(&copy);
  if (!parsed.ParseFromZeroCopyStream(&reader)) {
    return new RejectedStream(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     "request: not a SubscribeAlertsRequest"));
  }
  auto filter = AlertFilter::FromProto(parsed.filter());
  if (!filter.ok()) return new RejectedStream(ToGrpcStatus(filter.status()));
  std::unique_ptr<PortfolioWatch> portfolio;
  if (parsed.holdings_size() > 0) {
    auto holdings = ValidateHoldings(parsed.holdings(), "holdings");
    if (!holdings.ok()) {
      return new RejectedStream(ToGrpcStatus(holdings.status()));
    }
    portfolio =
        std::make_unique<PortfolioWatch>(*std::move(holdings), portfolio_);
  }
  std::optional<uint64_t> resume_after;
  if (parsed.has_resume_after_sequence()) {
    resume_after = parsed.resume_after_sequence();
  }
  return AlertStream::Start(context, hub_, &writes_, *std::move(filter),
                            resume_after, limits_, std::move(portfolio));
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
