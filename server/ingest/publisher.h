#ifndef TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_
#define TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_

// The publish pipeline: validate -> dedupe on event_id -> the tariff book
// (shared through a BookStore): the rate change the event makes -> score
// against the exposure snapshot -> alerts with dense sequence numbers -> the
// hub's log and streams. Publishes are serialized, so sequences follow
// publish order and every event sees the book as the events before it left
// it. Nothing changes before the book accepts the event and its new state is
// stored: a rejected event, or one the store could not take, leaves no trace.
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
#include "server/common/clock.h"
#include "server/exposure/exposure_table.h"
#include "server/fanout/alert_hub.h"
#include "server/ingest/book_engine.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/book_store.h"
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
  // `store` must outlive the publisher.
  Publisher(PublisherOptions options, ExposureSource exposure,
            const ScoringParams& params, AlertHub* hub, const Clock& clock,
            BookStore* store);

  // Loads the book from the store; UNAVAILABLE if it cannot be read.
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

  // Publish without its metrics (the result and the latency).
  absl::StatusOr<v1::PublishEventResponse> PublishImpl(
      const v1::TariffEvent& event, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

  enum class Committed { kCommitted, kBookConflict, kDuplicate };
  // Stores `step`'s book and alerts (with the store's sequences, or this
  // process's when the store keeps no log) and hands the alerts to the hub.
  // kDuplicate: the event_id was committed first elsewhere; `response` is
  // then the first response.
  absl::StatusOr<Committed> Commit(const ScoredStep& step,
                                   const ExposureTable& table,
                                   uint64_t fingerprint,
                                   v1::PublishEventResponse& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
  BookStore* const store_;
  std::atomic<bool> store_reachable_{true};

  mutable absl::Mutex mu_;
  // The last book read from or written to the store.
  TariffBook book_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, Published> published_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> published_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_
