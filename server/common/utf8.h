#ifndef TARIFF_ALERT_SERVER_COMMON_UTF8_H_
#define TARIFF_ALERT_SERVER_COMMON_UTF8_H_

#include "absl/strings/string_view.h"

namespace tariffalert {

// Whether `s` is UTF-8 as protobuf's string fields require it (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(absl::string_view s);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_UTF8_H_
