#ifndef TARIFF_ALERT_SERVER_CONSOLE_WEB_EVENT_STREAMS_H_
#define TARIFF_ALERT_SERVER_CONSOLE_WEB_EVENT_STREAMS_H_

// The console's two Server-Sent Events responses (docs/console.md), each fed
// by one gRPC server stream at a time on the HTTP thread that serves it:
// GET /api/alerts/stream (SubscribeAlerts, `id:` the alert's sequence) and
// GET /api/console/stream (WatchConsoleState, `id:` the audit sequence).
//
// A replica that goes away (UNAVAILABLE) is replaced by the next within the
// same response, resuming after what was sent, so the page sees no gap and
// no repeat; any other end of the gRPC stream is an `end` event and the end
// of the response, after which EventSource reconnects with Last-Event-ID.
// A browser that has gone is seen at the next write (a heartbeat at the
// latest) and its gRPC call cancelled.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "clients/lib/resume_tracker.h"
#include "server/console_web/gateway.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/console_service.grpc.pb.h"

namespace httplib {
class DataSink;
}

namespace tariffalert {

// "event: E\nid: I\ndata: D\n\n" (no id line without `id`). `data` must hold
// no newline (one-line JSON does not).
std::string SseEvent(absl::string_view event, absl::string_view data,
                     std::optional<uint64_t> id = std::nullopt);
// The data of an `end` event: {"code": "UNAVAILABLE", "message": "..."}.
std::string EndEventData(const grpc::Status& status);
// The resume point of a stream request: Last-Event-ID if present, else
// `after`; nullopt for neither. INVALID_ARGUMENT naming the one that is not
// a decimal sequence.
absl::StatusOr<std::optional<uint64_t>> ParseResumePoint(
    absl::string_view last_event_id, bool has_last_event_id,
    absl::string_view after, bool has_after);

// What both streams share: the replica in use, the call in flight and its
// registration for shutdown, the writes to the browser.
class EventStream {
 public:
  EventStream(const Replicas* replicas, CallRegistry* calls, std::string token);
  virtual ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // httplib's content provider: writes what the next gRPC message brings.
  // False: the browser has gone (httplib drops the connection).
  bool Pump(httplib::DataSink& sink);

 protected:
  // Starts the call on `channel` with `context` (token added, registered).
  virtual void Start(const std::shared_ptr<grpc::Channel>& channel,
                     grpc::ClientContext* context) = 0;
  // Blocks for the next message and writes its events to `out`; false at
  // the end of the gRPC stream.
  virtual bool ReadNext(std::string* out) = 0;
  virtual grpc::Status Finish() = 0;
  enum class Next { kReopen, kFailOver, kEnd };
  // The call ended with `status` (its trailers in `context`): reopen the
  // stream (events for the page in `out`), try the next replica, or end.
  virtual Next OnEnd(const grpc::Status& status,
                     const grpc::ClientContext& context, std::string* out,
                     grpc::Status* end_status) = 0;
  // A message arrived on the current call: the next failure may try every
  // replica again.
  void Delivered() { failures_in_a_row_ = 0; }
  // The end of a call that no subclass rule covers: a replica that went
  // away is replaced, anything else ends the response.
  static Next FailOverIfUnavailable(const grpc::Status& status) {
    return status.error_code() == grpc::StatusCode::UNAVAILABLE
               ? Next::kFailOver
               : Next::kEnd;
  }
  // Cancels and finishes the call in flight, if any. Each subclass's
  // destructor calls it, while its reader still exists.
  void StopCall();

 private:
  // False (nothing started) when the gateway is shutting down.
  bool Open();
  void Close();
  bool Write(httplib::DataSink& sink, const std::string& bytes);
  void End(httplib::DataSink& sink, const grpc::Status& status);

  const Replicas* const replicas_;
  CallRegistry* const calls_;
  const std::string token_;
  bool started_ = false;
  bool open_ = false;
  size_t replica_ = 0;
  size_t failures_in_a_row_ = 0;
  std::unique_ptr<grpc::ClientContext> context_;
};

// An EventStream whose calls stream `Response` messages: reads them (each
// one Delivered) and finishes the call; Start sets `reader_`.
template <typename Response>
class ReaderEventStream : public EventStream {
 protected:
  using EventStream::EventStream;
  // Writes the events of `response`, the current call's newest, to `out`
  // (it may move from `response`).
  virtual void OnMessage(Response& response, std::string* out) = 0;

  std::unique_ptr<grpc::ClientReader<Response>> reader_;

 private:
  bool ReadNext(std::string* out) final {
    Response response;
    if (!reader_->Read(&response)) return false;
    Delivered();
    OnMessage(response, out);
    return true;
  }
  grpc::Status Finish() final {
    grpc::Status status = reader_->Finish();
    reader_.reset();
    return status;
  }
};

class AlertEventStream : public ReaderEventStream<v1::SubscribeAlertsResponse> {
 public:
  AlertEventStream(const Replicas* replicas, CallRegistry* calls,
                   std::string token, v1::AlertFilter filter,
                   std::optional<uint64_t> resume_after);
  ~AlertEventStream() override;

 private:
  void Start(const std::shared_ptr<grpc::Channel>& channel,
             grpc::ClientContext* context) override;
  void OnMessage(v1::SubscribeAlertsResponse& response,
                 std::string* out) override;
  Next OnEnd(const grpc::Status& status, const grpc::ClientContext& context,
             std::string* out, grpc::Status* end_status) override;

  const v1::AlertFilter filter_;
  // Where the page stands: alerts sent, heartbeats' newest_sequence.
  ResumeTracker tracker_;
  std::unique_ptr<v1::AlertService::Stub> stub_;
  std::vector<v1::Alert> alerts_;
};

class ConsoleEventStream
    : public ReaderEventStream<v1::WatchConsoleStateResponse> {
 public:
  ConsoleEventStream(const Replicas* replicas, CallRegistry* calls,
                     std::string token, std::optional<uint64_t> resume_after);
  ~ConsoleEventStream() override;

 private:
  void Start(const std::shared_ptr<grpc::Channel>& channel,
             grpc::ClientContext* context) override;
  void OnMessage(v1::WatchConsoleStateResponse& response,
                 std::string* out) override;
  Next OnEnd(const grpc::Status& status, const grpc::ClientContext& context,
             std::string* out, grpc::Status* end_status) override;

  // The newest audit sequence the page has (nullopt: it needs a snapshot).
  std::optional<uint64_t> position_;
  // Whether the current call asked to resume and has brought nothing yet:
  // its FAILED_PRECONDITION means the records are gone, so a snapshot.
  bool resuming_ = false;
  bool received_ = false;
  std::unique_ptr<v1::ConsoleService::Stub> stub_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_CONSOLE_WEB_EVENT_STREAMS_H_
