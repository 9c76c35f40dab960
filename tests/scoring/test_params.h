#ifndef TARIFF_ALERT_TESTS_SCORING_TEST_PARAMS_H_
#define TARIFF_ALERT_TESTS_SCORING_TEST_PARAMS_H_

// The model's parameters for the scoring tests, independent of the shipped
// default: one default sector (phi 0.5, kappa 0.4, gamma 0.2) and US import
// shares CN 0.2, MX 0.1 (the rest of the world shares 0.7).

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "server/scoring/scoring_params.h"

namespace tariffalert::testing {

inline constexpr char kTestParamsText[] = R"pb(
  model_name: "scoring-test"
  default_sector { pass_through: 0.5 export_kappa: 0.4 protection_gamma: 0.2 }
  severity_bands { low_bps: 10 medium_bps: 50 high_bps: 200 critical_bps: 500 }
  stage_probability {
    threatened: 0.3
    announced: 0.7
    effective: 1
    paused: 1
    extended: 1
    revoked: 1
  }
  import_shares {
    importer: "US"
    partners { partner: "CN" share: 0.2 }
    partners { partner: "MX" share: 0.1 }
  }
)pb";

// Those parameters plus `extra` (more ScoringConfig fields in text form).
inline ScoringParams TestScoringParams(absl::string_view extra) {
  auto p = ScoringParams::Parse(absl::StrCat(kTestParamsText, extra),
                                "test_params.textproto");
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    return ScoringParams::Default();
  }
  return *std::move(p);
}

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_SCORING_TEST_PARAMS_H_
