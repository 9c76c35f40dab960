#ifndef TARIFF_ALERT_SERVER_SCORING_SCORING_PARAMS_H_
#define TARIFF_ALERT_SERVER_SCORING_SCORING_PARAMS_H_

// The scoring model's parameters, parsed and validated from a text-format
// ScoringConfig (config/scoring.textproto is the documented default and is
// built into the binary). Immutable once built.

#include <array>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/common/country.h"
#include "server/tariff_book/tariff_action.h"

namespace tariffalert {

enum class Severity { kInfo = 1, kLow, kMedium, kHigh, kCritical };
const char* SeverityName(Severity s);

struct SectorParams {
  double pass_through = 0.5;      // phi
  double export_kappa = 0.5;      // kappa
  double protection_gamma = 0.1;  // gamma
};

class ScoringParams {
 public:
  // Parses a text-format ScoringConfig; errors name `file_name`:line or the
  // offending field.
  static absl::StatusOr<ScoringParams> Parse(absl::string_view text,
                                             absl::string_view file_name);
  // The built-in default (config/scoring.textproto).
  static const ScoringParams& Default();
  static absl::string_view DefaultText();

  // "<model_name>+<8 hex digits of the parameters' fingerprint>": alerts made
  // with different parameters never share a model_version.
  const std::string& model_version() const { return model_version_; }
  const SectorParams& ForSector(absl::string_view sector) const;
  Severity SeverityOf(double abs_bps) const;
  // |score_bps| thresholds of LOW, MEDIUM, HIGH, CRITICAL.
  const std::array<double, 4>& severity_bands() const { return bands_; }
  double DefaultProbability(Stage stage) const {
    return stage_probability_[static_cast<size_t>(stage)];
  }
  // partner's share of importer's goods imports; shares over all partners
  // outside the importer's bloc sum to 1.
  double PartnerWeight(Country importer, Country partner) const;
  double min_alert_bps() const { return min_alert_bps_; }
  double spillover_beta() const { return spillover_beta_; }
  double valuation_elasticity() const { return valuation_elasticity_; }

 private:
  std::string model_version_;
  SectorParams default_sector_;
  absl::flat_hash_map<std::string, SectorParams> sectors_;
  std::array<double, 4> bands_{};  // low, medium, high, critical
  std::array<double, 6> stage_probability_{};
  struct ImporterWeights {
    absl::flat_hash_map<Country, double> listed;  // EU expanded to members
    double unlisted_each = 0;
  };
  absl::flat_hash_map<Country, ImporterWeights> import_shares_;
  double min_alert_bps_ = 1;
  double spillover_beta_ = 0;
  double valuation_elasticity_ = 1;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SCORING_SCORING_PARAMS_H_
