#include "server/common/country.h"

#include <algorithm>
#include <vector>

#include "absl/strings/string_view.h"

namespace tariffalert {
namespace {

// ISO 3166-1 alpha-2, officially assigned codes.
constexpr absl::string_view kAssigned =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ "
    "OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA "
    "RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU "
    "WF WS "
    "YE YT "
    "ZA ZM ZW";

constexpr absl::string_view kEu =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO "
    "SE SI SK";

uint16_t Pack(absl::string_view code) {
  return static_cast<uint16_t>((static_cast<uint8_t>(code[0]) << 8) |
                               static_cast<uint8_t>(code[1]));
}

std::vector<uint16_t> PackList(absl::string_view list) {
  std::vector<uint16_t> out;
  for (size_t i = 0; i + 1 < list.size(); i += 3) {
    out.push_back(Pack(list.substr(i, 2)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<uint16_t>& AssignedCodes() {
  static const auto* codes = new std::vector<uint16_t>(PackList(kAssigned));
  return *codes;
}

const std::vector<uint16_t>& EuCodes() {
  static const auto* codes = new std::vector<uint16_t>(PackList(kEu));
  return *codes;
}

std::vector<Country> ToCountries(const std::vector<uint16_t>& codes) {
  std::vector<Country> out;
  for (uint16_t c : codes) {
    const char text[2] = {static_cast<char>(c >> 8),
                          static_cast<char>(c & 0xff)};
    out.push_back(*Country::Parse(absl::string_view(text, 2)));
  }
  return out;
}

}  // namespace

std::optional<Country> Country::Parse(absl::string_view code) {
  if (code.size() != 2) return std::nullopt;
  if (code == "EU") return Eu();
  const auto& assigned = AssignedCodes();
  if (!std::binary_search(assigned.begin(), assigned.end(), Pack(code))) {
    return std::nullopt;
  }
  return Country(code[0], code[1]);
}

bool Country::IsEuMember() const {
  const auto& eu = EuCodes();
  return std::binary_search(eu.begin(), eu.end(), code_);
}

bool Country::SameBloc(Country other) const {
  if (*this == other) return true;
  const bool mine = is_eu() || IsEuMember();
  const bool theirs = other.is_eu() || other.IsEuMember();
  return mine && theirs;
}

bool Covers(Country wanted, Country c) {
  if (!c.valid()) return false;
  return wanted == c || (wanted.is_eu() && c.IsEuMember()) ||
         (c.is_eu() && wanted.IsEuMember());
}

bool InvolvesCountry(Country wanted, Country importer, Country company,
                     absl::Span<const Country> targets) {
  if (Covers(wanted, importer) || Covers(wanted, company)) return true;
  if (targets.empty() && !wanted.SameBloc(importer)) return true;
  for (Country t : targets) {
    if (Covers(wanted, t)) return true;
  }
  return false;
}

std::string Country::ToString() const {
  if (code_ == 0) return "??";
  return std::string{static_cast<char>(code_ >> 8),
                     static_cast<char>(code_ & 0xff)};
}

absl::Span<const Country> EuMembers() {
  static const auto* members = new std::vector<Country>(ToCountries(EuCodes()));
  return *members;
}

absl::Span<const Country> AllCountries() {
  static const auto* all =
      new std::vector<Country>(ToCountries(AssignedCodes()));
  return *all;
}

}  // namespace tariffalert
