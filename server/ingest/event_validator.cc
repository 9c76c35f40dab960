#include "server/ingest/event_validator.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/quote.h"
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
  if (!importer) {
    return Invalid("imposing_country",
                   absl::StrCat(QuoteForError(e.imposing_country()),
                                " is not an ISO 3166-1 alpha-2 code or EU"));
  }
  a.importer = *importer;

  if (e.target_countries_size() > kMaxListEntries) {
    return Invalid("target_countries", "too many entries");
  }
  for (int i = 0; i < e.target_countries_size(); ++i) {
    const std::string field = absl::StrCat("target_countries[", i, "]");
    auto t = Country::Parse(e.target_countries(i));
    if (!t) {
      return Invalid(field,
                     absl::StrCat(QuoteForError(e.target_countries(i)),
                                  " is not an ISO 3166-1 alpha-2 code or EU"));
    }
    if (t->SameBloc(a.importer)) {
      return Invalid(
          field, absl::StrCat(t->ToString(),
                              " is in the imposing country's own customs area ",
                              a.importer.ToString()));
    }
    for (size_t j = 0; j < a.targets.size(); ++j) {
      if (a.targets[j].SameBloc(*t) &&
          (a.targets[j].is_eu() || t->is_eu() || a.targets[j] == *t)) {
        return Invalid(field,
                       absl::StrCat(t->ToString(),
                                    " repeats or overlaps target_countries[", j,
                                    "] ", a.targets[j].ToString()));
      }
    }
    a.targets.push_back(*t);
  }

  if (e.excluded_target_countries_size() > kMaxListEntries) {
    return Invalid("excluded_target_countries", "too many entries");
  }
  for (int i = 0; i < e.excluded_target_countries_size(); ++i) {
    const std::string field =
        absl::StrCat("excluded_target_countries[", i, "]");
    if (!a.targets.empty()) {
      return Invalid(field,
                     "applies only when target_countries is empty (all "
                     "partners); list the targets instead");
    }
    auto t = Country::Parse(e.excluded_target_countries(i));
    if (!t) {
      return Invalid(field,
                     absl::StrCat(QuoteForError(e.excluded_target_countries(i)),
                                  " is not an ISO 3166-1 alpha-2 code "
                                  "or EU"));
    }
    for (size_t j = 0; j < a.excluded_targets.size(); ++j) {
      if (a.excluded_targets[j].SameBloc(*t) &&
          (a.excluded_targets[j].is_eu() || t->is_eu() ||
           a.excluded_targets[j] == *t)) {
        return Invalid(field, absl::StrCat(t->ToString(),
                                           " repeats or overlaps "
                                           "excluded_target_countries[",
                                           j, "]"));
      }
    }
    a.excluded_targets.push_back(*t);
  }
  if (e.product_codes_size() > kMaxListEntries) {
    return Invalid("product_codes", "too many entries");
  }
  for (int i = 0; i < e.product_codes_size(); ++i) {
    const std::string field = absl::StrCat("product_codes[", i, "]");
    auto p = HsCode::Parse(e.product_codes(i));
    if (!p || p->is_all()) {
      return Invalid(
          field,
          absl::StrCat(
              QuoteForError(e.product_codes(i)),
              " is not an HS chapter (2 digits, 01-97) or heading (4 digits); "
              "leave product_codes empty for all goods"));
    }
    for (size_t j = 0; j < a.products.size(); ++j) {
      if (a.products[j].Overlaps(*p)) {
        return Invalid(
            field,
            absl::StrCat(p->ToString(), " repeats or overlaps product_codes[",
                         j, "] ", a.products[j].ToString()));
      }
    }
    a.products.push_back(*p);
  }
  if (e.excluded_product_codes_size() > kMaxListEntries) {
    return Invalid("excluded_product_codes", "too many entries");
  }
  for (int i = 0; i < e.excluded_product_codes_size(); ++i) {
    const std::string field = absl::StrCat("excluded_product_codes[", i, "]");
    auto p = HsCode::Parse(e.excluded_product_codes(i));
    if (!p || p->is_all()) {
      return Invalid(field,
                     absl::StrCat(QuoteForError(e.excluded_product_codes(i)),
                                  " is not an HS chapter (2 digits, "
                                  "01-97) or heading (4 digits)"));
    }
    for (size_t j = 0; j < a.excluded.size(); ++j) {
      if (a.excluded[j].Overlaps(*p)) {
        return Invalid(field, absl::StrCat(p->ToString(),
                                           " repeats or overlaps "
                                           "excluded_product_codes[",
                                           j, "] ", a.excluded[j].ToString()));
      }
    }
    if (!a.products.empty()) {
      bool inside = false;
      for (HsCode scope : a.products) {
        if (scope.Contains(*p) && scope != *p) inside = true;
      }
      if (!inside) {
        return Invalid(field, absl::StrCat(p->ToString(),
                                           " is not inside product_codes: "
                                           "only part of the scope can be "
                                           "left out"));
      }
    }
    a.excluded.push_back(*p);
  }

  if (e.stage() == v1::STAGE_UNSPECIFIED || !v1::Stage_IsValid(e.stage())) {
    return Invalid(
        "stage",
        "must be one of STAGE_THREATENED, STAGE_ANNOUNCED, STAGE_EFFECTIVE, "
        "STAGE_PAUSED, STAGE_EXTENDED, STAGE_REVOKED");
  }
  a.stage = *StageFromProto(e.stage());

  const bool rate_required =
      a.stage != Stage::kExtended && a.stage != Stage::kRevoked;
  if (e.has_new_rate_pct()) {
    if (!rate_required) {
      return Invalid("new_rate_pct",
                     absl::StrCat("must be unset for ", StageName(a.stage),
                                  " (it changes no rate to a new value)"));
    }
    absl::Status s = CheckRate("new_rate_pct", e.new_rate_pct());
    if (!s.ok()) return s;
    a.new_rate_pct = e.new_rate_pct();
  } else if (rate_required) {
    return Invalid("new_rate_pct",
                   absl::StrCat("is required for ", StageName(a.stage)));
  }
  if (e.has_previous_rate_pct()) {
    absl::Status s = CheckRate("previous_rate_pct", e.previous_rate_pct());
    if (!s.ok()) return s;
    a.previous_rate_pct = e.previous_rate_pct();
  }

  if (e.has_probability()) {
    const double p = e.probability();
    if (!std::isfinite(p) || p < 0 || p > 1) {
      return Invalid("probability", absl::StrFormat("%g is outside 0..1", p));
    }
    a.probability = p;
  } else {
    a.probability = params.DefaultProbability(a.stage);
  }

  if (e.measure_id().size() > kMaxMeasureIdBytes) {
    return Invalid("measure_id",
                   absl::StrCat(e.measure_id().size(), " bytes, longer than ",
                                kMaxMeasureIdBytes));
  }
  for (char c : e.measure_id()) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return Invalid("measure_id",
                     "may hold only letters, digits, '.', '_' and '-'");
    }
  }
  a.measure_id = e.measure_id();

  if (e.has_announced_time()) {
    absl::Status s = CheckTime("announced_time", e.announced_time());
    if (!s.ok()) return s;
    a.announced_time = TimeFromProto(e.announced_time());
  }
  if (e.has_effective_time()) {
    absl::Status s = CheckTime("effective_time", e.effective_time());
    if (!s.ok()) return s;
    a.effective_time = TimeFromProto(e.effective_time());
  }
  const bool needs_expiry =
      a.stage == Stage::kPaused || a.stage == Stage::kExtended;
  if (e.has_expires_time()) {
    if (!needs_expiry) {
      return Invalid("expires_time",
                     absl::StrCat("applies only to PAUSED and EXTENDED, not ",
                                  StageName(a.stage)));
    }
    absl::Status s = CheckTime("expires_time", e.expires_time());
    if (!s.ok()) return s;
    a.expires_time = TimeFromProto(e.expires_time());
    if (a.effective_time && *a.expires_time <= *a.effective_time) {
      return Invalid("expires_time",
                     absl::StrCat(FormatEventTime(*a.expires_time),
                                  " is not after effective_time ",
                                  FormatEventTime(*a.effective_time),
                                  ": a pause must end after it starts"));
    }
  } else if (needs_expiry) {
    return Invalid("expires_time",
                   absl::StrCat("is required for ", StageName(a.stage),
                                ": when the pause lapses"));
  }
  if (e.has_snap_back_rate_pct()) {
    if (a.stage != Stage::kPaused) {
      return Invalid(
          "snap_back_rate_pct",
          absl::StrCat("applies only to PAUSED, not ", StageName(a.stage)));
    }
    absl::Status s = CheckRate("snap_back_rate_pct", e.snap_back_rate_pct());
    if (!s.ok()) return s;
    a.snap_back_rate_pct = e.snap_back_rate_pct();
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
