#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_EVENT_LOG_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_EVENT_LOG_H_

// The event log in Redis (server/tariff_book/event_log.h), shared by every
// replica and kept across restarts. Keys (docs/redis.md), P the key prefix:
//   P book            tariffalert.v1.BookState, serialized
//   P book:revision   its revision, decimal: the compare-and-set guard
//   P book:writer     "<writer tag>:<revision>" of the commit that stored
//                     it: the guard of a chained commit (EventCommit)
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
// A commit is one Lua script, so that an event's book, alerts and record
// are stored all or nothing, and two replicas never both apply an event to
// the same book; the commits of one Commit() call go in one pipeline, with
// one WAIT after them.

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "server/redis/redis_connection.h"
#include "server/tariff_book/event_log.h"

namespace tariffalert {

struct AlertLogOptions {
  // Alerts the stream keeps (about: trimmed with MINID ~).
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

class RedisEventLog final : public EventLog {
 public:
  explicit RedisEventLog(RedisOptions options, AlertLogOptions log = {});

  absl::StatusOr<TariffBook> LoadBook() override;
  absl::StatusOr<std::optional<PriorEvent>> FindEvent(
      const std::string& event_id) override;
  std::vector<absl::StatusOr<CommitOutcome>> Commit(
      absl::Span<const EventCommit* const> commits) override;
  absl::StatusOr<uint64_t> LastSequence() override;
  absl::StatusOr<std::vector<LoggedAlert>> ReadAfter(
      uint64_t after_sequence, size_t max_events,
      absl::Duration block) override;

  // The log's entries holding alerts after `after_sequence` (the first may
  // also hold some up to it), oldest first, at most `max_entries`; waits up
  // to `block` for one if there is none yet (zero: no wait).
  absl::StatusOr<std::vector<LoggedEntry>> ReadEntries(uint64_t after_sequence,
                                                       size_t max_entries,
                                                       absl::Duration block);
  // Drops the logged events created before `cutoff` (by created_time; the
  // log is in creation order). Returns the sequence from which alerts are
  // kept, the first of an event (0 if the log is empty).
  absl::StatusOr<uint64_t> TrimOlderThan(absl::Time cutoff);

 private:
  std::string Key(absl::string_view name) const;
  std::vector<std::string> CommitCommand(const EventCommit& commit,
                                         std::string book) const;
  absl::StatusOr<CommitOutcome> ParseCommitReply(
      const redisReply& reply, const std::string& event_id) const;
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

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_EVENT_LOG_H_
