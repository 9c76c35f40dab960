// Fuzzes an alert as read back from the shared alert log in Redis
// (RedisBookStore::ReadAfter, LogTailer::Poll): the stream entry's value is a
// serialized Alert without its sequence; the sequence, from the entry id, is
// put back with AlertBytesWithSequence (server/tariff_book/book_store.h), the
// bytes parsed as a v1::Alert and encoded once for every stream with
// EncodeAlert (server/fanout/encoded_alert.h). What a stream then sends must
// decode (DecodeAlert) as that one alert.
//
// Input: 8 bytes, little-endian, the sequence; the rest the entry's value.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/fanout/encoded_alert.h"
#include "server/tariff_book/book_store.h"
#include "tariffalert/v1/alert.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size < 8 || size > (1 << 20)) return 0;
  uint64_t sequence = 0;
  for (int i = 7; i >= 0; --i) sequence = (sequence << 8) | data[i];
  const absl::string_view value(reinterpret_cast<const char*>(data) + 8,
                                size - 8);
  const std::string bytes =
      tariffalert::AlertBytesWithSequence(sequence, value);

  tariffalert::v1::Alert alert;
  if (!alert.ParseFromString(bytes)) return 0;  // DATA_LOSS in the tailer
  const tariffalert::EncodedAlertPtr encoded =
      tariffalert::EncodeAlert(alert, bytes);
  TA_FUZZ_CHECK(encoded->sequence == alert.sequence(),
                "the encoded alert keeps its sequence");
  auto decoded = tariffalert::DecodeAlert(*encoded);
  TA_FUZZ_CHECK(decoded.ok(), "the bytes a stream sends decode");
  TA_FUZZ_CHECK(decoded->sequence() == alert.sequence(),
                "the decoded alert has the logged sequence");
  // The key history queries range over is the created time to the
  // microsecond, saturated where int64 microseconds end (an overflow here
  // once wrapped it into the range of ordinary dates).
  const absl::Time created =
      absl::FromUnixSeconds(alert.created_time().seconds()) +
      absl::Nanoseconds(alert.created_time().nanos());
  const absl::Time expected = std::clamp(
      created, absl::FromUnixMicros(std::numeric_limits<int64_t>::min()),
      absl::FromUnixMicros(std::numeric_limits<int64_t>::max()));
  TA_FUZZ_CHECK(absl::AbsDuration(
                    absl::FromUnixMicros(encoded->keys.created_unix_micros) -
                    expected) < absl::Microseconds(1),
                "created_unix_micros is the created time");
  // The same alert encoded from the message, not from the logged bytes.
  const tariffalert::EncodedAlertPtr fresh = tariffalert::EncodeAlert(alert);
  TA_FUZZ_CHECK(
      fresh->keys.created_unix_micros == encoded->keys.created_unix_micros,
      "both encodings see the same keys");
  return 0;
}
