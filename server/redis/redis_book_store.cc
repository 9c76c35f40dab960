#include "server/redis/redis_book_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/tariff_book/book_codec.h"
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

}  // namespace

RedisBookStore::RedisBookStore(RedisOptions options)
    : prefix_(options.key_prefix),
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
  auto reply = connection_->Command(
      {"EVAL", kStoreScript, "2", Key("book"), Key("book:revision"),
       absl::StrCat(expected_revision), absl::StrCat(book.revision()),
       std::move(bytes)});
  if (!reply.ok()) return reply.status();
  auto done = ReplyInteger(**reply);
  if (!done.ok()) return done.status();
  return *done == 1;
}

}  // namespace tariffalert
