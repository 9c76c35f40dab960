#ifndef TARIFF_ALERT_SERVER_SERVICE_ALERT_STREAM_H_
#define TARIFF_ALERT_SERVER_SERVICE_ALERT_STREAM_H_

// One SubscribeAlerts stream: a callback-API write reactor that is also the
// hub's Subscriber. The hub queues pre-serialized alerts; one write is in
// flight at a time and carries everything that queued meanwhile as one
// message. A queue past its bound ends the stream with RESOURCE_EXHAUSTED and
// the last delivered sequence (message and trailing metadata
// "ta-last-sequence"), from which the client resumes. Modelled on the health
// service's WatchReactor: Finish waits for the write in flight. A stream
// whose request carried holdings owns their PortfolioWatch, which the hub
// uses to add the stream's portfolio alert after each event.
//
// Alerts the hub hands over on the publisher's thread are only queued: an
// idle stream asks the WriteScheduler to start its write, and a write's
// completion starts the next, so a publish never waits on a socket and the
// writes of many streams spread over the cores.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/subscriber_queue.h"
#include "server/service/write_scheduler.h"

namespace tariffalert {

inline constexpr char kLastSequenceTrailer[] = "ta-last-sequence";

class AlertStream : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                    public Subscriber,
                    public ScheduledWriter {
 public:
  // Starts the stream: subscribes to `hub`, or finishes at once with the
  // hub's error. Deletes itself when the call is done. `writes` must
  // outlive the call.
  static AlertStream* Start(
      grpc::CallbackServerContext* context, AlertHub* hub,
      WriteScheduler* writes, AlertFilter filter,
      std::optional<uint64_t> resume_after, QueueLimits limits,
      std::unique_ptr<PortfolioWatch> portfolio = nullptr);

  // Subscriber
  const AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const EncodedAlertPtr> alerts,
               bool more_to_replay) override ABSL_LOCKS_EXCLUDED(mu_);
  QueueRoom Room() override ABSL_LOCKS_EXCLUDED(mu_);
  void DeliverHeartbeat(const grpc::Slice& heartbeat,
                        uint64_t newest_sequence) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void End(const absl::Status& status) override ABSL_LOCKS_EXCLUDED(mu_);
  const PortfolioWatch* portfolio() const override { return portfolio_.get(); }

  // ServerWriteReactor
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone() override;

  // ScheduledWriter
  void RunScheduledWrite() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  AlertStream(grpc::CallbackServerContext* context, AlertHub* hub,
              WriteScheduler* writes, AlertFilter filter, QueueLimits limits,
              std::unique_ptr<PortfolioWatch> portfolio);
  ~AlertStream() override = default;

  void WriteOrFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Has the scheduler start a write, unless one is in flight or asked for.
  void ScheduleWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const context_;
  AlertHub* const hub_;
  WriteScheduler* const writes_;
  const size_t write_shard_;
  const AlertFilter filter_;
  const QueueLimits limits_;
  const std::unique_ptr<PortfolioWatch> portfolio_;  // null: no holdings

  absl::Mutex mu_;
  SubscriberQueue queue_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t in_flight_resume_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // A RunScheduledWrite call is due: it frees the stream if the call is done
  // by then.
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool replaying_ ABSL_GUARDED_BY(mu_) = false;
  // The sequence a client that received everything written so far would
  // resume after.
  uint64_t last_delivered_ ABSL_GUARDED_BY(mu_) = 0;
  // Once set, nothing more is queued; Finish follows the write in flight.
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_ALERT_STREAM_H_
