#include "bench/cq_alert_service.h"

#include <grpc/support/time.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/fanout/alert_filter.h"
#include "server/service/grpc_status.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert::bench {
namespace {

// As server/service/alert_stream.h's kLastSequenceTrailer.
constexpr char kLastSequenceTrailer[] = "ta-last-sequence";

// One SubscribeAlerts call on the CQ API. Created waiting for a call; every
// tag it hands gRPC points at one of its Tag members, and its CQ's thread
// calls Proceed for each. It deletes itself once the call is done (the
// done tag), its Finish has completed, and no write or wake-up is pending;
// before that it leaves the hub, so the hub never calls it again.
class CqAlertStream final : public Subscriber {
 public:
  enum class Op { kAccepted, kWrite, kFinish, kDone, kWake };
  struct Tag {
    CqAlertStream* stream;
    Op op;
  };

  CqAlertStream(CqAlertService* service, grpc::ServerCompletionQueue* cq)
      : service_(service),
        hub_(service->hub()),
        cq_(cq),
        limits_(service->options().limits),
        queue_(limits_) {}

  // Asks gRPC for the next call on cq_ (the service holds its lock).
  void Request() {
    context_.AsyncNotifyWhenDone(&done_tag_);
    service_->service()->RequestSubscribeAlerts(&context_, &request_, &writer_,
                                                cq_, cq_, &accepted_tag_);
  }

  // On cq_'s thread.
  void Proceed(Op op, bool ok) ABSL_LOCKS_EXCLUDED(mu_);

  // Subscriber
  const AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const EncodedAlertPtr> alerts,
               bool more_to_replay) override ABSL_LOCKS_EXCLUDED(mu_);
  QueueRoom Room() override ABSL_LOCKS_EXCLUDED(mu_);
  void DeliverHeartbeat(const grpc::Slice& heartbeat,
                        uint64_t newest_sequence) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void End(const absl::Status& status) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  ~CqAlertStream() override = default;

  // The call arrived: parse the request (to ignore it) and subscribe.
  void Accept() ABSL_LOCKS_EXCLUDED(mu_);
  // After something was queued or the stream started closing, from a hub
  // callback: unless an op or a wake-up is pending (whose completion looks
  // at the queue again), wakes cq_'s thread to write or finish.
  void KickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the next write, or Finish once closing; nothing if an op is
  // already in flight.
  void WriteOrFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Nothing more is queued; Finish follows the write in flight. The caller
  // then kicks (hub callbacks) or calls WriteOrFinishLocked (CQ thread).
  void CloseLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CqAlertService* const service_;
  AlertHub* const hub_;
  grpc::ServerCompletionQueue* const cq_;
  const QueueLimits limits_;
  const AlertFilter filter_;  // match-all

  Tag accepted_tag_{this, Op::kAccepted};
  Tag write_tag_{this, Op::kWrite};
  Tag finish_tag_{this, Op::kFinish};
  Tag done_tag_{this, Op::kDone};
  Tag wake_tag_{this, Op::kWake};

  grpc::ServerContext context_;
  grpc::ByteBuffer request_;
  grpc::ServerAsyncWriter<grpc::ByteBuffer> writer_{&context_};
  // Only touched on cq_'s thread.
  bool subscribed_ = false;

  absl::Mutex mu_;
  SubscriberQueue queue_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t in_flight_resume_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool replaying_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t last_delivered_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Alarm wake_ ABSL_GUARDED_BY(mu_);
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  bool finish_started_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_done_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

void CqAlertStream::Accept() {
  bool parsed_ok = false;
  {
    v1::SubscribeAlertsRequest parsed;
    grpc::ProtoBufferReader reader(&request_);
    parsed_ok = parsed.ParseFromZeroCopyStream(&reader);
  }
  request_.Clear();
  if (!parsed_ok) {
    absl::MutexLock lock(&mu_);
    CloseLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "request: not a SubscribeAlertsRequest"));
    WriteOrFinishLocked();
    return;
  }
  // Outside our lock: the hub locks itself, then us (the first heartbeat).
  subscribed_ = true;
  const absl::Status subscribed = hub_->Subscribe(this, std::nullopt);
  if (!subscribed.ok()) {
    absl::MutexLock lock(&mu_);
    CloseLocked(ToGrpcStatus(subscribed));
    WriteOrFinishLocked();
  }
}

void CqAlertStream::Proceed(Op op, bool ok) {
  if (op == Op::kAccepted) {
    if (!ok) {
      // The server is shutting down and this request was never matched: no
      // other tag of ours is pending (the done tag only comes for a call).
      CqAlertService* service = service_;
      delete this;
      service->StreamGone();
      return;
    }
    // Keep the number of outstanding requests on this CQ.
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
  if (destroy) {
    // Closing, so Deliver queues nothing and starts nothing from here on;
    // once Unsubscribe returns the hub never calls us again.
    if (subscribed_) hub_->Unsubscribe(this);
    CqAlertService* service = service_;
    delete this;
    service->StreamGone();
  }
}

bool CqAlertStream::Deliver(absl::Span<const EncodedAlertPtr> alerts,
                            bool more_to_replay) {
  absl::MutexLock lock(&mu_);
  if (closing_) return false;
  for (const EncodedAlertPtr& a : alerts) {
    if (!queue_.Push(a)) {
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

QueueRoom CqAlertStream::Room() {
  absl::MutexLock lock(&mu_);
  return QueueRoom{limits_.max_alerts - queue_.alert_count(),
                   limits_.max_bytes - queue_.bytes()};
}

void CqAlertStream::DeliverHeartbeat(const grpc::Slice& heartbeat,
                                     uint64_t newest_sequence) {
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  queue_.PushHeartbeat(heartbeat, newest_sequence);
  KickLocked();
}

void CqAlertStream::End(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  CloseLocked(ToGrpcStatus(status));
  KickLocked();
}

void CqAlertStream::KickLocked() {
  if (writing_ || wake_pending_ || finish_started_) return;
  wake_pending_ = true;
  wake_.Set(cq_, gpr_now(GPR_CLOCK_MONOTONIC), &wake_tag_);
}

void CqAlertStream::CloseLocked(grpc::Status status) {
  if (closing_) return;
  closing_ = true;
  final_status_ = std::move(status);
  queue_.Clear();
}

void CqAlertStream::WriteOrFinishLocked() {
  if (finish_started_ || writing_) return;
  if (!closing_) {
    Batch batch = queue_.TakeBatch();
    if (batch.empty()) return;
    in_flight_ = grpc::ByteBuffer(batch.slices.data(), batch.slices.size());
    in_flight_resume_ = batch.resume_sequence;
    writing_ = true;
    writer_.Write(in_flight_, &write_tag_);
    return;
  }
  finish_started_ = true;
  context_.AddTrailingMetadata(kLastSequenceTrailer,
                               absl::StrCat(last_delivered_));
  if (final_status_.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    final_status_ = grpc::Status(final_status_.error_code(),
                                 absl::StrCat(final_status_.error_message(),
                                              " (", last_delivered_, ")"));
  }
  writer_.Finish(final_status_, &finish_tag_);
}

CqServiceOptions Checked(CqServiceOptions options) {
  options.threads = std::max<size_t>(options.threads, 1);
  options.requests_per_cq = std::max<size_t>(options.requests_per_cq, 1);
  return options;
}

}  // namespace

CqAlertService::CqAlertService(AlertHub* hub, CqServiceOptions options)
    : hub_(hub), options_(Checked(options)) {}

CqAlertService::~CqAlertService() {
  // Stop() joined them; a CQ destroyed unshut would abort.
  for (std::thread& t : threads_) {
    if (t.joinable()) std::abort();
  }
}

void CqAlertService::AddTo(grpc::ServerBuilder* builder) {
  builder->RegisterService(&service_);
  for (size_t i = 0; i < options_.threads; ++i) {
    cqs_.push_back(builder->AddCompletionQueue());
  }
}

void CqAlertService::Start() {
  for (auto& cq : cqs_) {
    for (size_t i = 0; i < options_.requests_per_cq; ++i) Request(cq.get());
  }
  for (auto& cq : cqs_) {
    grpc::ServerCompletionQueue* q = cq.get();
    threads_.emplace_back([this, q] { Run(q); });
  }
}

void CqAlertService::Request(grpc::ServerCompletionQueue* cq) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  ++streams_;
  (new CqAlertStream(this, cq))->Request();
}

void CqAlertService::StreamGone() {
  absl::MutexLock lock(&mu_);
  --streams_;
}

void CqAlertService::Run(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<CqAlertStream::Tag*>(tag);
    t->stream->Proceed(t->op, ok);
  }
}

void CqAlertService::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // After the server's Shutdown every call is over or cancelled and every
    // outstanding request fails, so each stream's last tags are on their way.
    auto none_left = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return streams_ == 0;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&none_left), absl::Seconds(10))) {
      // Shutting the CQs down under a live stream would abort in gRPC.
      std::fprintf(stderr, "cq_alert_service: %zu streams never finished\n",
                   streams_);
      std::_Exit(3);
    }
  }
  for (auto& cq : cqs_) cq->Shutdown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace tariffalert::bench
