#include "server/fanout/alert_hub.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace tariffalert {

AlertHub::AlertHub(HubOptions options, const Clock& clock)
    : options_(options), clock_(clock) {
  if (options_.heartbeat_interval > absl::ZeroDuration()) {
    heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  }
}

AlertHub::~AlertHub() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

void AlertHub::HeartbeatLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_),
                           options_.heartbeat_interval);
      if (stop_) return;
    }
    SendHeartbeats();
  }
}

uint64_t AlertHub::OldestLocked() const {
  return log_.empty() ? newest_ + 1 : log_.front()->sequence;
}

grpc::Slice AlertHub::HeartbeatLocked() {
  return EncodeHeartbeat(newest_, absl::ToUnixMicros(clock_.Now()));
}

absl::Status AlertHub::Subscribe(Subscriber* s,
                                 std::optional<uint64_t> resume_after) {
  absl::MutexLock lock(&mu_);
  if (ended_) return end_status_;
  State state;
  if (resume_after.has_value()) {
    const uint64_t after = *resume_after;
    if (after > newest_) {
      return absl::OutOfRangeError(
          absl::StrCat("resume_after_sequence: ", after,
                       " is ahead of the newest sequence ", newest_));
    }
    if (after + 1 < OldestLocked()) {
      return absl::OutOfRangeError(absl::StrCat(
          "resume_after_sequence: alerts after ", after,
          " are no longer retained; the oldest retained sequence is ",
          OldestLocked()));
    }
    state.next_sequence = after + 1;
  } else {
    state.live = true;
  }
  State& stored = subscribers_[s] = state;
  if (stored.live) {
    s->DeliverHeartbeat(HeartbeatLocked(), newest_);
  } else {
    FillLocked(s, stored);
  }
  return absl::OkStatus();
}

void AlertHub::Unsubscribe(Subscriber* s) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(s);
}

void AlertHub::Refill(Subscriber* s) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(s);
  if (it == subscribers_.end() || it->second.live || it->second.closed) return;
  FillLocked(s, it->second);
}

void AlertHub::FillLocked(Subscriber* s, State& state) {
  std::vector<EncodedAlertPtr> chunk;
  uint64_t seq = state.next_sequence;
  const uint64_t oldest = OldestLocked();
  const AlertFilter& filter = s->filter();
  // A chunk never overflows the queue: a resume must not cut itself off.
  const QueueRoom room = s->Room();
  const size_t max_alerts = std::min(options_.replay_chunk, room.alerts);
  size_t bytes = 0;
  while (seq <= newest_ && chunk.size() < max_alerts) {
    const EncodedAlertPtr& a = log_[static_cast<size_t>(seq - oldest)];
    if (filter.Matches(a->keys)) {
      if (bytes + a->bytes.size() > room.bytes && !chunk.empty()) break;
      // An alert larger than an empty queue's room is offered anyway: the
      // subscriber is cut off as it would be live, instead of stalling.
      bytes += a->bytes.size();
      chunk.push_back(a);
    }
    ++seq;
  }
  state.next_sequence = seq;
  const bool caught_up = seq > newest_;
  if (!s->Deliver(chunk, !caught_up)) {
    state.closed = true;
    return;
  }
  if (caught_up) {
    state.live = true;
    s->DeliverHeartbeat(HeartbeatLocked(), newest_);
  }
}

void AlertHub::Publish(absl::Span<const EncodedAlertPtr> alerts) {
  if (alerts.empty()) return;
  absl::MutexLock lock(&mu_);
  for (const EncodedAlertPtr& a : alerts) {
    if (a->sequence != newest_ + 1) {
      // A gap or a repeat here would break the stream's contract; the
      // publisher allocates sequences densely under its own lock.
      TA_LOG(ERROR) << "alert sequence " << a->sequence << " after " << newest_;
      std::abort();
    }
    newest_ = a->sequence;
    log_.push_back(a);
  }
  while (log_.size() > options_.log_capacity) log_.pop_front();

  std::vector<EncodedAlertPtr> matched;
  const uint64_t oldest = OldestLocked();
  for (auto& [s, state] : subscribers_) {
    if (state.closed) continue;
    if (!state.live) {
      if (state.next_sequence < oldest) {
        state.closed = true;
        s->End(absl::OutOfRangeError(absl::StrCat(
            "replay fell behind the alert log's retention; resume after ",
            state.next_sequence - 1, " is no longer possible (oldest retained ",
            oldest, ")")));
      }
      continue;
    }
    matched.clear();
    const AlertFilter& filter = s->filter();
    for (const EncodedAlertPtr& a : alerts) {
      if (filter.Matches(a->keys)) matched.push_back(a);
    }
    if (!matched.empty() && !s->Deliver(matched, false)) state.closed = true;
  }
}

void AlertHub::SendHeartbeats() {
  absl::MutexLock lock(&mu_);
  if (subscribers_.empty()) return;
  const grpc::Slice heartbeat = HeartbeatLocked();
  for (auto& [s, state] : subscribers_) {
    if (state.live && !state.closed) s->DeliverHeartbeat(heartbeat, newest_);
  }
}

void AlertHub::EndAll(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  ended_ = true;
  end_status_ = status;
  for (auto& [s, state] : subscribers_) {
    if (!state.closed) {
      state.closed = true;
      s->End(status);
    }
  }
}

uint64_t AlertHub::newest_sequence() const {
  absl::MutexLock lock(&mu_);
  return newest_;
}

size_t AlertHub::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  return subscribers_.size();
}

}  // namespace tariffalert
