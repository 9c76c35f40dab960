#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_CONSOLE_STORE_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_CONSOLE_STORE_H_

// The risk console's shared state in Redis (docs/redis.md, docs/console.md).
// Keys, P the key prefix:
//   P console:seq        the last audit sequence (INCR: dense, shared)
//   P console:audit      a stream; entry id "<sequence>-0", field "r" = the
//                        serialized AuditRecord without its sequence (the
//                        reader puts it back from the id); trimmed
//                        to about `audit_retention` entries
//   P console:acks       a hash: "a:<alert_id>" or "e:<event_id>" -> the
//                        serialized Acknowledgement
//   P console:silences   a hash: silence id -> the serialized Silence
//   P console:replicas   a hash: replica id -> serialized ReplicaStatus,
//                        rewritten by each replica every second
// Every change is one Lua script that allocates the sequence, writes the
// state hash and appends the audit record, so state and audit never
// disagree; a snapshot is one script too (sequence and both hashes at one
// moment).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/redis/redis_connection.h"
#include "tariffalert/v1/console_service.pb.h"

namespace tariffalert {

class RedisConsoleStore {
 public:
  RedisConsoleStore(RedisOptions options, size_t audit_retention);

  // Acknowledgements, every silence kept, and the audit sequence they are
  // at. Inhibitions are not stored (they follow from the book).
  absl::StatusOr<v1::ConsoleState> Snapshot();

  // Each returns the audit record written (sequence set). `record` must have
  // time, actor, action and the acknowledgement or silence set.
  absl::StatusOr<v1::AuditRecord> Acknowledge(v1::AuditRecord record);
  // NOT_FOUND when there is no such acknowledgement.
  absl::StatusOr<v1::AuditRecord> DeleteAcknowledgement(v1::AuditRecord record);
  // The silence's id must be new (ALREADY_EXISTS otherwise).
  absl::StatusOr<v1::AuditRecord> CreateSilence(v1::AuditRecord record);
  // Ends silence `id` at record.time(): NOT_FOUND for an unknown id,
  // FAILED_PRECONDITION for one already ended. The record's silence is
  // filled in from the stored one.
  absl::StatusOr<v1::AuditRecord> ExpireSilence(const std::string& id,
                                                v1::AuditRecord record);

  // The audit records after `after`, oldest first, at most `count`; waits up
  // to `block` (under the command timeout) for one when there is none.
  absl::StatusOr<std::vector<v1::AuditRecord>> ReadAfter(uint64_t after,
                                                         size_t count,
                                                         absl::Duration block);
  // The oldest audit sequence the stream still holds (0: empty).
  absl::StatusOr<uint64_t> OldestKept();

  absl::Status PutReplicaStatus(const v1::ReplicaStatus& status);
  // Every replica's last status; entries not rewritten for `forget_after`
  // are deleted.
  absl::StatusOr<std::vector<v1::ReplicaStatus>> ReplicaStatuses(
      absl::Time now, absl::Duration forget_after);

 private:
  std::string Key(absl::string_view name) const;
  // Runs the change script: field of `hash` set to `value` (deleted when
  // empty), the record appended. mode "new": the field must not exist;
  // "exists": it must; "cas": it must hold `expected`; "any": no check.
  // Returns the sequence, or 0 when the check failed.
  absl::StatusOr<uint64_t> Change(absl::string_view hash,
                                  const std::string& field,
                                  const std::string& value,
                                  absl::string_view mode,
                                  const std::string& expected,
                                  const v1::AuditRecord& record);

  const std::string prefix_;
  const size_t audit_retention_;
  // Commands, and the blocking reads (so that a read's wait never delays a
  // change).
  std::unique_ptr<RedisConnection> commands_;
  std::unique_ptr<RedisConnection> reader_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_CONSOLE_STORE_H_
