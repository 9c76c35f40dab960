#include "server/ingest/event_validator.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/quote.h"
#include "server/common/status_macros.h"
#include "server/tariff_book/book_codec.h"
#include "tariffalert/v1/tariff_event.pb.h"

namespace tariffalert {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("event.", field, ": ", message));
}

bool PrintableNoSpace(absl::string_view s) {
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

absl::Status CheckRate(absl::string_view field, double v) {
  if (!std::isfinite(v)) return Invalid(field, "must be a finite number");
  if (v < 0) return Invalid(field, absl::StrFormat("%g is negative", v));
  if (v > kMaxRatePct) {
    return Invalid(field, absl::StrFormat("%g is above %g", v, kMaxRatePct));
  }
  return absl::OkStatus();
}

absl::Status CheckTime(absl::string_view field,
                       const google::protobuf::Timestamp& t) {
  // RFC 3339 years 0001-9999, as the protobuf JSON mapping allows.
  if (t.seconds() < -62135596800 || t.seconds() > 253402300799 ||
      t.nanos() < 0 || t.nanos() > 999999999) {
    return Invalid(field, "is not a valid timestamp");
  }
  const absl::Time time = TimeFromProto(t);
  if (time < kEarliestEventTime || time >= kLatestEventTime) {
    return Invalid(
        field, absl::StrCat(FormatEventTime(time),
                            " is outside the years 1930-2100 a tariff event "
                            "can have (a typo, or an unset year?)"));
  }
  return absl::OkStatus();
}

absl::Status CheckMeasureIdText(absl::string_view field, absl::string_view id) {
  if (id.size() > kMaxMeasureIdBytes) {
    return Invalid(field, absl::StrCat(id.size(), " bytes, longer than ",
                                       kMaxMeasureIdBytes));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return Invalid(field, "may hold only letters, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status NotACountry(absl::string_view field, const std::string& text) {
  return Invalid(field,
                 absl::StrCat(QuoteForError(text),
                              " is not an ISO 3166-1 alpha-2 code or EU"));
}

// target_countries or excluded_target_countries: distinct countries (or
// "EU"), none overlapping another.
absl::Status ParseCountries(
    absl::string_view name,
    const google::protobuf::RepeatedPtrField<std::string>& in,
    std::vector<Country>& out) {
  if (in.size() > kMaxListEntries) return Invalid(name, "too many entries");
  for (int i = 0; i < in.size(); ++i) {
    const std::string field = absl::StrCat(name, "[", i, "]");
    auto t = Country::Parse(in[i]);
    if (!t) return NotACountry(field, in[i]);
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].SameBloc(*t) &&
          (out[j].is_eu() || t->is_eu() || out[j] == *t)) {
        return Invalid(
            field, absl::StrCat(t->ToString(), " repeats or overlaps ", name,
                                "[", j, "] ", out[j].ToString()));
      }
    }
    out.push_back(*t);
  }
  return absl::OkStatus();
}

// product_codes or excluded_product_codes: distinct chapters or headings,
// none overlapping another.
absl::Status ParseProducts(
    absl::string_view name,
    const google::protobuf::RepeatedPtrField<std::string>& in,
    absl::string_view hint, std::vector<HsCode>& out) {
  if (in.size() > kMaxListEntries) return Invalid(name, "too many entries");
  for (int i = 0; i < in.size(); ++i) {
    const std::string field = absl::StrCat(name, "[", i, "]");
    auto p = HsCode::Parse(in[i]);
    if (!p || p->is_all()) {
      return Invalid(field,
                     absl::StrCat(QuoteForError(in[i]),
                                  " is not an HS chapter (2 digits, 01-97) or "
                                  "heading (4 digits)",
                                  hint));
    }
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].Overlaps(*p)) {
        return Invalid(
            field, absl::StrCat(p->ToString(), " repeats or overlaps ", name,
                                "[", j, "] ", out[j].ToString()));
      }
    }
    out.push_back(*p);
  }
  return absl::OkStatus();
}

// An optional rate field: finite, 0..kMaxRatePct.
absl::Status ParseRate(absl::string_view field, bool has, double v,
                       std::optional<double>& out) {
  if (!has) return absl::OkStatus();
  TA_RETURN_IF_ERROR(CheckRate(field, v));
  out = v;
  return absl::OkStatus();
}

absl::Status ParseTime(absl::string_view field, bool has,
                       const google::protobuf::Timestamp& t,
                       std::optional<absl::Time>& out) {
  if (!has) return absl::OkStatus();
  TA_RETURN_IF_ERROR(CheckTime(field, t));
  out = TimeFromProto(t);
  return absl::OkStatus();
}

// authority, combination, not_with, on_content and channels: how the
// measure stacks and which channels it reaches.
absl::Status ParseTerms(const v1::TariffEvent& e, TariffAction& a) {
  auto authority = AuthorityFromProto(e.authority());
  if (!authority) {
    return Invalid("authority", absl::StrCat(e.authority(),
                                             " is not an "
                                             "Authority value"));
  }
  a.terms.authority = *authority;
  if (e.combination() != v1::COMBINATION_UNSPECIFIED) {
    auto combination = CombinationFromProto(e.combination());
    if (!combination) {
      return Invalid("combination", absl::StrCat(e.combination(),
                                                 " is not a Combination "
                                                 "value"));
    }
    a.terms.combination = *combination;
  }
  if (e.not_with_size() > kMaxListEntries) {
    return Invalid("not_with", "too many entries");
  }
  for (int i = 0; i < e.not_with_size(); ++i) {
    const std::string field = absl::StrCat("not_with[", i, "]");
    const std::string& n = e.not_with(i);
    const bool authority_name = AuthorityFromName(n).has_value();
    if (!authority_name) {
      TA_RETURN_IF_ERROR(CheckMeasureIdText(field, n));
      if (n.empty()) {
        return Invalid(field,
                       "must name an authority (SECTION_232, ...) or "
                       "a measure_id");
      }
    }
    if (!e.measure_id().empty() && n == e.measure_id()) {
      return Invalid(field, "names the event's own measure");
    }
    if (std::find(a.terms.not_with.begin(), a.terms.not_with.end(), n) !=
        a.terms.not_with.end()) {
      return Invalid(field, absl::StrCat("'", n, "' repeats"));
    }
    a.terms.not_with.push_back(n);
  }
  std::sort(a.terms.not_with.begin(), a.terms.not_with.end());
  a.terms.on_content = e.on_content();
  a.terms_given = e.authority() != v1::AUTHORITY_UNSPECIFIED ||
                  e.combination() != v1::COMBINATION_UNSPECIFIED ||
                  e.not_with_size() > 0 || e.on_content();
  if (e.channels_size() > 0) {
    a.channels = 0;
    for (int i = 0; i < e.channels_size(); ++i) {
      const std::string field = absl::StrCat("channels[", i, "]");
      auto c = ChannelFromProto(e.channels(i));
      if (!c) {
        return Invalid(field,
                       "must be SHIPMENT_GENERAL, SHIPMENT_USMCA or "
                       "SHIPMENT_LOW_VALUE");
      }
      if (a.channels & static_cast<uint8_t>(*c)) {
        return Invalid(field, "repeats");
      }
      a.channels |= static_cast<uint8_t>(*c);
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FormatEventTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<TariffAction> ValidateEvent(const v1::TariffEvent& e,
                                           const ScoringParams& params) {
  TariffAction a;
  if (e.event_id().empty()) return Invalid("event_id", "must not be empty");
  if (e.event_id().size() > kMaxEventIdBytes) {
    return Invalid("event_id",
                   absl::StrCat(e.event_id().size(), " bytes, longer than ",
                                kMaxEventIdBytes));
  }
  if (!PrintableNoSpace(e.event_id())) {
    return Invalid("event_id", "must be printable ASCII without spaces");
  }
  a.event_id = e.event_id();

  auto importer = Country::Parse(e.imposing_country());
  if (!importer) return NotACountry("imposing_country", e.imposing_country());
  a.importer = *importer;

  // Partners: none in the importer's own customs area; exclusions only
  // from all partners.
  TA_RETURN_IF_ERROR(
      ParseCountries("target_countries", e.target_countries(), a.targets));
  for (size_t i = 0; i < a.targets.size(); ++i) {
    if (a.targets[i].SameBloc(a.importer)) {
      return Invalid(absl::StrCat("target_countries[", i, "]"),
                     absl::StrCat(a.targets[i].ToString(),
                                  " is in the imposing country's own customs "
                                  "area ",
                                  a.importer.ToString()));
    }
  }
  if (!a.targets.empty() && e.excluded_target_countries_size() > 0) {
    return Invalid("excluded_target_countries[0]",
                   "applies only when target_countries is empty (all "
                   "partners); list the targets instead");
  }
  TA_RETURN_IF_ERROR(ParseCountries("excluded_target_countries",
                                    e.excluded_target_countries(),
                                    a.excluded_targets));

  // Goods: exclusions only inside the scope.
  TA_RETURN_IF_ERROR(ParseProducts("product_codes", e.product_codes(),
                                   "; leave product_codes empty for all goods",
                                   a.products));
  TA_RETURN_IF_ERROR(ParseProducts("excluded_product_codes",
                                   e.excluded_product_codes(), "", a.excluded));
  for (size_t i = 0; i < a.excluded.size() && !a.products.empty(); ++i) {
    bool inside = false;
    for (HsCode scope : a.products) {
      inside |= scope.Contains(a.excluded[i]) && scope != a.excluded[i];
    }
    if (!inside) {
      return Invalid(absl::StrCat("excluded_product_codes[", i, "]"),
                     absl::StrCat(a.excluded[i].ToString(),
                                  " is not inside product_codes: only part of "
                                  "the scope can be left out"));
    }
  }

  if (e.stage() == v1::STAGE_UNSPECIFIED || !v1::Stage_IsValid(e.stage())) {
    return Invalid(
        "stage",
        "must be one of STAGE_THREATENED, STAGE_ANNOUNCED, STAGE_EFFECTIVE, "
        "STAGE_PAUSED, STAGE_EXTENDED, STAGE_REVOKED");
  }
  a.stage = *StageFromProto(e.stage());

  // Rates: a new rate for the stages that set one, never for the others.
  const bool rate_required =
      a.stage != Stage::kExtended && a.stage != Stage::kRevoked;
  if (e.has_new_rate_pct() && !rate_required) {
    return Invalid("new_rate_pct",
                   absl::StrCat("must be unset for ", StageName(a.stage),
                                " (it changes no rate to a new value)"));
  }
  if (!e.has_new_rate_pct() && rate_required) {
    return Invalid("new_rate_pct",
                   absl::StrCat("is required for ", StageName(a.stage)));
  }
  TA_RETURN_IF_ERROR(ParseRate("new_rate_pct", e.has_new_rate_pct(),
                               e.new_rate_pct(), a.new_rate_pct));
  TA_RETURN_IF_ERROR(ParseRate("previous_rate_pct", e.has_previous_rate_pct(),
                               e.previous_rate_pct(), a.previous_rate_pct));
  if (e.has_snap_back_rate_pct() && a.stage != Stage::kPaused) {
    return Invalid(
        "snap_back_rate_pct",
        absl::StrCat("applies only to PAUSED, not ", StageName(a.stage)));
  }
  TA_RETURN_IF_ERROR(ParseRate("snap_back_rate_pct", e.has_snap_back_rate_pct(),
                               e.snap_back_rate_pct(), a.snap_back_rate_pct));

  if (e.has_probability()) {
    const double p = e.probability();
    if (!std::isfinite(p) || p < 0 || p > 1) {
      return Invalid("probability", absl::StrFormat("%g is outside 0..1", p));
    }
    a.probability = p;
  } else {
    a.probability = params.DefaultProbability(a.stage);
  }

  TA_RETURN_IF_ERROR(CheckMeasureIdText("measure_id", e.measure_id()));
  a.measure_id = e.measure_id();
  TA_RETURN_IF_ERROR(ParseTerms(e, a));

  // Times: an expiry for the stages that pause, after the effective time.
  TA_RETURN_IF_ERROR(ParseTime("announced_time", e.has_announced_time(),
                               e.announced_time(), a.announced_time));
  TA_RETURN_IF_ERROR(ParseTime("effective_time", e.has_effective_time(),
                               e.effective_time(), a.effective_time));
  const bool needs_expiry =
      a.stage == Stage::kPaused || a.stage == Stage::kExtended;
  if (e.has_expires_time() && !needs_expiry) {
    return Invalid("expires_time",
                   absl::StrCat("applies only to PAUSED and EXTENDED, not ",
                                StageName(a.stage)));
  }
  if (!e.has_expires_time() && needs_expiry) {
    return Invalid("expires_time",
                   absl::StrCat("is required for ", StageName(a.stage),
                                ": when the pause lapses"));
  }
  TA_RETURN_IF_ERROR(ParseTime("expires_time", e.has_expires_time(),
                               e.expires_time(), a.expires_time));
  if (a.expires_time && a.effective_time &&
      *a.expires_time <= *a.effective_time) {
    return Invalid("expires_time",
                   absl::StrCat(FormatEventTime(*a.expires_time),
                                " is not after effective_time ",
                                FormatEventTime(*a.effective_time),
                                ": a pause must end after it starts"));
  }

  if (e.headline().size() > kMaxHeadlineBytes) {
    return Invalid("headline",
                   absl::StrCat(e.headline().size(), " bytes, longer than ",
                                kMaxHeadlineBytes));
  }
  if (!e.source_url().empty()) {
    if (e.source_url().size() > kMaxUrlBytes) {
      return Invalid("source_url",
                     absl::StrCat(e.source_url().size(), " bytes, longer than ",
                                  kMaxUrlBytes));
    }
    if (!(absl::StartsWith(e.source_url(), "https://") ||
          absl::StartsWith(e.source_url(), "http://")) ||
        !PrintableNoSpace(e.source_url())) {
      return Invalid("source_url", "must be an http(s) URL without spaces");
    }
  }
  return a;
}

}  // namespace tariffalert
