#include "server/fanout/portfolio_alert.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace tariffalert {

std::string PortfolioAlertId(absl::string_view event_id) {
  return absl::StrCat(event_id, "/P/portfolio");
}

LoggedEvent::LoggedEvent(absl::Span<const EncodedAlertPtr> alerts) {
  if (alerts.empty()) return;
  last_sequence_ = alerts.back()->sequence;
  scores_.Reserve(alerts.size());
  for (const EncodedAlertPtr& a : alerts) {
    const AlertKeys& k = a->keys;
    if (k.subject_kind != v1::SUBJECT_KIND_TICKER) continue;
    scores_.Add(k.subject, TickerScore{k.name, k.score_bps,
                                       k.operating_profit_change_pct});
  }
  auto last = DecodeAlert(*alerts.back());
  if (!last.ok()) {
    // EncodeAlert wrote these bytes: they always parse.
    TA_LOG(ERROR) << last.status();
    std::abort();
  }
  v1::Alert& e = event_fields_;
  e.set_event_id(last->event_id());
  e.set_exposure_version(last->exposure_version());
  e.set_book_revision(last->book_revision());
  e.set_model_version(last->model_version());
  *e.mutable_created_time() = last->created_time();
  e.set_imposing_country(last->imposing_country());
  *e.mutable_target_countries() = last->target_countries();
  *e.mutable_product_codes() = last->product_codes();
  e.set_stage(last->stage());
  e.set_headline(last->headline());
  e.set_measure_id(last->measure_id());
}

PortfolioWatch::PortfolioWatch(std::vector<Holding> holdings,
                               PortfolioContext context)
    : holdings_(std::move(holdings)),
      context_(std::move(context)),
      params_(context_.params != nullptr ? *context_.params
                                         : ScoringParams::Default()) {}

v1::PortfolioImpact PortfolioWatch::ImpactOf(const LoggedEvent& event) const {
  std::shared_ptr<const ExposureTable> table;
  if (context_.exposure) table = context_.exposure();
  auto in_table = [&table](absl::string_view ticker) {
    return table == nullptr || table->Find(ticker) != nullptr;
  };
  return ComputePortfolioImpact(holdings_, event.scores(), in_table,
                                params_.valuation_elasticity());
}

EncodedAlertPtr PortfolioWatch::AlertFor(const LoggedEvent& event) const {
  v1::Alert alert = event.event_fields();
  alert.set_sequence(event.last_sequence());
  alert.set_alert_id(PortfolioAlertId(alert.event_id()));
  alert.set_subject_kind(v1::SUBJECT_KIND_PORTFOLIO);
  alert.set_subject("portfolio");
  alert.set_name("Portfolio");
  *alert.mutable_portfolio() = ImpactOf(event);
  const double bps = alert.portfolio().impact_bps();
  alert.set_score_bps(bps);
  alert.set_severity(static_cast<v1::Severity>(
      static_cast<int>(params_.SeverityOf(std::abs(bps)))));
  alert.set_explanation(DescribePortfolio(alert.portfolio(), alert.event_id()));
  v1::ModelParameter* e = alert.add_parameters();
  e->set_name("valuation_elasticity");
  e->set_value(params_.valuation_elasticity());
  return EncodeAlert(alert);
}

}  // namespace tariffalert
