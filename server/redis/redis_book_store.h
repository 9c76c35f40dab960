#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_

// The tariff book in Redis, shared by every replica and kept across
// restarts. Keys (docs/redis.md), P the key prefix:
//   P book            tariffalert.v1.BookState, serialized
//   P book:revision   its revision, decimal: the compare-and-set guard
// Store() is one Lua script that writes both only if the revision is still
// the one the writer read, so two replicas never both apply an event to the
// same book.
//
// A publish is one Lua script too:
// the book as above, plus
//   P alerts:seq      the last sequence allocated (INCRBY: dense, shared)
//   P alerts          a stream; entry id "<sequence>-0", field "a" = the
//                     serialized Alert without its sequence (the reader puts
//                     it back from the id); trimmed to about `retention`
//   P event:<id>      "<fingerprint>:<first sequence>:<response bytes>",
//                     expiring after the dedupe window
// so that an event's book, alerts and record are stored all or nothing.

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "server/redis/redis_connection.h"
#include "server/tariff_book/book_store.h"

namespace tariffalert {

struct AlertLogOptions {
  // Alerts the stream keeps (about: trimmed with MAXLEN ~).
  size_t retention = 1000000;
  // And no alert older than this (trimmed by TrimOlderThan).
  absl::Duration retention_age = absl::Hours(24 * 7);
  // How long an event_id is remembered for idempotent publish.
  absl::Duration dedupe_window = absl::Hours(24 * 7);
};

// One alert read back from the log.
struct LoggedAlert {
  uint64_t sequence = 0;
  std::string alert;  // serialized tariffalert.v1.Alert, sequence set
};

class RedisBookStore final : public BookStore {
 public:
  explicit RedisBookStore(RedisOptions options, AlertLogOptions log = {});

  absl::StatusOr<TariffBook> Load() override;
  absl::StatusOr<bool> Store(uint64_t expected_revision,
                             const TariffBook& book) override;
  bool KeepsLog() const override { return true; }
  absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) override;
  absl::StatusOr<CommitOutcome> Commit(const EventCommit& commit) override;

  // The newest sequence allocated (0 if none).
  absl::StatusOr<uint64_t> LastSequence();
  // The logged alerts after `after_sequence`, oldest first, at most `count`;
  // waits up to `block` for one if there is none yet (zero: no wait).
  absl::StatusOr<std::vector<LoggedAlert>> ReadAfter(uint64_t after_sequence,
                                                     size_t count,
                                                     absl::Duration block);
  // Drops the logged alerts created before `cutoff` (by created_time; the
  // log is in creation order). Returns the sequence from which alerts are
  // kept (0 if the log is empty).
  absl::StatusOr<uint64_t> TrimOlderThan(absl::Time cutoff);

 private:
  std::string Key(absl::string_view name) const;
  // The first logged alert at or after `sequence`: its sequence and
  // created_time; nullopt past the end.
  absl::StatusOr<std::optional<std::pair<uint64_t, absl::Time>>> EntryAt(
      uint64_t sequence);

  const std::string prefix_;
  const AlertLogOptions log_;
  std::unique_ptr<RedisConnection> connection_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_
