#ifndef TARIFF_ALERT_SERVER_FANOUT_ALERT_FILTER_H_
#define TARIFF_ALERT_SERVER_FANOUT_ALERT_FILTER_H_

// A subscriber's AlertFilter, validated and compiled for matching on the
// fan-out path. Semantics are those documented on tariffalert.v1.AlertFilter.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "server/common/country.h"
#include "server/fanout/encoded_alert.h"

namespace tariffalert::v1 {
class AlertFilter;
}  // namespace tariffalert::v1

namespace tariffalert {

// Says whether an alert is hidden by a console silence at this moment
// (AlertFilter.respect_silences); the console state implements it.
class AlertMuter {
 public:
  virtual ~AlertMuter() = default;
  virtual bool Muted(const AlertKeys& keys) const = 0;
};

class AlertFilter {
 public:
  // Matches everything.
  AlertFilter() = default;
  // INVALID_ARGUMENT naming the field ("filter.countries[1]: ...") on bad
  // input.
  static absl::StatusOr<AlertFilter> FromProto(const v1::AlertFilter& proto);
  // INVALID_ARGUMENT naming the list when tickers, sectors or countries hold
  // more than `max_entries` entries each ("filter.tickers: 100000 entries,
  // the limit is 5000 (--max-filter-entries)"). The service checks this
  // before compiling the filter, so an oversized one costs nothing.
  static absl::Status CheckLimits(const v1::AlertFilter& proto,
                                  int max_entries);

  // With a muter, alerts it mutes do not match (respect_silences).
  void set_muter(std::shared_ptr<const AlertMuter> muter) {
    muter_ = std::move(muter);
  }

  bool Matches(const AlertKeys& keys) const;
  // Portfolio alerts pass no other criterion: a subscriber that watches one
  // ticker still gets its portfolio line. Only subject_kinds, when set
  // without SUBJECT_KIND_PORTFOLIO, turns them off.
  bool WantsPortfolio() const;

 private:
  bool MatchesCountry(const AlertKeys& keys) const;

  absl::flat_hash_set<std::string> tickers_;
  absl::flat_hash_set<std::string> sectors_;
  std::vector<Country> countries_;
  std::vector<int> subject_kinds_;
  double min_abs_score_bps_ = 0;
  int min_severity_ = 0;
  std::shared_ptr<const AlertMuter> muter_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_ALERT_FILTER_H_
