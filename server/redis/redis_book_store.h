#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_

// The tariff book in Redis, shared by every replica and kept across
// restarts. Keys (docs/redis.md), P the key prefix:
//   P book            tariffalert.v1.BookState, serialized
//   P book:revision   its revision, decimal: the compare-and-set guard
// Store() is one Lua script that writes both only if the revision is still
// the one the writer read, so two replicas never both apply an event to the
// same book.

#include <memory>

#include "server/redis/redis_connection.h"
#include "server/tariff_book/book_store.h"

namespace tariffalert {

class RedisBookStore final : public BookStore {
 public:
  explicit RedisBookStore(RedisOptions options);

  absl::StatusOr<TariffBook> Load() override;
  absl::StatusOr<bool> Store(uint64_t expected_revision,
                             const TariffBook& book) override;

 private:
  std::string Key(absl::string_view name) const;

  const std::string prefix_;
  std::unique_ptr<RedisConnection> connection_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_BOOK_STORE_H_
