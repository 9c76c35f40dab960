#include "server/ingest/event_validator.h"

#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_event.pb.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;

using ::testing::ElementsAre;
using ::testing::StartsWith;

// Stage defaults distinct from the shipped ones, so that a test can tell the
// validator took them from these params.
constexpr char kParamsText[] = R"pb(
  model_name: "validator-test"
  default_sector { pass_through: 0.5 export_kappa: 0.5 protection_gamma: 0.1 }
  severity_bands { low_bps: 10 medium_bps: 50 high_bps: 200 critical_bps: 500 }
  stage_probability {
    threatened: 0.25
    announced: 0.6
    effective: 1
    paused: 0.95
    extended: 0.9
    revoked: 0.85
  }
)pb";

const ScoringParams& Params() {
  static const ScoringParams* params = []() -> const ScoringParams* {
    auto p = ScoringParams::Parse(kParamsText, "validator_test.textproto");
    if (!p.ok()) {
      ADD_FAILURE() << p.status();
      return &ScoringParams::Default();
    }
    return new ScoringParams(*std::move(p));
  }();
  return *params;
}

// "The US raises the tariff on Chinese cars and computers from 30% to 145%."
v1::TariffEvent ValidEvent() {
  v1::TariffEvent e;
  e.set_event_id("us-cn-2025-04-09.1");
  e.set_imposing_country("US");
  e.add_target_countries("CN");
  e.add_product_codes("87");
  e.add_product_codes("8471");
  e.set_new_rate_pct(145);
  e.set_previous_rate_pct(30);
  e.set_measure_id("us-cn.reciprocal_2025");
  e.set_stage(v1::STAGE_EFFECTIVE);
  e.mutable_announced_time()->set_seconds(1744156800);
  e.mutable_effective_time()->set_seconds(1744243200);
  e.set_headline("US raises tariff on Chinese goods to 145%");
  e.set_source_url("https://www.whitehouse.gov/presidential-actions/");
  return e;
}

// "The measure is paused at 10% until 2025-07-09."
v1::TariffEvent PausedEvent() {
  v1::TariffEvent e = ValidEvent();
  e.set_stage(v1::STAGE_PAUSED);
  e.set_new_rate_pct(10);
  e.clear_previous_rate_pct();
  e.mutable_expires_time()->set_seconds(1752019200);
  return e;
}

void SetTargets(v1::TariffEvent& e, std::initializer_list<const char*> ts) {
  e.clear_target_countries();
  for (const char* t : ts) e.add_target_countries(t);
}

void SetProducts(v1::TariffEvent& e, std::initializer_list<const char*> ps) {
  e.clear_product_codes();
  for (const char* p : ps) e.add_product_codes(p);
}

TEST(ValidateEventTest, ValidEventMapsItsFields) {
  auto a = ValidateEvent(ValidEvent(), Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->event_id, "us-cn-2025-04-09.1");
  EXPECT_EQ(a->importer, C("US"));
  EXPECT_THAT(a->targets, ElementsAre(C("CN")));
  EXPECT_THAT(a->products, ElementsAre(H("87"), H("8471")));
  EXPECT_EQ(a->stage, Stage::kEffective);
  EXPECT_EQ(a->new_rate_pct, 145);
  EXPECT_EQ(a->previous_rate_pct, 30);
  EXPECT_EQ(a->measure_id, "us-cn.reciprocal_2025");
  EXPECT_EQ(a->probability, 1);  // EFFECTIVE's default
  EXPECT_FALSE(a->all_partners());
  EXPECT_FALSE(a->all_goods());
}

TEST(ValidateEventTest, EmptyListsMeanAllPartnersAndAllGoods) {
  v1::TariffEvent e = ValidEvent();
  e.clear_target_countries();
  e.clear_product_codes();
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->all_partners());
  EXPECT_TRUE(a->all_goods());
}

TEST(ValidateEventTest, EuAndSeveralMemberStatesAreValidTargets) {
  v1::TariffEvent e = ValidEvent();
  e.clear_target_countries();
  e.add_target_countries("EU");
  e.add_target_countries("CN");
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->targets, ElementsAre(Country::Eu(), C("CN")));

  // Two member states are distinct targets; so are EU-imposed tariffs on
  // outsiders.
  e.clear_target_countries();
  e.add_target_countries("FR");
  e.add_target_countries("DE");
  ASSERT_TRUE(ValidateEvent(e, Params()).ok());
  e.set_imposing_country("EU");
  e.clear_target_countries();
  e.add_target_countries("US");
  e.add_target_countries("GB");
  ASSERT_TRUE(ValidateEvent(e, Params()).ok());
}

TEST(ValidateEventTest, ProbabilityDefaultsByStageFromTheParams) {
  struct Case {
    v1::Stage stage;
    bool has_rate;
    double probability;
  };
  for (const Case& c :
       {Case{v1::STAGE_THREATENED, true, 0.25},
        Case{v1::STAGE_ANNOUNCED, true, 0.6},
        Case{v1::STAGE_EFFECTIVE, true, 1}, Case{v1::STAGE_PAUSED, true, 0.95},
        Case{v1::STAGE_EXTENDED, false, 0.9},
        Case{v1::STAGE_REVOKED, false, 0.85}}) {
    v1::TariffEvent e = ValidEvent();
    e.set_stage(c.stage);
    if (!c.has_rate) e.clear_new_rate_pct();
    if (c.stage == v1::STAGE_PAUSED || c.stage == v1::STAGE_EXTENDED) {
      e.mutable_expires_time()->set_seconds(1752019200);
    }
    auto a = ValidateEvent(e, Params());
    ASSERT_TRUE(a.ok()) << v1::Stage_Name(c.stage) << ": " << a.status();
    EXPECT_EQ(a->probability, c.probability) << v1::Stage_Name(c.stage);
  }
}

TEST(ValidateEventTest, StagesMapOneToOne) {
  v1::TariffEvent e = ValidEvent();
  e.set_stage(v1::STAGE_THREATENED);
  EXPECT_EQ(ValidateEvent(e, Params())->stage, Stage::kThreatened);
  e.set_stage(v1::STAGE_ANNOUNCED);
  EXPECT_EQ(ValidateEvent(e, Params())->stage, Stage::kAnnounced);
  e.set_stage(v1::STAGE_PAUSED);
  e.mutable_expires_time()->set_seconds(1752019200);
  EXPECT_EQ(ValidateEvent(e, Params())->stage, Stage::kPaused);
  e.clear_new_rate_pct();
  e.set_stage(v1::STAGE_EXTENDED);
  auto extended = ValidateEvent(e, Params());
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->stage, Stage::kExtended);
  EXPECT_FALSE(extended->new_rate_pct.has_value());
  e.clear_expires_time();
  e.set_stage(v1::STAGE_REVOKED);
  EXPECT_EQ(ValidateEvent(e, Params())->stage, Stage::kRevoked);
}

TEST(ValidateEventTest, ExplicitProbabilityWins) {
  v1::TariffEvent e = ValidEvent();
  e.set_stage(v1::STAGE_THREATENED);
  e.set_probability(0.9);
  EXPECT_EQ(ValidateEvent(e, Params())->probability, 0.9);
  // Both ends of 0..1 are allowed.
  e.set_probability(0);
  EXPECT_EQ(ValidateEvent(e, Params())->probability, 0);
  e.set_probability(1);
  EXPECT_EQ(ValidateEvent(e, Params())->probability, 1);
}

TEST(ValidateEventTest, LimitsAreInclusive) {
  v1::TariffEvent e = ValidEvent();
  e.set_event_id(std::string(128, 'e'));
  e.set_measure_id(std::string(64, 'm'));
  e.set_headline(std::string(512, 'h'));
  e.set_new_rate_pct(1000);
  e.set_previous_rate_pct(0);
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->new_rate_pct, 1000);
}

TEST(ValidateEventTest, APauseMapsItsExpiryAndSnapBackRate) {
  v1::TariffEvent e = PausedEvent();
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->expires_time, absl::FromUnixSeconds(1752019200));
  EXPECT_FALSE(a->snap_back_rate_pct.has_value());  // the rate before
  e.set_snap_back_rate_pct(34);
  a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->snap_back_rate_pct, 34);
  // A snap-back to no tariff at all.
  e.set_snap_back_rate_pct(0);
  a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->snap_back_rate_pct, 0);
}

TEST(ValidateEventTest, AnExtensionMapsItsExpiry) {
  v1::TariffEvent e = PausedEvent();
  e.set_stage(v1::STAGE_EXTENDED);
  e.clear_new_rate_pct();
  e.mutable_expires_time()->set_seconds(1759795200);
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->expires_time, absl::FromUnixSeconds(1759795200));
}

TEST(ValidateEventTest, ExpiryWithoutEffectiveTimeIsFine) {
  v1::TariffEvent e = PausedEvent();
  e.clear_effective_time();
  EXPECT_TRUE(ValidateEvent(e, Params()).ok());
}

TEST(ValidateEventTest, OtherStagesHaveNoExpiry) {
  auto a = ValidateEvent(ValidEvent(), Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->expires_time.has_value());
  EXPECT_FALSE(a->snap_back_rate_pct.has_value());
}

TEST(ValidateEventTest, ExcludedProductCodesMapInsideTheScope) {
  v1::TariffEvent e = ValidEvent();
  SetProducts(e, {"87", "84"});
  e.add_excluded_product_codes("8703");
  e.add_excluded_product_codes("8471");
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->excluded, ElementsAre(H("8703"), H("8471")));

  // With all goods any chapter or heading may be left out: the 2025
  // reciprocal tariffs spared steel, aluminium and cars.
  e.clear_product_codes();
  e.clear_excluded_product_codes();
  for (const char* p : {"72", "73", "76", "87"}) {
    e.add_excluded_product_codes(p);
  }
  a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->excluded, ElementsAre(H("72"), H("73"), H("76"), H("87")));
}

TEST(ValidateEventTest, ExcludedTargetCountriesMapForAllPartners) {
  v1::TariffEvent e = ValidEvent();
  e.clear_target_countries();
  e.add_excluded_target_countries("CA");
  e.add_excluded_target_countries("MX");
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->all_partners());
  EXPECT_THAT(a->excluded_targets, ElementsAre(C("CA"), C("MX")));
  EXPECT_FALSE(a->TargetsCountry(C("CA")));
  EXPECT_FALSE(a->TargetsCountry(C("MX")));
  EXPECT_TRUE(a->TargetsCountry(C("CN")));
  EXPECT_FALSE(a->TargetsCountry(C("US")));  // the importer's own goods
}

struct BadCase {
  const char* name;
  std::function<void(v1::TariffEvent&)> mutate;
  const char* field;  // the message must start with this
};

class BadEventTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadEventTest, IsInvalidArgumentNamingTheField) {
  v1::TariffEvent e = ValidEvent();
  GetParam().mutate(e);
  auto a = ValidateEvent(e, Params());
  ASSERT_FALSE(a.ok()) << "accepted: " << e.ShortDebugString();
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith(absl::StrCat(GetParam().field, ": ")));
}

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using E = v1::TariffEvent;

// clang-format off
const BadCase kEventIdCases[] = {
    {"Empty", [](E& e) { e.clear_event_id(); }, "event.event_id"},
    {"Space", [](E& e) { e.set_event_id("us cn"); }, "event.event_id"},
    {"Tab", [](E& e) { e.set_event_id("us\tcn"); }, "event.event_id"},
    {"NonAscii", [](E& e) { e.set_event_id("z\xc3\xbcrich"); }, "event.event_id"},
    {"TooLong", [](E& e) { e.set_event_id(std::string(129, 'e')); }, "event.event_id"},
};
const BadCase kCountryCases[] = {
    {"UnassignedImporter", [](E& e) { e.set_imposing_country("XX"); }, "event.imposing_country"},
    {"LowerCaseImporter", [](E& e) { e.set_imposing_country("us"); }, "event.imposing_country"},
    {"EmptyImporter", [](E& e) { e.clear_imposing_country(); }, "event.imposing_country"},
    {"UnknownTarget", [](E& e) { SetTargets(e, {"CN", "ZZ"}); }, "event.target_countries[1]"},
    {"LowerCaseTarget", [](E& e) { SetTargets(e, {"cn"}); }, "event.target_countries[0]"},
    {"TargetIsImporter", [](E& e) { SetTargets(e, {"CN", "US"}); }, "event.target_countries[1]"},
    {"EuTargetsMember", [](E& e) { e.set_imposing_country("EU"); SetTargets(e, {"FR"}); }, "event.target_countries[0]"},
    {"EuTargetsEu", [](E& e) { e.set_imposing_country("EU"); SetTargets(e, {"EU"}); }, "event.target_countries[0]"},
    {"MemberTargetsEu", [](E& e) { e.set_imposing_country("DE"); SetTargets(e, {"EU"}); }, "event.target_countries[0]"},
    {"DuplicateTarget", [](E& e) { SetTargets(e, {"CN", "MX", "CN"}); }, "event.target_countries[2]"},
    {"EuThenMember", [](E& e) { SetTargets(e, {"EU", "FR"}); }, "event.target_countries[1]"},
    {"MemberThenEu", [](E& e) { SetTargets(e, {"FR", "EU"}); }, "event.target_countries[1]"},
};
const BadCase kProductCases[] = {
    {"ReservedChapter", [](E& e) { SetProducts(e, {"77"}); }, "event.product_codes[0]"},
    {"OneDigit", [](E& e) { SetProducts(e, {"8"}); }, "event.product_codes[0]"},
    {"Star", [](E& e) { SetProducts(e, {"*"}); }, "event.product_codes[0]"},
    {"ZeroHeading", [](E& e) { SetProducts(e, {"87", "8700"}); }, "event.product_codes[1]"},
    {"ChapterThenHeading", [](E& e) { SetProducts(e, {"87", "8703"}); }, "event.product_codes[1]"},
    {"HeadingThenChapter", [](E& e) { SetProducts(e, {"8703", "87"}); }, "event.product_codes[1]"},
    {"Duplicate", [](E& e) { SetProducts(e, {"87", "84", "87"}); }, "event.product_codes[2]"},
};
const BadCase kStageAndRateCases[] = {
    {"StageUnspecified", [](E& e) { e.set_stage(v1::STAGE_UNSPECIFIED); }, "event.stage"},
    {"StageOutOfEnum", [](E& e) { e.set_stage(static_cast<v1::Stage>(42)); }, "event.stage"},
    {"EffectiveWithoutRate", [](E& e) { e.clear_new_rate_pct(); }, "event.new_rate_pct"},
    {"ThreatenedWithoutRate", [](E& e) { e.set_stage(v1::STAGE_THREATENED); e.clear_new_rate_pct(); }, "event.new_rate_pct"},
    {"PausedWithoutRate", [](E& e) { e.set_stage(v1::STAGE_PAUSED); e.clear_new_rate_pct(); }, "event.new_rate_pct"},
    {"ExtendedWithRate", [](E& e) { e.set_stage(v1::STAGE_EXTENDED); }, "event.new_rate_pct"},
    {"RevokedWithRate", [](E& e) { e.set_stage(v1::STAGE_REVOKED); }, "event.new_rate_pct"},
    {"RevokedWithZeroRate", [](E& e) { e.set_stage(v1::STAGE_REVOKED); e.set_new_rate_pct(0); }, "event.new_rate_pct"},
    {"NanRate", [](E& e) { e.set_new_rate_pct(kNan); }, "event.new_rate_pct"},
    {"InfiniteRate", [](E& e) { e.set_new_rate_pct(kInf); }, "event.new_rate_pct"},
    {"NegativeRate", [](E& e) { e.set_new_rate_pct(-5); }, "event.new_rate_pct"},
    {"RateAbove1000", [](E& e) { e.set_new_rate_pct(1000.5); }, "event.new_rate_pct"},
    {"NegativePreviousRate", [](E& e) { e.set_previous_rate_pct(-1); }, "event.previous_rate_pct"},
    {"NanPreviousRate", [](E& e) { e.set_previous_rate_pct(kNan); }, "event.previous_rate_pct"},
};
const BadCase kProbabilityCases[] = {
    {"Negative", [](E& e) { e.set_probability(-0.1); }, "event.probability"},
    {"AboveOne", [](E& e) { e.set_probability(1.1); }, "event.probability"},
    {"Nan", [](E& e) { e.set_probability(kNan); }, "event.probability"},
};
const BadCase kMeasureIdCases[] = {
    {"Space", [](E& e) { e.set_measure_id("us cn"); }, "event.measure_id"},
    {"Slash", [](E& e) { e.set_measure_id("us/cn"); }, "event.measure_id"},
    {"Colon", [](E& e) { e.set_measure_id("us:cn"); }, "event.measure_id"},
    {"TooLong", [](E& e) { e.set_measure_id(std::string(65, 'm')); }, "event.measure_id"},
};
const BadCase kTimeCases[] = {
    {"AnnouncedNegativeNanos", [](E& e) { e.mutable_announced_time()->set_nanos(-1); }, "event.announced_time"},
    {"EffectiveNanosTooLarge", [](E& e) { e.mutable_effective_time()->set_nanos(1000000000); }, "event.effective_time"},
    {"ExpiresAfterYear9999", [](E& e) { e = PausedEvent(); e.mutable_expires_time()->set_seconds(253402300800); }, "event.expires_time"},
    {"EffectiveBeforeYear1", [](E& e) { e.mutable_effective_time()->set_seconds(-62135596801); }, "event.effective_time"},
    {"EffectiveIn1900", [](E& e) { e.mutable_effective_time()->set_seconds(-2208988800); }, "event.effective_time"},
    {"AnnouncedJustBefore1930", [](E& e) { e.mutable_announced_time()->set_seconds(-1262304001); }, "event.announced_time"},
    {"EffectiveIn9999", [](E& e) { e.mutable_effective_time()->set_seconds(253402214400); }, "event.effective_time"},
    {"ExpiresIn2101", [](E& e) { e = PausedEvent(); e.mutable_expires_time()->set_seconds(4133980800); }, "event.expires_time"},
    {"ExpiresBeforeEffective", [](E& e) { e = PausedEvent(); e.mutable_expires_time()->set_seconds(e.effective_time().seconds() - 1); }, "event.expires_time"},
    {"ExpiresAtEffective", [](E& e) { e = PausedEvent(); *e.mutable_expires_time() = e.effective_time(); }, "event.expires_time"},
    {"ExpiresBeforeEffectiveByNanos", [](E& e) { e = PausedEvent(); *e.mutable_expires_time() = e.effective_time(); e.mutable_effective_time()->set_nanos(5); e.mutable_expires_time()->set_nanos(4); }, "event.expires_time"},
    {"ExtensionEndsBeforeEffective", [](E& e) { e = PausedEvent(); e.set_stage(v1::STAGE_EXTENDED); e.clear_new_rate_pct(); e.mutable_expires_time()->set_seconds(e.effective_time().seconds() - 86400); }, "event.expires_time"},
};
// A pause needs its end; no other stage has one.
const BadCase kExpiryCases[] = {
    {"PausedWithoutExpiry", [](E& e) { e = PausedEvent(); e.clear_expires_time(); }, "event.expires_time"},
    {"ExtendedWithoutExpiry", [](E& e) { e = PausedEvent(); e.set_stage(v1::STAGE_EXTENDED); e.clear_new_rate_pct(); e.clear_expires_time(); }, "event.expires_time"},
    {"EffectiveWithExpiry", [](E& e) { e.mutable_expires_time()->set_seconds(1752019200); }, "event.expires_time"},
    {"ThreatenedWithExpiry", [](E& e) { e.set_stage(v1::STAGE_THREATENED); e.mutable_expires_time()->set_seconds(1752019200); }, "event.expires_time"},
    {"AnnouncedWithExpiry", [](E& e) { e.set_stage(v1::STAGE_ANNOUNCED); e.mutable_expires_time()->set_seconds(1752019200); }, "event.expires_time"},
    {"RevokedWithExpiry", [](E& e) { e.set_stage(v1::STAGE_REVOKED); e.clear_new_rate_pct(); e.mutable_expires_time()->set_seconds(1752019200); }, "event.expires_time"},
};
const BadCase kSnapBackCases[] = {
    {"OnEffective", [](E& e) { e.set_snap_back_rate_pct(34); }, "event.snap_back_rate_pct"},
    {"OnThreatened", [](E& e) { e.set_stage(v1::STAGE_THREATENED); e.set_snap_back_rate_pct(34); }, "event.snap_back_rate_pct"},
    {"OnExtended", [](E& e) { e = PausedEvent(); e.set_stage(v1::STAGE_EXTENDED); e.clear_new_rate_pct(); e.set_snap_back_rate_pct(34); }, "event.snap_back_rate_pct"},
    {"OnRevoked", [](E& e) { e.set_stage(v1::STAGE_REVOKED); e.clear_new_rate_pct(); e.set_snap_back_rate_pct(0); }, "event.snap_back_rate_pct"},
    {"Negative", [](E& e) { e = PausedEvent(); e.set_snap_back_rate_pct(-1); }, "event.snap_back_rate_pct"},
    {"Nan", [](E& e) { e = PausedEvent(); e.set_snap_back_rate_pct(kNan); }, "event.snap_back_rate_pct"},
    {"Above1000", [](E& e) { e = PausedEvent(); e.set_snap_back_rate_pct(1001); }, "event.snap_back_rate_pct"},
};
const BadCase kExclusionCases[] = {
    {"OutsideProducts", [](E& e) { e.add_excluded_product_codes("72"); }, "event.excluded_product_codes[0]"},
    {"HeadingOfAnotherChapter", [](E& e) { e.add_excluded_product_codes("8501"); }, "event.excluded_product_codes[0]"},
    {"TheWholeProduct", [](E& e) { e.add_excluded_product_codes("87"); }, "event.excluded_product_codes[0]"},
    {"TheWholeHeading", [](E& e) { e.add_excluded_product_codes("8703"); e.add_excluded_product_codes("8471"); }, "event.excluded_product_codes[1]"},
    {"ChapterAroundAProduct", [](E& e) { e.add_excluded_product_codes("84"); }, "event.excluded_product_codes[0]"},
    {"NotACode", [](E& e) { e.add_excluded_product_codes("7"); }, "event.excluded_product_codes[0]"},
    {"Star", [](E& e) { e.clear_product_codes(); e.add_excluded_product_codes("*"); }, "event.excluded_product_codes[0]"},
    {"Overlapping", [](E& e) { e.clear_product_codes(); e.add_excluded_product_codes("72"); e.add_excluded_product_codes("7208"); }, "event.excluded_product_codes[1]"},
    {"TargetsWithTargets", [](E& e) { e.add_excluded_target_countries("MX"); }, "event.excluded_target_countries[0]"},
    {"UnknownTarget", [](E& e) { e.clear_target_countries(); e.add_excluded_target_countries("ZZ"); }, "event.excluded_target_countries[0]"},
    {"RepeatedTarget", [](E& e) { e.clear_target_countries(); e.add_excluded_target_countries("CA"); e.add_excluded_target_countries("CA"); }, "event.excluded_target_countries[1]"},
    {"EuThenMember", [](E& e) { e.clear_target_countries(); e.add_excluded_target_countries("EU"); e.add_excluded_target_countries("FR"); }, "event.excluded_target_countries[1]"},
};
const BadCase kTextCases[] = {
    {"HeadlineTooLong", [](E& e) { e.set_headline(std::string(513, 'h')); }, "event.headline"},
    {"FtpUrl", [](E& e) { e.set_source_url("ftp://example.com/x"); }, "event.source_url"},
    {"UrlWithoutScheme", [](E& e) { e.set_source_url("www.example.com"); }, "event.source_url"},
    {"UrlWithSpace", [](E& e) { e.set_source_url("https://example.com/a b"); }, "event.source_url"},
    {"JavascriptUrl", [](E& e) { e.set_source_url("javascript:alert(1)"); }, "event.source_url"},
    {"UrlTooLong", [](E& e) { e.set_source_url("https://example.com/" + std::string(2048, 'a')); }, "event.source_url"},
};
const BadCase kTermsCases[] = {
    {"UnknownAuthority", [](E& e) { e.set_authority(static_cast<v1::Authority>(99)); }, "event.authority"},
    {"UnknownCombination", [](E& e) { e.set_combination(static_cast<v1::Combination>(99)); }, "event.combination"},
    {"EmptyNotWith", [](E& e) { e.add_not_with("SECTION_232"); e.add_not_with(""); }, "event.not_with[1]"},
    {"NotWithWithASpace", [](E& e) { e.add_not_with("SECTION 232"); }, "event.not_with[0]"},
    {"NotWithItsOwnMeasure", [](E& e) { e.add_not_with("us-cn.reciprocal_2025"); }, "event.not_with[0]"},
    {"RepeatedNotWith", [](E& e) { e.add_not_with("SECTION_232"); e.add_not_with("SECTION_232"); }, "event.not_with[1]"},
    {"RepeatedNotWithMeasure", [](E& e) { e.add_not_with("us-232-autos"); e.add_not_with("SECTION_232"); e.add_not_with("us-232-autos"); }, "event.not_with[2]"},
    {"TooManyNotWith", [](E& e) { for (int i = 0; i <= kMaxListEntries; ++i) e.add_not_with(absl::StrCat("m", i)); }, "event.not_with"},
    {"UnspecifiedChannel", [](E& e) { e.add_channels(v1::SHIPMENT_CHANNEL_UNSPECIFIED); }, "event.channels[0]"},
    {"UnknownChannel", [](E& e) { e.add_channels(v1::SHIPMENT_GENERAL); e.add_channels(static_cast<v1::ShipmentChannel>(99)); }, "event.channels[1]"},
    {"RepeatedChannel", [](E& e) { e.add_channels(v1::SHIPMENT_GENERAL); e.add_channels(v1::SHIPMENT_USMCA); e.add_channels(v1::SHIPMENT_GENERAL); }, "event.channels[2]"},
};
// clang-format on

std::string CaseName(const ::testing::TestParamInfo<BadCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(EventId, BadEventTest,
                         ::testing::ValuesIn(kEventIdCases), CaseName);
INSTANTIATE_TEST_SUITE_P(Countries, BadEventTest,
                         ::testing::ValuesIn(kCountryCases), CaseName);
INSTANTIATE_TEST_SUITE_P(Products, BadEventTest,
                         ::testing::ValuesIn(kProductCases), CaseName);
INSTANTIATE_TEST_SUITE_P(StageAndRate, BadEventTest,
                         ::testing::ValuesIn(kStageAndRateCases), CaseName);
INSTANTIATE_TEST_SUITE_P(Probability, BadEventTest,
                         ::testing::ValuesIn(kProbabilityCases), CaseName);
INSTANTIATE_TEST_SUITE_P(MeasureId, BadEventTest,
                         ::testing::ValuesIn(kMeasureIdCases), CaseName);
INSTANTIATE_TEST_SUITE_P(Times, BadEventTest, ::testing::ValuesIn(kTimeCases),
                         CaseName);
INSTANTIATE_TEST_SUITE_P(Text, BadEventTest, ::testing::ValuesIn(kTextCases),
                         CaseName);
INSTANTIATE_TEST_SUITE_P(Expiry, BadEventTest,
                         ::testing::ValuesIn(kExpiryCases), CaseName);
INSTANTIATE_TEST_SUITE_P(SnapBack, BadEventTest,
                         ::testing::ValuesIn(kSnapBackCases), CaseName);
INSTANTIATE_TEST_SUITE_P(Exclusions, BadEventTest,
                         ::testing::ValuesIn(kExclusionCases), CaseName);
INSTANTIATE_TEST_SUITE_P(Terms, BadEventTest, ::testing::ValuesIn(kTermsCases),
                         CaseName);

TEST(ValidateEventTest, TimesFrom1930To2100AreTaken) {
  v1::TariffEvent e = ValidEvent();
  e.mutable_announced_time()->set_seconds(-1262304000);  // 1930-01-01
  e.mutable_effective_time()->set_seconds(4133980799);   // 2100-12-31T23:59:59
  EXPECT_TRUE(ValidateEvent(e, Params()).ok());
  e.mutable_effective_time()->set_seconds(-2208988800);
  auto a = ValidateEvent(e, Params());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(std::string(a.status().message()),
            "event.effective_time: 1900-01-01T00:00:00Z is outside the years "
            "1930-2100 a tariff event can have (a typo, or an unset year?)");
}

TEST(ValidateEventTest, ErrorsQuoteOnlyAShortEscapedPrefixOfTheInput) {
  v1::TariffEvent e = ValidEvent();
  e.set_imposing_country(std::string(100000, 'Q'));
  auto a = ValidateEvent(e, Params());
  ASSERT_FALSE(a.ok());
  EXPECT_LT(a.status().message().size(), 200u);
  EXPECT_THAT(
      std::string(a.status().message()),
      StartsWith(absl::StrCat("event.imposing_country: '", std::string(64, 'Q'),
                              "\xE2\x80\xA6' (100000 bytes) is not")));
  e = ValidEvent();
  e.set_target_countries(0, std::string("C\n'\x01", 4));
  a = ValidateEvent(e, Params());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith("event.target_countries[0]: 'C\\n\\'\\x01' is"));
  e = ValidEvent();
  e.set_event_id(std::string(5000, 'x'));
  a = ValidateEvent(e, Params());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(std::string(a.status().message()),
            "event.event_id: 5000 bytes, longer than 128");
}

TEST(ValidateEventTest, TargetErrorNamesTheIndexAndTheCode) {
  v1::TariffEvent e = ValidEvent();
  SetTargets(e, {"CN", "MX", "ZZ"});
  auto a = ValidateEvent(e, Params());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith("event.target_countries[2]: 'ZZ'"));
}

// The whole message of an event that must be rejected.
std::string ErrorOf(const v1::TariffEvent& e) {
  auto a = ValidateEvent(e, Params());
  EXPECT_FALSE(a.ok()) << "accepted: " << e.ShortDebugString();
  if (a.ok()) return "";
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(a.status().message());
}

TEST(ValidateEventTest, TermErrorsSayWhatIsWrong) {
  v1::TariffEvent e = ValidEvent();
  e.set_authority(static_cast<v1::Authority>(99));
  EXPECT_EQ(ErrorOf(e), "event.authority: 99 is not an Authority value");
  e = ValidEvent();
  e.set_combination(static_cast<v1::Combination>(7));
  EXPECT_EQ(ErrorOf(e), "event.combination: 7 is not a Combination value");
  e = ValidEvent();
  e.add_not_with("SECTION_232");
  e.add_not_with("SECTION_232");
  EXPECT_EQ(ErrorOf(e), "event.not_with[1]: 'SECTION_232' repeats");
  e = ValidEvent();
  e.add_not_with("");
  EXPECT_EQ(ErrorOf(e),
            "event.not_with[0]: must name an authority (SECTION_232, ...) or "
            "a measure_id");
  e = ValidEvent();
  e.add_not_with("us-cn.reciprocal_2025");
  EXPECT_EQ(ErrorOf(e), "event.not_with[0]: names the event's own measure");
  e = ValidEvent();
  e.add_channels(v1::SHIPMENT_CHANNEL_UNSPECIFIED);
  EXPECT_EQ(ErrorOf(e),
            "event.channels[0]: must be SHIPMENT_GENERAL, SHIPMENT_USMCA or "
            "SHIPMENT_LOW_VALUE");
  e = ValidEvent();
  e.add_channels(v1::SHIPMENT_LOW_VALUE);
  e.add_channels(v1::SHIPMENT_LOW_VALUE);
  EXPECT_EQ(ErrorOf(e), "event.channels[1]: repeats");
}

TEST(ValidateEventTest, TermsMapAndAreMarkedGiven) {
  v1::TariffEvent e = ValidEvent();
  e.set_authority(v1::IEEPA_RECIPROCAL);
  e.set_combination(v1::COMBINATION_ALL_IN);
  e.add_not_with("us-232-autos");
  e.add_not_with("SECTION_232");
  e.set_on_content(true);
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->terms_given);
  EXPECT_EQ(a->terms.authority, Authority::kIeepaReciprocal);
  EXPECT_EQ(a->terms.combination, Combination::kAllIn);
  // Sorted, so the same terms compare equal whatever their order.
  EXPECT_THAT(a->terms.not_with, ElementsAre("SECTION_232", "us-232-autos"));
  EXPECT_TRUE(a->terms.on_content);
  EXPECT_EQ(a->channels, kAllChannels);  // no channels: all of them
}

TEST(ValidateEventTest, WithoutTermsTheMeasuresOwnAreKept) {
  auto a = ValidateEvent(ValidEvent(), Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->terms_given);
  EXPECT_TRUE(a->terms == MeasureTerms());
  // COMBINATION_ADD is a term the event states, unlike leaving it unset.
  v1::TariffEvent e = ValidEvent();
  e.set_combination(v1::COMBINATION_ADD);
  a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->terms_given);
  EXPECT_EQ(a->terms.combination, Combination::kAdd);
}

TEST(ValidateEventTest, AnyOneTermMarksTheTermsGiven) {
  const std::function<void(v1::TariffEvent&)> terms[] = {
      [](v1::TariffEvent& e) { e.set_authority(v1::SECTION_232); },
      [](v1::TariffEvent& e) { e.set_combination(v1::COMBINATION_IN_LIEU); },
      [](v1::TariffEvent& e) { e.add_not_with("SECTION_232"); },
      [](v1::TariffEvent& e) { e.set_on_content(true); },
  };
  for (size_t i = 0; i < std::size(terms); ++i) {
    SCOPED_TRACE(i);
    v1::TariffEvent e = ValidEvent();
    terms[i](e);
    auto a = ValidateEvent(e, Params());
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_TRUE(a->terms_given);
  }
}

TEST(ValidateEventTest, ChannelsAreABitSetAndNotATerm) {
  v1::TariffEvent e = ValidEvent();
  e.add_channels(v1::SHIPMENT_LOW_VALUE);
  e.add_channels(v1::SHIPMENT_GENERAL);
  auto a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->channels, static_cast<uint8_t>(Channel::kGeneral) |
                             static_cast<uint8_t>(Channel::kLowValue));
  EXPECT_FALSE(a->terms_given);  // the scope, not how the measure stacks
  e.clear_channels();
  e.add_channels(v1::SHIPMENT_USMCA);
  a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->channels, static_cast<uint8_t>(Channel::kUsmca));
  // All three listed is the same as none listed.
  e.add_channels(v1::SHIPMENT_GENERAL);
  e.add_channels(v1::SHIPMENT_LOW_VALUE);
  a = ValidateEvent(e, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->channels, kAllChannels);
}

// The validator checks an event alone; the book refuses terms that do not
// fit the measure they act on.
TEST(ValidateEventTest, AnExtensionThatChangesTheAuthorityIsRefusedByTheBook) {
  v1::TariffEvent effective = ValidEvent();
  effective.set_authority(v1::IEEPA_RECIPROCAL);
  v1::TariffEvent paused = PausedEvent();
  paused.set_event_id("us-cn-2025-05-12.1");
  v1::TariffEvent extended = paused;
  extended.set_event_id("us-cn-2025-08-11.1");
  extended.set_stage(v1::STAGE_EXTENDED);
  extended.clear_new_rate_pct();
  extended.mutable_expires_time()->set_seconds(1762905600);  // 2025-11-12
  TariffBook book;
  for (const v1::TariffEvent* e : {&effective, &paused}) {
    auto a = ValidateEvent(*e, Params());
    ASSERT_TRUE(a.ok()) << a.status();
    auto step = book.Plan(*a);
    ASSERT_TRUE(step.ok()) << step.status();
    book = *step->next;
  }
  ASSERT_EQ(book.measures().at("us-cn.reciprocal_2025").terms.authority,
            Authority::kIeepaReciprocal);

  // The authority left unset, or as it stands: the extension is taken.
  for (v1::Authority authority :
       {v1::AUTHORITY_UNSPECIFIED, v1::IEEPA_RECIPROCAL}) {
    extended.set_authority(authority);
    auto a = ValidateEvent(extended, Params());
    ASSERT_TRUE(a.ok()) << a.status();
    auto step = book.Plan(*a);
    ASSERT_TRUE(step.ok()) << v1::Authority_Name(authority) << ": "
                           << step.status();
    EXPECT_EQ(step->next->measures().at("us-cn.reciprocal_2025").terms,
              book.measures().at("us-cn.reciprocal_2025").terms);
  }
  // Another authority: refused, naming the field and the measure.
  extended.set_authority(v1::SECTION_301);
  auto a = ValidateEvent(extended, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  auto step = book.Plan(*a);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(step.status().message()),
            "event.authority: EXTENDED cannot change how measure "
            "'us-cn.reciprocal_2025' stacks (authority, combination, "
            "not_with, on_content); leave them unset");
  // Any other term likewise, and for REVOKED.
  extended.set_authority(v1::AUTHORITY_UNSPECIFIED);
  extended.set_on_content(true);
  a = ValidateEvent(extended, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(std::string(book.Plan(*a).status().message()),
              StartsWith("event.authority: EXTENDED cannot change how"));
  v1::TariffEvent revoked = ValidEvent();
  revoked.set_event_id("us-cn-2025-12-01.1");
  revoked.set_stage(v1::STAGE_REVOKED);
  revoked.clear_new_rate_pct();
  revoked.clear_previous_rate_pct();
  revoked.set_combination(v1::COMBINATION_IN_LIEU);
  a = ValidateEvent(revoked, Params());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(std::string(book.Plan(*a).status().message()),
              StartsWith("event.authority: REVOKED cannot change how"));
}

}  // namespace
}  // namespace tariffalert
