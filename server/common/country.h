#ifndef TARIFF_ALERT_SERVER_COMMON_COUNTRY_H_
#define TARIFF_ALERT_SERVER_COMMON_COUNTRY_H_

// Country codes: ISO 3166-1 alpha-2, plus "EU" for the European Union as a
// customs union. An "EU" in an event or an exposure row stands for its member
// states (docs/scoring.md says how each use splits over them).

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tariffalert {

class Country {
 public:
  constexpr Country() = default;

  // Accepts an upper-case assigned alpha-2 code or "EU"; nothing else.
  static std::optional<Country> Parse(absl::string_view code);
  static constexpr Country Eu() { return Country('E', 'U'); }

  bool is_eu() const { return code_ == Eu().code_; }
  bool valid() const { return code_ != 0; }
  // True for the 27 member states (not for "EU" itself).
  bool IsEuMember() const;
  // Same country, or both in the EU's customs union (EU or a member).
  bool SameBloc(Country other) const;

  std::string ToString() const;
  uint16_t raw() const { return code_; }

  friend bool operator==(Country a, Country b) { return a.code_ == b.code_; }
  friend bool operator!=(Country a, Country b) { return a.code_ != b.code_; }
  friend bool operator<(Country a, Country b) { return a.code_ < b.code_; }
  template <typename H>
  friend H AbslHashValue(H h, Country c) {
    return H::combine(std::move(h), c.code_);
  }

 private:
  constexpr Country(char a, char b)
      : code_(static_cast<uint16_t>((static_cast<uint8_t>(a) << 8) |
                                    static_cast<uint8_t>(b))) {}
  uint16_t code_ = 0;
};

inline constexpr int kEuMemberCount = 27;

// The EU's member states, in code order.
absl::Span<const Country> EuMembers();

// Every assigned alpha-2 code (not "EU"), in code order.
absl::Span<const Country> AllCountries();

// A country asked for (a filter's, a silence's) covers an alert's country
// when they are the same, or one is "EU" and the other a member state.
bool Covers(Country wanted, Country c);
// Whether an alert concerns `wanted`: its event's importer or a targeted
// partner (an all-partners event, `targets` empty, concerns every country
// outside the importer's bloc), or the company's own country.
bool InvolvesCountry(Country wanted, Country importer, Country company,
                     absl::Span<const Country> targets);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_COUNTRY_H_
