#include "clients/lib/alert_subscriber.h"

#include <grpc/grpc.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/lib/backoff.h"
#include "clients/lib/connection.h"

namespace tariffalert {
namespace {

constexpr char kLastSequenceTrailer[] = "ta-last-sequence";

// Completion-queue tags: one operation is pending at a time.
enum Tag : intptr_t { kStartTag = 1, kReadTag, kFinishTag };

void* ToTag(Tag t) { return reinterpret_cast<void*>(t); }

int Millis(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
}

}  // namespace

const char* SubscriberStateName(SubscriberState state) {
  switch (state) {
    case SubscriberState::kConnecting:
      return "connecting";
    case SubscriberState::kLive:
      return "live";
    case SubscriberState::kReconnecting:
      return "reconnecting";
    case SubscriberState::kStopped:
      return "stopped";
  }
  return "?";
}

AlertSubscriber::AlertSubscriber(SubscriberOptions options,
                                 AlertHandler* handler)
    : options_(std::move(options)),
      handler_(handler),
      tracker_(options_.resume_after_sequence) {}

AlertSubscriber::~AlertSubscriber() { Stop(); }

absl::Status AlertSubscriber::Start() {
  if (handler_ == nullptr) {
    return absl::InvalidArgumentError("handler: must not be null");
  }
  addresses_ = ServerAddresses(options_.server_address);
  if (addresses_.empty()) {
    return absl::InvalidArgumentError("server_address: must not be empty");
  }
  if (options_.heartbeat_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("heartbeat_timeout: must be positive");
  }
  if (options_.initial_backoff <= absl::ZeroDuration() ||
      options_.max_backoff < options_.initial_backoff) {
    return absl::InvalidArgumentError(
        "initial_backoff, max_backoff: need 0 < initial <= max");
  }
  if (options_.receive_window_bytes < 0) {
    return absl::InvalidArgumentError("receive_window_bytes: must be >= 0");
  }
  if (!(options_.jitter >= 0 && options_.jitter < 1)) {
    return absl::InvalidArgumentError("jitter: must be in [0, 1)");
  }
  {
    absl::MutexLock lock(&mu_);
    if (started_) return absl::FailedPreconditionError("already started");
    started_ = true;
    stats_.has_position = tracker_.has_position();
    stats_.last_sequence = tracker_.last_sequence();
  }
  absl::MutexLock join(&join_mu_);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void AlertSubscriber::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_requested_ = true;
    if (call_ != nullptr) call_->TryCancel();
    // On our own thread (a handler called Stop): the loop sees the request
    // when the callback returns; the owner joins later.
    if (std::this_thread::get_id() == thread_id_) return;
  }
  absl::MutexLock join(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

std::optional<grpc::Status> AlertSubscriber::Wait(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (!started_)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not started");
    if (!mu_.AwaitWithTimeout(absl::Condition(&stopped_), timeout)) {
      return std::nullopt;
    }
    if (std::this_thread::get_id() == thread_id_) return final_status_;
  }
  // Stopped: the thread has nothing left but to return.
  {
    absl::MutexLock join(&join_mu_);
    if (thread_.joinable()) thread_.join();
  }
  absl::MutexLock lock(&mu_);
  return final_status_;
}

SubscriberStats AlertSubscriber::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool AlertSubscriber::StopRequested() const {
  absl::MutexLock lock(&mu_);
  return stop_requested_;
}

void AlertSubscriber::PublishStats() {
  local_stats_.has_position = tracker_.has_position();
  local_stats_.last_sequence = tracker_.last_sequence();
  absl::MutexLock lock(&mu_);
  stats_ = local_stats_;
}

void AlertSubscriber::Notify(const StateChange& change) {
  handler_->OnStateChange(change);
}

std::shared_ptr<grpc::Channel> AlertSubscriber::NewChannel() const {
  grpc::ChannelArguments args;
  // Pings every keepalive_time even on a stream that only receives (gRPC
  // stops after two pings without data otherwise); a dead peer shows up
  // within keepalive_time + keepalive_timeout.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(options_.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              Millis(options_.keepalive_timeout));
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // The channel's own reconnects follow ours: a restarted server is found
  // within max_backoff, not gRPC's default of up to 120 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              Millis(options_.initial_backoff));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              Millis(options_.initial_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, Millis(options_.max_backoff));
  // A new channel after heartbeat silence must mean a new connection: a
  // subchannel shared through the global pool could be the dead one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (options_.receive_window_bytes > 0) {
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES,
                options_.receive_window_bytes);
  }
  if (!options_.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options_.tls_server_name);
  }
  auto credentials = options_.credentials != nullptr
                         ? options_.credentials
                         : grpc::InsecureChannelCredentials();
  return grpc::CreateCustomChannel(addresses_[address_index_], credentials,
                                   args);
}

void AlertSubscriber::Run() {
  {
    absl::MutexLock lock(&mu_);
    thread_id_ = std::this_thread::get_id();
  }
  std::shared_ptr<grpc::Channel> channel = NewChannel();
  std::unique_ptr<v1::AlertService::Stub> stub =
      v1::AlertService::NewStub(channel);
  Backoff backoff(options_.initial_backoff, options_.max_backoff,
                  options_.jitter);
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int failed_attempts = 0;
  grpc::Status final_status;

  while (true) {
    if (StopRequested()) break;
    if (absl::Now() >= options_.deadline) {
      final_status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                  "the subscriber's deadline passed");
      break;
    }
    StateChange connecting;
    connecting.state = SubscriberState::kConnecting;
    connecting.resume_after = tracker_.resume_after();
    Notify(connecting);

    StreamEnd end = RunStream(*stub);
    if (StopRequested()) break;
    if (absl::Now() >= options_.deadline) {
      final_status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                  "the subscriber's deadline passed");
      break;
    }
    const ResumeTracker::EndAction action =
        tracker_.OnStreamEnd(end.status, end.last_sequence_trailer);
    if (action.kind == ResumeTracker::EndAction::kStop) {
      final_status = action.status;
      break;
    }
    if (end.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++local_stats_.slow_consumer_cutoffs;
    }
    if (end.silence) ++local_stats_.heartbeat_silences;
    if (action.kind == ResumeTracker::EndAction::kGap) {
      ++local_stats_.gaps;
      PublishStats();
      handler_->OnGap(
          Gap{action.gap_after, action.oldest_retained, end.status});
      if (StopRequested()) break;
    }
    if (end.delivered) {
      backoff.Reset();
      failed_attempts = 0;
    }
    ++failed_attempts;
    const bool gone = end.status.error_code() == grpc::StatusCode::UNAVAILABLE;
    if (addresses_.size() > 1 && (gone || end.silence)) {
      // The replica is draining or gone: resume on the next one.
      address_index_ = (address_index_ + 1) % addresses_.size();
      channel = NewChannel();
      stub = v1::AlertService::NewStub(channel);
    } else if (end.silence) {
      // The connection itself may be what went quiet (a half-open TCP
      // connection, a stalled proxy): start over on a new one.
      channel = NewChannel();
      stub = v1::AlertService::NewStub(channel);
    }
    ++local_stats_.reconnects;
    PublishStats();

    StateChange reconnecting;
    reconnecting.state = SubscriberState::kReconnecting;
    reconnecting.status = end.status;
    reconnecting.resume_after = tracker_.resume_after();
    reconnecting.delay = backoff.Next(unit(random));
    reconnecting.attempt = failed_attempts;
    reconnecting.heartbeat_silence = end.silence;
    if (end.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      reconnecting.server_last_sequence = end.last_sequence_trailer;
    }
    Notify(reconnecting);

    absl::MutexLock lock(&mu_);
    const absl::Time wake =
        std::min(absl::Now() + reconnecting.delay, options_.deadline);
    mu_.AwaitWithDeadline(absl::Condition(&stop_requested_), wake);
  }

  PublishStats();
  StateChange stopped;
  stopped.state = SubscriberState::kStopped;
  stopped.status = final_status;
  Notify(stopped);
  absl::MutexLock lock(&mu_);
  final_status_ = final_status;
  stopped_ = true;
}

AlertSubscriber::StreamEnd AlertSubscriber::RunStream(
    v1::AlertService::Stub& stub) {
  StreamEnd end;
  v1::SubscribeAlertsRequest request;
  *request.mutable_filter() = options_.filter;
  for (const v1::Holding& h : options_.holdings) *request.add_holdings() = h;
  if (const auto after = tracker_.resume_after()) {
    request.set_resume_after_sequence(*after);
  }

  grpc::ClientContext context;
  for (const auto& [key, value] : options_.metadata) {
    context.AddMetadata(key, value);
  }
  if (options_.deadline != absl::InfiniteFuture()) {
    context.set_deadline(absl::ToChronoTime(options_.deadline));
  }
  {
    absl::MutexLock lock(&mu_);
    if (stop_requested_) {
      end.status = grpc::Status(grpc::StatusCode::CANCELLED, "stopped");
      return end;
    }
    call_ = &context;
  }
  ++local_stats_.streams;

  grpc::CompletionQueue cq;
  auto call = stub.PrepareAsyncSubscribeAlerts(&context, request, &cq);
  call->StartCall(ToTag(kStartTag));
  v1::SubscribeAlertsResponse response;
  bool cancelled = false;
  bool live = false;
  absl::Time quiet_until = absl::Now() + options_.heartbeat_timeout;
  while (true) {
    void* tag = nullptr;
    bool ok = false;
    // Once cancelled, the pending operation completes promptly; the wait is
    // only a bound.
    const absl::Time wake =
        cancelled ? absl::Now() + absl::Seconds(5) : quiet_until;
    const grpc::CompletionQueue::NextStatus next =
        cq.AsyncNext(&tag, &ok, absl::ToChronoTime(wake));
    if (next == grpc::CompletionQueue::SHUTDOWN) break;  // cannot happen
    if (next == grpc::CompletionQueue::TIMEOUT) {
      if (!cancelled) {
        end.silence = true;
        cancelled = true;
        context.TryCancel();
      }
      continue;
    }
    const Tag t = static_cast<Tag>(reinterpret_cast<intptr_t>(tag));
    if (t == kFinishTag) break;
    if (!ok) {
      call->Finish(&end.status, ToTag(kFinishTag));
      continue;
    }
    if (t == kReadTag) {
      end.delivered = true;
      Handle(response, &live);
      if (StopRequested()) {
        context.TryCancel();
        cancelled = true;
      }
    }
    // The silence is measured while waiting for the server, not while the
    // handler works.
    quiet_until = absl::Now() + options_.heartbeat_timeout;
    call->Read(&response, ToTag(kReadTag));
  }
  for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
    uint64_t sequence = 0;
    if (key == kLastSequenceTrailer &&
        absl::SimpleAtoi(absl::string_view(value.data(), value.size()),
                         &sequence)) {
      end.last_sequence_trailer = sequence;
    }
  }
  if (end.silence) {
    end.status = grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("heartbeat silence: nothing from the server for ",
                     absl::FormatDuration(options_.heartbeat_timeout)));
  }
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return end;
}

void AlertSubscriber::Handle(v1::SubscribeAlertsResponse& response,
                             bool* live) {
  if (StopRequested()) return;
  const size_t dropped = tracker_.Accept(response, &batch_);
  local_stats_.duplicates_dropped += dropped;
  local_stats_.alerts_delivered += batch_.size();
  if (response.has_heartbeat()) {
    tracker_.OnHeartbeat(response.heartbeat().newest_sequence());
  }
  PublishStats();
  if (!batch_.empty()) handler_->OnAlerts(batch_);
  if (!response.has_heartbeat() || StopRequested()) return;
  if (!*live) {
    *live = true;
    StateChange change;
    change.state = SubscriberState::kLive;
    change.newest_sequence = response.heartbeat().newest_sequence();
    Notify(change);
    if (StopRequested()) return;
  }
  handler_->OnHeartbeat(response.heartbeat());
}

}  // namespace tariffalert
