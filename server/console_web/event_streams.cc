#include "server/console_web/event_streams.h"

#include <httplib.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/console_web/forwarded_methods.h"

namespace tariffalert {
namespace {

// The server's trailer on a stream it ended: where it believes the client
// stands (server/service/alert_stream.h).
constexpr char kLastSequenceTrailer[] = "ta-last-sequence";

std::optional<uint64_t> LastSequenceTrailer(
    const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  const auto it = trailers.find(kLastSequenceTrailer);
  uint64_t value = 0;
  if (it == trailers.end() ||
      !absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()),
                        &value)) {
    return std::nullopt;
  }
  return value;
}

absl::StatusOr<uint64_t> ParseSequence(const char* what,
                                       absl::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 20 ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a sequence number (decimal digits)"));
  }
  return value;
}

}  // namespace

std::string SseEvent(absl::string_view event, absl::string_view data,
                     std::optional<uint64_t> id) {
  std::string out = absl::StrCat("event: ", event, "\n");
  if (id) absl::StrAppend(&out, "id: ", *id, "\n");
  absl::StrAppend(&out, "data: ", data, "\n\n");
  return out;
}

std::string EndEventData(const grpc::Status& status) {
  return ErrorJson(status.error_code(), status.error_message());
}

absl::StatusOr<std::optional<uint64_t>> ParseResumePoint(
    absl::string_view last_event_id, bool has_last_event_id,
    absl::string_view after, bool has_after) {
  // EventSource sends Last-Event-ID on a reconnect; it wins over the `after`
  // of the URL the page opened first.
  if (has_last_event_id && !last_event_id.empty()) {
    auto s = ParseSequence("Last-Event-ID", last_event_id);
    if (!s.ok()) return s.status();
    return std::optional<uint64_t>(*s);
  }
  if (has_after) {
    auto s = ParseSequence("after", after);
    if (!s.ok()) return s.status();
    return std::optional<uint64_t>(*s);
  }
  return std::optional<uint64_t>();
}

EventStream::EventStream(const Replicas* replicas, CallRegistry* calls,
                         std::string token)
    : replicas_(replicas), calls_(calls), token_(std::move(token)) {}

EventStream::~EventStream() = default;

bool EventStream::Pump(httplib::DataSink& sink) {
  if (!started_) {
    started_ = true;
    replica_ = replicas_->preferred();
    // EventSource waits 3 s by default before it reconnects.
    if (!Write(sink, "retry: 1000\n\n")) return false;
  }
  if (!open_ && !Open()) {
    End(sink, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "the console gateway is shutting down"));
    return true;
  }
  std::string out;
  if (ReadNext(&out)) return out.empty() || Write(sink, out);

  const grpc::Status status = Finish();
  grpc::Status end_status = status;
  Next next = Next::kEnd;
  if (calls_->shutting_down()) {
    end_status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "the console gateway is shutting down");
  } else {
    next = OnEnd(status, *context_, &out, &end_status);
  }
  Close();
  if (!out.empty() && !Write(sink, out)) return false;
  switch (next) {
    case Next::kReopen:
      return true;
    case Next::kFailOver:
      // Every replica once, counting from the last message received.
      if (++failures_in_a_row_ < replicas_->size()) {
        replica_ = replicas_->Failed(replica_);
        return true;
      }
      replicas_->Failed(replica_);
      End(sink, end_status);
      return true;
    case Next::kEnd:
      End(sink, end_status);
      return true;
  }
  return false;
}

void EventStream::StopCall() {
  if (!open_) return;
  context_->TryCancel();
  std::string ignored;
  while (ReadNext(&ignored)) ignored.clear();
  Finish();
  Close();
}

bool EventStream::Open() {
  context_ = std::make_unique<grpc::ClientContext>();
  context_->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  if (!calls_->Add(context_.get())) {
    context_.reset();
    return false;
  }
  Start(replicas_->channel(replica_), context_.get());
  open_ = true;
  return true;
}

void EventStream::Close() {
  if (context_ != nullptr) calls_->Remove(context_.get());
  context_.reset();
  open_ = false;
}

bool EventStream::Write(httplib::DataSink& sink, const std::string& bytes) {
  return sink.is_writable() && sink.write(bytes.data(), bytes.size());
}

void EventStream::End(httplib::DataSink& sink, const grpc::Status& status) {
  Write(sink, SseEvent("end", EndEventData(status)));
  sink.done();
}

AlertEventStream::AlertEventStream(const Replicas* replicas,
                                   CallRegistry* calls, std::string token,
                                   v1::AlertFilter filter,
                                   std::optional<uint64_t> resume_after)
    : ReaderEventStream(replicas, calls, std::move(token)),
      filter_(std::move(filter)),
      tracker_(resume_after) {}

AlertEventStream::~AlertEventStream() { StopCall(); }

void AlertEventStream::Start(const std::shared_ptr<grpc::Channel>& channel,
                             grpc::ClientContext* context) {
  stub_ = v1::AlertService::NewStub(channel);
  v1::SubscribeAlertsRequest request;
  *request.mutable_filter() = filter_;
  if (auto after = tracker_.resume_after()) {
    request.set_resume_after_sequence(*after);
  }
  reader_ = stub_->SubscribeAlerts(context, request);
}

void AlertEventStream::OnMessage(v1::SubscribeAlertsResponse& response,
                                 std::string* out) {
  if (response.has_heartbeat()) {
    tracker_.OnHeartbeat(response.heartbeat().newest_sequence());
    absl::StrAppend(out,
                    SseEvent("heartbeat", MessageToJson(response.heartbeat())));
  }
  // Drops what the page already has (a replay that overlaps after a
  // replica change).
  tracker_.Accept(response, &alerts_);
  for (const v1::Alert& alert : alerts_) {
    absl::StrAppend(out,
                    SseEvent("alert", MessageToJson(alert), alert.sequence()));
  }
}

EventStream::Next AlertEventStream::OnEnd(const grpc::Status& status,
                                          const grpc::ClientContext& context,
                                          std::string* out,
                                          grpc::Status* end_status) {
  const ResumeTracker::EndAction action =
      tracker_.OnStreamEnd(status, LastSequenceTrailer(context));
  switch (action.kind) {
    case ResumeTracker::EndAction::kGap:
      // The page's resume point is older than the log keeps: say so once
      // and go on from the oldest kept, or every reconnect would ask for
      // the same lost alerts again.
      absl::StrAppend(
          out,
          SseEvent("gap", absl::StrCat("{\"resume_after\":\"", action.gap_after,
                                       "\",\"oldest_retained\":\"",
                                       action.oldest_retained, "\"}")));
      return Next::kReopen;
    case ResumeTracker::EndAction::kStop:
      *end_status = action.status;
      return Next::kEnd;
    case ResumeTracker::EndAction::kResume:
      break;
  }
  return FailOverIfUnavailable(status);
}

ConsoleEventStream::ConsoleEventStream(const Replicas* replicas,
                                       CallRegistry* calls, std::string token,
                                       std::optional<uint64_t> resume_after)
    : ReaderEventStream(replicas, calls, std::move(token)),
      position_(resume_after) {}

ConsoleEventStream::~ConsoleEventStream() { StopCall(); }

void ConsoleEventStream::Start(const std::shared_ptr<grpc::Channel>& channel,
                               grpc::ClientContext* context) {
  stub_ = v1::ConsoleService::NewStub(channel);
  v1::WatchConsoleStateRequest request;
  if (position_) request.set_resume_after_sequence(*position_);
  resuming_ = position_.has_value();
  received_ = false;
  reader_ = stub_->WatchConsoleState(context, request);
}

void ConsoleEventStream::OnMessage(v1::WatchConsoleStateResponse& response,
                                   std::string* out) {
  received_ = true;
  if (response.has_snapshot()) {
    absl::StrAppend(out,
                    SseEvent("snapshot", MessageToJson(response.snapshot()),
                             response.snapshot().audit_sequence()));
  } else if (response.has_record()) {
    // After a replica change the new stream may start before what the
    // page has.
    if (!position_ || response.record().sequence() > *position_) {
      absl::StrAppend(out, SseEvent("record", MessageToJson(response.record()),
                                    response.record().sequence()));
    }
  } else if (response.has_inhibitions()) {
    absl::StrAppend(
        out, SseEvent("inhibitions", MessageToJson(response.inhibitions())));
  } else {
    absl::StrAppend(out, SseEvent("heartbeat", MessageToJson(response)));
  }
  position_ = std::max(position_.value_or(0), response.audit_sequence());
}

EventStream::Next ConsoleEventStream::OnEnd(const grpc::Status& status,
                                            const grpc::ClientContext& context,
                                            std::string* out,
                                            grpc::Status* end_status) {
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
      resuming_ && !received_) {
    // The records after the page's sequence are no longer kept: start over
    // with a snapshot (once: the next call does not resume).
    position_.reset();
    return Next::kReopen;
  }
  return FailOverIfUnavailable(status);
}

}  // namespace tariffalert
