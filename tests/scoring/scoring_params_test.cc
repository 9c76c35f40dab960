#include "server/scoring/scoring_params.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// A complete, valid config, in parts that a test can replace (text format
// rejects a singular field given twice).
struct Config {
  std::string model_name = R"pb(model_name: "test-model")pb";
  std::string default_sector =
      "default_sector { pass_through: 0.5 export_kappa: 0.4 "
      "protection_gamma: 0.2 }";
  std::string sectors =
      R"pb(sectors {
             sector: "Materials"
             pass_through: 0.7
             export_kappa: 0.6
             protection_gamma: 0.3
           })pb";
  std::string bands =
      "severity_bands { low_bps: 10 medium_bps: 50 high_bps: 200 "
      "critical_bps: 500 }";
  std::string stages =
      "stage_probability { threatened: 0.3 announced: 0.7 effective: 1 "
      "paused: 1 extended: 1 revoked: 1 }";
  std::string import_shares =
      R"pb(import_shares {
             importer: "US"
             partners { partner: "CN" share: 0.2 }
             partners { partner: "MX" share: 0.1 }
             partners { partner: "EU" share: 0.27 }
           })pb";
  std::string min_alert = "min_alert_bps: 1";

  std::string Text() const {
    return absl::StrJoin({model_name, default_sector, sectors, bands, stages,
                          import_shares, min_alert},
                         "\n");
  }
};

ScoringParams MustParse(const std::string& text) {
  auto p = ScoringParams::Parse(text, "test.textproto");
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : ScoringParams::Default();
}

// The error of a config that must be rejected.
std::string ErrorOf(const std::string& text) {
  auto p = ScoringParams::Parse(text, "bad.textproto");
  EXPECT_FALSE(p.ok()) << "accepted:\n" << text;
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

TEST(ScoringParamsTest, BuiltInDefaultParses) {
  auto parsed =
      ScoringParams::Parse(ScoringParams::DefaultText(), "scoring.textproto");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const ScoringParams& d = ScoringParams::Default();
  EXPECT_THAT(d.model_version(), MatchesRegex("first-order-v1\\+[0-9a-f]{8}"));
  EXPECT_EQ(parsed->model_version(), d.model_version());
  EXPECT_EQ(d.DefaultProbability(Stage::kEffective), 1);
}

TEST(ScoringParamsTest, SectorParamsFallBackToTheDefaultSector) {
  const ScoringParams p = MustParse(Config().Text());
  EXPECT_EQ(p.ForSector("Materials").pass_through, 0.7);
  EXPECT_EQ(p.ForSector("Materials").export_kappa, 0.6);
  EXPECT_EQ(p.ForSector("Materials").protection_gamma, 0.3);
  EXPECT_EQ(p.ForSector("Energy").pass_through, 0.5);
  EXPECT_EQ(p.ForSector("Energy").export_kappa, 0.4);
  EXPECT_EQ(p.ForSector("Energy").protection_gamma, 0.2);
  EXPECT_EQ(p.min_alert_bps(), 1);
}

TEST(ScoringParamsTest, StageProbabilitiesAreRead) {
  const ScoringParams p = MustParse(Config().Text());
  EXPECT_EQ(p.DefaultProbability(Stage::kThreatened), 0.3);
  EXPECT_EQ(p.DefaultProbability(Stage::kAnnounced), 0.7);
  EXPECT_EQ(p.DefaultProbability(Stage::kEffective), 1);
  EXPECT_EQ(p.DefaultProbability(Stage::kRevoked), 1);
}

TEST(ScoringParamsTest, ModelVersionChangesWithTheParametersOnly) {
  const ScoringParams a = MustParse(Config().Text());
  // Comments and layout are not parameters.
  const ScoringParams same =
      MustParse(absl::StrCat("# a comment\n\n", Config().Text(), "\n\n"));
  Config changed;
  changed.min_alert = "min_alert_bps: 2";
  const ScoringParams other = MustParse(changed.Text());
  EXPECT_THAT(a.model_version(), MatchesRegex("test-model\\+[0-9a-f]{8}"));
  EXPECT_EQ(same.model_version(), a.model_version());
  EXPECT_NE(other.model_version(), a.model_version());
}

TEST(ScoringParamsTest, SyntaxErrorNamesFileLineAndColumn) {
  // Line 3 has a field that does not exist.
  const std::string message = ErrorOf(
      "model_name: \"m\"\n"
      "default_sector { pass_through: 0.5 }\n"
      "  no_such_field: 1\n");
  EXPECT_THAT(message, MatchesRegex("bad\\.textproto:3:[0-9]+: .*"));
  EXPECT_THAT(message, HasSubstr("no_such_field"));

  EXPECT_THAT(ErrorOf("model_name: \"m\"\ndefault_sector { pass_through: }\n"),
              MatchesRegex("bad\\.textproto:2:[0-9]+: .*"));
}

TEST(ScoringParamsTest, OutOfRangeSectorParametersNameTheField) {
  Config c;
  c.default_sector = "default_sector { pass_through: 1.5 }";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: default_sector.pass_through: 1.5 "
                         "is outside 0..1"));
  c = Config();
  c.sectors += R"pb(sectors { sector: "Energy" export_kappa: -0.1 })pb";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: sectors[1].export_kappa: -0.1 is "
                         "outside 0..1"));
  c = Config();
  c.sectors += R"pb(sectors { sector: "Energy" protection_gamma: nan })pb";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: sectors[1].protection_gamma: nan"));
}

TEST(ScoringParamsTest, SectorsMustBeGicsAndListedOnce) {
  Config c;
  c.sectors += R"pb(sectors { sector: "Tech" })pb";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: sectors[1].sector: 'Tech' is not a "
                         "GICS sector"));
  c = Config();
  c.sectors += R"pb(sectors { sector: "Materials" })pb";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: sectors[1].sector: 'Materials' is "
                         "listed twice"));
}

TEST(ScoringParamsTest, OtherBadValuesNameTheField) {
  Config c;
  c.stages = "stage_probability { threatened: 1.3 }";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: stage_probability.threatened: 1.3"));
  c = Config();
  c.min_alert = "min_alert_bps: -1";
  EXPECT_THAT(ErrorOf(c.Text()), StartsWith("bad.textproto: min_alert_bps:"));
  c = Config();
  c.model_name = "";
  EXPECT_THAT(ErrorOf(c.Text()), StartsWith("bad.textproto: model_name:"));
  c = Config();
  c.default_sector = "";
  EXPECT_THAT(ErrorOf(c.Text()), StartsWith("bad.textproto: default_sector:"));
}

TEST(ScoringParamsTest, SeverityBandsMustIncrease) {
  Config c;
  c.bands =
      "severity_bands { low_bps: 10 medium_bps: 10 high_bps: 200 "
      "critical_bps: 500 }";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: severity_bands.medium_bps: 10"));
  c.bands =
      "severity_bands { low_bps: 10 medium_bps: 50 high_bps: 200 "
      "critical_bps: 150 }";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: severity_bands.critical_bps: 150"));
  c.bands =
      "severity_bands { low_bps: 0 medium_bps: 50 high_bps: 200 "
      "critical_bps: 500 }";
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: severity_bands.low_bps: 0"));
  c.bands = "";  // no bands at all
  EXPECT_THAT(ErrorOf(c.Text()),
              StartsWith("bad.textproto: severity_bands.low_bps: 0"));
}

TEST(ScoringParamsTest, ImportSharesAreChecked) {
  auto with = [](const char* extra) {
    Config c;
    c.import_shares += extra;
    return ErrorOf(c.Text());
  };
  // 0.7 + 0.5 = 1.2 > 1.
  EXPECT_THAT(with(R"pb(import_shares {
                          importer: "JP"
                          partners { partner: "CN" share: 0.7 }
                          partners { partner: "US" share: 0.5 }
                        })pb"),
              StartsWith("bad.textproto: import_shares[1]: partner shares "
                         "sum to 1.2"));
  EXPECT_THAT(with(R"pb(import_shares { importer: "XX" })pb"),
              StartsWith("bad.textproto: import_shares[1].importer: 'XX'"));
  EXPECT_THAT(with(R"pb(import_shares { importer: "jp" })pb"),
              StartsWith("bad.textproto: import_shares[1].importer: 'jp'"));
  EXPECT_THAT(with(R"pb(import_shares { importer: "US" })pb"),
              StartsWith("bad.textproto: import_shares[1].importer: 'US' is "
                         "listed twice"));
  EXPECT_THAT(with(R"pb(import_shares {
                          importer: "EU"
                          partners { partner: "FR" share: 0.1 }
                        })pb"),
              StartsWith("bad.textproto: import_shares[1].partners[0].partner: "
                         "'FR'"));
  EXPECT_THAT(with(R"pb(import_shares {
                          importer: "JP"
                          partners { partner: "CN" share: 1.5 }
                        })pb"),
              StartsWith("bad.textproto: import_shares[1].partners[0].share: "
                         "1.5"));
}

TEST(ScoringParamsTest, SeverityComesFromTheBands) {
  const ScoringParams p = MustParse(Config().Text());  // bands 10, 50, 200, 500
  EXPECT_EQ(p.SeverityOf(0), Severity::kInfo);
  EXPECT_EQ(p.SeverityOf(9.99), Severity::kInfo);
  EXPECT_EQ(p.SeverityOf(10), Severity::kLow);
  EXPECT_EQ(p.SeverityOf(49.9), Severity::kLow);
  EXPECT_EQ(p.SeverityOf(50), Severity::kMedium);
  EXPECT_EQ(p.SeverityOf(199), Severity::kMedium);
  EXPECT_EQ(p.SeverityOf(200), Severity::kHigh);
  EXPECT_EQ(p.SeverityOf(500), Severity::kCritical);
  EXPECT_EQ(p.SeverityOf(1e6), Severity::kCritical);
}

TEST(PartnerWeightTest, ListedPartnersGetTheirShare) {
  const ScoringParams p = MustParse(Config().Text());
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("US"), C("CN")), 0.2);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("US"), C("MX")), 0.1);
}

TEST(PartnerWeightTest, AnEuShareIsSplitOverTheMembers) {
  const ScoringParams p = MustParse(Config().Text());
  // EU 0.27 / 27 members = 0.01 each.
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("US"), C("FR")), 0.01);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("US"), C("DE")), 0.01);
}

TEST(PartnerWeightTest, UnlistedPartnersShareTheRestEvenly) {
  const ScoringParams p = MustParse(Config().Text());
  // 1 - (0.2 + 0.1 + 0.27) = 0.43 left for the partners not listed:
  // 249 assigned codes - US itself - CN - MX - 27 EU members = 219.
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("US"), C("JP")), 0.43 / 219);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("US"), C("GB")), 0.43 / 219);
}

TEST(PartnerWeightTest, WeightsOverAllPartnersOutsideTheBlocSumToOne) {
  const ScoringParams p = MustParse(Config().Text());
  for (const char* importer : {"US", "JP", "DE", "EU"}) {
    const Country i = C(importer);
    double sum = 0;
    for (Country x : AllCountries()) {
      if (!x.SameBloc(i)) sum += p.PartnerWeight(i, x);
    }
    EXPECT_NEAR(sum, 1, 1e-9) << importer;
  }
}

TEST(PartnerWeightTest, NoWeightInsideTheImportersBloc) {
  const ScoringParams p = MustParse(Config().Text());
  EXPECT_EQ(p.PartnerWeight(C("US"), C("US")), 0);
  EXPECT_EQ(p.PartnerWeight(C("EU"), C("FR")), 0);
  EXPECT_EQ(p.PartnerWeight(C("DE"), C("FR")), 0);
}

TEST(PartnerWeightTest, UnknownImporterWeighsEveryPartnerTheSame) {
  const ScoringParams p = MustParse(Config().Text());  // lists only the US
  // JP: 249 - 1 = 248 partners. DE buys as the EU: 249 - 27 = 222.
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("JP"), C("CN")), 1.0 / 248);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("JP"), C("US")), 1.0 / 248);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("DE"), C("CN")), 1.0 / 222);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("EU"), C("CN")), 1.0 / 222);
}

TEST(PartnerWeightTest, EuMembersImportAsTheEu) {
  Config c;
  c.import_shares += R"pb(import_shares {
                            importer: "EU"
                            partners { partner: "US" share: 0.3 }
                          })pb";
  const ScoringParams p = MustParse(c.Text());
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("EU"), C("US")), 0.3);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("DE"), C("US")), 0.3);
  EXPECT_DOUBLE_EQ(p.PartnerWeight(C("FR"), C("US")), 0.3);
}

// Member states import as the EU (PartnerWeight reads the EU's shares), so
// shares for one of them would silently do nothing: they are refused.
TEST(PartnerWeightTest, MemberStateImportSharesAreRefused) {
  Config c;
  c.import_shares += R"pb(import_shares {
                            importer: "DE"
                            partners { partner: "CN" share: 0.5 }
                          })pb";
  auto parsed = ScoringParams::Parse(c.Text(), "bad.textproto");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()),
              StartsWith("bad.textproto: import_shares[1].importer: DE imports "
                         "as part of the EU"));
}

// Without the block every default probability would be 0 and events
// published without a probability would silently score nothing.
TEST(ScoringParamsTest, MissingStageProbabilitiesAreRefused) {
  Config c;
  c.stages = "";
  auto parsed = ScoringParams::Parse(c.Text(), "bad.textproto");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(std::string(parsed.status().message()),
            "bad.textproto: stage_probability: missing");
}

}  // namespace
}  // namespace tariffalert
