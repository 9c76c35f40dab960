#include "server/tariff_book/book_store.h"

#include "google/protobuf/io/coded_stream.h"

namespace tariffalert {
namespace {

// The most bytes a varint takes.
constexpr size_t kMaxVarint64Bytes = 10;

}  // namespace

std::string AlertBytesWithSequence(uint64_t sequence,
                                   absl::string_view unsequenced) {
  using google::protobuf::io::CodedOutputStream;
  constexpr uint8_t kSequenceTag = (1 << 3) | 0;  // field 1, varint
  uint8_t head[1 + kMaxVarint64Bytes];
  head[0] = kSequenceTag;
  const uint8_t* end =
      CodedOutputStream::WriteVarint64ToArray(sequence, head + 1);
  std::string out;
  out.reserve(static_cast<size_t>(end - head) + unsequenced.size());
  out.append(reinterpret_cast<const char*>(head),
             static_cast<size_t>(end - head));
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
