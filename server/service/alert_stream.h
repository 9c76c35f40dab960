#ifndef TARIFF_ALERT_SERVER_SERVICE_ALERT_STREAM_H_
#define TARIFF_ALERT_SERVER_SERVICE_ALERT_STREAM_H_

// One SubscribeAlerts stream on gRPC's completion-queue (async) API, which is
// also the hub's Subscriber. The hub queues pre-serialized alerts; one write
// is in flight at a time and carries everything that queued meanwhile as one
// message. A queue past its bound ends the stream with RESOURCE_EXHAUSTED and
// the last delivered sequence (message and trailing metadata
// "ta-last-sequence"), from which the client resumes. Finish waits for the
// write in flight. A stream whose request carried holdings owns their
// PortfolioWatch, which the hub uses to add the stream's portfolio alert
// after each event.
//
// A stream lives on the completion queue its call was accepted on
// (AlertServiceImpl runs one per stream thread). Every Write and Finish
// starts on that queue's thread. The hub's callbacks (Deliver,
// DeliverHeartbeat, End), which run on the publisher's or heartbeat thread
// under the hub's lock, only queue and, if the stream is idle, wake the
// queue's thread with an Alarm set to the past; so a publish never waits on
// a socket and the writes of many streams spread over the cores.
//
// Lock order: the hub's lock, then a stream's. A stream never calls into the
// hub while holding its own lock.

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/async_stream.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/fanout/alert_filter.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/portfolio_alert.h"
#include "server/fanout/subscriber_queue.h"
#include "server/security/tokens.h"

namespace tariffalert {

inline constexpr char kLastSequenceTrailer[] = "ta-last-sequence";

class AlertServiceImpl;

// Created waiting for a call (Request); every tag it hands gRPC points at one
// of its Tag members, and its queue's thread calls Proceed for each. It
// deletes itself once the call is done (the done tag), its Finish has
// completed, and no write or wake-up is pending; before that it leaves the
// hub, so the hub never calls it again.
class AlertStream final : public Subscriber {
 public:
  enum class Op { kAccepted, kWrite, kFinish, kDone, kWake };
  struct Tag {
    AlertStream* stream;
    Op op;
  };

  AlertStream(AlertServiceImpl* service, grpc::ServerCompletionQueue* cq);
  AlertStream(const AlertStream&) = delete;
  AlertStream& operator=(const AlertStream&) = delete;

  // Asks gRPC for the next SubscribeAlerts call on the stream's queue.
  void Request();
  // On the queue's thread, for each of the stream's tags.
  void Proceed(Op op, bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // Streams that got a call and are not deleted yet, in the whole process:
  // a cancelled or finished stream is deleted once gRPC is done with it.
  static size_t LiveCalls();

  // Subscriber
  const AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const EncodedAlertPtr> alerts,
               bool more_to_replay) override ABSL_LOCKS_EXCLUDED(mu_);
  QueueRoom Room() override ABSL_LOCKS_EXCLUDED(mu_);
  QueueSize Queued() override ABSL_LOCKS_EXCLUDED(mu_);
  void DeliverHeartbeat(const grpc::Slice& heartbeat,
                        uint64_t newest_sequence) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void End(const absl::Status& status) override ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const PortfolioWatch> portfolio() const override {
    return portfolio_;
  }
  // The hash of the token the stream was admitted with; unset without
  // tokens. Set before the stream subscribes, then constant, so the hub may
  // read it under its lock.
  const std::optional<Sha256Digest>& token_digest() const {
    return token_digest_;
  }

 private:
  ~AlertStream() override = default;

  // The call arrived: parse and check the request, then subscribe (or
  // finish with the error).
  void Accept() ABSL_LOCKS_EXCLUDED(mu_);
  // After something was queued or the stream started closing, from a hub
  // callback: unless an op or a wake-up is pending (whose completion looks
  // at the queue again), wakes the queue's thread to write or finish.
  void KickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the next write, or Finish once closing; nothing if an op is
  // already in flight. On the queue's thread only.
  void WriteOrFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Nothing more is queued; Finish follows the write in flight. The caller
  // then kicks (hub callbacks) or calls WriteOrFinishLocked (queue thread).
  void CloseLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Leaves the hub, deletes the stream and tells the service.
  void Destroy();

  AlertServiceImpl* const service_;
  AlertHub* const hub_;
  grpc::ServerCompletionQueue* const cq_;
  const QueueLimits limits_;

  Tag accepted_tag_{this, Op::kAccepted};
  Tag write_tag_{this, Op::kWrite};
  Tag finish_tag_{this, Op::kFinish};
  Tag done_tag_{this, Op::kDone};
  Tag wake_tag_{this, Op::kWake};

  // The stream counts against AdmitStream's limits for this client (its
  // token's name, or its host without tokens) until destroyed.
  bool admitted_ = false;
  std::string admitted_client_;
  std::optional<Sha256Digest> token_digest_;

  grpc::ServerContext context_;
  grpc::ByteBuffer request_;
  grpc::ServerAsyncWriter<grpc::ByteBuffer> writer_{&context_};

  // Set on the queue's thread in Accept, before the hub learns of the stream
  // (hub->Subscribe), and not changed after.
  AlertFilter filter_;
  std::shared_ptr<const PortfolioWatch> portfolio_;  // null: no holdings
  // Only touched on the queue's thread: Accept ran hub->Subscribe.
  bool subscribed_ = false;

  absl::Mutex mu_;
  SubscriberQueue queue_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t in_flight_resume_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool replaying_ ABSL_GUARDED_BY(mu_) = false;
  // The sequence a client that received everything written so far would
  // resume after.
  uint64_t last_delivered_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Alarm wake_ ABSL_GUARDED_BY(mu_);
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  // Once set, nothing more is queued; Finish follows the write in flight.
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  bool finish_started_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_done_ ABSL_GUARDED_BY(mu_) = false;
  // The call is over (the done tag): cancelled, or after our Finish.
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_ALERT_STREAM_H_
