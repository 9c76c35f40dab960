#ifndef TARIFF_ALERT_SERVER_FANOUT_ALERT_HUB_H_
#define TARIFF_ALERT_SERVER_FANOUT_ALERT_HUB_H_

// The fan-out hub: keeps the recent alert log (in memory, bounded) and hands
// each newly logged alert to every live subscriber whose filter it passes.
// A resuming subscriber first replays the log after its sequence in chunks it
// pulls as its queue drains, and is switched to live under the hub's lock, so
// nothing is missed or repeated at the switch. Heartbeats go out on a timer;
// the same thread hands the memory of departed subscribers back to the
// system, which glibc would otherwise keep.
//
// A subscriber with holdings also gets one portfolio alert per event, right
// after the event's alerts, live and in a replay (server/fanout/
// portfolio_alert.h). The log keeps each event's bounds for that; a replayed
// event whose first alerts already fell out of the log gets no portfolio
// alert, since its impact can no longer be computed whole. Subscribers
// without holdings pay nothing for this. A live event's portfolio alerts
// are made before the hub's lock is taken (each event's alerts decoded once,
// each subscriber's impact computed and serialized), so the lock that every
// publish and stream waits for covers a look-up per subscriber; a replay's
// are made under it, a chunk at a time.
//
// The log also answers history queries (ListAlerts, GetEvent).
//
// Lock order: the hub's lock, then a subscriber's. Subscribers are called with
// the hub's lock held and must never call back into the hub from there.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/common/clock.h"
#include "server/common/work_pool.h"
#include "server/fanout/alert_filter.h"
#include "server/fanout/encoded_alert.h"
#include "server/fanout/portfolio_alert.h"

namespace tariffalert {

// Room left in a subscriber's queue.
struct QueueRoom {
  size_t alerts = 0;
  size_t bytes = 0;
};
// What a subscriber's queue holds.
struct QueueSize {
  size_t alerts = 0;
  size_t bytes = 0;
};

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual const AlertFilter& filter() const = 0;
  // Alerts that passed the filter, in sequence order (possibly none, during a
  // replay). `more_to_replay`: the subscriber is replaying and must call
  // AlertHub::Refill once it has sent what it has queued. Returns false when
  // the subscriber is closing (e.g. its queue overflowed): the hub then stops
  // delivering to it.
  virtual bool Deliver(absl::Span<const EncodedAlertPtr> alerts,
                       bool more_to_replay) = 0;
  // How much a replay chunk may hold without overflowing the queue.
  virtual QueueRoom Room() = 0;
  // What its queue holds now (for the metrics: the fullest queue).
  virtual QueueSize Queued() = 0;
  // A heartbeat saying the hub's newest sequence is `newest_sequence`: every
  // matching alert up to it was delivered before it.
  virtual void DeliverHeartbeat(const grpc::Slice& heartbeat,
                                uint64_t newest_sequence) = 0;
  // The hub ends the subscription: shutdown, or its replay fell out of the log.
  virtual void End(const absl::Status& status) = 0;
  // The subscriber's holdings, if it sent any: then each event's alerts are
  // followed by its portfolio alert (unless the filter's subject_kinds leave
  // PORTFOLIO out). Asked once, at Subscribe; the hub shares it, so that
  // a live event's portfolio alerts are made outside its lock.
  virtual std::shared_ptr<const PortfolioWatch> portfolio() const {
    return nullptr;
  }
};

// One page of a history query.
struct AlertPage {
  // Matching alerts, oldest first.
  std::vector<EncodedAlertPtr> alerts;
  // More matching alerts follow: the next page starts after `last_sequence`.
  bool more = false;
  // The last alert of the page (or after_sequence when the page is empty).
  uint64_t last_sequence = 0;
  // The oldest sequence the log held when the query ended (0: empty log).
  uint64_t oldest_sequence = 0;
};

struct HubOptions {
  // Alerts kept for resume.
  size_t log_capacity = 100000;
  // Alerts handed to a replaying subscriber at a time.
  size_t replay_chunk = 256;
  // 0: no heartbeat thread (tests call SendHeartbeats()).
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // With a shared log: the newest sequence it holds. A resume ahead of this
  // hub but not of the log is then served (live from the resume point) while
  // the hub catches up, instead of refused.
  std::function<absl::StatusOr<uint64_t>()> log_horizon;
  // Where log_horizon is called (it blocks); required with it. Subscribe
  // returns at once, and the subscriber starts, or is ended OUT_OF_RANGE,
  // once the answer came.
  WorkPool* blocking = nullptr;
};

class AlertHub {
 public:
  AlertHub(HubOptions options, const Clock& clock);
  ~AlertHub();
  AlertHub(const AlertHub&) = delete;
  AlertHub& operator=(const AlertHub&) = delete;

  // Registers `s`. Without `resume_after` it is live at once and gets a
  // heartbeat; with it, it first receives the logged alerts after that
  // sequence, then a heartbeat when it goes live. OUT_OF_RANGE if the
  // sequence is older than the log's oldest or newer than its newest (with
  // HubOptions::blocking, for a sequence newer than the hub's: through
  // End, once the log was asked).
  absl::Status Subscribe(Subscriber* s, std::optional<uint64_t> resume_after)
      ABSL_LOCKS_EXCLUDED(mu_);
  // After this returns the hub never calls `s` again.
  void Unsubscribe(Subscriber* s) ABSL_LOCKS_EXCLUDED(mu_);
  // A replaying subscriber has sent its last chunk: deliver the next one.
  void Refill(Subscriber* s) ABSL_LOCKS_EXCLUDED(mu_);

  // Logs `alerts` (their sequences must continue the log's: newest + 1, ...)
  // and delivers them to the live subscribers they match. `alerts` holds
  // whole events: every alert of an event in one call (the publisher makes
  // one call per event). A call whose first and last alerts share their
  // event_id is one event; otherwise each run of one event_id is.
  void Publish(absl::Span<const EncodedAlertPtr> alerts)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Like Publish, for alerts that may reach the hub twice or early: from the
  // shared log in Redis (every replica's) and from this replica's own
  // publisher. Alerts the log already holds are skipped; the rest must
  // continue it (newest + 1, ...). false, and nothing logged, if they would
  // leave a gap: the caller delivers the missing ones first.
  bool Append(absl::Span<const EncodedAlertPtr> alerts)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Append for this replica's own publisher: alerts that would leave a gap
  // (another replica's, logged before them, are not read yet) are held and
  // delivered as soon as an Append fills the gap, so the log tailer need
  // not decode them again. At most kMaxHeldEvents events are held; the
  // oldest are dropped past that (the tailer then brings them).
  void Offer(absl::Span<const EncodedAlertPtr> alerts) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` until the hub logged or holds the alert with
  // `sequence`; whether it does.
  bool AwaitHeld(uint64_t sequence, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr size_t kMaxHeldEvents = 64;
  // An empty hub whose log is to begin after `sequence` (a server joining a
  // shared log that has trimmed its start). No effect once anything is logged.
  void StartAfter(uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);

  // History: the logged alerts after `after_sequence` that pass `filter` and
  // were created in [from, to), oldest first, at most `limit` of them. The
  // log is scanned in slices, so a long scan never holds up a publish for
  // long; alerts that fall out of the log meanwhile are skipped.
  AlertPage Query(const AlertFilter& filter, absl::Time from, absl::Time to,
                  uint64_t after_sequence, size_t limit) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The logged alerts with sequences in [first_sequence, last_sequence] that
  // the log still holds, in order.
  std::vector<EncodedAlertPtr> Logged(uint64_t first_sequence,
                                      uint64_t last_sequence) const
      ABSL_LOCKS_EXCLUDED(mu_);
  void SendHeartbeats() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every subscription with `status` and refuses new ones.
  void EndAll(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends, with `status`, the subscriptions for which `which` is true (it is
  // called under the hub's lock: it must not call into the hub); new ones
  // are still taken. Returns how many were ended.
  size_t EndIf(const std::function<bool(const Subscriber&)>& which,
               const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  // The least room a live subscriber's queue has left: a publisher that must
  // not cut anyone off (a load generator) waits while it is low. Unbounded
  // without live subscribers.
  QueueRoom LeastRoom() const ABSL_LOCKS_EXCLUDED(mu_);
  // What the subscribers' queues hold, replaying ones included: the fullest
  // queue by alerts and by bytes (each may be another subscriber's), and all
  // of them together. Takes each subscriber's lock in turn: for a scrape,
  // never the delivery path.
  struct QueueUse {
    QueueSize fullest;
    QueueSize total;
  };
  QueueUse QueuesNow() const ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t newest_sequence() const ABSL_LOCKS_EXCLUDED(mu_);
  // 0 while the log is empty.
  uint64_t oldest_sequence() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t subscriber_count() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct State {
    bool live = false;
    bool closed = false;
    uint64_t next_sequence = 0;  // next to replay, while not live
    // Live, but only alerts after this (a resume ahead of the hub).
    uint64_t floor = 0;
    // Set for subscribers that get portfolio alerts.
    std::shared_ptr<const PortfolioWatch> portfolio;
    // Resuming ahead of the hub: waits for the log's horizon
    // (HubOptions::blocking), and gets nothing meanwhile.
    bool pending = false;
  };
  static State StateFor(const Subscriber* s);
  // subscribers_[s] = state, and EraseLocked: keeping the count of
  // subscribers with holdings.
  State& RegisterLocked(Subscriber* s, State state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(absl::flat_hash_map<Subscriber*, State>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts `s` (registered or not) as Subscribe would, given the log's
  // horizon if it is known; the error Subscribe would return, with `s` not
  // registered.
  absl::Status StartLocked(Subscriber* s, State state,
                           std::optional<uint64_t> resume_after,
                           std::optional<uint64_t> horizon)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A pending subscriber's answer from the log: started, or ended.
  void ResolveAhead(Subscriber* s, uint64_t after,
                    absl::StatusOr<uint64_t> log_horizon)
      ABSL_LOCKS_EXCLUDED(mu_);
  struct LogEntry {
    EncodedAlertPtr alert;
    // The bounds of the alert's event.
    uint64_t event_first = 0;
    uint64_t event_last = 0;
  };
  // The portfolio alerts of live subscribers for the events of a call,
  // made before the hub's lock is taken: per (subscriber, event's first
  // and last sequence), the watch it was made by and the alert.
  using PortfolioAlerts = absl::flat_hash_map<
      std::tuple<const Subscriber*, uint64_t, uint64_t>,
      std::pair<std::shared_ptr<const PortfolioWatch>, EncodedAlertPtr>>;
  PortfolioAlerts PortfolioAlertsFor(absl::Span<const EncodedAlertPtr> alerts)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Logs and delivers dense alerts continuing the log; a portfolio alert
  // not in `made` (a subscriber that went live meanwhile) is made here.
  void PublishLocked(absl::Span<const EncodedAlertPtr> alerts,
                     const PortfolioAlerts& made)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Append under the lock, then what it lets through of held_.
  bool AppendLocked(absl::Span<const EncodedAlertPtr> alerts,
                    const PortfolioAlerts& made)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HeldLocked(uint64_t sequence) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillLocked(Subscriber* s, State& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The portfolio alert of the logged event [first, last] for `portfolio`.
  EncodedAlertPtr ReplayedPortfolioLocked(const PortfolioWatch& portfolio,
                                          uint64_t first, uint64_t last)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  grpc::Slice HeartbeatLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t OldestLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HeartbeatLoop();

  const HubOptions options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::deque<LogEntry> log_ ABSL_GUARDED_BY(mu_);
  uint64_t newest_ ABSL_GUARDED_BY(mu_) = 0;
  // Offered events waiting for a gap before them to fill, by first
  // sequence.
  std::map<uint64_t, std::vector<EncodedAlertPtr>> held_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Subscriber*, State> subscribers_ ABSL_GUARDED_BY(mu_);
  // Of them, those with holdings (changed under mu_): 0 spares a publish
  // the look for portfolio alerts to make before taking the lock.
  std::atomic<size_t> portfolio_subscribers_{0};
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Subscribers gone since the heartbeat thread last trimmed, and as many at
  // its previous tick (HeartbeatLoop).
  size_t left_since_trim_ ABSL_GUARDED_BY(mu_) = 0;
  size_t left_at_last_tick_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread heartbeat_thread_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_ALERT_HUB_H_
