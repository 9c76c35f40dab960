#include "server/redis/redis_console_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace tariffalert {
namespace {

// KEYS: seq, audit, hash. ARGV: field, value ("" deletes), mode, expected,
// record, maxlen. Returns the new sequence, or 0 when the check failed.
constexpr char kChangeScript[] = R"lua(
local cur = redis.call('HGET', KEYS[3], ARGV[1])
local mode = ARGV[3]
if mode == 'new' and cur then return 0 end
if mode == 'exists' and not cur then return 0 end
if mode == 'cas' and cur ~= ARGV[4] then return 0 end
local seq = redis.call('INCR', KEYS[1])
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[3], ARGV[1])
else
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], seq .. '-0', 'r', ARGV[5])
return seq
)lua";

// KEYS: seq, acks, silences.
constexpr char kSnapshotScript[] = R"lua(
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]),
        redis.call('HGETALL', KEYS[3])}
)lua";

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::string AckField(const v1::Acknowledgement& ack) {
  return ack.alert_id().empty() ? absl::StrCat("e:", ack.event_id())
                                : absl::StrCat("a:", ack.alert_id());
}

absl::Status ParseInto(const redisReply& r, google::protobuf::Message* m,
                       absl::string_view where) {
  if (r.type != REDIS_REPLY_STRING ||
      !m->ParseFromArray(r.str, static_cast<int>(r.len))) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a valid ", m->GetDescriptor()->name()));
  }
  return absl::OkStatus();
}

}  // namespace

RedisConsoleStore::RedisConsoleStore(RedisOptions options,
                                     size_t audit_retention)
    : prefix_(options.key_prefix),
      audit_retention_(audit_retention == 0 ? 100000 : audit_retention),
      commands_(std::make_unique<RedisConnection>(options)),
      reader_(std::make_unique<RedisConnection>(options)) {}

std::string RedisConsoleStore::Key(absl::string_view name) const {
  return absl::StrCat(prefix_, "console:", name);
}

absl::StatusOr<v1::ConsoleState> RedisConsoleStore::Snapshot() {
  auto reply = commands_->Command(
      {"EVAL", kSnapshotScript, "3", Key("seq"), Key("acks"), Key("silences")});
  if (!reply.ok()) return reply.status();
  const redisReply& r = **reply;
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 ||
      r.element[1]->type != REDIS_REPLY_ARRAY ||
      r.element[2]->type != REDIS_REPLY_ARRAY) {
    return absl::InternalError("redis: unexpected console snapshot reply");
  }
  v1::ConsoleState state;
  auto seq = ReplyString(*r.element[0]);
  uint64_t sequence = 0;
  if (!seq.ok() || !absl::SimpleAtoi(*seq, &sequence)) {
    return absl::DataLossError(
        absl::StrCat("redis key ", Key("seq"), ": not a number"));
  }
  state.set_audit_sequence(sequence);
  const redisReply& acks = *r.element[1];
  for (size_t i = 0; i + 1 < acks.elements; i += 2) {
    absl::Status s =
        ParseInto(*acks.element[i + 1], state.add_acknowledgements(),
                  absl::StrCat("redis key ", Key("acks")));
    if (!s.ok()) return s;
  }
  const redisReply& silences = *r.element[2];
  for (size_t i = 0; i + 1 < silences.elements; i += 2) {
    absl::Status s = ParseInto(*silences.element[i + 1], state.add_silences(),
                               absl::StrCat("redis key ", Key("silences")));
    if (!s.ok()) return s;
  }
  return state;
}

absl::StatusOr<uint64_t> RedisConsoleStore::Change(
    absl::string_view hash, const std::string& field, const std::string& value,
    absl::string_view mode, const std::string& expected,
    const v1::AuditRecord& record) {
  v1::AuditRecord stored = record;
  stored.clear_sequence();
  // With --redis-min-replicas, WAIT on the same connection after the script.
  auto reply = commands_->CommandAndWait(
      {"EVAL", kChangeScript, "3", Key("seq"), Key("audit"), Key(hash), field,
       value, std::string(mode), expected, stored.SerializeAsString(),
       absl::StrCat(audit_retention_)});
  if (!reply.ok()) return reply.status();
  auto seq = ReplyInteger(**reply);
  if (!seq.ok()) return seq.status();
  return static_cast<uint64_t>(*seq);
}

absl::StatusOr<v1::AuditRecord> RedisConsoleStore::Acknowledge(
    v1::AuditRecord record) {
  auto seq =
      Change("acks", AckField(record.acknowledgement()),
             record.acknowledgement().SerializeAsString(), "any", "", record);
  if (!seq.ok()) return seq.status();
  record.set_sequence(*seq);
  return record;
}

absl::StatusOr<v1::AuditRecord> RedisConsoleStore::DeleteAcknowledgement(
    v1::AuditRecord record) {
  auto seq = Change("acks", AckField(record.acknowledgement()), "", "exists",
                    "", record);
  if (!seq.ok()) return seq.status();
  if (*seq == 0) {
    const v1::Acknowledgement& a = record.acknowledgement();
    return absl::NotFoundError(
        a.alert_id().empty()
            ? absl::StrCat("event ", a.event_id(), " is not acknowledged")
            : absl::StrCat("alert ", a.alert_id(), " is not acknowledged"));
  }
  record.set_sequence(*seq);
  return record;
}

absl::StatusOr<v1::AuditRecord> RedisConsoleStore::CreateSilence(
    v1::AuditRecord record) {
  auto seq = Change("silences", record.silence().id(),
                    record.silence().SerializeAsString(), "new", "", record);
  if (!seq.ok()) return seq.status();
  if (*seq == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("silence ", record.silence().id(), " exists"));
  }
  record.set_sequence(*seq);
  return record;
}

absl::StatusOr<v1::AuditRecord> RedisConsoleStore::ExpireSilence(
    const std::string& id, v1::AuditRecord record) {
  // Compare-and-set on the stored bytes: another replica's change to the
  // same silence in between makes this read and try again.
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto reply = commands_->Command({"HGET", Key("silences"), id});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_NIL) {
      return absl::NotFoundError(
          absl::StrCat("silence ", id, ": no such silence"));
    }
    v1::Silence silence;
    absl::Status parsed = ParseInto(
        **reply, &silence, absl::StrCat("redis key ", Key("silences")));
    if (!parsed.ok()) return parsed;
    const std::string old_bytes((*reply)->str, (*reply)->len);
    if (ToTime(silence.end_time()) <= ToTime(record.time())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "silence ", id, " already ended at ",
          google::protobuf::util::TimeUtil::ToString(silence.end_time())));
    }
    *silence.mutable_end_time() = record.time();
    // A silence that had not started ends before it starts: it never was.
    if (ToTime(silence.start_time()) > ToTime(record.time())) {
      *silence.mutable_start_time() = record.time();
    }
    silence.set_expired_by(record.actor());
    *record.mutable_silence() = silence;
    auto seq = Change("silences", id, silence.SerializeAsString(), "cas",
                      old_bytes, record);
    if (!seq.ok()) return seq.status();
    if (*seq != 0) {
      record.set_sequence(*seq);
      return record;
    }
  }
  return absl::AbortedError(absl::StrCat(
      "silence ", id, " kept changing under this call; try again"));
}

absl::StatusOr<std::vector<v1::AuditRecord>> RedisConsoleStore::ReadAfter(
    uint64_t after, size_t count, absl::Duration block) {
  std::vector<std::string> args = {"XREAD", "COUNT", absl::StrCat(count)};
  if (block > absl::ZeroDuration()) {
    args.push_back("BLOCK");
    args.push_back(absl::StrCat(absl::ToInt64Milliseconds(block)));
  }
  args.push_back("STREAMS");
  args.push_back(Key("audit"));
  args.push_back(absl::StrCat(after, "-0"));
  auto reply = reader_->Command(args);
  if (!reply.ok()) return reply.status();
  auto entries = XreadEntries(**reply, Key("audit"));
  if (!entries.ok()) return entries.status();
  std::vector<v1::AuditRecord> out;
  out.reserve(entries->size());
  for (const SequencedEntry& e : *entries) {
    v1::AuditRecord& record = out.emplace_back();
    if (!record.ParseFromArray(e.value.data(),
                               static_cast<int>(e.value.size()))) {
      return absl::DataLossError(absl::StrCat("redis key ", Key("audit"),
                                              ": entry ", e.sequence,
                                              "-0 is not an AuditRecord"));
    }
    record.set_sequence(e.sequence);
  }
  return out;
}

absl::StatusOr<uint64_t> RedisConsoleStore::OldestKept() {
  auto reply =
      commands_->Command({"XRANGE", Key("audit"), "-", "+", "COUNT", "1"});
  if (!reply.ok()) return reply.status();
  auto entries = StreamEntries(**reply, Key("audit"));
  if (!entries.ok()) return entries.status();
  return entries->empty() ? 0 : entries->front().sequence;
}

absl::Status RedisConsoleStore::PutReplicaStatus(
    const v1::ReplicaStatus& status) {
  v1::ReplicaStatus stored = status;
  stored.clear_this_replica();
  stored.clear_answering();
  auto reply = commands_->Command({"HSET", Key("replicas"), status.replica_id(),
                                   stored.SerializeAsString()});
  return reply.status();
}

absl::StatusOr<std::vector<v1::ReplicaStatus>>
RedisConsoleStore::ReplicaStatuses(absl::Time now,
                                   absl::Duration forget_after) {
  auto reply = commands_->Command({"HGETALL", Key("replicas")});
  if (!reply.ok()) return reply.status();
  const redisReply& r = **reply;
  if (r.type != REDIS_REPLY_ARRAY) {
    return absl::InternalError("redis: unexpected HGETALL reply");
  }
  std::vector<v1::ReplicaStatus> out;
  std::vector<std::string> forget;
  for (size_t i = 0; i + 1 < r.elements; i += 2) {
    v1::ReplicaStatus status;
    absl::Status s = ParseInto(*r.element[i + 1], &status,
                               absl::StrCat("redis key ", Key("replicas")));
    if (!s.ok()) return s;
    if (now - ToTime(status.seen_time()) > forget_after) {
      forget.push_back(status.replica_id());
      continue;
    }
    out.push_back(std::move(status));
  }
  if (!forget.empty()) {
    std::vector<std::string> args = {"HDEL", Key("replicas")};
    args.insert(args.end(), forget.begin(), forget.end());
    (void)commands_->Command(args);  // best effort: read again next time
  }
  return out;
}

}  // namespace tariffalert
