#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_STORE_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_STORE_H_

// Where the tariff book lives between publishes. The server keeps it in Redis
// (server/redis/redis_book_store.h) so it survives restarts and every replica
// shares it; a replay or a what-if keeps a private one in memory.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/tariff_book/tariff_book.h"

namespace tariffalert {

// What one publish stores, all or nothing: the book after the event, the
// event's alerts in the shared alert log, and its record for idempotency.
struct EventCommit {
  std::string event_id;
  uint64_t fingerprint = 0;  // of the event as sent
  uint64_t expected_revision = 0;
  const TariffBook* next_book = nullptr;
  // Serialized tariffalert.v1.Alert, each with its sequence unset: the log
  // allocates the sequences.
  std::vector<std::string> alerts;
  // The serialized PublishEventResponse, but for its sequences.
  std::string response;
};

// `unsequenced` (a serialized Alert without its sequence, as EventCommit
// holds it) with the sequence put back: field 1 ahead of the rest, which
// protobuf parses like any field order.
std::string AlertBytesWithSequence(uint64_t sequence,
                                   absl::string_view unsequenced);

// A published event's record.
struct PriorEvent {
  uint64_t fingerprint = 0;
  std::string response;         // as in EventCommit
  uint64_t first_sequence = 0;  // 0 when it made no alert
};

struct CommitOutcome {
  enum Kind {
    kCommitted,     // first_sequence: of the event's alerts (0: none, or the
                    // store keeps no log and the caller numbers them)
    kBookConflict,  // the book moved on: reload and plan again
    kDuplicate,     // the event_id was committed first elsewhere: `prior`
  };
  Kind kind = kCommitted;
  uint64_t first_sequence = 0;
  PriorEvent prior;
};

class BookStore {
 public:
  virtual ~BookStore() = default;
  // The stored book; an empty book at revision 0 if none was stored yet.
  // UNAVAILABLE when the store cannot be reached.
  virtual absl::StatusOr<TariffBook> Load() = 0;
  // Stores `book` if the stored book is still at `expected_revision`
  // (compare-and-set). false: another writer got there first; reload.
  virtual absl::StatusOr<bool> Store(uint64_t expected_revision,
                                     const TariffBook& book) = 0;

  // Whether the store keeps the alert log, its sequences and the event
  // records (shared by every replica), or only the book.
  virtual bool KeepsLog() const { return false; }
  // The record of a published event, if the store keeps them.
  virtual absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) {
    (void)event_id;
    return std::nullopt;
  }
  // Stores a publish. A store that keeps only the book stores it with
  // Store() and leaves the numbering of the alerts to the caller.
  // UNAVAILABLE: nothing was stored; DEADLINE_EXCEEDED: the commit was sent
  // but its answer did not come in time, so it may have been stored.
  virtual absl::StatusOr<CommitOutcome> Commit(const EventCommit& commit) {
    auto stored = Store(commit.expected_revision, *commit.next_book);
    if (!stored.ok()) return stored.status();
    CommitOutcome outcome;
    outcome.kind =
        *stored ? CommitOutcome::kCommitted : CommitOutcome::kBookConflict;
    return outcome;
  }
};

class InMemoryBookStore final : public BookStore {
 public:
  InMemoryBookStore() = default;
  explicit InMemoryBookStore(TariffBook start) : book_(std::move(start)) {}

  absl::StatusOr<TariffBook> Load() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<bool> Store(uint64_t expected_revision,
                             const TariffBook& book) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  TariffBook book_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_STORE_H_
