#include "server/fanout/alert_filter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/quote.h"
#include "server/common/sectors.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert {

absl::StatusOr<AlertFilter> AlertFilter::FromProto(
    const v1::AlertFilter& proto) {
  AlertFilter f;
  for (int i = 0; i < proto.tickers_size(); ++i) {
    const std::string& t = proto.tickers(i);
    if (t.empty() || t.size() > 24) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.tickers[", i, "]: ", QuoteForError(t),
                       " is not a ticker (1 to 24 characters)"));
    }
    f.tickers_.insert(t);
  }
  for (int i = 0; i < proto.sectors_size(); ++i) {
    if (!IsGicsSector(proto.sectors(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter.sectors[", i, "]: ", QuoteForError(proto.sectors(i)),
          " is not a GICS sector"));
    }
    f.sectors_.insert(proto.sectors(i));
  }
  for (int i = 0; i < proto.countries_size(); ++i) {
    auto c = Country::Parse(proto.countries(i));
    if (!c) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter.countries[", i, "]: ", QuoteForError(proto.countries(i)),
          " is not an ISO 3166-1 alpha-2 code or EU"));
    }
    f.countries_.push_back(*c);
  }
  for (int i = 0; i < proto.subject_kinds_size(); ++i) {
    const int k = proto.subject_kinds(i);
    if (k != v1::SUBJECT_KIND_TICKER && k != v1::SUBJECT_KIND_SECTOR &&
        k != v1::SUBJECT_KIND_PORTFOLIO) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.subject_kinds[", i,
                       "]: must be SUBJECT_KIND_TICKER, SUBJECT_KIND_SECTOR or "
                       "SUBJECT_KIND_PORTFOLIO"));
    }
    f.subject_kinds_.push_back(k);
  }
  if (!std::isfinite(proto.min_abs_score_bps()) ||
      proto.min_abs_score_bps() < 0) {
    return absl::InvalidArgumentError(
        "filter.min_abs_score_bps: must be a finite number >= 0");
  }
  f.min_abs_score_bps_ = proto.min_abs_score_bps();
  if (!v1::Severity_IsValid(proto.min_severity())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter.min_severity: ", proto.min_severity(), " is not a Severity"));
  }
  f.min_severity_ = proto.min_severity();
  return f;
}

absl::Status AlertFilter::CheckLimits(const v1::AlertFilter& proto,
                                      int max_entries) {
  const std::pair<const char*, int> lists[] = {
      {"tickers", proto.tickers_size()},
      {"sectors", proto.sectors_size()},
      {"countries", proto.countries_size()}};
  for (const auto& [name, size] : lists) {
    if (size > max_entries) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.", name, ": ", size, " entries, the limit is ",
                       max_entries, " (--max-filter-entries)"));
    }
  }
  return absl::OkStatus();
}

bool AlertFilter::WantsPortfolio() const {
  return subject_kinds_.empty() ||
         std::find(subject_kinds_.begin(), subject_kinds_.end(),
                   v1::SUBJECT_KIND_PORTFOLIO) != subject_kinds_.end();
}

bool AlertFilter::MatchesCountry(const AlertKeys& k) const {
  for (Country f : countries_) {
    if (InvolvesCountry(f, k.importer, k.company_country, k.targets)) {
      return true;
    }
  }
  return false;
}

bool AlertFilter::Matches(const AlertKeys& k) const {
  if (k.abs_score_bps < min_abs_score_bps_) return false;
  if (k.severity < min_severity_) return false;
  if (!subject_kinds_.empty() &&
      std::find(subject_kinds_.begin(), subject_kinds_.end(), k.subject_kind) ==
          subject_kinds_.end()) {
    return false;
  }
  if (!tickers_.empty() && (k.subject_kind != v1::SUBJECT_KIND_TICKER ||
                            !tickers_.contains(k.subject))) {
    return false;
  }
  if (!sectors_.empty() && !sectors_.contains(k.sector)) return false;
  if (!countries_.empty() && !MatchesCountry(k)) return false;
  if (muter_ != nullptr && muter_->Muted(k)) return false;
  return true;
}

}  // namespace tariffalert
