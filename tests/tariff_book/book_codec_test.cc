#include "server/tariff_book/book_codec.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

const absl::Time kT0 = absl::FromCivil(absl::CivilSecond(2025, 4, 9, 0, 0, 0),
                                       absl::UTCTimeZone());
const absl::Time kT90 = kT0 + absl::Hours(24 * 90);

TariffAction Action(Stage stage, const std::string& measure,
                    std::vector<const char*> targets,
                    std::vector<const char*> products,
                    std::optional<double> rate) {
  TariffAction a;
  a.event_id = absl::StrCat(measure, "/", StageName(stage));
  a.importer = C("US");
  for (const char* t : targets) a.targets.push_back(C(t));
  for (const char* p : products) a.products.push_back(H(p));
  a.stage = stage;
  a.new_rate_pct = rate;
  a.measure_id = measure;
  a.probability = 1;
  return a;
}

TariffBook Apply(const TariffBook& book, const TariffAction& a) {
  auto step = book.Plan(a);
  EXPECT_TRUE(step.ok()) << a.event_id << ": " << step.status();
  return step.ok() ? *step->next : book;
}

// A book with every kind of state: plain, excluding goods and partners,
// paused, and threatened.
TariffBook SampleBook() {
  TariffBook book;
  book =
      Apply(book, Action(Stage::kEffective, "us-cn-fentanyl", {"CN"}, {}, 20));
  TariffAction baseline = Action(Stage::kEffective, "us-baseline", {}, {}, 10);
  baseline.excluded = {H("72"), H("8703")};
  baseline.excluded_targets = {C("CA"), C("MX")};
  book = Apply(book, baseline);
  book = Apply(book,
               Action(Stage::kEffective, "us-cn-reciprocal", {"CN"}, {}, 125));
  TariffAction pause = Action(Stage::kPaused, "us-cn-reciprocal", {}, {}, 10);
  pause.effective_time = kT0;
  pause.expires_time = kT90;
  book = Apply(book, pause);
  TariffAction threat =
      Action(Stage::kThreatened, "us-mx-autos", {"MX"}, {"87"}, 25);
  threat.probability = 0.3;
  book = Apply(book, threat);
  book.AdvanceClock(kT0 + absl::Hours(1));
  return book;
}

void ExpectSameMeasures(const TariffBook& got, const TariffBook& want) {
  ASSERT_EQ(got.measures().size(), want.measures().size());
  for (const auto& [id, w] : want.measures()) {
    SCOPED_TRACE(id);
    auto it = got.measures().find(id);
    ASSERT_NE(it, got.measures().end());
    const Measure& g = it->second;
    EXPECT_EQ(g.id, w.id);
    EXPECT_EQ(g.importer, w.importer);
    EXPECT_EQ(g.targets, w.targets);
    EXPECT_EQ(g.products, w.products);
    EXPECT_EQ(g.excluded, w.excluded);
    EXPECT_EQ(g.excluded_targets, w.excluded_targets);
    EXPECT_EQ(g.in_force, w.in_force);
    EXPECT_EQ(g.rate_pct, w.rate_pct);
    EXPECT_EQ(g.event_id, w.event_id);
    ASSERT_EQ(g.pause.has_value(), w.pause.has_value());
    if (w.pause) {
      EXPECT_EQ(g.pause->snap_back_rate_pct, w.pause->snap_back_rate_pct);
      EXPECT_EQ(g.pause->expires, w.pause->expires);
      EXPECT_EQ(g.pause->event_id, w.pause->event_id);
    }
    ASSERT_EQ(g.pending.has_value(), w.pending.has_value());
    if (w.pending) {
      EXPECT_EQ(g.pending->stage, w.pending->stage);
      EXPECT_EQ(g.pending->rate_pct, w.pending->rate_pct);
      EXPECT_EQ(g.pending->probability, w.pending->probability);
      EXPECT_EQ(g.pending->event_id, w.pending->event_id);
    }
  }
}

TEST(BookCodecTest, ARoundTripGivesTheSameBook) {
  const TariffBook book = SampleBook();
  ASSERT_EQ(book.revision(), 5u);
  const v1::BookState state = BookToProto(book);
  auto decoded = BookFromProto(state, "book");
  ASSERT_TRUE(decoded.ok()) << decoded.status();

  EXPECT_EQ(decoded->revision(), 5u);
  EXPECT_EQ(decoded->clock(), kT0 + absl::Hours(1));
  ExpectSameMeasures(*decoded, book);
  EXPECT_EQ(BookToProto(*decoded).SerializeAsString(),
            state.SerializeAsString());

  // What a user sees of it: the rates, the pause and the priced threat.
  // 20 fentanyl + 10 paused reciprocal + 10 baseline.
  EXPECT_EQ(decoded->Rate(C("US"), C("CN"), HsCode::All()), 40);
  EXPECT_EQ(decoded->Rate(C("US"), C("CN"), H("72")), 30);
  EXPECT_EQ(decoded->Rate(C("US"), C("MX"), H("87")), 0);
  EXPECT_EQ(decoded->Rate(C("US"), C("JP"), H("8703")), 0);
  EXPECT_EQ(decoded->Rate(C("US"), C("JP"), H("8704")), 10);
  auto due = decoded->DueSnapBacks(kT90);
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].new_rate_pct, 125);
  EXPECT_EQ(due[0].event_id, "us-cn-reciprocal/snap-back/2025-07-08T00:00:00Z");
  // The threat stays priced: its EFFECTIVE stage scores 25 - 0.3 x 25.
  auto effective = decoded->Plan(
      Action(Stage::kEffective, "us-mx-autos", {"MX"}, {"87"}, 25));
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_NEAR(effective->probability *
                  (effective->after->Rate(C("US"), C("MX"), H("87")) -
                   effective->before->Rate(C("US"), C("MX"), H("87"))),
              17.5, 1e-9);
}

TEST(BookCodecTest, AnEmptyBookRoundTrips) {
  auto decoded = BookFromProto(BookToProto(TariffBook()), "book");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->revision(), 0u);
  EXPECT_EQ(decoded->clock(), absl::InfinitePast());
  EXPECT_TRUE(decoded->measures().empty());
}

// A pause's expiry comes from an event's Timestamp, which has nanoseconds.
// A stored pause must not lapse early by dropping them.
TEST(BookCodecTest, APauseExpiryKeepsItsNanoseconds) {
  TariffBook book =
      Apply(TariffBook(), Action(Stage::kEffective, "r", {"CN"}, {}, 125));
  TariffAction pause = Action(Stage::kPaused, "r", {}, {}, 10);
  pause.expires_time = kT90 + absl::Nanoseconds(5);
  book = Apply(book, pause);
  auto decoded = BookFromProto(BookToProto(book), "book");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->measures().at("r").pause->expires,
            kT90 + absl::Nanoseconds(5));
  EXPECT_TRUE(decoded->DueSnapBacks(kT90).empty());
}

struct CorruptCase {
  const char* name;
  std::function<void(v1::BookState&)> corrupt;
  const char* field;  // the message starts with "book: <field>"
};

void ExpectRefused(const CorruptCase& c) {
  v1::BookState state = BookToProto(SampleBook());
  // Measures sorted by id: us-baseline, us-cn-fentanyl, us-cn-reciprocal
  // (paused), us-mx-autos (threatened).
  ASSERT_EQ(state.measures_size(), 4);
  ASSERT_EQ(state.measures(2).measure_id(), "us-cn-reciprocal");
  c.corrupt(state);
  auto decoded = BookFromProto(state, "book");
  ASSERT_FALSE(decoded.ok()) << "accepted: " << state.ShortDebugString();
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(decoded.status().message()),
              StartsWith(absl::StrCat("book: ", c.field)));
}

class CorruptBookTest : public ::testing::TestWithParam<CorruptCase> {};
TEST_P(CorruptBookTest, IsInvalidArgumentNamingTheField) {
  ExpectRefused(GetParam());
}

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

using S = v1::BookState;
// clang-format off
const CorruptCase kCorruptCases[] = {
    {"BadImporter", [](S& s) { s.mutable_measures(1)->set_imposing_country("XX"); }, "measures[1].imposing_country"},
    {"LowerCaseTarget", [](S& s) { s.mutable_measures(1)->set_target_countries(0, "cn"); }, "measures[1].target_countries"},
    {"BadProduct", [](S& s) { s.mutable_measures(3)->set_product_codes(0, "77"); }, "measures[3].product_codes"},
    {"BadExcludedProduct", [](S& s) { s.mutable_measures(0)->set_excluded_product_codes(0, "*"); }, "measures[0].excluded_product_codes"},
    {"BadExcludedTarget", [](S& s) { s.mutable_measures(0)->set_excluded_target_countries(0, "ZZ"); }, "measures[0].excluded_target_countries"},
    {"NegativeRate", [](S& s) { s.mutable_measures(1)->set_rate_pct(-1); }, "measures[1].rate_pct"},
    {"NanRate", [](S& s) { s.mutable_measures(1)->set_rate_pct(kNan); }, "measures[1].rate_pct"},
    {"HugeRate", [](S& s) { s.mutable_measures(1)->set_rate_pct(1e6); }, "measures[1].rate_pct"},
    {"RateNotInForce", [](S& s) { s.mutable_measures(3)->set_rate_pct(5); }, "measures[3].rate_pct"},
    {"PauseNotInForce", [](S& s) { s.mutable_measures(2)->set_in_force(false); s.mutable_measures(2)->set_rate_pct(0); }, "measures[2].pause"},
    {"SnapBackRateOutOfRange", [](S& s) { s.mutable_measures(2)->mutable_pause()->set_snap_back_rate_pct(-3); }, "measures[2].pause.snap_back_rate_pct"},
    {"PendingEffective", [](S& s) { s.mutable_measures(3)->mutable_pending()->set_stage(v1::STAGE_EFFECTIVE); }, "measures[3].pending.stage"},
    {"PendingProbabilityAboveOne", [](S& s) { s.mutable_measures(3)->mutable_pending()->set_probability(1.5); }, "measures[3].pending.probability"},
    {"PendingRateNan", [](S& s) { s.mutable_measures(3)->mutable_pending()->set_rate_pct(kNan); }, "measures[3].pending.rate_pct"},
    {"NeitherInForceNorPending", [](S& s) { s.mutable_measures(3)->clear_pending(); }, "measures[3].in_force"},
    {"EmptyId", [](S& s) { s.mutable_measures(1)->clear_measure_id(); }, "measures[1].measure_id"},
    {"DuplicateId", [](S& s) { s.mutable_measures(2)->set_measure_id("us-cn-fentanyl"); }, "measures[2].measure_id"},
    {"UnknownAuthority", [](S& s) { s.mutable_measures(1)->set_authority(static_cast<v1::Authority>(99)); }, "measures[1].authority: unknown value"},
    {"UnknownCombination", [](S& s) { s.mutable_measures(1)->set_combination(static_cast<v1::Combination>(99)); }, "measures[1].combination: unknown value"},
    {"UnknownChannel", [](S& s) { s.mutable_measures(2)->add_channels(static_cast<v1::ShipmentChannel>(99)); }, "measures[2].channels: unknown value"},
    {"UnspecifiedChannel", [](S& s) { s.mutable_measures(2)->add_channels(v1::SHIPMENT_GENERAL); s.mutable_measures(2)->add_channels(v1::SHIPMENT_CHANNEL_UNSPECIFIED); }, "measures[2].channels: unknown value"},
    {"EmptyNotWith", [](S& s) { s.mutable_measures(1)->add_not_with(""); }, "measures[1].not_with"},
    {"NotWithItself", [](S& s) { s.mutable_measures(1)->add_not_with("us-cn-fentanyl"); }, "measures[1].not_with"},
};
// Books no event could make, which the codec's "decoding checks everything"
// promises to refuse.
const CorruptCase kUncheckedCases[] = {
    {"TargetInTheImportersBloc", [](S& s) { s.mutable_measures(1)->set_target_countries(0, "US"); }, "measures[1].target_countries"},
    {"ExclusionOutsideTheProducts", [](S& s) { s.mutable_measures(3)->add_excluded_product_codes("72"); }, "measures[3].excluded_product_codes"},
    {"OverlappingProducts", [](S& s) { s.mutable_measures(3)->add_product_codes("8703"); }, "measures[3].product_codes"},
};
// clang-format on

std::string CaseName(const ::testing::TestParamInfo<CorruptCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(States, CorruptBookTest,
                         ::testing::ValuesIn(kCorruptCases), CaseName);

class UncheckedBookTest : public ::testing::TestWithParam<CorruptCase> {};
TEST_P(UncheckedBookTest, IsInvalidArgumentNamingTheField) {
  ExpectRefused(GetParam());
}
INSTANTIATE_TEST_SUITE_P(States, UncheckedBookTest,
                         ::testing::ValuesIn(kUncheckedCases), CaseName);

// A measure with every stacking term and a channel subset, and one that is
// charged on the content.
TariffBook StackingBook() {
  TariffAction eu =
      Action(Stage::kEffective, "us-eu-reciprocal", {"EU"}, {}, 15);
  eu.terms.authority = Authority::kIeepaReciprocal;
  eu.terms.combination = Combination::kAllIn;
  eu.terms.not_with = {"SECTION_232", "us-232-autos"};  // sorted, as validated
  eu.terms.on_content = true;
  eu.terms_given = true;
  eu.channels = static_cast<uint8_t>(Channel::kGeneral) |
                static_cast<uint8_t>(Channel::kLowValue);
  TariffBook book = Apply(TariffBook(), eu);
  TariffAction steel =
      Action(Stage::kEffective, "us-232-steel-derivatives", {}, {"8418"}, 50);
  steel.terms.authority = Authority::kSection232;
  steel.terms.on_content = true;
  steel.terms_given = true;
  return Apply(book, steel);
}

BaseRates UsBaseRates() {
  BaseRates rates;
  rates.Add({C("US"), HsCode::All(), 4.24, 2025, "USITC HTS 2025", "", ""});
  rates.Add({C("US"), H("84"), 1.41, 2025, "USITC HTS 2025", "", ""});
  return rates;
}

TEST(BookCodecTest, StackingTermsAndChannelsRoundTrip) {
  const TariffBook book = StackingBook();
  const v1::BookState state = BookToProto(book);
  ASSERT_EQ(state.measures_size(), 2);
  const v1::Measure& stored = state.measures(1);
  ASSERT_EQ(stored.measure_id(), "us-eu-reciprocal");
  EXPECT_EQ(stored.authority(), v1::IEEPA_RECIPROCAL);
  EXPECT_EQ(stored.combination(), v1::COMBINATION_ALL_IN);
  EXPECT_THAT(stored.not_with(),
              ::testing::ElementsAre("SECTION_232", "us-232-autos"));
  EXPECT_TRUE(stored.on_content());
  EXPECT_THAT(
      stored.channels(),
      ::testing::ElementsAre(v1::SHIPMENT_GENERAL, v1::SHIPMENT_LOW_VALUE));
  // All channels is the empty list.
  EXPECT_EQ(state.measures(0).channels_size(), 0);

  auto decoded = BookFromProto(state, "book");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameMeasures(*decoded, book);
  for (const auto& [id, m] : book.measures()) {
    SCOPED_TRACE(id);
    const Measure& got = decoded->measures().at(id);
    EXPECT_TRUE(got.terms == m.terms);
    EXPECT_EQ(got.channels, m.channels);
  }
  const Measure& eu = decoded->measures().at("us-eu-reciprocal");
  EXPECT_EQ(eu.terms.authority, Authority::kIeepaReciprocal);
  EXPECT_EQ(eu.terms.combination, Combination::kAllIn);
  EXPECT_THAT(eu.terms.not_with,
              ::testing::ElementsAre("SECTION_232", "us-232-autos"));
  EXPECT_TRUE(eu.terms.on_content);
  EXPECT_EQ(eu.channels, 5);  // general | low value
  EXPECT_EQ(decoded->measures().at("us-232-steel-derivatives").channels,
            kAllChannels);
  EXPECT_EQ(BookToProto(*decoded).SerializeAsString(),
            state.SerializeAsString());

  // What a user sees of it: the same rates before and after.
  const BaseRates base = UsBaseRates();
  // German cars: the 15% all-in rate includes the 4.24% base, adds 10.76.
  EXPECT_DOUBLE_EQ(decoded->Rate(C("US"), C("DE"), H("8703"), &base), 15);
  // The decoded channels still leave the USMCA channel out: only the base.
  EXPECT_DOUBLE_EQ(
      decoded->Rate(C("US"), C("DE"), H("8703"), &base, Channel::kUsmca), 4.24);
  // German refrigerators: section 232 on 40% steel content, and the
  // reciprocal rate does not stack with it.
  StackQuery fridge{C("US"), C("DE"), H("8418"), Channel::kGeneral, 0.4};
  EXPECT_DOUBLE_EQ(decoded->Stack(fridge, &base).total_pct, 1.41 + 20);
  EXPECT_DOUBLE_EQ(book.Stack(fridge, &base).total_pct, 1.41 + 20);
}

TEST(BookCodecTest, ABookStoredBeforeStackingTermsDecodesAsAdd) {
  v1::BookState state;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        revision: 2
        measures {
          measure_id: "us-cn-fentanyl"
          imposing_country: "US"
          target_countries: "CN"
          in_force: true
          rate_pct: 20
          event_id: "f"
        }
        measures {
          measure_id: "us-cn-reciprocal"
          imposing_country: "US"
          target_countries: "CN"
          in_force: true
          rate_pct: 10
          event_id: "r"
        }
      )pb",
      &state));
  auto decoded = BookFromProto(state, "book");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  for (const auto& [id, m] : decoded->measures()) {
    SCOPED_TRACE(id);
    EXPECT_EQ(m.terms.authority, Authority::kUnspecified);
    EXPECT_EQ(m.terms.combination, Combination::kAdd);
    EXPECT_TRUE(m.terms.not_with.empty());
    EXPECT_FALSE(m.terms.on_content);
    EXPECT_EQ(m.channels, kAllChannels);
  }
  // Old measures only add up, whatever the base or the channel.
  const BaseRates base = UsBaseRates();
  EXPECT_DOUBLE_EQ(decoded->Rate(C("US"), C("CN"), H("8471"), &base),
                   1.41 + 20 + 10);
  EXPECT_DOUBLE_EQ(
      decoded->Rate(C("US"), C("CN"), H("8471"), &base, Channel::kLowValue),
      1.41 + 20 + 10);
  // Written back, they say so.
  const v1::BookState again = BookToProto(*decoded);
  EXPECT_EQ(again.measures(0).combination(), v1::COMBINATION_ADD);
  EXPECT_EQ(again.measures(0).authority(), v1::AUTHORITY_UNSPECIFIED);
}

TEST(BookCodecTest, ErrorsNameWhereTheBookCameFrom) {
  v1::BookState state = BookToProto(SampleBook());
  state.mutable_measures(0)->set_rate_pct(-1);
  auto decoded = BookFromProto(state, "redis key ta:book");
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()),
              HasSubstr("redis key ta:book: measures[0].rate_pct"));
}

}  // namespace
}  // namespace tariffalert
