#include "server/service/alert_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/service/grpc_status.h"

namespace tariffalert {

AlertStream::AlertStream(grpc::CallbackServerContext* context, AlertHub* hub,
                         WriteScheduler* writes, AlertFilter filter,
                         QueueLimits limits,
                         std::unique_ptr<PortfolioWatch> portfolio)
    : context_(context),
      hub_(hub),
      writes_(writes),
      write_shard_(writes->NextShard()),
      filter_(std::move(filter)),
      limits_(limits),
      portfolio_(std::move(portfolio)),
      queue_(limits) {}

AlertStream* AlertStream::Start(grpc::CallbackServerContext* context,
                                AlertHub* hub, WriteScheduler* writes,
                                AlertFilter filter,
                                std::optional<uint64_t> resume_after,
                                QueueLimits limits,
                                std::unique_ptr<PortfolioWatch> portfolio) {
  auto* stream = new AlertStream(context, hub, writes, std::move(filter),
                                 limits, std::move(portfolio));
  if (resume_after.has_value()) {
    // The client has everything up to its resume point: a cut-off before
    // anything newer went out names that point, never an older sequence.
    absl::MutexLock lock(&stream->mu_);
    stream->last_delivered_ = *resume_after;
  }
  absl::Status subscribed = hub->Subscribe(stream, resume_after);
  if (!subscribed.ok()) {
    absl::MutexLock lock(&stream->mu_);
    stream->CloseLocked(ToGrpcStatus(subscribed));
  }
  return stream;
}

bool AlertStream::Deliver(absl::Span<const EncodedAlertPtr> alerts,
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
      return false;
    }
  }
  replaying_ = more_to_replay;
  ScheduleWriteLocked();
  return true;
}

QueueRoom AlertStream::Room() {
  absl::MutexLock lock(&mu_);
  return QueueRoom{limits_.max_alerts - queue_.alert_count(),
                   limits_.max_bytes - queue_.bytes()};
}

void AlertStream::DeliverHeartbeat(const grpc::Slice& heartbeat,
                                   uint64_t newest_sequence) {
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  queue_.PushHeartbeat(heartbeat, newest_sequence);
  ScheduleWriteLocked();
}

void AlertStream::End(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  CloseLocked(ToGrpcStatus(status));
}

void AlertStream::OnWriteDone(bool ok) {
  bool refill = false;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (ok) {
      last_delivered_ = std::max(last_delivered_, in_flight_resume_);
    } else {
      // The client is gone; there is nobody to finish for but gRPC.
      CloseLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    }
    in_flight_.Clear();
    if (!closing_ && replaying_ && queue_.empty()) {
      replaying_ = false;
      refill = true;
    }
    WriteOrFinishLocked();
  }
  // Outside our lock: the hub locks itself, then us.
  if (refill) hub_->Refill(this);
}

void AlertStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  CloseLocked(
      grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
}

void AlertStream::OnDone() {
  hub_->Unsubscribe(this);
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    // The scheduler's call, still to come, frees the stream.
    if (scheduled_) return;
  }
  delete this;
}

void AlertStream::ScheduleWriteLocked() {
  if (writing_ || scheduled_ || finished_) return;
  scheduled_ = true;
  writes_->Schedule(write_shard_, this);
}

void AlertStream::RunScheduledWrite() {
  {
    absl::MutexLock lock(&mu_);
    scheduled_ = false;
    if (!done_) {
      WriteOrFinishLocked();
      return;
    }
  }
  delete this;
}

void AlertStream::CloseLocked(grpc::Status status) {
  if (closing_) return;
  closing_ = true;
  final_status_ = std::move(status);
  queue_.Clear();
  WriteOrFinishLocked();
}

void AlertStream::WriteOrFinishLocked() {
  if (finished_ || writing_) return;
  if (!closing_) {
    Batch batch = queue_.TakeBatch();
    if (batch.empty()) return;
    in_flight_ = grpc::ByteBuffer(batch.slices.data(), batch.slices.size());
    in_flight_resume_ = batch.resume_sequence;
    writing_ = true;
    StartWrite(&in_flight_);
    return;
  }
  finished_ = true;
  context_->AddTrailingMetadata(kLastSequenceTrailer,
                                absl::StrCat(last_delivered_));
  if (final_status_.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    final_status_ = grpc::Status(final_status_.error_code(),
                                 absl::StrCat(final_status_.error_message(),
                                              " (", last_delivered_, ")"));
  }
  Finish(final_status_);
}

}  // namespace tariffalert
