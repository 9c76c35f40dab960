#include "server/redis/redis_event_log.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "server/tariff_book/book_codec.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/tariff_book.pb.h"

namespace tariffalert {
namespace {

// The most bytes a varint takes.
constexpr size_t kMaxVarint64Bytes = 10;

// KEYS: book, book:revision, alerts:seq, alerts, event:<id>, book:writer.
// ARGV: expected revision, new revision, book bytes, fingerprint, response
// bytes, dedupe seconds, retention (alerts), writer tag, alert count, the
// alerts packed (length-prefixed, without sequences), the book:writer a
// chained commit expects ('' if not chained). Returns {2, record} if the
// event was committed before, {0} on a book conflict, {1, first sequence}
// once stored.
// The event's alerts are one entry, "<last>-0". A duplicate writes a no-op
// (INCRBY 0) so that the WAIT after it covers the record it returns (WAIT
// counts this connection's writes only).
constexpr char kCommitScript[] = R"lua(
local prior = redis.call('GET', KEYS[5])
if prior then
  redis.call('INCRBY', KEYS[3], 0)
  return {2, prior}
end
local current = redis.call('GET', KEYS[2])
if current == false then current = '0' end
if current ~= ARGV[1] then return {0} end
if ARGV[11] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[11] then
  return {0}
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[6], ARGV[8] .. ':' .. ARGV[2])
local n = tonumber(ARGV[9])
local first = 0
if n > 0 then
  local last = redis.call('INCRBY', KEYS[3], n)
  first = last - n + 1
  local keep = last - tonumber(ARGV[7]) + 1
  if keep < 1 then keep = 1 end
  redis.call('XADD', KEYS[4], 'MINID', '~', string.format('%d-0', keep),
             string.format('%d-0', last), 'e', ARGV[10], 'w', ARGV[8])
end
redis.call('SET', KEYS[5], ARGV[4] .. ':' .. string.format('%d', first) ..
           ':' .. ARGV[5], 'EX', ARGV[6])
return {1, first}
)lua";

// The alerts of one event as one value: each length-prefixed (a varint).
std::string PackAlerts(const std::vector<std::string>& alerts) {
  using google::protobuf::io::CodedOutputStream;
  size_t size = 0;
  for (const std::string& a : alerts) {
    size += CodedOutputStream::VarintSize32(static_cast<uint32_t>(a.size())) +
            a.size();
  }
  std::string packed;
  packed.reserve(size);
  uint8_t length[kMaxVarint64Bytes];
  for (const std::string& a : alerts) {
    const uint8_t* end = CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(a.size()), length);
    packed.append(reinterpret_cast<const char*>(length),
                  static_cast<size_t>(end - length));
    packed.append(a);
  }
  return packed;
}

// The unsequenced alerts an entry holds, pointing into it.
absl::StatusOr<std::vector<absl::string_view>> Unpack(
    const LoggedEntry& entry) {
  std::vector<absl::string_view> parts;
  const absl::string_view value = entry.value;
  if (!entry.packed) {
    parts.push_back(value);
    return parts;
  }
  size_t pos = 0;
  while (pos < value.size()) {
    google::protobuf::io::CodedInputStream in(
        reinterpret_cast<const uint8_t*>(value.data() + pos),
        static_cast<int>(std::min<size_t>(value.size() - pos, 16)));
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) {
      return absl::DataLossError(absl::StrCat(
          "alert log: entry ", entry.last_sequence, "-0 is cut short"));
    }
    pos += static_cast<size_t>(in.CurrentPosition());
    if (length > value.size() - pos) {
      return absl::DataLossError(absl::StrCat(
          "alert log: entry ", entry.last_sequence, "-0 is cut short"));
    }
    parts.push_back(value.substr(pos, length));
    pos += length;
  }
  if (parts.empty() || parts.size() > entry.last_sequence) {
    return absl::DataLossError(
        absl::StrCat("alert log: entry ", entry.last_sequence, "-0 holds ",
                     parts.size(), " alerts, which its id cannot number"));
  }
  return parts;
}

absl::StatusOr<std::vector<LoggedEntry>> LogEntries(
    const std::vector<SequencedEntry>& entries, absl::string_view key) {
  std::vector<LoggedEntry> out;
  out.reserve(entries.size());
  for (const SequencedEntry& e : entries) {
    LoggedEntry entry;
    entry.last_sequence = e.sequence;
    if (e.field == "e") {
      entry.packed = true;
    } else if (e.field == "a") {
      entry.packed = false;
    } else {
      return absl::DataLossError(absl::StrCat("redis key ", key, ": entry ",
                                              e.sequence, "-0 has field '",
                                              e.field, "', not e or a"));
    }
    entry.value = std::string(e.value);
    entry.writer = std::string(e.tag);
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<PriorEvent> ParseRecord(absl::string_view record,
                                       absl::string_view key) {
  const size_t a = record.find(':');
  const size_t b = a == absl::string_view::npos ? a : record.find(':', a + 1);
  PriorEvent prior;
  if (b == absl::string_view::npos ||
      !absl::SimpleAtoi(record.substr(0, a), &prior.fingerprint) ||
      !absl::SimpleAtoi(record.substr(a + 1, b - a - 1),
                        &prior.first_sequence)) {
    return absl::DataLossError(
        absl::StrCat("redis key ", key, ": not an event record"));
  }
  prior.response = std::string(record.substr(b + 1));
  return prior;
}

}  // namespace

RedisEventLog::RedisEventLog(RedisOptions options, AlertLogOptions log)
    : prefix_(options.key_prefix),
      log_(log),
      connection_(std::make_unique<RedisConnection>(std::move(options))) {}

std::string RedisEventLog::Key(absl::string_view name) const {
  return absl::StrCat(prefix_, name);
}

absl::StatusOr<TariffBook> RedisEventLog::LoadBook() {
  auto reply = connection_->Command({"GET", Key("book")});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_NIL) return TariffBook();
  auto bytes = ReplyString(**reply);
  if (!bytes.ok()) return bytes.status();
  v1::BookState state;
  const std::string where = absl::StrCat("redis key ", Key("book"));
  if (!state.ParseFromString(*bytes)) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a tariffalert.v1.BookState"));
  }
  return BookFromProto(state, where);
}

}  // namespace tariffalert

namespace tariffalert {

absl::StatusOr<std::optional<PriorEvent>> RedisEventLog::FindEvent(
    const std::string& event_id) {
  const std::string key = Key(absl::StrCat("event:", event_id));
  auto reply = connection_->Command({"GET", key});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_NIL) return std::nullopt;
  auto record = ReplyString(**reply);
  if (!record.ok()) return record.status();
  auto prior = ParseRecord(*record, key);
  if (!prior.ok()) return prior.status();
  return *std::move(prior);
}

std::vector<std::string> RedisEventLog::CommitCommand(const EventCommit& commit,
                                                      std::string book) const {
  return {"EVAL",
          kCommitScript,
          "6",
          Key("book"),
          Key("book:revision"),
          Key("alerts:seq"),
          Key("alerts"),
          Key(absl::StrCat("event:", commit.event_id)),
          Key("book:writer"),
          absl::StrCat(commit.expected_revision),
          absl::StrCat(commit.next_book->revision()),
          std::move(book),
          absl::StrCat(commit.fingerprint),
          commit.response,
          absl::StrCat(
              std::max<int64_t>(1, absl::ToInt64Seconds(log_.dedupe_window))),
          absl::StrCat(log_.retention),
          log_.writer,
          absl::StrCat(commit.alerts.size()),
          PackAlerts(commit.alerts),
          commit.chained
              ? absl::StrCat(log_.writer, ":", commit.expected_revision)
              : std::string()};
}

absl::StatusOr<CommitOutcome> RedisEventLog::ParseCommitReply(
    const redisReply& r, const std::string& event_id) const {
  if (r.type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis: the commit script failed: ",
                                            absl::string_view(r.str, r.len)));
  }
  if (r.type != REDIS_REPLY_ARRAY || r.elements == 0 ||
      r.element[0]->type != REDIS_REPLY_INTEGER) {
    return absl::InternalError("redis: unexpected reply to the commit script");
  }
  CommitOutcome outcome;
  switch (r.element[0]->integer) {
    case 0:
      outcome.kind = CommitOutcome::kBookConflict;
      return outcome;
    case 1: {
      if (r.elements < 2) return absl::InternalError("redis: no sequence");
      auto first = ReplyInteger(*r.element[1]);
      if (!first.ok()) return first.status();
      outcome.kind = CommitOutcome::kCommitted;
      outcome.first_sequence = static_cast<uint64_t>(*first);
      return outcome;
    }
    case 2: {
      if (r.elements < 2) return absl::InternalError("redis: no record");
      auto record = ReplyString(*r.element[1]);
      if (!record.ok()) return record.status();
      auto prior = ParseRecord(*record, Key(absl::StrCat("event:", event_id)));
      if (!prior.ok()) return prior.status();
      outcome.kind = CommitOutcome::kDuplicate;
      outcome.prior = *std::move(prior);
      return outcome;
    }
    default:
      return absl::InternalError("redis: unexpected commit result");
  }
}

std::vector<absl::StatusOr<CommitOutcome>> RedisEventLog::Commit(
    absl::Span<const EventCommit* const> commits) {
  std::vector<absl::StatusOr<CommitOutcome>> out;
  std::vector<std::vector<std::string>> commands;
  commands.reserve(commits.size());
  for (const EventCommit* c : commits) {
    std::string book;
    if (!BookToProto(*c->next_book).SerializeToString(&book)) {
      // Nothing of the batch is sent: the ones after it are chained on it.
      return std::vector<absl::StatusOr<CommitOutcome>>(
          commits.size(),
          absl::InternalError("the tariff book could not be serialized"));
    }
    commands.push_back(CommitCommand(*c, std::move(book)));
  }
  // With --redis-min-replicas, acknowledged only once WAIT confirms them
  // (docs/delivery.md): a shortfall is DEADLINE_EXCEEDED, "outcome unknown,
  // retry with the same event_id", like a lost reply.
  auto replies = connection_->PipelineAndWait(commands);
  if (!replies.ok()) {
    // The connection fails with "no reply to <command>" once the scripts
    // were sent (a timeout or a connection lost while waiting): Redis may
    // have run them. Any other failure (connect, AUTH) came before sending.
    absl::Status status = replies.status();
    if (absl::IsUnavailable(status) &&
        absl::StrContains(status.message(), "no reply to")) {
      status = absl::DeadlineExceededError(status.message());
    }
    return std::vector<absl::StatusOr<CommitOutcome>>(commits.size(), status);
  }
  out.reserve(commits.size());
  for (size_t i = 0; i < commits.size(); ++i) {
    out.push_back(ParseCommitReply(*(*replies)[i], commits[i]->event_id));
  }
  return out;
}

absl::StatusOr<uint64_t> RedisEventLog::LastSequence() {
  auto reply = connection_->Command({"GET", Key("alerts:seq")});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_NIL) return 0;
  auto text = ReplyString(**reply);
  if (!text.ok()) return text.status();
  uint64_t last = 0;
  if (!absl::SimpleAtoi(*text, &last)) {
    return absl::DataLossError(
        absl::StrCat("redis key ", Key("alerts:seq"), ": not a number"));
  }
  return last;
}

absl::StatusOr<std::vector<LoggedAlert>> UnpackLoggedEntry(
    const LoggedEntry& entry) {
  auto parts = Unpack(entry);
  if (!parts.ok()) return parts.status();
  std::vector<LoggedAlert> out;
  out.reserve(parts->size());
  uint64_t sequence = entry.last_sequence - parts->size() + 1;
  for (absl::string_view part : *parts) {
    LoggedAlert a;
    a.sequence = sequence++;
    a.alert = AlertBytesWithSequence(a.sequence, part);
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::vector<LoggedEntry>> RedisEventLog::ReadEntries(
    uint64_t after_sequence, size_t max_entries, absl::Duration block) {
  std::vector<std::string> args = {"XREAD", "COUNT", absl::StrCat(max_entries)};
  if (block > absl::ZeroDuration()) {
    args.push_back("BLOCK");
    args.push_back(absl::StrCat(absl::ToInt64Milliseconds(block)));
  }
  args.push_back("STREAMS");
  args.push_back(Key("alerts"));
  args.push_back(absl::StrCat(after_sequence, "-0"));
  auto reply = connection_->Command(args);
  if (!reply.ok()) return reply.status();
  auto entries = XreadEntries(**reply, Key("alerts"));
  if (!entries.ok()) return entries.status();
  return LogEntries(*entries, Key("alerts"));
}

absl::StatusOr<std::vector<LoggedAlert>> RedisEventLog::ReadAfter(
    uint64_t after_sequence, size_t max_entries, absl::Duration block) {
  auto entries = ReadEntries(after_sequence, max_entries, block);
  if (!entries.ok()) return entries.status();
  std::vector<LoggedAlert> out;
  for (const LoggedEntry& entry : *entries) {
    auto alerts = UnpackLoggedEntry(entry);
    if (!alerts.ok()) return alerts.status();
    for (LoggedAlert& a : *alerts) {
      if (a.sequence > after_sequence) out.push_back(std::move(a));
    }
  }
  return out;
}

absl::StatusOr<std::optional<RedisEventLog::EntrySpan>> RedisEventLog::EntryAt(
    uint64_t sequence) {
  auto reply =
      connection_->Command({"XRANGE", Key("alerts"),
                            absl::StrCat(sequence, "-0"), "+", "COUNT", "1"});
  if (!reply.ok()) return reply.status();
  auto raw = StreamEntries(**reply, Key("alerts"));
  if (!raw.ok()) return raw.status();
  if (raw->empty()) return std::nullopt;
  auto entries = LogEntries(*raw, Key("alerts"));
  if (!entries.ok()) return entries.status();
  const LoggedEntry& e = entries->front();
  auto parts = Unpack(e);
  if (!parts.ok()) return parts.status();
  // The entry is as old as its newest alert (an event's alerts share their
  // created_time as the publisher makes them): an event is dropped only
  // once all of it is older than a cutoff.
  v1::Alert alert;
  const absl::string_view newest = parts->back();
  if (!alert.ParseFromArray(newest.data(), static_cast<int>(newest.size()))) {
    return absl::DataLossError(absl::StrCat("redis key ", Key("alerts"),
                                            ": entry ", e.last_sequence,
                                            "-0 is not alerts"));
  }
  EntrySpan span;
  span.first = e.last_sequence - parts->size() + 1;
  span.last = e.last_sequence;
  span.created = TimeFromProto(alert.created_time());
  return span;
}

absl::StatusOr<uint64_t> RedisEventLog::TrimOlderThan(absl::Time cutoff) {
  auto oldest = EntryAt(0);
  if (!oldest.ok()) return oldest.status();
  if (!oldest->has_value()) return 0;
  if ((*oldest)->created >= cutoff) return (*oldest)->first;
  auto last = LastSequence();
  if (!last.ok()) return last.status();
  // The first entry created at or after the cutoff, by bisection over the
  // sequences (the log is in creation order); `hi` is past the end if none.
  // Trimming below `lo` drops the entries that end before it, whole.
  uint64_t lo = (*oldest)->last + 1;
  uint64_t hi = *last + 1;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    auto at = EntryAt(mid);
    if (!at.ok()) return at.status();
    if (!at->has_value() || (*at)->created >= cutoff) {
      // Kept from that entry's start (entries are whole events, and none
      // in [lo, mid) begins before lo).
      hi = at->has_value() ? std::max(lo, std::min(mid, (*at)->first)) : mid;
    } else {
      lo = (*at)->last + 1;
    }
  }
  auto trimmed = connection_->Command(
      {"XTRIM", Key("alerts"), "MINID", absl::StrCat(lo, "-0")});
  if (!trimmed.ok()) return trimmed.status();
  return lo;
}

}  // namespace tariffalert
