#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_EVENT_LOG_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_EVENT_LOG_H_

// Where a publish is stored: the tariff book, the alert log with its dense
// sequences, and the event records that make a publish idempotent, written
// together, all or nothing. The server keeps it in Redis
// (server/redis/redis_event_log.h), shared by every replica and kept across
// restarts; tests and what-ifs keep one in memory (InMemoryEventLog). The
// publisher runs the same code on both.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/tariff_book/tariff_book.h"

namespace tariffalert {

// What one publish stores: the book after the event, the event's alerts in
// the log, and its record for idempotency.
struct EventCommit {
  std::string event_id;
  uint64_t fingerprint = 0;  // of the event as sent
  // Stored only over this revision of the book (compare-and-set).
  uint64_t expected_revision = 0;
  // The book at expected_revision is the one this writer's own previous
  // commit stores (planned on it before that commit was answered): stored
  // only if that commit was, not over another writer's book that happens to
  // have the same revision.
  bool chained = false;
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
    kCommitted,     // first_sequence: of the event's alerts (0: none)
    kBookConflict,  // the book moved on: reload and plan again
    kDuplicate,     // the event_id was committed first: `prior`
  };
  Kind kind = kCommitted;
  uint64_t first_sequence = 0;
  PriorEvent prior;
};

// One alert read back from the log.
struct LoggedAlert {
  uint64_t sequence = 0;
  std::string alert;  // serialized tariffalert.v1.Alert, sequence set
};

class EventLog {
 public:
  virtual ~EventLog() = default;
  // The stored book; an empty book at revision 0 if none was stored yet.
  // UNAVAILABLE when the log cannot be reached.
  virtual absl::StatusOr<TariffBook> LoadBook() = 0;
  // The record of a published event.
  virtual absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) = 0;
  // Stores `commits` in order, each all or nothing as if alone, sent
  // together (one round trip to Redis): one outcome per commit. UNAVAILABLE:
  // that commit was not stored; DEADLINE_EXCEEDED: it was sent but its
  // answer did not come in time, so it may have been stored.
  virtual std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) = 0;
  // The newest sequence allocated (0 if none).
  virtual absl::StatusOr<uint64_t> LastSequence() = 0;
  // The logged alerts after `after_sequence`, oldest first, from at most
  // `max_events` events; waits up to `block` for one if there is none yet.
  virtual absl::StatusOr<std::vector<LoggedAlert>> ReadAfter(
      uint64_t after_sequence, size_t max_events, absl::Duration block) = 0;
};

// The log in this process's memory, unbounded: for tests, benchmarks and
// replays of a bounded history.
class InMemoryEventLog final : public EventLog {
 public:
  InMemoryEventLog() = default;
  explicit InMemoryEventLog(TariffBook start) : book_(std::move(start)) {}

  absl::StatusOr<TariffBook> LoadBook() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) override ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<uint64_t> LastSequence() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<LoggedAlert>> ReadAfter(
      uint64_t after_sequence, size_t max_events, absl::Duration block) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  CommitOutcome CommitOne(const EventCommit& commit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  TariffBook book_ ABSL_GUARDED_BY(mu_);
  // Whether the stored book was written by a commit (not the start), for
  // EventCommit::chained: the in-memory log has one writer.
  bool book_committed_ ABSL_GUARDED_BY(mu_) = false;
  // The logged alerts (sequence i + 1 at i), and where each event ends.
  std::vector<std::string> alerts_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> event_ends_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PriorEvent> records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_EVENT_LOG_H_
