#include "server/redis/redis_book_store.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/tariff_book/book_codec.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/tariff_book.pb.h"

namespace tariffalert {
namespace {

// KEYS[1] book, KEYS[2] book:revision; ARGV[1] expected revision, ARGV[2]
// new revision, ARGV[3] the serialized book.
constexpr char kStoreScript[] = R"lua(
local current = redis.call('GET', KEYS[2])
if current == false then current = '0' end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
return 1
)lua";

// KEYS: book, book:revision, alerts:seq, alerts, event:<id>. ARGV: expected
// revision, new revision, book bytes, fingerprint, response bytes, dedupe
// seconds, retention, then one argument per alert. Returns {2, record} if
// the event was committed before, {0} on a book conflict, {1, first
// sequence} once stored. A duplicate writes a no-op (INCRBY 0) so that the
// WAIT after it covers the record it returns (WAIT counts this connection's
// writes only).
constexpr char kCommitScript[] = R"lua(
local prior = redis.call('GET', KEYS[5])
if prior then
  redis.call('INCRBY', KEYS[3], 0)
  return {2, prior}
end
local current = redis.call('GET', KEYS[2])
if current == false then current = '0' end
if current ~= ARGV[1] then return {0} end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
local n = #ARGV - 7
local first = 0
if n > 0 then
  first = redis.call('INCRBY', KEYS[3], n) - n + 1
  for i = 1, n do
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7],
               string.format('%d-0', first + i - 1), 'a', ARGV[7 + i])
  end
end
redis.call('SET', KEYS[5], ARGV[4] .. ':' .. string.format('%d', first) ..
           ':' .. ARGV[5], 'EX', ARGV[6])
return {1, first}
)lua";

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

RedisBookStore::RedisBookStore(RedisOptions options, AlertLogOptions log)
    : prefix_(options.key_prefix),
      log_(log),
      connection_(std::make_unique<RedisConnection>(std::move(options))) {}

std::string RedisBookStore::Key(absl::string_view name) const {
  return absl::StrCat(prefix_, name);
}

absl::StatusOr<TariffBook> RedisBookStore::Load() {
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

absl::StatusOr<bool> RedisBookStore::Store(uint64_t expected_revision,
                                           const TariffBook& book) {
  std::string bytes;
  if (!BookToProto(book).SerializeToString(&bytes)) {
    return absl::InternalError("the tariff book could not be serialized");
  }
  auto reply = connection_->CommandAndWait(
      {"EVAL", kStoreScript, "2", Key("book"), Key("book:revision"),
       absl::StrCat(expected_revision), absl::StrCat(book.revision()),
       std::move(bytes)});
  if (!reply.ok()) return reply.status();
  auto done = ReplyInteger(**reply);
  if (!done.ok()) return done.status();
  return *done == 1;
}

}  // namespace tariffalert

namespace tariffalert {

absl::StatusOr<std::optional<PriorEvent>> RedisBookStore::FindEvent(
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

absl::StatusOr<CommitOutcome> RedisBookStore::Commit(
    const EventCommit& commit) {
  std::string book;
  if (!BookToProto(*commit.next_book).SerializeToString(&book)) {
    return absl::InternalError("the tariff book could not be serialized");
  }
  const std::string event_key = Key(absl::StrCat("event:", commit.event_id));
  std::vector<std::string> args = {
      "EVAL",
      kCommitScript,
      "5",
      Key("book"),
      Key("book:revision"),
      Key("alerts:seq"),
      Key("alerts"),
      event_key,
      absl::StrCat(commit.expected_revision),
      absl::StrCat(commit.next_book->revision()),
      std::move(book),
      absl::StrCat(commit.fingerprint),
      commit.response,
      absl::StrCat(
          std::max<int64_t>(1, absl::ToInt64Seconds(log_.dedupe_window))),
      absl::StrCat(log_.retention)};
  args.insert(args.end(), commit.alerts.begin(), commit.alerts.end());
  // With --redis-min-replicas, acknowledged only once WAIT confirms it
  // (docs/delivery.md): a shortfall is DEADLINE_EXCEEDED, "outcome unknown,
  // retry with the same event_id", like a lost reply.
  auto reply = connection_->CommandAndWait(args);
  if (!reply.ok()) {
    // The connection fails with "no reply to <command>" once the script was
    // sent (a timeout or a connection lost while waiting): Redis may have
    // run it. Any other failure (connect, AUTH) came before sending.
    if (absl::IsUnavailable(reply.status()) &&
        absl::StrContains(reply.status().message(), "no reply to")) {
      return absl::DeadlineExceededError(reply.status().message());
    }
    return reply.status();
  }
  const redisReply& r = **reply;
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
      auto prior = ParseRecord(*record, event_key);
      if (!prior.ok()) return prior.status();
      outcome.kind = CommitOutcome::kDuplicate;
      outcome.prior = *std::move(prior);
      return outcome;
    }
    default:
      return absl::InternalError("redis: unexpected commit result");
  }
}

absl::StatusOr<uint64_t> RedisBookStore::LastSequence() {
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

absl::StatusOr<std::vector<LoggedAlert>> RedisBookStore::ReadAfter(
    uint64_t after_sequence, size_t count, absl::Duration block) {
  std::vector<std::string> args = {"XREAD", "COUNT", absl::StrCat(count)};
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
  std::vector<LoggedAlert> out;
  out.reserve(entries->size());
  for (const SequencedEntry& e : *entries) {
    LoggedAlert a;
    a.sequence = e.sequence;
    a.alert = AlertBytesWithSequence(a.sequence, e.value);
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::optional<std::pair<uint64_t, absl::Time>>>
RedisBookStore::EntryAt(uint64_t sequence) {
  auto reply =
      connection_->Command({"XRANGE", Key("alerts"),
                            absl::StrCat(sequence, "-0"), "+", "COUNT", "1"});
  if (!reply.ok()) return reply.status();
  auto entries = StreamEntries(**reply, Key("alerts"));
  if (!entries.ok()) return entries.status();
  if (entries->empty()) return std::nullopt;
  const SequencedEntry& e = entries->front();
  v1::Alert alert;
  if (!alert.ParseFromArray(e.value.data(), static_cast<int>(e.value.size()))) {
    return absl::DataLossError(absl::StrCat("redis key ", Key("alerts"),
                                            ": entry ", e.sequence, "-0"));
  }
  const uint64_t found = e.sequence;
  return std::make_pair(found, TimeFromProto(alert.created_time()));
}

absl::StatusOr<uint64_t> RedisBookStore::TrimOlderThan(absl::Time cutoff) {
  auto oldest = EntryAt(0);
  if (!oldest.ok()) return oldest.status();
  if (!oldest->has_value()) return 0;
  if ((*oldest)->second >= cutoff) return (*oldest)->first;
  auto last = LastSequence();
  if (!last.ok()) return last.status();
  // The first alert created at or after the cutoff, by bisection over the
  // sequences (the log is in creation order); `hi` is past the end if none.
  uint64_t lo = (*oldest)->first + 1;
  uint64_t hi = *last + 1;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    auto at = EntryAt(mid);
    if (!at.ok()) return at.status();
    if (!at->has_value() || (*at)->second >= cutoff) {
      // Nothing lies in [mid, that entry): trimming below mid keeps it.
      hi = mid;
    } else {
      lo = (*at)->first + 1;
    }
  }
  auto trimmed = connection_->Command(
      {"XTRIM", Key("alerts"), "MINID", absl::StrCat(lo, "-0")});
  if (!trimmed.ok()) return trimmed.status();
  return lo;
}

}  // namespace tariffalert
