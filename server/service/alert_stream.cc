#include "server/service/alert_stream.h"

#include <grpc/support/time.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/metrics/metrics.h"
#include "server/scoring/portfolio.h"
#include "server/service/grpc_status.h"
#include "server/service/request_parser.h"
#include "server/service/services.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert {
namespace {

struct SubscribeRequest {
  AlertFilter filter;
  std::shared_ptr<const PortfolioWatch> portfolio;
  std::optional<uint64_t> resume_after;
};

// INVALID_ARGUMENT naming the field on bad input.
absl::StatusOr<SubscribeRequest> ParseRequest(
    grpc::ByteBuffer* request, const PortfolioContext& portfolio_context,
    const ServerLimits& limits,
    const std::shared_ptr<const AlertMuter>& muter) {
  v1::SubscribeAlertsRequest parsed;
  if (absl::Status s = ParseMessage(*request, &parsed); !s.ok()) return s;
  if (absl::Status s =
          AlertFilter::CheckLimits(parsed.filter(), limits.max_filter_entries);
      !s.ok()) {
    return s;
  }
  if (parsed.holdings_size() > limits.max_holdings) {
    return absl::InvalidArgumentError(absl::StrCat(
        "holdings: ", parsed.holdings_size(), " entries, the limit is ",
        limits.max_holdings, " (--max-holdings)"));
  }
  SubscribeRequest out;
  auto filter = AlertFilter::FromProto(parsed.filter());
  if (!filter.ok()) return filter.status();
  out.filter = *std::move(filter);
  if (parsed.filter().respect_silences()) out.filter.set_muter(muter);
  if (parsed.holdings_size() > 0) {
    auto holdings = ValidateHoldings(parsed.holdings(), "holdings");
    if (!holdings.ok()) return holdings.status();
    out.portfolio = std::make_shared<const PortfolioWatch>(*std::move(holdings),
                                                           portfolio_context);
  }
  if (parsed.has_resume_after_sequence()) {
    out.resume_after = parsed.resume_after_sequence();
  }
  return out;
}

// AlertStream::LiveCalls.
std::atomic<size_t> live_calls{0};

}  // namespace

AlertStream::AlertStream(AlertServiceImpl* service,
                         grpc::ServerCompletionQueue* cq)
    : service_(service),
      hub_(service->hub()),
      cq_(cq),
      limits_(service->limits()),
      queue_(limits_) {}

void AlertStream::Request() {
  context_.AsyncNotifyWhenDone(&done_tag_);
  service_->RequestSubscribeAlerts(&context_, &request_, &writer_, cq_, cq_,
                                   &accepted_tag_);
}

void AlertStream::Accept() {
  // Stream limits first, before any work for the request.
  StreamClient client = StreamClientOf(context_, service_->token_store());
  if (absl::Status admitted = service_->AdmitStream(client.key);
      !admitted.ok()) {
    request_.Clear();
    absl::MutexLock lock(&mu_);
    CloseLocked(ToGrpcStatus(admitted));
    WriteOrFinishLocked();
    return;
  }
  admitted_client_ = std::move(client.key);
  token_digest_ = client.token_digest;
  admitted_ = true;
  auto request =
      ParseRequest(&request_, service_->portfolio_context(),
                   service_->request_limits(), service_->alert_muter());
  request_.Clear();
  if (!request.ok()) {
    absl::MutexLock lock(&mu_);
    CloseLocked(ToGrpcStatus(request.status()));
    WriteOrFinishLocked();
    return;
  }
  filter_ = std::move(request->filter);
  portfolio_ = std::move(request->portfolio);
  if (request->resume_after.has_value()) {
    // The client has everything up to its resume point: a cut-off before
    // anything newer went out names that point, never an older sequence.
    absl::MutexLock lock(&mu_);
    last_delivered_ = *request->resume_after;
  }
  // Outside our lock: the hub locks itself, then us (the first heartbeat or
  // replay chunk).
  subscribed_ = true;
  const absl::Status subscribed = hub_->Subscribe(this, request->resume_after);
  if (!subscribed.ok()) {
    absl::MutexLock lock(&mu_);
    CloseLocked(ToGrpcStatus(subscribed));
    WriteOrFinishLocked();
  }
}

void AlertStream::Proceed(Op op, bool ok) {
  if (op == Op::kAccepted) {
    if (!ok) {
      // The server is shutting down and this request was never matched: no
      // other tag of ours is pending (the done tag only comes for a call).
      AlertServiceImpl* service = service_;
      delete this;
      service->StreamGone();
      return;
    }
    live_calls.fetch_add(1, std::memory_order_relaxed);
    // Keep the number of outstanding requests on this queue.
    service_->Request(cq_);
    Accept();
    return;
  }
  bool refill = false;
  bool destroy = false;
  {
    absl::MutexLock lock(&mu_);
    switch (op) {
      case Op::kWrite:
        writing_ = false;
        if (ok) {
          last_delivered_ = std::max(last_delivered_, in_flight_resume_);
        } else {
          // The client is gone; there is nobody to finish for but gRPC.
          CloseLocked(
              grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
        }
        in_flight_.Clear();
        if (!closing_ && replaying_ && queue_.empty()) {
          replaying_ = false;
          refill = true;
        }
        break;
      case Op::kFinish:
        finish_done_ = true;
        break;
      case Op::kDone:
        // The call is over: cancelled, or after our Finish. Either way
        // nothing more can go out.
        done_ = true;
        CloseLocked(grpc::Status(grpc::StatusCode::CANCELLED,
                                 "cancelled by the client"));
        break;
      case Op::kWake:
        wake_pending_ = false;
        break;
      case Op::kAccepted:
        break;
    }
    WriteOrFinishLocked();
    destroy = done_ && finish_done_ && !writing_ && !wake_pending_;
  }
  // Outside our lock: the hub locks itself, then us.
  if (refill) hub_->Refill(this);
  if (destroy) Destroy();
}

void AlertStream::Destroy() {
  // Closing with Finish done, so Deliver queues nothing and kicks nothing from
  // here on; once Unsubscribe returns the hub never calls us again.
  if (subscribed_) hub_->Unsubscribe(this);
  AlertServiceImpl* service = service_;
  const bool admitted = admitted_;
  const std::string client = std::move(admitted_client_);
  delete this;
  live_calls.fetch_sub(1, std::memory_order_relaxed);
  if (admitted) service->ReleaseStream(client);
  service->StreamGone();
}

bool AlertStream::Deliver(absl::Span<const EncodedAlertPtr> alerts,
                          bool more_to_replay) {
  absl::MutexLock lock(&mu_);
  if (closing_) return false;
  for (const EncodedAlertPtr& a : alerts) {
    if (!queue_.Push(a)) {
      metrics::SlowConsumerCutOff();
      CloseLocked(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("subscriber fell behind: more than ", limits_.max_alerts,
                       " alerts or ", limits_.max_bytes,
                       " bytes queued; resume with resume_after_sequence from "
                       "the ta-last-sequence trailer")));
      KickLocked();
      return false;
    }
  }
  replaying_ = more_to_replay;
  KickLocked();
  return true;
}

QueueRoom AlertStream::Room() {
  absl::MutexLock lock(&mu_);
  return QueueRoom{limits_.max_alerts - queue_.alert_count(),
                   limits_.max_bytes - queue_.bytes()};
}

QueueSize AlertStream::Queued() {
  absl::MutexLock lock(&mu_);
  return QueueSize{queue_.alert_count(), queue_.bytes()};
}

void AlertStream::DeliverHeartbeat(const grpc::Slice& heartbeat,
                                   uint64_t newest_sequence) {
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  queue_.PushHeartbeat(heartbeat, newest_sequence);
  KickLocked();
}

void AlertStream::End(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  CloseLocked(ToGrpcStatus(status));
  KickLocked();
}

void AlertStream::KickLocked() {
  if (writing_ || wake_pending_ || finish_started_) return;
  wake_pending_ = true;
  wake_.Set(cq_, gpr_now(GPR_CLOCK_MONOTONIC), &wake_tag_);
}

void AlertStream::CloseLocked(grpc::Status status) {
  if (closing_) return;
  closing_ = true;
  final_status_ = std::move(status);
  queue_.Clear();
}

void AlertStream::WriteOrFinishLocked() {
  if (finish_started_ || writing_) return;
  if (!closing_) {
    Batch batch = queue_.TakeBatch();
    if (batch.empty()) return;
    in_flight_ = grpc::ByteBuffer(batch.slices.data(), batch.slices.size());
    in_flight_resume_ = batch.resume_sequence;
    metrics::StreamWrite(batch.alert_count, in_flight_.Length());
    writing_ = true;
    writer_.Write(in_flight_, &write_tag_);
    return;
  }
  finish_started_ = true;
  // A request rejected before subscribing has no sequence to name.
  if (subscribed_) {
    context_.AddTrailingMetadata(kLastSequenceTrailer,
                                 absl::StrCat(last_delivered_));
  }
  if (subscribed_ &&
      final_status_.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    final_status_ = grpc::Status(final_status_.error_code(),
                                 absl::StrCat(final_status_.error_message(),
                                              " (", last_delivered_, ")"));
  }
  writer_.Finish(final_status_, &finish_tag_);
}

size_t AlertStream::LiveCalls() {
  return live_calls.load(std::memory_order_relaxed);
}

}  // namespace tariffalert
