#include "server/tariff_book/book_store.h"

namespace tariffalert {

std::string AlertBytesWithSequence(uint64_t sequence,
                                   absl::string_view unsequenced) {
  std::string out;
  out.reserve(unsequenced.size() + 11);
  out.push_back('\x08');  // field 1, varint
  uint64_t v = sequence;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  out.append(unsequenced.data(), unsequenced.size());
  return out;
}

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
