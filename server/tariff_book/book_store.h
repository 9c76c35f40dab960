#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_STORE_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_STORE_H_

// Where the tariff book lives between publishes. The server keeps it in Redis
// (server/redis/redis_book_store.h) so it survives restarts and every replica
// shares it; a replay or a what-if keeps a private one in memory.

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/tariff_book/tariff_book.h"

namespace tariffalert {

class BookStore {
 public:
  virtual ~BookStore() = default;
  // The stored book; an empty book at revision 0 if none was stored yet.
  // UNAVAILABLE when the store cannot be reached.
  virtual absl::StatusOr<TariffBook> Load() = 0;
  // Stores `book` if the stored book is still at `expected_revision`
  // (compare-and-set). false: another writer got there first; reload.
  virtual absl::StatusOr<bool> Store(uint64_t expected_revision,
                                     const TariffBook& book) = 0;
};

class InMemoryBookStore final : public BookStore {
 public:
  InMemoryBookStore() = default;
  explicit InMemoryBookStore(TariffBook start) : book_(std::move(start)) {}

  absl::StatusOr<TariffBook> Load() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<bool> Store(uint64_t expected_revision,
                             const TariffBook& book) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  TariffBook book_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_STORE_H_
