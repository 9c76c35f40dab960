#include "server/common/hs_code.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace tariffalert {

std::optional<HsCode> HsCode::Parse(absl::string_view text) {
  if (text == "*") return All();
  if (text.size() != 2 && text.size() != 4) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  const int chapter = text.size() == 4 ? value / 100 : value;
  if (chapter < 1 || chapter > 97 || chapter == 77) return std::nullopt;
  if (text.size() == 4 && value % 100 == 0) return std::nullopt;
  return HsCode(static_cast<uint16_t>(value),
                static_cast<uint8_t>(text.size()));
}

HsCode HsCode::Parent() const {
  if (digits_ != 4) return *this;
  return HsCode(static_cast<uint16_t>(value_ / 100), 2);
}

bool HsCode::Contains(HsCode other) const {
  if (is_all()) return true;
  if (other.is_all()) return false;
  if (digits_ == other.digits_) return value_ == other.value_;
  if (is_chapter() && other.is_heading()) return other.value_ / 100 == value_;
  return false;
}

std::string HsCode::ToString() const {
  if (is_all()) return "*";
  char buf[8];
  std::snprintf(buf, sizeof(buf), digits_ == 2 ? "%02u" : "%04u",
                static_cast<unsigned>(value_));
  return buf;
}

}  // namespace tariffalert
