#include "server/common/quote.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tariffalert {

std::string QuoteForError(absl::string_view text, size_t max) {
  if (text.size() <= max) {
    return absl::StrCat("'", absl::CHexEscape(text), "'");
  }
  return absl::StrCat("'", absl::CHexEscape(text.substr(0, max)),
                      "\xE2\x80\xA6' (", text.size(), " bytes)");
}

}  // namespace tariffalert
