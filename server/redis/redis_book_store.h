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
//   P alerts          a stream, one entry per published event: id
//                     "<last sequence>-0", field "e" = the event's alerts,
//                     each serialized without its sequence and preceded by
//                     its length (a varint), so the entry holds sequences
//                     last - n + 1 .. last; field "w" = the writing
//                     replica's tag (AlertLogOptions::writer). Trimmed to
//                     about `retention` alerts (XADD MINID ~). Entries of
//                     the older layout, one alert each in field "a", are
//                     still read.
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
  // This replica's tag on the entries it writes, so that its log tailer
  // knows the alerts its publisher hands to the hub itself (the server
  // draws one at start); empty: untagged.
  std::string writer;
};

// One alert read back from the log.
struct LoggedAlert {
  uint64_t sequence = 0;
  std::string alert;  // serialized tariffalert.v1.Alert, sequence set
};

// One entry of the log as read: one event's alerts, still packed.
struct LoggedEntry {
  uint64_t last_sequence = 0;
  std::string writer;  // the writing replica's tag ("" if untagged)
  // Field "e": length-prefixed unsequenced alerts; field "a" (older
  // layout, `packed` false): one unsequenced alert.
  std::string value;
  bool packed = true;
};

// The alerts of `entry` with their sequences, oldest first. DATA_LOSS
// naming the entry if its packing is cut short or it would hold sequences
// below 1.
absl::StatusOr<std::vector<LoggedAlert>> UnpackLoggedEntry(
    const LoggedEntry& entry);

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
  // The log's entries holding alerts after `after_sequence` (the first may
  // also hold some up to it), oldest first, at most `max_entries`; waits up
  // to `block` for one if there is none yet (zero: no wait).
  absl::StatusOr<std::vector<LoggedEntry>> ReadEntries(uint64_t after_sequence,
                                                       size_t max_entries,
                                                       absl::Duration block);
  // The logged alerts after `after_sequence`, oldest first, from at most
  // `max_entries` entries (events).
  absl::StatusOr<std::vector<LoggedAlert>> ReadAfter(uint64_t after_sequence,
                                                     size_t max_entries,
                                                     absl::Duration block);
  // Drops the logged events created before `cutoff` (by created_time; the
  // log is in creation order). Returns the sequence from which alerts are
  // kept, the first of an event (0 if the log is empty).
  absl::StatusOr<uint64_t> TrimOlderThan(absl::Time cutoff);

 private:
  std::string Key(absl::string_view name) const;
  // The entry holding `sequence`, or the first after it if that was
  // trimmed: its sequences and created_time; nullopt past the end.
  struct EntrySpan {
    uint64_t first = 0;
    uint64_t last = 0;
    absl::Time created;
  };
  absl::StatusOr<std::optional<EntrySpan>> EntryAt(uint64_t sequence);

  const std::string prefix_;
  const AlertLogOptions log_;
  std::unique_ptr<RedisConnection> connection_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_
