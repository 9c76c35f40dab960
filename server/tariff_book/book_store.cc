#include "server/tariff_book/book_store.h"

namespace tariffalert {

absl::StatusOr<TariffBook> InMemoryBookStore::Load() {
  absl::MutexLock lock(&mu_);
  return book_;
}

absl::StatusOr<bool> InMemoryBookStore::Store(uint64_t expected_revision,
                                              const TariffBook& book) {
  absl::MutexLock lock(&mu_);
  if (book_.revision() != expected_revision) return false;
  book_ = book;
  return true;
}

}  // namespace tariffalert
