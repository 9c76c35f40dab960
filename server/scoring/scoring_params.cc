#include "server/scoring/scoring_params.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "server/common/hash.h"
#include "server/common/sectors.h"
#include "server/common/text_proto.h"
#include "tariffalert/config/v1/scoring_config.pb.h"

namespace tariffalert {

// config/scoring.textproto, embedded at build time
// (default_scoring_config.cc.in).
extern const char kDefaultScoringConfig[];

namespace {

namespace cfg = ::tariffalert::config::v1;

absl::Status CheckUnit(absl::string_view file, absl::string_view field,
                       double v) {
  if (!std::isfinite(v) || v < 0 || v > 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s: %g is outside 0..1", file, field, v));
  }
  return absl::OkStatus();
}

absl::Status CheckSector(absl::string_view file, absl::string_view field,
                         const cfg::SectorParams& p) {
  for (auto [name, v] :
       {std::pair<const char*, double>{"pass_through", p.pass_through()},
        {"export_kappa", p.export_kappa()},
        {"protection_gamma", p.protection_gamma()}}) {
    absl::Status s = CheckUnit(file, absl::StrCat(field, ".", name), v);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "INFO";
    case Severity::kLow:
      return "LOW";
    case Severity::kMedium:
      return "MEDIUM";
    case Severity::kHigh:
      return "HIGH";
    case Severity::kCritical:
      return "CRITICAL";
  }
  return "?";
}

absl::StatusOr<ScoringParams> ScoringParams::Parse(absl::string_view text,
                                                   absl::string_view file) {
  cfg::ScoringConfig config;
  if (absl::Status s = ParseTextProto(text, file, &config); !s.ok()) return s;
  ScoringParams p;
  if (config.model_name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": model_name: empty"));
  }
  if (!config.has_default_sector()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": default_sector: missing"));
  }
  absl::Status s = CheckSector(file, "default_sector", config.default_sector());
  if (!s.ok()) return s;
  p.default_sector_ = {config.default_sector().pass_through(),
                       config.default_sector().export_kappa(),
                       config.default_sector().protection_gamma()};
  for (int i = 0; i < config.sectors_size(); ++i) {
    const cfg::SectorParams& sp = config.sectors(i);
    const std::string field = absl::StrCat("sectors[", i, "]");
    if (!IsGicsSector(sp.sector())) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", field,
                                                     ".sector: '", sp.sector(),
                                                     "' is not a GICS sector"));
    }
    s = CheckSector(file, field, sp);
    if (!s.ok()) return s;
    if (!p.sectors_
             .emplace(sp.sector(),
                      SectorParams{sp.pass_through(), sp.export_kappa(),
                                   sp.protection_gamma()})
             .second) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ": ", field, ".sector: '", sp.sector(), "' is listed twice"));
    }
  }
  const cfg::SeverityBands& b = config.severity_bands();
  p.bands_ = {b.low_bps(), b.medium_bps(), b.high_bps(), b.critical_bps()};
  const char* band_names[] = {"low_bps", "medium_bps", "high_bps",
                              "critical_bps"};
  for (size_t i = 0; i < 4; ++i) {
    if (!std::isfinite(p.bands_[i]) || p.bands_[i] <= 0 ||
        (i > 0 && p.bands_[i] <= p.bands_[i - 1])) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: severity_bands.%s: %g must be positive and above the band below",
          file, band_names[i], p.bands_[i]));
    }
  }
  if (!config.has_stage_probability()) {
    // Without it every default probability would be 0 and events would
    // silently score nothing.
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": stage_probability: missing"));
  }
  const cfg::StageProbabilities& sp = config.stage_probability();
  p.stage_probability_ = {sp.threatened(), sp.announced(), sp.effective(),
                          sp.paused(),     sp.extended(),  sp.revoked()};
  const char* stage_names[] = {"threatened", "announced", "effective",
                               "paused",     "extended",  "revoked"};
  for (size_t i = 0; i < 6; ++i) {
    s = CheckUnit(file, absl::StrCat("stage_probability.", stage_names[i]),
                  p.stage_probability_[i]);
    if (!s.ok()) return s;
  }
  for (int i = 0; i < config.import_shares_size(); ++i) {
    const cfg::ImporterShares& is = config.import_shares(i);
    const std::string field = absl::StrCat("import_shares[", i, "]");
    auto importer = Country::Parse(is.importer());
    if (!importer) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", field, ".importer: '", is.importer(),
                       "' is not a country"));
    }
    if (importer->IsEuMember()) {
      // Member states import as one customs union: PartnerWeight reads "EU".
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", field, ".importer: ", is.importer(),
                       " imports as part of the EU; give the shares for EU"));
    }
    ImporterWeights w;
    double sum = 0;
    for (int j = 0; j < is.partners_size(); ++j) {
      const cfg::PartnerShare& ps = is.partners(j);
      const std::string pf = absl::StrCat(field, ".partners[", j, "]");
      auto partner = Country::Parse(ps.partner());
      if (!partner || partner->SameBloc(*importer)) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ": ", pf, ".partner: '", ps.partner(),
                         "' is not a country outside the importer's bloc"));
      }
      s = CheckUnit(file, absl::StrCat(pf, ".share"), ps.share());
      if (!s.ok()) return s;
      sum += ps.share();
      if (partner->is_eu()) {
        for (Country m : EuMembers()) {
          w.listed[m] += ps.share() / kEuMemberCount;
        }
      } else {
        w.listed[*partner] += ps.share();
      }
    }
    if (sum > 1 + 1e-9) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: %s: partner shares sum to %g (at most 1)", file, field, sum));
    }
    size_t unlisted = 0;
    for (Country c : AllCountries()) {
      if (!c.SameBloc(*importer) && !w.listed.contains(c)) ++unlisted;
    }
    w.unlisted_each =
        unlisted > 0 ? (1 - sum) / static_cast<double>(unlisted) : 0;
    if (!p.import_shares_.emplace(*importer, std::move(w)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", field, ".importer: '", is.importer(),
                       "' is listed twice"));
    }
  }
  p.min_alert_bps_ = config.min_alert_bps();
  if (!std::isfinite(p.min_alert_bps_) || p.min_alert_bps_ < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": min_alert_bps: must be >= 0"));
  }
  p.spillover_beta_ = config.spillover_beta();
  if (!std::isfinite(p.spillover_beta_) || p.spillover_beta_ < 0 ||
      p.spillover_beta_ > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": spillover_beta: must be in 0..1"));
  }
  p.valuation_elasticity_ = config.valuation_elasticity() == 0
                               ? 1
                               : config.valuation_elasticity();
  if (!std::isfinite(p.valuation_elasticity_) || p.valuation_elasticity_ < 0 ||
      p.valuation_elasticity_ > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": valuation_elasticity: must be in (0, 2] (1 = a constant "
              "valuation multiple)"));
  }
  std::string canonical;
  google::protobuf::TextFormat::PrintToString(config, &canonical);
  p.model_version_ =
      absl::StrFormat("%s+%08x", config.model_name(),
                      static_cast<uint32_t>(Fnv1a64(canonical) & 0xffffffffu));
  return p;
}

absl::string_view ScoringParams::DefaultText() { return kDefaultScoringConfig; }

const ScoringParams& ScoringParams::Default() {
  static const ScoringParams* params = [] {
    auto parsed = Parse(DefaultText(), "config/scoring.textproto");
    if (!parsed.ok()) {
      // The default is checked by a unit test; reaching here is a build defect.
      std::fprintf(stderr, "built-in scoring config is invalid: %s\n",
                   parsed.status().ToString().c_str());
      std::abort();
    }
    return new ScoringParams(*std::move(parsed));
  }();
  return *params;
}

const SectorParams& ScoringParams::ForSector(absl::string_view sector) const {
  auto it = sectors_.find(sector);
  return it == sectors_.end() ? default_sector_ : it->second;
}

Severity ScoringParams::SeverityOf(double abs_bps) const {
  if (abs_bps >= bands_[3]) return Severity::kCritical;
  if (abs_bps >= bands_[2]) return Severity::kHigh;
  if (abs_bps >= bands_[1]) return Severity::kMedium;
  if (abs_bps >= bands_[0]) return Severity::kLow;
  return Severity::kInfo;
}

double ScoringParams::PartnerWeight(Country importer, Country partner) const {
  if (partner.SameBloc(importer)) return 0;
  // An EU member imports as the EU.
  const Country key = importer.IsEuMember() ? Country::Eu() : importer;
  auto it = import_shares_.find(key);
  if (it == import_shares_.end()) {
    // Nothing known: every partner outside the bloc weighs the same.
    static const size_t kAll = AllCountries().size();
    const size_t bloc = (key.is_eu()) ? kEuMemberCount : 1;
    return 1.0 / static_cast<double>(kAll - bloc);
  }
  auto w = it->second.listed.find(partner);
  return w == it->second.listed.end() ? it->second.unlisted_each : w->second;
}

}  // namespace tariffalert
