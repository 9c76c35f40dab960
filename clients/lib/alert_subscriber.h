#ifndef TARIFF_ALERT_CLIENTS_LIB_ALERT_SUBSCRIBER_H_
#define TARIFF_ALERT_CLIENTS_LIB_ALERT_SUBSCRIBER_H_

// The alert stream client a trading system embeds (docs/client.md).
//
// An AlertSubscriber keeps one SubscribeAlerts stream open on a thread of its
// own and hands what arrives to an AlertHandler on that thread. It remembers
// the last sequence seen (alerts, and heartbeats' newest_sequence); whenever a
// stream ends -- server shutdown (UNAVAILABLE), slow-consumer cut-off
// (RESOURCE_EXHAUSTED), a network error, or no message for
// `heartbeat_timeout` (the call is cancelled and a new connection made) -- it
// reconnects with backoff and resumes after that sequence, so the handler
// sees every matching alert once, in sequence order. A resume point that fell
// out of the server's retention is reported to OnGap and passed over; a
// permanent error (INVALID_ARGUMENT, UNAUTHENTICATED, ...) stops it.
//
// It must never deliver a sequence twice or out of order, and never block
// the caller of Stop() for longer than one handler callback.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "clients/lib/resume_tracker.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"

namespace tariffalert {

struct SubscriberOptions {
  // host:port of a tariff-alert server, or replicas "host:port,host:port":
  // when a stream ends with UNAVAILABLE (a replica draining or gone) or
  // heartbeat silence, the next one is tried, resuming where it stopped.
  std::string server_address = "127.0.0.1:50051";
  // Null: plaintext (grpc::InsecureChannelCredentials()). For TLS and a
  // token: MakeChannelCredentials and TokenMetadata (connection.h).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // With TLS, the name the server's certificate must carry when it is not
  // the host of server_address.
  std::string tls_server_name;
  // Sent with every SubscribeAlerts call, e.g. {"authorization", "Bearer t"}.
  std::vector<std::pair<std::string, std::string>> metadata;

  v1::AlertFilter filter;
  std::vector<v1::Holding> holdings;
  // Where the first stream starts: replay the retained alerts after this
  // sequence, then live. Unset: live from the moment of subscribing.
  std::optional<uint64_t> resume_after_sequence;

  // No message (alert or heartbeat) for this long: the stream is taken for
  // dead, cancelled, and resumed on a new connection. 3 x the server's
  // default heartbeat interval (5 s); keep it above 2 x --heartbeat-seconds.
  absl::Duration heartbeat_timeout = absl::Seconds(15);
  // Reconnect delays: initial_backoff doubling to max_backoff, each +-jitter
  // (a fraction); back to initial_backoff after a stream that delivered
  // anything.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  double jitter = 0.2;
  // HTTP/2 keepalive pings: the server accepts one every 10 s at most.
  absl::Duration keepalive_time = absl::Seconds(20);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // HTTP/2 receive window for the stream, in bytes: how much may wait unread
  // between the server and a busy handler. 0: gRPC's default, which grows
  // with the measured bandwidth-delay product to megabytes, so a stalled
  // handler is cut off by the server (and resumed) only after that much.
  int receive_window_bytes = 0;
  // The subscriber stops by itself at this time (status DEADLINE_EXCEEDED).
  absl::Time deadline = absl::InfiniteFuture();
};

enum class SubscriberState {
  kConnecting,    // a SubscribeAlerts call is starting
  kLive,          // the stream's first heartbeat: replay done, alerts live
  kReconnecting,  // the stream ended; the next attempt comes after a delay
  kStopped,       // for good: Stop(), the deadline, or a permanent error
};
const char* SubscriberStateName(SubscriberState state);

struct StateChange {
  SubscriberState state = SubscriberState::kConnecting;
  // kReconnecting: how the stream or connect attempt ended (heartbeat
  // silence: UNAVAILABLE "heartbeat silence: ..."); kStopped: the final
  // status (OK after Stop()).
  grpc::Status status;
  // kConnecting, kReconnecting: what the next request asks for (nullopt:
  // live).
  std::optional<uint64_t> resume_after;
  // kLive: the first heartbeat's newest sequence.
  uint64_t newest_sequence = 0;
  // kReconnecting: the wait before the next attempt, and how many attempts
  // in a row have failed without delivering anything (1 after a healthy
  // stream).
  absl::Duration delay;
  int attempt = 0;
  bool heartbeat_silence = false;
  // kReconnecting after RESOURCE_EXHAUSTED: the server's ta-last-sequence.
  std::optional<uint64_t> server_last_sequence;
};

// The resume point had fallen out of the server's retention: the alerts
// after `resume_after` and before `oldest_retained` that matched the filter
// are lost to this subscriber. It continues with `oldest_retained`.
struct Gap {
  uint64_t resume_after = 0;
  uint64_t oldest_retained = 0;
  grpc::Status status;  // the server's OUT_OF_RANGE
};

struct SubscriberStats {
  bool has_position = false;
  uint64_t last_sequence = 0;  // seen up to (alerts and heartbeats)
  uint64_t alerts_delivered = 0;
  uint64_t duplicates_dropped = 0;
  int streams = 0;  // calls started
  int reconnects = 0;
  int slow_consumer_cutoffs = 0;
  int heartbeat_silences = 0;
  int gaps = 0;
};

// Called on the subscriber's thread, one call at a time. A slow handler is
// safe: the server queues, then cuts the stream off, and the subscriber
// resumes where the handler got to. A handler may call Stop() and stats().
class AlertHandler {
 public:
  virtual ~AlertHandler() = default;
  // New alerts, in sequence order; each sequence once (a portfolio alert
  // shares its sequence with its event's last alert). The span lives until
  // the call returns.
  virtual void OnAlerts(absl::Span<const v1::Alert> alerts) = 0;
  virtual void OnHeartbeat(const v1::Heartbeat& heartbeat) {}
  virtual void OnStateChange(const StateChange& change) {}
  virtual void OnGap(const Gap& gap) {}
};

class AlertSubscriber {
 public:
  // `handler` must outlive the subscriber.
  AlertSubscriber(SubscriberOptions options, AlertHandler* handler);
  // Stop()s.
  ~AlertSubscriber();
  AlertSubscriber(const AlertSubscriber&) = delete;
  AlertSubscriber& operator=(const AlertSubscriber&) = delete;

  // Starts the thread. INVALID_ARGUMENT for bad options, FAILED_PRECONDITION
  // if started before.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels the call in flight or the wait between attempts and joins the
  // thread; the handler's last call, before Stop returns, is
  // OnStateChange(kStopped). From a handler (on the subscriber's thread) it
  // only asks: no callback follows but kStopped, and Wait() or the
  // destructor joins.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for the subscriber to stop (Stop(), its deadline or
  // a permanent error): its final status, or nullopt if still running.
  std::optional<grpc::Status> Wait(absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

  SubscriberStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct StreamEnd {
    grpc::Status status;
    std::optional<uint64_t> last_sequence_trailer;
    bool delivered = false;  // any message arrived
    bool silence = false;
  };

  void Run();
  StreamEnd RunStream(v1::AlertService::Stub& stub) ABSL_LOCKS_EXCLUDED(mu_);
  // The handler's part of one message (nothing once Stop() was asked).
  void Handle(v1::SubscribeAlertsResponse& response, bool* live)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A channel to addresses_[address_index_].
  std::shared_ptr<grpc::Channel> NewChannel() const;
  bool StopRequested() const ABSL_LOCKS_EXCLUDED(mu_);
  void Notify(const StateChange& change);
  void PublishStats() ABSL_LOCKS_EXCLUDED(mu_);

  const SubscriberOptions options_;
  AlertHandler* const handler_;

  // The subscriber thread's own state.
  std::vector<std::string> addresses_;
  size_t address_index_ = 0;
  ResumeTracker tracker_;
  std::vector<v1::Alert> batch_;
  SubscriberStats local_stats_;

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  // The call in flight, for Stop() to cancel.
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  SubscriberStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread::id thread_id_ ABSL_GUARDED_BY(mu_);
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
  // Guards the join: Stop() from two threads at once joins once.
  absl::Mutex join_mu_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_CLIENTS_LIB_ALERT_SUBSCRIBER_H_
