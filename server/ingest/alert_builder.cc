#include "server/ingest/alert_builder.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/tariff_book/book_codec.h"

namespace tariffalert {
namespace {

v1::Channel ToProto(ScoreChannel c) {
  switch (c) {
    case ScoreChannel::kImportCost:
      return v1::CHANNEL_IMPORT_COST;
    case ScoreChannel::kExport:
      return v1::CHANNEL_EXPORT;
    case ScoreChannel::kProtection:
      return v1::CHANNEL_PROTECTION;
    case ScoreChannel::kSpillover:
      return v1::CHANNEL_SPILLOVER;
  }
  return v1::CHANNEL_UNSPECIFIED;
}

// The parameters a score used, sorted by name.
void AddParameters(const std::string& sector, const AlertContext& context,
                   const ScoringParams& params, v1::Alert& alert) {
  const SectorParams& sp = params.ForSector(sector);
  const auto& bands = params.severity_bands();
  const std::pair<const char*, double> values[] = {
      {"export_kappa", sp.export_kappa},
      {"min_alert_bps", params.min_alert_bps()},
      {"pass_through", sp.pass_through},
      {"probability", context.probability},
      {"protection_gamma", sp.protection_gamma},
      {"severity_critical_bps", bands[3]},
      {"severity_high_bps", bands[2]},
      {"severity_low_bps", bands[0]},
      {"severity_medium_bps", bands[1]},
      {"spillover_beta", params.spillover_beta()},
  };
  for (const auto& [name, value] : values) {
    v1::ModelParameter* p = alert.add_parameters();
    p->set_name(name);
    p->set_value(value);
  }
}

}  // namespace

void BuildAlert(const SubjectScore& s, const TariffAction& action,
                const v1::TariffEvent& event, const AlertContext& context,
                const ScoringParams& params, v1::Alert& alert) {
  alert.Clear();
  alert.set_event_id(action.event_id);
  const bool ticker = s.kind == ScoreSubjectKind::kTicker;
  alert.set_subject_kind(ticker ? v1::SUBJECT_KIND_TICKER
                                : v1::SUBJECT_KIND_SECTOR);
  alert.set_alert_id(
      absl::StrCat(action.event_id, ticker ? "/T/" : "/S/", s.subject));
  alert.set_subject(s.subject);
  alert.set_name(s.name);
  alert.set_sector(s.sector);
  alert.set_country(s.country);
  alert.set_score_bps(s.score_bps);
  alert.set_severity(static_cast<v1::Severity>(static_cast<int>(s.severity)));
  alert.set_operating_profit_change_pct(s.operating_profit_change_pct);
  for (const Contribution& k : s.contributions) {
    v1::Contribution* c = alert.add_contributions();
    c->set_channel(ToProto(k.channel));
    c->set_country(k.country);
    c->set_product_code(k.product.ToString());
    c->set_delta_pct(k.delta_pct);
    c->set_exposure_share(k.exposure_share);
    c->set_revenue_share(k.revenue_share);
    c->set_market_factor(k.market_factor);
    c->set_cogs_ratio(k.cogs_ratio);
    c->set_sector_factor(k.sector_factor);
    c->set_partner_weight(k.partner_weight);
    c->set_probability(k.probability);
    c->set_bps(k.bps);
    if (k.channel == ScoreChannel::kSpillover) {
      c->set_customer(k.customer);
      c->set_customer_score_bps(k.customer_score_bps);
    }
  }
  alert.set_explanation(s.explanation);
  alert.set_exposure_version(context.exposure_version);
  alert.set_book_revision(context.book_revision);
  alert.set_model_version(params.model_version());
  TimeToProto(context.created, alert.mutable_created_time());
  // The event as the book read it: a measure's own scope for the stages that
  // act on a measure as it stands.
  alert.set_imposing_country(action.importer.ToString());
  for (Country t : action.targets) alert.add_target_countries(t.ToString());
  for (HsCode p : action.products) alert.add_product_codes(p.ToString());
  alert.set_stage(StageToProto(action.stage));
  alert.set_headline(event.headline());
  AddParameters(s.sector, context, params, alert);
  alert.set_measure_id(action.measure_id);
}

v1::TariffEvent SnapBackEvent(const TariffAction& a) {
  v1::TariffEvent e;
  e.set_event_id(a.event_id);
  e.set_imposing_country(a.importer.ToString());
  std::vector<std::string> targets;
  for (Country t : a.targets) {
    e.add_target_countries(t.ToString());
    targets.push_back(t.ToString());
  }
  for (HsCode p : a.products) e.add_product_codes(p.ToString());
  for (HsCode p : a.excluded) e.add_excluded_product_codes(p.ToString());
  for (Country c : a.excluded_targets) {
    e.add_excluded_target_countries(c.ToString());
  }
  e.set_new_rate_pct(*a.new_rate_pct);
  if (a.previous_rate_pct) e.set_previous_rate_pct(*a.previous_rate_pct);
  e.set_measure_id(a.measure_id);
  e.set_stage(v1::STAGE_EFFECTIVE);
  e.set_probability(1);
  if (a.effective_time) {
    TimeToProto(*a.effective_time, e.mutable_effective_time());
  }
  e.set_headline(absl::StrFormat(
      "Pause on %s lapsed: %s tariff on %s goods returns to %g%%", a.measure_id,
      a.importer.ToString(),
      targets.empty() ? "all partners'" : absl::StrJoin(targets, ", "),
      *a.new_rate_pct));
  return e;
}

}  // namespace tariffalert
