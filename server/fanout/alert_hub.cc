#include "server/fanout/alert_hub.h"

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/metrics/metrics.h"

namespace tariffalert {
namespace {

// Log entries a query looks at per hold of the hub's lock.
constexpr size_t kQuerySlice = 4096;
// Departures after which the heartbeat thread trims even while more go on.
constexpr size_t kTrimAfterLeaving = 1024;

}  // namespace

AlertHub::AlertHub(HubOptions options, const Clock& clock)
    : options_(options), clock_(clock) {
  if (options_.log_horizon && options_.blocking == nullptr) {
    // A programming error: the look-up would block the subscribing thread.
    TA_LOG(ERROR) << "HubOptions::log_horizon needs HubOptions::blocking";
    std::abort();
  }
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
    bool trim = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_),
                           options_.heartbeat_interval);
      if (stop_) return;
      // glibc keeps the pages of freed stream state (gRPC's calls and
      // transports, the queues) in its per-thread arenas: 500 cancelled
      // streams left a server near its peak RSS with nothing leaked. Once
      // departures have stopped for an interval (gRPC frees a call's memory
      // a little after the stream leaves), or after many, hand them back:
      // at most once an interval, never under the lock.
      trim = left_since_trim_ >= kTrimAfterLeaving ||
             (left_since_trim_ > 0 && left_since_trim_ == left_at_last_tick_);
      if (trim) left_since_trim_ = 0;
      left_at_last_tick_ = left_since_trim_;
    }
    SendHeartbeats();
    if (trim) malloc_trim(0);
  }
}

namespace {

// The events of a hub call: [begin, end) runs of one event_id.
struct Run {
  size_t begin;
  size_t end;
};

absl::InlinedVector<Run, 1> EventRuns(
    absl::Span<const EncodedAlertPtr> alerts) {
  absl::InlinedVector<Run, 1> events;
  if (alerts.empty()) return events;
  if (alerts.front()->keys.event_id == alerts.back()->keys.event_id) {
    // The publisher's case, one event a call: no need to look at each alert.
    events.push_back(Run{0, alerts.size()});
    return events;
  }
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i == 0 || alerts[i]->keys.event_id != alerts[i - 1]->keys.event_id) {
      events.push_back(Run{i, i});
    }
    events.back().end = i + 1;
  }
  return events;
}

}  // namespace

uint64_t AlertHub::OldestLocked() const {
  return log_.empty() ? newest_ + 1 : log_.front().alert->sequence;
}

grpc::Slice AlertHub::HeartbeatLocked() {
  return EncodeHeartbeat(newest_, absl::ToUnixMicros(clock_.Now()));
}

absl::Status AlertHub::Subscribe(Subscriber* s,
                                 std::optional<uint64_t> resume_after) {
  absl::MutexLock lock(&mu_);
  if (ended_) return end_status_;
  if (resume_after.has_value() && *resume_after > newest_ &&
      options_.log_horizon) {
    // A resume ahead of this hub may be behind the shared log: another
    // replica's alerts this hub has not read yet. Asking the log is a
    // round trip to Redis: on the blocking pool, not on the caller's thread
    // (a completion-queue thread that drives other streams' writes); the
    // subscriber waits, pending, until the answer came.
    const uint64_t after = *resume_after;
    State state = StateFor(s);
    state.pending = true;
    RegisterLocked(s, std::move(state));
    const bool posted = options_.blocking->Post(
        [this, s, after] { ResolveAhead(s, after, options_.log_horizon()); });
    if (!posted) {
      EraseLocked(subscribers_.find(s));
      return absl::UnavailableError(
          "the server is busy or shutting down: resume again");
    }
    return absl::OkStatus();
  }
  return StartLocked(s, StateFor(s), resume_after, std::nullopt);
}

AlertHub::State AlertHub::StateFor(const Subscriber* s) {
  State state;
  if (s->portfolio() != nullptr && s->filter().WantsPortfolio()) {
    state.portfolio = s->portfolio();
  }
  return state;
}

void AlertHub::ResolveAhead(Subscriber* s, uint64_t after,
                            absl::StatusOr<uint64_t> log_horizon) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(s);
  // Gone meanwhile, or ended (EndAll, EndIf) while it waited.
  if (it == subscribers_.end() || !it->second.pending) return;
  if (it->second.closed) {
    EraseLocked(it);
    return;
  }
  State state = it->second;
  state.pending = false;
  EraseLocked(it);
  std::optional<uint64_t> horizon;
  if (log_horizon.ok()) horizon = *log_horizon;
  const absl::Status started = StartLocked(s, state, after, horizon);
  if (!started.ok()) s->End(started);
}

absl::Status AlertHub::StartLocked(Subscriber* s, State state,
                                   std::optional<uint64_t> resume_after,
                                   std::optional<uint64_t> horizon) {
  if (resume_after.has_value()) {
    const uint64_t after = *resume_after;
    if (after > newest_ && horizon.has_value() && after <= *horizon) {
      // Logged, not read yet: live from here, skipping up to `after`.
      state.live = true;
      state.floor = after;
      RegisterLocked(s, std::move(state));
      metrics::StreamOpened();
      metrics::StreamResumed(metrics::ResumeResult::kAhead);
      s->DeliverHeartbeat(HeartbeatLocked(), newest_);
      return absl::OkStatus();
    }
    if (after > newest_) {
      metrics::StreamResumed(metrics::ResumeResult::kRefused);
      return absl::OutOfRangeError(absl::StrCat(
          "resume_after_sequence: ", after, " is ahead of the newest sequence ",
          std::max(newest_, horizon.value_or(0))));
    }
    if (after + 1 < OldestLocked()) {
      metrics::StreamResumed(metrics::ResumeResult::kRefused);
      return absl::OutOfRangeError(absl::StrCat(
          "resume_after_sequence: alerts after ", after,
          " are no longer retained; the oldest retained sequence is ",
          OldestLocked()));
    }
    state.next_sequence = after + 1;
    metrics::StreamResumed(metrics::ResumeResult::kReplay);
  } else {
    state.live = true;
  }
  State& stored = RegisterLocked(s, std::move(state));
  metrics::StreamOpened();
  if (stored.live) {
    s->DeliverHeartbeat(HeartbeatLocked(), newest_);
  } else {
    FillLocked(s, stored);
  }
  return absl::OkStatus();
}

AlertHub::State& AlertHub::RegisterLocked(Subscriber* s, State state) {
  auto [it, inserted] = subscribers_.try_emplace(s);
  if (!inserted && it->second.portfolio != nullptr) {
    portfolio_subscribers_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (state.portfolio != nullptr) {
    portfolio_subscribers_.fetch_add(1, std::memory_order_relaxed);
  }
  it->second = std::move(state);
  return it->second;
}

void AlertHub::EraseLocked(
    absl::flat_hash_map<Subscriber*, State>::iterator it) {
  if (it->second.portfolio != nullptr) {
    portfolio_subscribers_.fetch_sub(1, std::memory_order_relaxed);
  }
  subscribers_.erase(it);
}

void AlertHub::Unsubscribe(Subscriber* s) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(s);
  if (it == subscribers_.end()) return;
  // A pending one was not counted open yet.
  if (!it->second.pending) metrics::StreamClosed();
  EraseLocked(it);
  ++left_since_trim_;
}

void AlertHub::Refill(Subscriber* s) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(s);
  if (it == subscribers_.end() || it->second.live || it->second.closed ||
      it->second.pending) {
    return;
  }
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
    const LogEntry& e = log_[static_cast<size_t>(seq - oldest)];
    const EncodedAlertPtr& a = e.alert;
    const bool match = filter.Matches(a->keys);
    // An event's portfolio alert goes with its last alert, in one chunk.
    EncodedAlertPtr portfolio;
    if (state.portfolio != nullptr && seq == e.event_last &&
        e.event_first >= oldest) {
      portfolio = ReplayedPortfolioLocked(*state.portfolio, e.event_first,
                                          e.event_last);
    }
    const size_t count = (match ? 1 : 0) + (portfolio != nullptr ? 1 : 0);
    const size_t size = (match ? a->bytes.size() : 0) +
                        (portfolio != nullptr ? portfolio->bytes.size() : 0);
    // What does not fit waits for the next chunk. Alerts larger than an
    // empty queue's room are offered anyway: the subscriber is cut off as it
    // would be live, instead of stalling.
    if (count > 0 && !chunk.empty() &&
        (bytes + size > room.bytes || chunk.size() + count > max_alerts)) {
      break;
    }
    if (match) chunk.push_back(a);
    if (portfolio != nullptr) chunk.push_back(std::move(portfolio));
    bytes += size;
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

EncodedAlertPtr AlertHub::ReplayedPortfolioLocked(
    const PortfolioWatch& portfolio, uint64_t first, uint64_t last) {
  const uint64_t oldest = OldestLocked();
  std::vector<EncodedAlertPtr> alerts;
  alerts.reserve(static_cast<size_t>(last - first + 1));
  for (uint64_t seq = first; seq <= last; ++seq) {
    alerts.push_back(log_[static_cast<size_t>(seq - oldest)].alert);
  }
  const LoggedEvent event(alerts);
  return portfolio.AlertFor(event);
}

void AlertHub::Publish(absl::Span<const EncodedAlertPtr> alerts) {
  if (alerts.empty()) return;
  const PortfolioAlerts made = PortfolioAlertsFor(alerts);
  absl::MutexLock lock(&mu_);
  if (alerts.front()->sequence != newest_ + 1) {
    // A gap or a repeat here would break the stream's contract; the
    // publisher allocates sequences densely under its own lock.
    TA_LOG(ERROR) << "alert sequence " << alerts.front()->sequence << " after "
                  << newest_;
    std::abort();
  }
  PublishLocked(alerts, made);
}

bool AlertHub::Append(absl::Span<const EncodedAlertPtr> alerts) {
  const PortfolioAlerts made = PortfolioAlertsFor(alerts);
  absl::MutexLock lock(&mu_);
  return AppendLocked(alerts, made);
}

bool AlertHub::AppendLocked(absl::Span<const EncodedAlertPtr> alerts,
                            const PortfolioAlerts& made) {
  size_t start = 0;
  while (start < alerts.size() && alerts[start]->sequence <= newest_) ++start;
  if (start == alerts.size()) return true;
  if (alerts[start]->sequence != newest_ + 1) return false;
  PublishLocked(alerts.subspan(start), made);
  // Held events the gap was before (their portfolio alerts made here).
  while (!held_.empty() && held_.begin()->first <= newest_ + 1) {
    std::vector<EncodedAlertPtr> next = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    size_t skip = 0;
    while (skip < next.size() && next[skip]->sequence <= newest_) ++skip;
    if (skip < next.size()) {
      PublishLocked(absl::MakeConstSpan(next).subspan(skip), PortfolioAlerts());
    }
  }
  return true;
}

void AlertHub::Offer(absl::Span<const EncodedAlertPtr> alerts) {
  if (alerts.empty()) return;
  const PortfolioAlerts made = PortfolioAlertsFor(alerts);
  absl::MutexLock lock(&mu_);
  if (AppendLocked(alerts, made)) return;
  held_[alerts.front()->sequence].assign(alerts.begin(), alerts.end());
  while (held_.size() > kMaxHeldEvents) held_.erase(held_.begin());
}

bool AlertHub::HeldLocked(uint64_t sequence) const {
  if (sequence <= newest_) return true;
  auto it = held_.upper_bound(sequence);
  if (it == held_.begin()) return false;
  --it;
  return !it->second.empty() && it->second.back()->sequence >= sequence;
}

bool AlertHub::AwaitHeld(uint64_t sequence, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  struct Args {
    const AlertHub* hub;
    uint64_t sequence;
  } args{this, sequence};
  return mu_.AwaitWithTimeout(absl::Condition(
                                  +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                    return a->hub->HeldLocked(a->sequence);
                                  },
                                  &args),
                              timeout);
}

void AlertHub::StartAfter(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  if (log_.empty() && sequence > newest_) newest_ = sequence;
}

AlertHub::PortfolioAlerts AlertHub::PortfolioAlertsFor(
    absl::Span<const EncodedAlertPtr> alerts) {
  PortfolioAlerts made;
  if (alerts.empty() ||
      portfolio_subscribers_.load(std::memory_order_relaxed) == 0) {
    return made;
  }
  std::vector<
      std::pair<const Subscriber*, std::shared_ptr<const PortfolioWatch>>>
      watches;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [s, state] : subscribers_) {
      if (state.live && !state.closed && !state.pending &&
          state.portfolio != nullptr) {
        watches.emplace_back(s, state.portfolio);
      }
    }
  }
  // Each event's alerts decoded once, each subscriber's impact computed and
  // serialized, with no lock held: what the hub's lock then covers is a
  // look-up per subscriber. A subscriber that leaves meanwhile is skipped
  // then; its watch lives as long as this copy of the pointer.
  for (const Run& run : EventRuns(alerts)) {
    if (watches.empty()) break;
    const LoggedEvent event(alerts.subspan(run.begin, run.end - run.begin));
    const uint64_t first = alerts[run.begin]->sequence;
    const uint64_t last = alerts[run.end - 1]->sequence;
    for (const auto& [s, watch] : watches) {
      made.emplace(std::make_tuple(s, first, last),
                   std::make_pair(watch, watch->AlertFor(event)));
    }
  }
  return made;
}

void AlertHub::PublishLocked(absl::Span<const EncodedAlertPtr> alerts,
                             const PortfolioAlerts& made) {
  const absl::InlinedVector<Run, 1> events = EventRuns(alerts);
  for (const Run& run : events) {
    const uint64_t first = alerts[run.begin]->sequence;
    const uint64_t last = alerts[run.end - 1]->sequence;
    for (size_t i = run.begin; i < run.end; ++i) {
      const EncodedAlertPtr& a = alerts[i];
      if (a->sequence != newest_ + 1) {
        // A gap or a repeat here would break the stream's contract; the
        // publisher allocates sequences densely under its own lock.
        TA_LOG(ERROR) << "alert sequence " << a->sequence << " after "
                      << newest_;
        std::abort();
      }
      newest_ = a->sequence;
      log_.push_back(LogEntry{a, first, last});
    }
  }
  while (log_.size() > options_.log_capacity) log_.pop_front();

  std::vector<EncodedAlertPtr> matched;
  // Built for the first subscriber with holdings whose alert was not made
  // before the lock, shared by the others.
  std::vector<std::unique_ptr<LoggedEvent>> logged;
  const uint64_t oldest = OldestLocked();
  for (auto& [s, state] : subscribers_) {
    if (state.closed || state.pending) continue;
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
    // A subscriber that resumed ahead of this hub gets only what follows
    // its resume point.
    const uint64_t floor = state.floor;
    if (state.portfolio == nullptr) {
      for (const EncodedAlertPtr& a : alerts) {
        if (a->sequence > floor && filter.Matches(a->keys)) {
          matched.push_back(a);
        }
      }
    } else {
      if (logged.empty()) logged.resize(events.size());
      for (size_t r = 0; r < events.size(); ++r) {
        const Run& run = events[r];
        if (alerts[run.end - 1]->sequence <= floor) continue;
        for (size_t i = run.begin; i < run.end; ++i) {
          if (alerts[i]->sequence > floor && filter.Matches(alerts[i]->keys)) {
            matched.push_back(alerts[i]);
          }
        }
        auto m = made.find(std::make_tuple(s, alerts[run.begin]->sequence,
                                           alerts[run.end - 1]->sequence));
        if (m != made.end() && m->second.first == state.portfolio) {
          matched.push_back(m->second.second);
          continue;
        }
        if (logged[r] == nullptr) {
          logged[r] = std::make_unique<LoggedEvent>(
              alerts.subspan(run.begin, run.end - run.begin));
        }
        matched.push_back(state.portfolio->AlertFor(*logged[r]));
      }
    }
    if (!matched.empty() && !s->Deliver(matched, false)) state.closed = true;
  }
}

AlertPage AlertHub::Query(const AlertFilter& filter, absl::Time from,
                          absl::Time to, uint64_t after_sequence,
                          size_t limit) const {
  AlertPage page;
  page.last_sequence = after_sequence;
  uint64_t seq = after_sequence + 1;
  while (true) {
    absl::MutexLock lock(&mu_);
    const uint64_t oldest = OldestLocked();
    page.oldest_sequence = log_.empty() ? 0 : oldest;
    // What fell out of the log since the last slice is gone.
    if (seq < oldest) seq = oldest;
    for (size_t scanned = 0; seq <= newest_ && scanned < kQuerySlice;
         ++scanned, ++seq) {
      const EncodedAlertPtr& a = log_[static_cast<size_t>(seq - oldest)].alert;
      if (!filter.Matches(a->keys)) continue;
      const absl::Time created =
          absl::FromUnixMicros(a->keys.created_unix_micros);
      if (created < from || created >= to) continue;
      if (page.alerts.size() == limit) {
        page.more = true;
        return page;
      }
      page.alerts.push_back(a);
      page.last_sequence = seq;
    }
    if (seq > newest_) return page;
  }
}

std::vector<EncodedAlertPtr> AlertHub::Logged(uint64_t first_sequence,
                                              uint64_t last_sequence) const {
  std::vector<EncodedAlertPtr> out;
  absl::MutexLock lock(&mu_);
  const uint64_t oldest = OldestLocked();
  const uint64_t first = std::max(first_sequence, oldest);
  const uint64_t last = std::min(last_sequence, newest_);
  if (first > last) return out;
  out.reserve(static_cast<size_t>(last - first + 1));
  for (uint64_t seq = first; seq <= last; ++seq) {
    out.push_back(log_[static_cast<size_t>(seq - oldest)].alert);
  }
  return out;
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

size_t AlertHub::EndIf(const std::function<bool(const Subscriber&)>& which,
                       const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  size_t ended = 0;
  for (auto& [s, state] : subscribers_) {
    if (!state.closed && which(*s)) {
      state.closed = true;
      s->End(status);
      ++ended;
    }
  }
  return ended;
}

QueueRoom AlertHub::LeastRoom() const {
  QueueRoom least{SIZE_MAX, SIZE_MAX};
  absl::MutexLock lock(&mu_);
  for (const auto& [s, state] : subscribers_) {
    if (!state.live || state.closed) continue;
    const QueueRoom room = s->Room();
    least.alerts = std::min(least.alerts, room.alerts);
    least.bytes = std::min(least.bytes, room.bytes);
  }
  return least;
}

AlertHub::QueueUse AlertHub::QueuesNow() const {
  QueueUse use;
  absl::MutexLock lock(&mu_);
  for (const auto& [s, state] : subscribers_) {
    if (state.closed) continue;
    const QueueSize queued = s->Queued();
    use.fullest.alerts = std::max(use.fullest.alerts, queued.alerts);
    use.fullest.bytes = std::max(use.fullest.bytes, queued.bytes);
    use.total.alerts += queued.alerts;
    use.total.bytes += queued.bytes;
  }
  return use;
}

uint64_t AlertHub::newest_sequence() const {
  absl::MutexLock lock(&mu_);
  return newest_;
}

uint64_t AlertHub::oldest_sequence() const {
  absl::MutexLock lock(&mu_);
  return log_.empty() ? 0 : OldestLocked();
}

size_t AlertHub::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  return subscribers_.size();
}

}  // namespace tariffalert
