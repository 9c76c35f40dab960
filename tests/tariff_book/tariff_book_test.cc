#include "server/tariff_book/tariff_book.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const HsCode kAll = HsCode::All();

// 2025-04-09T00:00:00Z and the 90-day pause that starts then.
const absl::Time kT0 = absl::FromCivil(absl::CivilSecond(2025, 4, 9, 0, 0, 0),
                                       absl::UTCTimeZone());
const absl::Time kT90 = kT0 + absl::Hours(24 * 90);    // 2025-07-08
const absl::Time kT180 = kT0 + absl::Hours(24 * 180);  // 2025-10-06

// An action as the validator would build it. No targets = all partners, no
// products = all goods.
TariffAction Act(Stage stage, const char* importer,
                 std::initializer_list<const char*> targets,
                 std::initializer_list<const char*> products,
                 std::optional<double> rate, const std::string& measure = "") {
  TariffAction a;
  a.event_id = "e";
  a.importer = C(importer);
  for (const char* t : targets) a.targets.push_back(C(t));
  for (const char* p : products) a.products.push_back(H(p));
  a.stage = stage;
  a.new_rate_pct = rate;
  a.measure_id = measure;
  a.probability = 1;
  return a;
}

TariffAction Effective(const char* importer,
                       std::initializer_list<const char*> targets,
                       std::initializer_list<const char*> products, double rate,
                       const std::string& measure = "") {
  return Act(Stage::kEffective, importer, targets, products, rate, measure);
}

TariffAction Threat(Stage stage, const char* importer,
                    std::initializer_list<const char*> targets, double rate,
                    double probability, const std::string& measure = "") {
  TariffAction a = Act(stage, importer, targets, {}, rate, measure);
  a.probability = probability;
  return a;
}

// PAUSED / EXTENDED / REVOKED of a named measure, acting on its scope.
TariffAction Paused(const char* importer, const std::string& measure,
                    double rate, absl::Time expires) {
  TariffAction a = Act(Stage::kPaused, importer, {}, {}, rate, measure);
  a.effective_time = kT0;
  a.expires_time = expires;
  return a;
}

TariffAction Extended(const char* importer, const std::string& measure,
                      absl::Time expires) {
  TariffAction a =
      Act(Stage::kExtended, importer, {}, {}, std::nullopt, measure);
  a.expires_time = expires;
  return a;
}

TariffAction Revoked(const char* importer, const std::string& measure) {
  return Act(Stage::kRevoked, importer, {}, {}, std::nullopt, measure);
}

// Plans `a` on `book` and returns the book after it; fails the test if the
// book refuses it.
TariffBook Apply(const TariffBook& book, const TariffAction& a) {
  auto step = book.Plan(a);
  EXPECT_TRUE(step.ok()) << a.measure_id << ": " << step.status();
  if (!step.ok()) return book;
  return *step->next;
}

// The change a step scores on goods of `product` from `exporter` into the
// step's importer, in percentage points: probability x (after - before).
double ExpectedDelta(const BookStep& step, const char* exporter,
                     HsCode product = kAll) {
  const Country importer = step.action.importer;
  return step.probability * (step.after->Rate(importer, C(exporter), product) -
                             step.before->Rate(importer, C(exporter), product));
}

// The 2025 US measures on China: fentanyl 20%, reciprocal 10%.
TariffBook FentanylAndReciprocal() {
  TariffBook book;
  book = Apply(book, Effective("US", {"CN"}, {}, 20, "us-cn-fentanyl"));
  book = Apply(book, Effective("US", {"CN"}, {}, 10, "us-cn-reciprocal"));
  return book;
}

// ---------------------------------------------------------------- stacking

TEST(TariffBookStackingTest, AnEmptyBookChargesNothing) {
  TariffBook book;
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 0);
  EXPECT_EQ(book.revision(), 0u);
  EXPECT_THAT(book.measures(), IsEmpty());
}

TEST(TariffBookStackingTest, TwoMeasuresOnOnePairAddUp) {
  TariffBook book = FentanylAndReciprocal();
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 30);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 30);
  // Other partners and the other direction pay nothing.
  EXPECT_EQ(book.Rate(C("US"), C("MX"), kAll), 0);
  EXPECT_EQ(book.Rate(C("CN"), C("US"), kAll), 0);
  EXPECT_THAT(book.measures(), SizeIs(2));
}

TEST(TariffBookStackingTest, AChapterMeasureAddsOnTopForItsGoodsOnly) {
  TariffBook book = FentanylAndReciprocal();
  book = Apply(book, Effective("US", {}, {"72"}, 50, "us-steel-232"));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("72")), 80);    // 20 + 10 + 50
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("7208")), 80);  // heading in 72
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 30);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), H("72")), 50);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), H("87")), 0);
  // A chapter measure does not reach the all-goods rate.
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), kAll), 0);
}

TEST(TariffBookStackingTest, AnExcludedChapterKeepsOnlyItsOwnMeasure) {
  TariffBook book;
  book = Apply(book, Effective("US", {"CN"}, {}, 20, "us-cn-fentanyl"));
  TariffAction reciprocal = Effective("US", {"CN"}, {}, 10, "us-cn-reciprocal");
  reciprocal.excluded = {H("72"), H("73")};
  book = Apply(book, reciprocal);
  book = Apply(book, Effective("US", {}, {"72"}, 50, "us-steel-232"));

  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("72")), 70);    // 20 + 50
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("7208")), 70);  // heading in 72
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("73")), 20);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("7306")), 20);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 30);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 30);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
}

TEST(TariffBookStackingTest, AnExcludedHeadingLeavesTheRestOfItsChapter) {
  TariffBook book;
  TariffAction reciprocal = Effective("US", {"CN"}, {}, 10, "us-cn-reciprocal");
  reciprocal.excluded = {H("8703")};
  book = Apply(book, reciprocal);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8704")), 10);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("84")), 10);
}

TEST(TariffBookStackingTest, ExcludedTargetCountriesAreSpared) {
  // The 2025 baseline: 10% on every partner but Canada and Mexico.
  TariffAction baseline = Effective("US", {}, {}, 10, "us-baseline");
  baseline.excluded_targets = {C("CA"), C("MX")};
  TariffBook book = Apply(TariffBook(), baseline);
  EXPECT_EQ(book.Rate(C("US"), C("CA"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("MX"), H("87")), 0);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), kAll), 10);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 10);
  EXPECT_EQ(book.Rate(C("US"), C("FR"), kAll), 10);

  // "EU" in the exclusions spares every member state.
  TariffAction sparing_eu = Effective("US", {}, {}, 10, "us-baseline-2");
  sparing_eu.excluded_targets = {Country::Eu()};
  book = Apply(TariffBook(), sparing_eu);
  EXPECT_EQ(book.Rate(C("US"), C("FR"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("DE"), H("87")), 0);
  EXPECT_EQ(book.Rate(C("US"), C("GB"), kAll), 10);
}

TEST(TariffBookStackingTest, AnEuTargetCoversEveryMemberState) {
  auto step = TariffBook().Plan(Effective("US", {"EU"}, {}, 15));
  ASSERT_TRUE(step.ok()) << step.status();
  const TariffBook& book = *step->next;
  EXPECT_EQ(book.Rate(C("US"), C("FR"), kAll), 15);
  EXPECT_EQ(book.Rate(C("US"), C("DE"), kAll), 15);
  EXPECT_EQ(book.Rate(C("US"), C("HR"), H("8703")), 15);
  EXPECT_EQ(book.Rate(C("US"), C("GB"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CH"), kAll), 0);
  EXPECT_THAT(book.measures(), SizeIs(1));  // one measure, not 27
  EXPECT_EQ(book.revision(), 1u);
  // The members moved alike: one "EU" line.
  ASSERT_THAT(step->changes, SizeIs(1));
  EXPECT_EQ(step->changes[0].target, "EU");
  EXPECT_EQ(step->changes[0].previous_rate_pct, 0);
  EXPECT_EQ(step->changes[0].new_rate_pct, 15);
}

TEST(TariffBookStackingTest, NoTariffWithinOneCustomsBloc) {
  TariffBook book;
  book = Apply(book, Effective("US", {}, {}, 50));
  EXPECT_EQ(book.Rate(C("US"), C("US"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CA"), kAll), 50);

  book = Apply(book, Effective("EU", {}, {}, 20));
  EXPECT_EQ(book.Rate(C("EU"), C("FR"), kAll), 0);
  EXPECT_EQ(book.Rate(C("EU"), C("DE"), H("8703")), 0);
  EXPECT_EQ(book.Rate(C("EU"), C("CN"), kAll), 20);
  EXPECT_EQ(book.Rate(C("EU"), C("GB"), kAll), 20);
  EXPECT_EQ(book.Rate(C("EU"), C("US"), kAll), 20);
}

TEST(TariffBookStackingTest, AnEventWithoutMeasureIdActsOnItsDefaultMeasure) {
  TariffBook book;
  auto first = book.Plan(Effective("US", {"CN"}, {}, 10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->action.measure_id, "US>CN:*");
  book = *first->next;

  // Same scope: the same measure, set to the new rate (not added).
  book = Apply(book, Effective("US", {"CN"}, {}, 20));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 20);
  EXPECT_THAT(book.measures(), SizeIs(1));

  // Another scope: another measure, which stacks.
  book = Apply(book, Effective("US", {"CN"}, {"87"}, 25));
  EXPECT_THAT(book.measures(), SizeIs(2));
  EXPECT_EQ(book.measures().count("US>CN:*"), 1u);
  EXPECT_EQ(book.measures().count("US>CN:87"), 1u);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 45);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("84")), 20);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 20);
}

TEST(TariffBookStackingTest, TheDefaultMeasureDoesNotDependOnListOrder) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"MX", "CA"}, {}, 25));
  book = Apply(book, Effective("US", {"CA", "MX"}, {}, 35));
  EXPECT_THAT(book.measures(), SizeIs(1));
  EXPECT_EQ(book.Rate(C("US"), C("MX"), kAll), 35);
  EXPECT_EQ(book.Rate(C("US"), C("CA"), kAll), 35);
}

TEST(TariffBookStackingTest, DefaultMeasureIdsSpellTheScope) {
  EXPECT_EQ(TariffBook::DefaultMeasureId(Effective("US", {"CN"}, {}, 1)),
            "US>CN:*");
  EXPECT_EQ(TariffBook::DefaultMeasureId(Effective("US", {}, {"73", "72"}, 1)),
            "US>*:72,73");
  EXPECT_EQ(TariffBook::DefaultMeasureId(Effective("US", {"MX", "CA"}, {}, 1)),
            "US>CA,MX:*");
  TariffAction excluding = Effective("US", {"CN"}, {}, 1);
  excluding.excluded = {H("73"), H("72")};
  EXPECT_EQ(TariffBook::DefaultMeasureId(excluding), "US>CN:*-x72,73");
}

// --------------------------------------------------------------- lifecycle

TEST(TariffBookLifecycleTest, EffectiveSetsTheMeasuresRate) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"CN"}, {}, 34, "r"));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 34);
  TariffAction raise = Effective("US", {"CN"}, {}, 125, "r");
  raise.event_id = "raise";
  book = Apply(book, raise);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 125);
  const Measure& m = book.measures().at("r");
  EXPECT_TRUE(m.in_force);
  EXPECT_EQ(m.rate_pct, 125);
  EXPECT_EQ(m.event_id, "raise");
  EXPECT_FALSE(m.pause.has_value());
  EXPECT_FALSE(m.pending.has_value());
}

TEST(TariffBookLifecycleTest, APauseLowersTheRateAndRemembersThePrevious) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"CN"}, {}, 125, "r"));
  TariffAction pause = Paused("US", "r", 10, kT90);
  pause.event_id = "pause";
  auto step = book.Plan(pause);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(ExpectedDelta(*step, "CN"), -115);
  ASSERT_THAT(step->changes, SizeIs(1));
  EXPECT_EQ(step->changes[0].target, "CN");
  EXPECT_EQ(step->changes[0].previous_rate_pct, 125);
  EXPECT_EQ(step->changes[0].new_rate_pct, 10);
  // The pause acts on the measure's own scope.
  EXPECT_EQ(step->action.targets, std::vector<Country>{C("CN")});

  const TariffBook& next = *step->next;
  EXPECT_EQ(next.Rate(C("US"), C("CN"), kAll), 10);
  const Measure& m = next.measures().at("r");
  ASSERT_TRUE(m.pause.has_value());
  EXPECT_EQ(m.pause->snap_back_rate_pct, 125);
  EXPECT_EQ(m.pause->expires, kT90);
  EXPECT_EQ(m.pause->event_id, "pause");
}

TEST(TariffBookLifecycleTest, APauseCanNameItsSnapBackRate) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"CN"}, {}, 125, "r"));
  TariffAction pause = Paused("US", "r", 10, kT90);
  pause.snap_back_rate_pct = 34;
  book = Apply(book, pause);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 10);
  EXPECT_EQ(book.measures().at("r").pause->snap_back_rate_pct, 34);

  std::vector<TariffAction> due = book.DueSnapBacks(kT90);
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].new_rate_pct, 34);
  book = Apply(book, due[0]);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 34);
}

TEST(TariffBookLifecycleTest, ASnapBackFallsDueAtTheExpiryNotBefore) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"CN"}, {}, 125, "r"));
  book = Apply(book, Paused("US", "r", 10, kT90));

  EXPECT_THAT(book.DueSnapBacks(kT0), IsEmpty());
  EXPECT_THAT(book.DueSnapBacks(kT90 - absl::Seconds(1)), IsEmpty());
  ASSERT_THAT(book.DueSnapBacks(kT90), SizeIs(1));
  std::vector<TariffAction> due = book.DueSnapBacks(kT90 + absl::Hours(24));
  ASSERT_THAT(due, SizeIs(1));
  const TariffAction& a = due[0];
  EXPECT_EQ(a.event_id, "r/snap-back/2025-07-08T00:00:00Z");
  EXPECT_EQ(a.stage, Stage::kEffective);
  EXPECT_TRUE(a.snap_back);
  EXPECT_EQ(a.measure_id, "r");
  EXPECT_EQ(a.importer, C("US"));
  EXPECT_EQ(a.targets, std::vector<Country>{C("CN")});
  EXPECT_EQ(a.new_rate_pct, 125);
  EXPECT_EQ(a.previous_rate_pct, 10);
  EXPECT_EQ(a.probability, 1);
  EXPECT_EQ(a.effective_time, kT90);

  auto step = book.Plan(a);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(ExpectedDelta(*step, "CN"), 115);
  book = *step->next;
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 125);
  EXPECT_FALSE(book.measures().at("r").pause.has_value());
  // Once applied it is no longer due.
  EXPECT_THAT(book.DueSnapBacks(kT180), IsEmpty());
}

TEST(TariffBookLifecycleTest, DueSnapBacksComeEarliestFirst) {
  TariffBook book;
  book = Apply(book, Effective("US", {"CN"}, {}, 100, "a-late"));
  book = Apply(book, Effective("US", {"MX"}, {}, 25, "b-early"));
  book = Apply(book, Paused("US", "a-late", 10, kT180));
  book = Apply(book, Paused("US", "b-early", 0, kT90));
  std::vector<TariffAction> due = book.DueSnapBacks(kT180);
  ASSERT_THAT(due, SizeIs(2));
  EXPECT_EQ(due[0].measure_id, "b-early");
  EXPECT_EQ(due[1].measure_id, "a-late");
  ASSERT_THAT(book.DueSnapBacks(kT90), SizeIs(1));
}

TEST(TariffBookLifecycleTest, TheClockOnlyMovesForward) {
  TariffBook book;
  EXPECT_EQ(book.clock(), absl::InfinitePast());
  book.AdvanceClock(kT90);
  EXPECT_EQ(book.clock(), kT90);
  book.AdvanceClock(kT0);
  EXPECT_EQ(book.clock(), kT90);
}

TEST(TariffBookLifecycleTest, ExtendedMovesTheExpiryAndChangesNoRate) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"CN"}, {}, 125, "r"));
  book = Apply(book, Paused("US", "r", 10, kT90));
  const uint64_t revision = book.revision();

  TariffAction extend = Extended("US", "r", kT180);
  extend.event_id = "extend";
  auto step = book.Plan(extend);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(ExpectedDelta(*step, "CN"), 0);
  EXPECT_EQ(ExpectedDelta(*step, "CN", H("87")), 0);
  for (const BookRateChange& c : step->changes) {
    EXPECT_EQ(c.previous_rate_pct, 10);
    EXPECT_EQ(c.new_rate_pct, 10);
  }

  const TariffBook& next = *step->next;
  EXPECT_EQ(next.revision(), revision + 1);
  EXPECT_EQ(next.Rate(C("US"), C("CN"), kAll), 10);
  EXPECT_EQ(next.measures().at("r").pause->expires, kT180);
  EXPECT_EQ(next.measures().at("r").pause->snap_back_rate_pct, 125);
  EXPECT_THAT(next.DueSnapBacks(kT90), IsEmpty());
  std::vector<TariffAction> due = next.DueSnapBacks(kT180);
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].event_id, "r/snap-back/2025-10-06T00:00:00Z");
  EXPECT_EQ(due[0].new_rate_pct, 125);
}

TEST(TariffBookLifecycleTest, RevokedTakesAMeasureOutOfTheSum) {
  TariffBook book = FentanylAndReciprocal();
  auto step = book.Plan(Revoked("US", "us-cn-fentanyl"));
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(ExpectedDelta(*step, "CN"), -20);
  book = *step->next;
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 10);
  EXPECT_EQ(book.measures().count("us-cn-fentanyl"), 0u);

  book = Apply(book, Revoked("US", "us-cn-reciprocal"));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_THAT(book.measures(), IsEmpty());
}

TEST(TariffBookLifecycleTest, RevokingAPausedMeasureCancelsItsSnapBack) {
  TariffBook book = Apply(TariffBook(), Effective("US", {"CN"}, {}, 125, "r"));
  book = Apply(book, Paused("US", "r", 10, kT90));
  book = Apply(book, Revoked("US", "r"));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_THAT(book.DueSnapBacks(kT180), IsEmpty());
}

TEST(TariffBookLifecycleTest, EveryChangeBumpsTheRevision) {
  TariffBook book;
  const std::vector<TariffAction> actions = {
      Threat(Stage::kThreatened, "US", {"CN"}, 50, 0.3, "r"),
      Threat(Stage::kAnnounced, "US", {"CN"}, 50, 0.7, "r"),
      Effective("US", {"CN"}, {}, 50, "r"),
      Paused("US", "r", 10, kT90),
      Extended("US", "r", kT180),
      Revoked("US", "r"),
  };
  uint64_t expected = 0;
  for (const TariffAction& a : actions) {
    auto step = book.Plan(a);
    ASSERT_TRUE(step.ok()) << StageName(a.stage) << ": " << step.status();
    // Plan leaves the book it is called on alone.
    EXPECT_EQ(book.revision(), expected) << StageName(a.stage);
    EXPECT_EQ(step->next->revision(), ++expected) << StageName(a.stage);
    book = *step->next;
  }
  EXPECT_EQ(book.revision(), 6u);
}

// ----------------------------------------------------------------- pricing

TEST(TariffBookPricingTest, AThreatThenItsEffectiveStageScoreTheChangeOnce) {
  TariffBook book;
  auto threat = book.Plan(Threat(Stage::kThreatened, "US", {"MX"}, 25, 0.3));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_NEAR(ExpectedDelta(*threat, "MX"), 7.5, 1e-9);  // 0.3 x 25
  // The threatened change, if it happens: 0 -> 25.
  ASSERT_THAT(threat->changes, SizeIs(1));
  EXPECT_EQ(threat->changes[0].previous_rate_pct, 0);
  EXPECT_EQ(threat->changes[0].new_rate_pct, 25);
  book = *threat->next;
  EXPECT_EQ(book.Rate(C("US"), C("MX"), kAll), 0);  // not in force

  auto effective = book.Plan(Effective("US", {"MX"}, {}, 25));
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_NEAR(ExpectedDelta(*effective, "MX"), 17.5, 1e-9);  // 25 - 7.5
  EXPECT_EQ(effective->next->Rate(C("US"), C("MX"), kAll), 25);
}

TEST(TariffBookPricingTest, ThreatAnnouncementAndEffectiveSumToTheChange) {
  TariffBook book;
  auto threat = book.Plan(Threat(Stage::kThreatened, "US", {"MX"}, 25, 0.3));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_NEAR(ExpectedDelta(*threat, "MX"), 7.5, 1e-9);
  book = *threat->next;
  auto announced = book.Plan(Threat(Stage::kAnnounced, "US", {"MX"}, 25, 0.7));
  ASSERT_TRUE(announced.ok()) << announced.status();
  EXPECT_NEAR(ExpectedDelta(*announced, "MX"), 10, 1e-9);  // 17.5 - 7.5
  book = *announced->next;
  EXPECT_EQ(book.Rate(C("US"), C("MX"), kAll), 0);
  auto effective = book.Plan(Effective("US", {"MX"}, {}, 25));
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_NEAR(ExpectedDelta(*effective, "MX"), 7.5, 1e-9);  // 25 - 17.5
}

TEST(TariffBookPricingTest, AWithdrawnThreatGivesBackThePricedPart) {
  TariffBook book;
  book = Apply(book, Threat(Stage::kThreatened, "US", {"MX"}, 25, 0.3));
  auto revoked = book.Plan(Revoked("US", "US>MX:*"));
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_NEAR(ExpectedDelta(*revoked, "MX"), -7.5, 1e-9);
  EXPECT_EQ(revoked->next->Rate(C("US"), C("MX"), kAll), 0);
  EXPECT_THAT(revoked->next->measures(), IsEmpty());
}

TEST(TariffBookPricingTest, AThreatAtAnotherRateThanTheEffectiveOne) {
  TariffBook book;
  auto threat = book.Plan(Threat(Stage::kThreatened, "US", {"MX"}, 50, 0.3));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_NEAR(ExpectedDelta(*threat, "MX"), 15, 1e-9);  // 0.3 x 50
  book = *threat->next;
  auto effective = book.Plan(Effective("US", {"MX"}, {}, 25));
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_NEAR(ExpectedDelta(*effective, "MX"), 10, 1e-9);  // 25 - 15
}

TEST(TariffBookPricingTest, AThreatOnAMeasureInForce) {
  TariffBook start = Apply(TariffBook(), Effective("US", {"CN"}, {}, 10, "r"));
  auto threat =
      start.Plan(Threat(Stage::kThreatened, "US", {"CN"}, 60, 0.5, "r"));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_NEAR(ExpectedDelta(*threat, "CN"), 25, 1e-9);  // 0.5 x (60 - 10)
  ASSERT_THAT(threat->changes, SizeIs(1));
  EXPECT_EQ(threat->changes[0].previous_rate_pct, 10);
  EXPECT_EQ(threat->changes[0].new_rate_pct, 60);
  const TariffBook threatened = *threat->next;
  EXPECT_EQ(threatened.Rate(C("US"), C("CN"), kAll), 10);

  // It comes in lower than threatened: 30 - 35 priced = -5.
  auto lower = threatened.Plan(Effective("US", {"CN"}, {}, 30, "r"));
  ASSERT_TRUE(lower.ok()) << lower.status();
  EXPECT_NEAR(ExpectedDelta(*lower, "CN"), -5, 1e-9);
  // It does not happen: the rate stays 10, the priced 25 comes back.
  auto unchanged = threatened.Plan(Effective("US", {"CN"}, {}, 10, "r"));
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_NEAR(ExpectedDelta(*unchanged, "CN"), -25, 1e-9);
}

TEST(TariffBookPricingTest, AThreatOnOneMeasureLeavesTheOthersAlone) {
  TariffBook book = FentanylAndReciprocal();
  auto threat = book.Plan(
      Threat(Stage::kThreatened, "US", {"CN"}, 50, 0.3, "us-cn-fentanyl"));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_NEAR(ExpectedDelta(*threat, "CN"), 9, 1e-9);  // 0.3 x (50 - 20)
  EXPECT_EQ(threat->next->Rate(C("US"), C("CN"), kAll), 30);
  ASSERT_THAT(threat->changes, SizeIs(1));
  EXPECT_EQ(threat->changes[0].previous_rate_pct, 30);
  EXPECT_EQ(threat->changes[0].new_rate_pct, 60);
}

// --------------------------------------------------------------- bad input

TEST(TariffBookRefusalTest, ExtendedOrRevokedOnAnUnknownMeasure) {
  const TariffBook book = FentanylAndReciprocal();
  for (const TariffAction& a : {Extended("US", "ghost-measure", kT180),
                                Revoked("US", "ghost-measure")}) {
    auto step = book.Plan(a);
    ASSERT_FALSE(step.ok()) << StageName(a.stage);
    EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(step.status().message()),
                HasSubstr("ghost-measure"));
  }
  EXPECT_EQ(book.revision(), 2u);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
}

TEST(TariffBookRefusalTest, ExtendedOnAMeasureThatIsNotPaused) {
  const TariffBook book = FentanylAndReciprocal();
  auto step = book.Plan(Extended("US", "us-cn-fentanyl", kT180));
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(step.status().message()),
              HasSubstr("us-cn-fentanyl"));
  EXPECT_THAT(book.DueSnapBacks(kT180), IsEmpty());
}

TEST(TariffBookRefusalTest, APauseOfAMeasureNotInForceNeedsASnapBackRate) {
  const TariffBook book = Apply(
      TariffBook(), Threat(Stage::kThreatened, "US", {"CN"}, 50, 0.3, "t"));
  for (const char* measure : {"unknown", "t"}) {
    auto step = book.Plan(Paused("US", measure, 10, kT90));
    ASSERT_FALSE(step.ok()) << measure;
    EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(step.status().message()), HasSubstr(measure));
  }
  // With the rate it returns to, a pause may start a measure.
  TariffAction pause = Paused("US", "new-measure", 10, kT90);
  pause.targets = {C("CN")};
  pause.snap_back_rate_pct = 25;
  TariffBook next = Apply(book, pause);
  EXPECT_EQ(next.Rate(C("US"), C("CN"), kAll), 10);
  std::vector<TariffAction> due = next.DueSnapBacks(kT90);
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].new_rate_pct, 25);
}

TEST(TariffBookRefusalTest, AMeasureOfAnotherImporter) {
  const TariffBook book = FentanylAndReciprocal();
  TariffAction china = Effective("CN", {"US"}, {}, 34, "us-cn-reciprocal");
  auto step = book.Plan(china);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(step.status().message()),
              HasSubstr("event.imposing_country"));
  EXPECT_THAT(std::string(step.status().message()),
              HasSubstr("us-cn-reciprocal"));
}

TEST(TariffBookRefusalTest, APauseOnAnotherScopeThanTheMeasures) {
  const TariffBook book = FentanylAndReciprocal();
  TariffAction pause = Paused("US", "us-cn-reciprocal", 0, kT90);
  pause.targets = {C("MX")};
  auto step = book.Plan(pause);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(step.status().message()),
              HasSubstr("us-cn-reciprocal"));
}

// The publisher repeats the measure's targets but leaves its channels out
// (all channels): the scopes differ only in the channels, and the error must
// say so, not point at target_countries, which match.
TEST(TariffBookRefusalTest, APauseThatDiffersOnlyInChannelsNamesTheChannels) {
  TariffAction mexico = Effective("US", {"MX"}, {}, 25, "us-mx-fentanyl");
  mexico.channels = static_cast<uint8_t>(Channel::kGeneral) |
                    static_cast<uint8_t>(Channel::kLowValue);
  const TariffBook book = Apply(TariffBook(), mexico);
  TariffAction pause = Paused("US", "us-mx-fentanyl", 10, kT90);
  pause.targets = {C("MX")};
  auto step = book.Plan(pause);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(step.status().message()),
              ::testing::StartsWith("event.channels: "));
  EXPECT_THAT(std::string(step.status().message()),
              HasSubstr("us-mx-fentanyl"));
}

}  // namespace
}  // namespace tariffalert

namespace tariffalert {
namespace {

TEST(TariffBookTest, ANamedMeasureChangedWithoutAScopeKeepsItsOwn) {
  // "us-cn-fentanyl goes to 10%" must not turn the China measure into an
  // all-partners one (an empty target list alone would mean all partners).
  TariffBook book = FentanylAndReciprocal();
  book = Apply(book, Effective("US", {}, {}, 10, "us-cn-fentanyl"));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 20);  // 10 + 10
  EXPECT_EQ(book.Rate(C("US"), C("JP"), kAll), 0);
  const Measure& m = book.measures().at("us-cn-fentanyl");
  ASSERT_THAT(m.targets, SizeIs(1));
  EXPECT_EQ(m.targets[0], C("CN"));
  // A threat on it without a scope is on the same measure too.
  auto threat = book.Plan(Threat(Stage::kThreatened, "US", {}, 30, 0.5,
                                 "us-cn-fentanyl"));
  ASSERT_TRUE(threat.ok()) << threat.status();
  EXPECT_DOUBLE_EQ(ExpectedDelta(*threat, "CN"), 10);  // 0.5 x (30 - 10)
  EXPECT_DOUBLE_EQ(ExpectedDelta(*threat, "JP"), 0);
}

}  // namespace
}  // namespace tariffalert
