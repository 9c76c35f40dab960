#ifndef TARIFF_ALERT_SERVER_COMMON_HS_CODE_H_
#define TARIFF_ALERT_SERVER_COMMON_HS_CODE_H_

// A product scope in the Harmonized System: all goods ("*"), a chapter ("87")
// or a heading ("8703"). Scopes nest: "*" contains every chapter, a chapter
// its headings.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace tariffalert {

class HsCode {
 public:
  // All goods.
  constexpr HsCode() = default;
  static constexpr HsCode All() { return HsCode(); }

  // "*", a two-digit chapter 01-97 (not the reserved 77) or a four-digit
  // heading within such a chapter.
  static std::optional<HsCode> Parse(absl::string_view text);

  bool is_all() const { return digits_ == 0; }
  bool is_chapter() const { return digits_ == 2; }
  bool is_heading() const { return digits_ == 4; }
  int chapter() const { return digits_ == 4 ? value_ / 100 : value_; }
  // The chapter this heading is in; a chapter or "*" returns itself.
  HsCode Parent() const;

  // True if every good in `other` is in this scope.
  bool Contains(HsCode other) const;
  bool Overlaps(HsCode other) const {
    return Contains(other) || other.Contains(*this);
  }

  std::string ToString() const;

  friend bool operator==(HsCode a, HsCode b) {
    return a.value_ == b.value_ && a.digits_ == b.digits_;
  }
  friend bool operator!=(HsCode a, HsCode b) { return !(a == b); }
  friend bool operator<(HsCode a, HsCode b) {
    return a.digits_ != b.digits_ ? a.digits_ < b.digits_ : a.value_ < b.value_;
  }
  template <typename H>
  friend H AbslHashValue(H h, HsCode c) {
    return H::combine(std::move(h), c.value_, c.digits_);
  }

 private:
  constexpr HsCode(uint16_t value, uint8_t digits)
      : value_(value), digits_(digits) {}
  uint16_t value_ = 0;
  uint8_t digits_ = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_HS_CODE_H_
