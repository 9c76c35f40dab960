#include "server/fanout/subscriber_queue.h"

#include <utility>

#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {

bool SubscriberQueue::Push(EncodedAlertPtr alert) {
  const size_t size = alert->bytes.size();
  if (alert_count_ + 1 > limits_.max_alerts ||
      bytes_ + size > limits_.max_bytes) {
    return false;
  }
  ++alert_count_;
  bytes_ += size;
  items_.push_back(Item{std::move(alert), grpc::Slice(), 0});
  return true;
}

void SubscriberQueue::PushHeartbeat(grpc::Slice heartbeat,
                                    uint64_t newest_sequence) {
  if (!items_.empty() && items_.back().alert == nullptr) {
    items_.back().heartbeat = std::move(heartbeat);
    items_.back().heartbeat_sequence = newest_sequence;
    return;
  }
  items_.push_back(Item{nullptr, std::move(heartbeat), newest_sequence});
}

Batch SubscriberQueue::TakeBatch() {
  Batch batch;
  if (items_.empty()) return batch;
  if (items_.front().alert == nullptr) {
    batch.slices.push_back(std::move(items_.front().heartbeat));
    batch.resume_sequence = items_.front().heartbeat_sequence;
    items_.pop_front();
    return batch;
  }
  size_t batch_bytes = 0;
  while (!items_.empty() && items_.front().alert != nullptr) {
    const EncodedAlert& a = *items_.front().alert;
    // A portfolio alert shares its sequence with the event's last alert: a
    // batch that ends with that alert takes it along, or a client cut off
    // between the two would resume after the sequence and never get it.
    const bool attached = batch.alert_count > 0 &&
                          a.keys.subject_kind == v1::SUBJECT_KIND_PORTFOLIO &&
                          a.sequence == batch.resume_sequence;
    if (!attached && (batch.alert_count >= limits_.max_batch_alerts ||
                      (batch.alert_count > 0 && batch_bytes + a.bytes.size() >
                                                    limits_.max_batch_bytes))) {
      break;
    }
    batch.slices.push_back(a.bytes);
    batch_bytes += a.bytes.size();
    batch.resume_sequence = a.sequence;
    ++batch.alert_count;
    --alert_count_;
    bytes_ -= a.bytes.size();
    items_.pop_front();
  }
  return batch;
}

void SubscriberQueue::Clear() {
  items_.clear();
  alert_count_ = 0;
  bytes_ = 0;
}

}  // namespace tariffalert
