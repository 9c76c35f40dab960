#ifndef TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_
#define TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_

// The publish pipeline: validate -> dedupe on event_id -> the tariff book:
// the rate change the event makes -> score against the exposure snapshot ->
// alerts -> the event log (server/tariff_book/event_log.h: the book, the
// alerts with their dense sequences and the event's record, stored all or
// nothing) -> the hub's log and streams.
//
// Events are planned and scored one at a time, each on the book as the
// events before it leave it, under a short lock; the commits go to the log
// in that order, several at once when publishes overlap (group commit: the
// first publisher to find no commit under way sends every commit queued,
// in one round trip, and hands the alerts of each to the hub), so sequences
// follow publish order while no lock is held across the round trip. A
// commit planned on a book still on its way to the log is chained on it and
// stored only if that book was. Nothing changes before the log accepts the
// event: a rejected event, or one the log could not take, leaves no trace.
//
// The book's clock: pauses that have lapsed snap back, and the snap-back is
// published like an EFFECTIVE event of the paused measure, before the next
// event and from PublishDue(). With BookClock::kWall the clock is the
// injected Clock; with kEvents it is the newest event time published (for
// replaying history into a live server).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "server/common/clock.h"
#include "server/exposure/exposure_table.h"
#include "server/fanout/alert_hub.h"
#include "server/ingest/book_engine.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/event_log.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_event_service.pb.h"

namespace tariffalert {

// The first response to an event, from its stored record (duplicate = true).
v1::PublishEventResponse PriorResponse(const PriorEvent& prior);

using ExposureSource = std::function<std::shared_ptr<const ExposureTable>()>;

enum class BookClock { kWall, kEvents };

struct PublisherOptions {
  // Events remembered in this process for GetEvent and quick repeats (about
  // 1 KiB each); the oldest are forgotten first. Idempotency across replicas
  // and restarts is the store's (the event records in Redis).
  size_t dedupe_capacity = 10000;
  BookClock book_clock = BookClock::kWall;
  // With BookClock::kWall an event that changes the book when published
  // (EFFECTIVE, PAUSED, EXTENDED, REVOKED) may be dated at most this far
  // ahead of the clock: the book has no schedule, so a future EFFECTIVE event
  // would change the live book at once. Publish it as ANNOUNCED, and as
  // EFFECTIVE when it takes effect (docs/tariff-book.md, "Event times").
  absl::Duration max_clock_skew = absl::Minutes(15);
  // Any event time (expires_time included) at most this far ahead of the
  // wall clock, in either clock mode.
  absl::Duration max_event_lead = absl::Hours(24 * 3653);
};

// A published event as GetEvent shows it.
struct PublishedEvent {
  v1::TariffEvent event;
  v1::PublishEventResponse response;
  // Read back from the store's event record (published by another replica,
  // before a restart, or forgotten here): the record holds the first
  // response, not the event, so `event` holds only its event_id.
  bool from_record = false;
};

class Publisher {
 public:
  // `log` must outlive the publisher.
  Publisher(PublisherOptions options, ExposureSource exposure,
            const ScoringParams& params, AlertHub* hub, const Clock& clock,
            EventLog* log);

  // Loads the book from the log; UNAVAILABLE if it cannot be read.
  absl::Status Init() ABSL_LOCKS_EXCLUDED(mu_);

  // INVALID_ARGUMENT for a bad event; FAILED_PRECONDITION when it does not
  // fit the book (e.g. EXTENDED on a measure that is not paused);
  // ALREADY_EXISTS if the event_id was published with different content;
  // UNAVAILABLE if the book could not be stored, at once while the store is
  // known to be unreachable (SetStoreReachable), and "outcome unknown" when a
  // write was sent but not confirmed; DEADLINE_EXCEEDED, with nothing
  // stored, if `deadline` passes before the publish could start. A repeat of
  // the same event returns the first response with duplicate = true.
  absl::StatusOr<v1::PublishEventResponse> Publish(
      const v1::TariffEvent& event,
      absl::Time deadline = absl::InfiniteFuture()) ABSL_LOCKS_EXCLUDED(mu_);

  // Told by whoever watches the store (the server's log tailer): while it is
  // unreachable, publishes and book reads fail fast with UNAVAILABLE instead
  // of each waiting out the store's timeout.
  void SetStoreReachable(bool reachable) {
    store_reachable_.store(reachable, std::memory_order_relaxed);
  }
  bool store_reachable() const {
    return store_reachable_.load(std::memory_order_relaxed);
  }

  // Publishes the snap-backs of pauses that have lapsed by the clock's now
  // (BookClock::kWall; nothing with kEvents), after reloading the book from
  // the store. Returns how many.
  absl::StatusOr<int> PublishDue() ABSL_LOCKS_EXCLUDED(mu_);

  // The book as stored now (reloaded, so that other replicas' changes show).
  absl::StatusOr<TariffBook> CurrentBook() ABSL_LOCKS_EXCLUDED(mu_);

  std::optional<PublishedEvent> FindEvent(const std::string& event_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // FindEvent, else the store's record of the event (from_record = true):
  // an event published by another replica or before a restart, or whose
  // publish timed out here but was stored. UNAVAILABLE if the store cannot
  // be read.
  absl::StatusOr<std::optional<PublishedEvent>> LookUpEvent(
      const std::string& event_id) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t book_revision() const ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const ExposureTable> exposure() const { return exposure_(); }
  const ScoringParams& params() const { return params_; }

 private:
  struct Published {
    uint64_t fingerprint;
    PublishedEvent record;
  };
  // A planned commit on its way to the log.
  struct InFlight {
    EventCommit commit;
    std::shared_ptr<const TariffBook> next;
    // book_ when it was planned, to go back to if it fails and nothing was
    // planned on it since.
    TariffBook base;
    // The alerts, on an arena: one release of their memory instead of one
    // per field (freeing 124 alerts one by one was 6% of a busy server).
    google::protobuf::Arena arena;
    std::vector<v1::Alert*> alerts;
    // Publisher::generation_ when it was planned.
    uint64_t generation = 0;
    // Set by the commit's sender (queue_mu_).
    bool done = false;
    absl::StatusOr<CommitOutcome> outcome = absl::UnknownError("not sent");
  };

  // Publish without its metrics (the result and the latency).
  absl::StatusOr<v1::PublishEventResponse> PublishImpl(
      const v1::TariffEvent& event, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Builds `step`'s alerts and commit on book_, moves book_ on to the
  // step's book and queues the commit (in planning order).
  absl::StatusOr<std::unique_ptr<InFlight>> Plan(
      const ScoredStep& step, const ExposureTable& table, uint64_t fingerprint,
      v1::PublishEventResponse& response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until `mine` was committed (by this thread or another: group
  // commit) and its alerts handed to the hub. Needs no lock of the caller.
  void Send(InFlight* mine) ABSL_LOCKS_EXCLUDED(queue_mu_);
  // Commits `batch`, in order, and hands each committed event's alerts to
  // the hub.
  void CommitBatch(absl::Span<InFlight* const> batch)
      ABSL_LOCKS_EXCLUDED(queue_mu_);

  enum class Committed { kCommitted, kBookConflict, kDuplicate };
  // Plan, Send and the outcome: the store's sequences in `response`;
  // kDuplicate: the event_id was committed first elsewhere, `response` is
  // then the first response.
  absl::StatusOr<Committed> Commit(const ScoredStep& step,
                                   const ExposureTable& table,
                                   uint64_t fingerprint,
                                   v1::PublishEventResponse& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A failed or refused commit: book_ holds its change, which the log does
  // not, so it is read again before the next plan (once, whoever planned
  // after it in the same generation); meanwhile, if nothing was planned on
  // it, book_ is the book it was planned on.
  void Invalidate(const InFlight& failed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes the snap-backs due by `t` and moves the book's clock there.
  // `published` (if given) counts the snap-backs published.
  absl::Status Advance(absl::Time t, const ExposureTable& table,
                       int* published = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Reload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The publisher's rules on event times (options_), on top of the
  // validator's fixed bounds.
  absl::Status CheckEventTimes(const TariffAction& action) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Unreachable() const;
  void Remember(const std::string& event_id, uint64_t fingerprint,
                PublishedEvent record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PublisherOptions options_;
  const ExposureSource exposure_;
  const ScoringParams& params_;
  AlertHub* const hub_;
  const Clock& clock_;
  EventLog* const log_;
  std::atomic<bool> store_reachable_{true};

  mutable absl::Mutex mu_;
  // The book after every commit planned: the last one read from the log,
  // moved on by the commits planned since (some may still be on their way).
  TariffBook book_ ABSL_GUARDED_BY(mu_);
  // book_ is as read from the log (a commit planned on it is not chained).
  bool book_from_log_ ABSL_GUARDED_BY(mu_) = true;
  // book_ must be read again before the next plan (Invalidate).
  bool stale_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Commits planned and not answered yet.
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Published> published_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> published_order_ ABSL_GUARDED_BY(mu_);

  // The commits queued for the log, in planning order, and whether a
  // publisher is sending them.
  absl::Mutex queue_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::deque<InFlight*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool sending_ ABSL_GUARDED_BY(queue_mu_) = false;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_
