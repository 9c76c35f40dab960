// Fuzzes the tariff book as read back from Redis (RedisBookStore::Load): the
// bytes of the "book" key parsed as tariffalert.v1.BookState and decoded by
// BookFromProto (server/tariff_book/book_codec.h), which must check
// everything. A decoded book must encode and decode again to the same book,
// and answer the queries the publisher and GetTariff make of it.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"
#include "server/tariff_book/book_codec.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_book.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  using tariffalert::Country;
  using tariffalert::HsCode;
  if (size > (1 << 20)) return 0;
  tariffalert::v1::BookState state;
  if (!state.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto book = tariffalert::BookFromProto(state, "redis key book");
  if (!book.ok()) return 0;

  // What Store() writes must load again, unchanged.
  const tariffalert::v1::BookState encoded = tariffalert::BookToProto(*book);
  auto again = tariffalert::BookFromProto(encoded, "re-encoded book");
  TA_FUZZ_CHECK(again.ok(), "an encoded book decodes");
  std::string a, b;
  TA_FUZZ_CHECK(encoded.SerializeToString(&a) &&
                    tariffalert::BookToProto(*again).SerializeToString(&b),
                "a book serializes");
  TA_FUZZ_CHECK(a == b, "decode(encode(book)) is the same book");

  const Country us = *Country::Parse("US");
  const Country cn = *Country::Parse("CN");
  const Country de = *Country::Parse("DE");
  for (auto [importer, exporter] :
       {std::pair{us, cn}, {Country::Eu(), us}, {de, cn}, {cn, us}}) {
    for (HsCode product :
         {HsCode::All(), *HsCode::Parse("72"), *HsCode::Parse("8703")}) {
      (void)book->Rate(importer, exporter, product);
      (void)book->MeasuresFor(importer, exporter, product);
    }
  }
  (void)book->DueSnapBacks(absl::FromUnixSeconds(1800000000));
  return 0;
}
