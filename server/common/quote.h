#ifndef TARIFF_ALERT_SERVER_COMMON_QUOTE_H_
#define TARIFF_ALERT_SERVER_COMMON_QUOTE_H_

// Client input quoted into an error message. An error's message travels back
// in the call's trailers, which a client refuses past its metadata limit (and
// with them every other stream on the channel): a message never echoes more
// than a short, escaped prefix of what it was sent. Every error that quotes a
// request field goes through QuoteForError.

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace tariffalert {

inline constexpr size_t kMaxQuotedBytes = 64;

// 'text' with C escapes for quotes, backslashes, control and non-ASCII bytes
// (so the message stays printable); past `max` bytes of input the rest
// is cut: 'first 64 bytes…' (10000 bytes).
std::string QuoteForError(absl::string_view text, size_t max = kMaxQuotedBytes);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_QUOTE_H_
