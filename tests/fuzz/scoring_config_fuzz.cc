// Fuzzes the scoring configuration (server/scoring/scoring_params.h): a
// text-format ScoringConfig as `tariff-alertd --scoring-config` reads it,
// parsed and validated by ScoringParams::Parse; an accepted config is then
// asked what the scorer asks of it.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "server/common/country.h"
#include "server/scoring/scoring_params.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  using tariffalert::Country;
  auto params = tariffalert::ScoringParams::Parse(
      absl::string_view(reinterpret_cast<const char*>(data), size),
      "scoring.textproto");
  if (!params.ok()) return 0;
  const tariffalert::ScoringParams& p = *params;
  TA_FUZZ_CHECK(!p.model_version().empty(), "a config has a model version");
  for (double bps : {0.0, 1.0, 50.0, 1e9}) (void)p.SeverityOf(bps);
  for (int s = 0; s < 6; ++s) {
    const double q = p.DefaultProbability(static_cast<tariffalert::Stage>(s));
    TA_FUZZ_CHECK(q >= 0 && q <= 1, "stage probabilities are in 0..1");
  }
  (void)p.ForSector("Information Technology");
  const Country importers[] = {*Country::Parse("US"), Country::Eu(),
                               *Country::Parse("DE"), *Country::Parse("CN")};
  const Country partners[] = {*Country::Parse("CN"), *Country::Parse("MX"),
                              Country::Eu(), *Country::Parse("FR")};
  for (Country importer : importers) {
    for (Country partner : partners) {
      const double w = p.PartnerWeight(importer, partner);
      TA_FUZZ_CHECK(std::isfinite(w) && w >= -1e-9 && w <= 1 + 1e-9,
                    "a partner's weight is a share");
    }
  }
  return 0;
}
