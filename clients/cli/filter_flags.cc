#include "clients/cli/filter_flags.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/console/console_rules.h"

namespace tariffalert::cli {

void AlertFilterFlags::Add(CLI::App* c) {
  c->add_option("--tickers", tickers_, "only these tickers")->delimiter(',');
  c->add_option("--sectors", sectors_, "only these GICS sectors")
      ->delimiter(',');
  c->add_option(
       "--countries", countries_,
       "only events involving, or companies listed in, these countries")
      ->delimiter(',');
  c->add_option("--min-score-bps", min_score_bps_, "only |score| >= this");
  c->add_option("--min-severity", min_severity_,
                "info, low, medium, high or critical");
}

absl::StatusOr<v1::AlertFilter> AlertFilterFlags::Resolve() const {
  v1::AlertFilter f;
  for (const auto& t : tickers_) f.add_tickers(t);
  for (const auto& s : sectors_) f.add_sectors(s);
  for (const auto& c : countries_) f.add_countries(c);
  if (min_score_bps_) f.set_min_abs_score_bps(*min_score_bps_);
  if (!min_severity_.empty()) {
    const int s = console::ParseSeverityName(min_severity_);
    if (s == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--min-severity: '", min_severity_,
                       "' is not info, low, medium, high or critical"));
    }
    f.set_min_severity(static_cast<v1::Severity>(s));
  }
  return f;
}

absl::StatusOr<std::vector<v1::Holding>> ParseHoldings(
    const std::vector<std::string>& values) {
  std::vector<v1::Holding> holdings;
  for (const std::string& h : values) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(h, absl::MaxSplits('=', 1));
    double value = 0;
    if (kv.first.empty() || !absl::SimpleAtod(kv.second, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--holdings: '", h, "' is not TICKER=VALUE (e.g. AAPL=1000000)"));
    }
    v1::Holding holding;
    holding.set_ticker(kv.first);
    holding.set_position_value(value);
    holdings.push_back(std::move(holding));
  }
  return holdings;
}

}  // namespace tariffalert::cli
