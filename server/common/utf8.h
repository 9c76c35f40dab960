#ifndef TARIFF_ALERT_SERVER_COMMON_UTF8_H_
#define TARIFF_ALERT_SERVER_COMMON_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace tariffalert {

// Whether `s` is UTF-8 as protobuf's string fields require it (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// The length of the valid UTF-8 sequence of two to four bytes at text[i]
// (a byte of 0x80 or more), 0 if it is not one (overlong forms, surrogates
// and code points above U+10FFFF included, or cut off by the end).
size_t Utf8SequenceLength(absl::string_view text, size_t i);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_UTF8_H_
