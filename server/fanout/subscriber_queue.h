#ifndef TARIFF_ALERT_SERVER_FANOUT_SUBSCRIBER_QUEUE_H_
#define TARIFF_ALERT_SERVER_FANOUT_SUBSCRIBER_QUEUE_H_

// One subscriber's outgoing queue: bounded in alerts and bytes, in sequence
// order, heartbeats kept in place between alerts. TakeBatch() hands out what
// one write should carry: every alert queued up to the batch limits as one
// message, or a heartbeat. Not thread-safe: the stream that owns it locks.

#include <grpcpp/support/slice.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "server/fanout/encoded_alert.h"

namespace tariffalert {

struct QueueLimits {
  size_t max_alerts = 10000;
  size_t max_bytes = 16u << 20;
  // Largest single write.
  size_t max_batch_alerts = 512;
  size_t max_batch_bytes = 1u << 20;
};

struct Batch {
  std::vector<grpc::Slice> slices;  // concatenated, one message
  size_t alert_count = 0;
  // Where a client that got this batch stands: the last alert's sequence, or
  // the heartbeat's newest sequence.
  uint64_t resume_sequence = 0;
  bool empty() const { return slices.empty(); }
};

class SubscriberQueue {
 public:
  explicit SubscriberQueue(QueueLimits limits) : limits_(limits) {}

  // False, and nothing queued, if the alert would pass a bound.
  bool Push(EncodedAlertPtr alert);
  // A heartbeat right after what is queued; replaces a heartbeat still at the
  // tail, since the newer one says more.
  void PushHeartbeat(grpc::Slice heartbeat, uint64_t newest_sequence);
  Batch TakeBatch();
  void Clear();

  bool empty() const { return items_.empty(); }
  size_t alert_count() const { return alert_count_; }
  size_t bytes() const { return bytes_; }

 private:
  struct Item {
    EncodedAlertPtr alert;  // null for a heartbeat
    grpc::Slice heartbeat;
    uint64_t heartbeat_sequence = 0;
  };
  const QueueLimits limits_;
  std::deque<Item> items_;
  size_t alert_count_ = 0;
  size_t bytes_ = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_SUBSCRIBER_QUEUE_H_
