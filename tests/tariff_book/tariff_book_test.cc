#include "server/tariff_book/tariff_book.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;

const HsCode kAll = HsCode::All();

// An action as the validator would build it. No targets = all partners, no
// products = all goods.
TariffAction Action(const char* importer,
                    std::initializer_list<const char*> targets,
                    std::initializer_list<const char*> products, Stage stage,
                    std::optional<double> rate) {
  TariffAction a;
  a.event_id = "e";
  a.importer = C(importer);
  for (const char* t : targets) a.targets.push_back(C(t));
  for (const char* p : products) a.products.push_back(H(p));
  a.stage = stage;
  a.new_rate_pct = rate;
  return a;
}

TariffAction Effective(const char* importer,
                       std::initializer_list<const char*> targets,
                       std::initializer_list<const char*> products,
                       double rate) {
  return Action(importer, targets, products, Stage::kEffective, rate);
}

TEST(TariffBookTest, RatesStartAtZero) {
  TariffBook book;
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 0);
  EXPECT_EQ(book.revision(), 0u);
  EXPECT_EQ(book.entry_count(), 0u);
}

TEST(TariffBookTest, EffectiveEventSetsTheRateForItsPartnerAndDirection) {
  TariffBook book;
  EXPECT_TRUE(book.Apply(Effective("US", {"CN"}, {}, 145)));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 145);
  // An all-goods entry covers every chapter and heading.
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 145);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 145);
  // Other partners and the other direction are untouched.
  EXPECT_EQ(book.Rate(C("US"), C("MX"), kAll), 0);
  EXPECT_EQ(book.Rate(C("CN"), C("US"), kAll), 0);
  EXPECT_EQ(book.revision(), 1u);
}

TEST(TariffBookTest, ProductScopedEventSetsOnlyThoseGoods) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {"87", "8471"}, 25));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 25);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 25);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8471")), 25);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8472")), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("84")), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_EQ(book.entry_count(), 2u);
}

TEST(TariffBookTest, PartnerEntryBeatsAllPartnersEntry) {
  TariffBook book;
  book.Apply(Effective("US", {}, {}, 10));       // everyone: 10%
  book.Apply(Effective("US", {"CN"}, {}, 145));  // China: 145%
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 145);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), kAll), 10);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), H("8703")), 10);
}

TEST(TariffBookTest, AProductMeasureHoldsAgainstAPartnersAllGoodsRate) {
  TariffBook book;
  book.Apply(Effective("US", {}, {"72"}, 50));  // steel from everyone: 50%
  book.Apply(Effective("US", {"DE"}, {}, 15));  // German goods: 15%
  EXPECT_EQ(book.Rate(C("US"), C("DE"), H("72")), 50);
  EXPECT_EQ(book.Rate(C("US"), C("DE"), H("7208")), 50);
  EXPECT_EQ(book.Rate(C("US"), C("DE"), H("87")), 15);
  // At the same scope the partner's own entry wins.
  book.Apply(Effective("US", {"GB"}, {"72"}, 25));
  EXPECT_EQ(book.Rate(C("US"), C("GB"), H("72")), 25);
  EXPECT_EQ(book.Rate(C("US"), C("JP"), H("72")), 50);
}

TEST(TariffBookTest, HeadingBeatsChapterBeatsAllGoods) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  book.Apply(Effective("US", {"CN"}, {"87"}, 50));
  book.Apply(Effective("US", {"CN"}, {"8703"}, 100));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 100);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8704")), 50);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("87")), 50);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("84")), 30);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8471")), 30);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
}

TEST(TariffBookTest, NoTariffWithinOneCustomsBloc) {
  TariffBook book;
  book.Apply(Effective("US", {}, {}, 50));
  EXPECT_EQ(book.Rate(C("US"), C("US"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CA"), kAll), 50);

  book.Apply(Effective("EU", {}, {}, 20));
  EXPECT_EQ(book.Rate(C("EU"), C("FR"), kAll), 0);
  EXPECT_EQ(book.Rate(C("EU"), C("DE"), H("8703")), 0);
  EXPECT_EQ(book.Rate(C("EU"), C("CN"), kAll), 20);
  EXPECT_EQ(book.Rate(C("EU"), C("GB"), kAll), 20);
}

TEST(TariffBookTest, EuTargetSetsEveryMemberState) {
  TariffBook book;
  EXPECT_TRUE(book.Apply(Effective("US", {"EU"}, {}, 15)));
  EXPECT_EQ(book.Rate(C("US"), C("FR"), kAll), 15);
  EXPECT_EQ(book.Rate(C("US"), C("DE"), kAll), 15);
  EXPECT_EQ(book.Rate(C("US"), C("HR"), H("8703")), 15);
  EXPECT_EQ(book.Rate(C("US"), C("GB"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CH"), kAll), 0);
  EXPECT_EQ(book.entry_count(), 27u);
  EXPECT_EQ(book.revision(), 1u);  // one event, one revision
}

TEST(TariffBookTest, RevokedRemovesTheEntryAndFallsBackToTheLessSpecific) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  book.Apply(Effective("US", {"CN"}, {"87"}, 100));
  const uint64_t before = book.revision();
  EXPECT_TRUE(
      book.Apply(Action("US", {"CN"}, {"87"}, Stage::kRevoked, std::nullopt)));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), H("8703")), 30);
  EXPECT_EQ(book.revision(), before + 1);

  EXPECT_TRUE(
      book.Apply(Action("US", {"CN"}, {}, Stage::kRevoked, std::nullopt)));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_EQ(book.entry_count(), 0u);
}

TEST(TariffBookTest, RevokingAnAbsentEntryChangesNothing) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  EXPECT_FALSE(
      book.Apply(Action("US", {"MX"}, {}, Stage::kRevoked, std::nullopt)));
  EXPECT_EQ(book.revision(), 1u);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
}

TEST(TariffBookTest, PauseSetsTheLowerRate) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 145));
  EXPECT_TRUE(book.Apply(Action("US", {"CN"}, {}, Stage::kPaused, 30)));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
  EXPECT_EQ(book.revision(), 2u);
}

TEST(TariffBookTest, ThreatsAnnouncementsAndExtensionsLeaveTheBookAlone) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  EXPECT_FALSE(book.Apply(Action("US", {"CN"}, {}, Stage::kThreatened, 145)));
  EXPECT_FALSE(book.Apply(Action("US", {"CN"}, {}, Stage::kAnnounced, 145)));
  EXPECT_FALSE(
      book.Apply(Action("US", {"CN"}, {}, Stage::kExtended, std::nullopt)));
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
  EXPECT_EQ(book.revision(), 1u);
}

TEST(TariffBookTest, AfterAThreatIsTheHypotheticalBook) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  const TariffBook after =
      book.After(Action("US", {"CN"}, {}, Stage::kThreatened, 145));
  EXPECT_EQ(after.Rate(C("US"), C("CN"), kAll), 145);
  // The book itself did not move.
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
  EXPECT_EQ(book.revision(), 1u);

  const TariffBook announced =
      book.After(Action("US", {"CN"}, {}, Stage::kAnnounced, 60));
  EXPECT_EQ(announced.Rate(C("US"), C("CN"), kAll), 60);
}

TEST(TariffBookTest, AfterAnExtensionIsTheSameBook) {
  TariffBook book;
  book.Apply(Action("US", {"CN"}, {}, Stage::kPaused, 30));
  const TariffBook after =
      book.After(Action("US", {"CN"}, {}, Stage::kExtended, std::nullopt));
  EXPECT_EQ(after.Rate(C("US"), C("CN"), kAll), 30);
  EXPECT_EQ(after.revision(), book.revision());
}

TEST(TariffBookTest, AfterARevocationDropsTheEntry) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  const TariffBook after =
      book.After(Action("US", {"CN"}, {}, Stage::kRevoked, std::nullopt));
  EXPECT_EQ(after.Rate(C("US"), C("CN"), kAll), 0);
  EXPECT_EQ(book.Rate(C("US"), C("CN"), kAll), 30);
}

TEST(TariffBookTest, RevisionBumpsOnlyOnARealChange) {
  TariffBook book;
  EXPECT_TRUE(book.Apply(Effective("US", {"CN"}, {}, 145)));
  EXPECT_EQ(book.revision(), 1u);
  EXPECT_FALSE(book.Apply(Effective("US", {"CN"}, {}, 145)));
  EXPECT_EQ(book.revision(), 1u);
  EXPECT_TRUE(book.Apply(Effective("US", {"CN"}, {}, 150)));
  EXPECT_EQ(book.revision(), 2u);
  // Re-setting the EU rate is no change either, for any member.
  book.Apply(Effective("US", {"EU"}, {}, 15));
  EXPECT_EQ(book.revision(), 3u);
  EXPECT_FALSE(book.Apply(Effective("US", {"EU"}, {}, 15)));
  EXPECT_EQ(book.revision(), 3u);
}

TEST(TariffBookTest, ChangesListBeforeAndAfterPerTargetAndProduct) {
  TariffBook book;
  book.Apply(Effective("US", {"CN"}, {}, 30));
  const TariffAction action =
      Effective("US", {"CN", "MX"}, {"87", "8471"}, 145);
  const TariffBook after = book.After(action);
  const std::vector<BookRateChange> changes = book.Changes(action, after);
  ASSERT_EQ(changes.size(), 4u);
  // Products outer, targets inner.
  EXPECT_EQ(changes[0].target, "CN");
  EXPECT_EQ(changes[0].product, H("87"));
  EXPECT_EQ(changes[0].previous_rate_pct, 30);  // from CN's all-goods entry
  EXPECT_EQ(changes[0].new_rate_pct, 145);
  EXPECT_EQ(changes[1].target, "MX");
  EXPECT_EQ(changes[1].product, H("87"));
  EXPECT_EQ(changes[1].previous_rate_pct, 0);
  EXPECT_EQ(changes[1].new_rate_pct, 145);
  EXPECT_EQ(changes[2].target, "CN");
  EXPECT_EQ(changes[2].product, H("8471"));
  EXPECT_EQ(changes[3].target, "MX");
  EXPECT_EQ(changes[3].product, H("8471"));
}

TEST(TariffBookTest, ChangesOfAnAllPartnersEventHaveTargetStar) {
  TariffBook book;
  const TariffAction action = Effective("US", {}, {}, 10);
  const std::vector<BookRateChange> changes =
      book.Changes(action, book.After(action));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].target, "*");
  EXPECT_TRUE(changes[0].product.is_all());
  EXPECT_EQ(changes[0].previous_rate_pct, 0);
  EXPECT_EQ(changes[0].new_rate_pct, 10);
}

TEST(TariffBookTest, ChangesCollapseEuMembersIntoOneLineWhenAlike) {
  TariffBook book;
  const TariffAction action = Effective("US", {"EU"}, {}, 15);
  const std::vector<BookRateChange> changes =
      book.Changes(action, book.After(action));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].target, "EU");
  EXPECT_EQ(changes[0].previous_rate_pct, 0);
  EXPECT_EQ(changes[0].new_rate_pct, 15);
}

TEST(TariffBookTest, ChangesListEachMemberWhenTheyDiffer) {
  TariffBook book;
  book.Apply(Effective("US", {"FR"}, {}, 25));
  const TariffAction action = Effective("US", {"EU", "CN"}, {}, 15);
  const std::vector<BookRateChange> changes =
      book.Changes(action, book.After(action));
  ASSERT_EQ(changes.size(), 28u);  // 27 members, then CN
  for (size_t i = 0; i < 27; ++i) {
    EXPECT_EQ(changes[i].target, EuMembers()[i].ToString());
    EXPECT_EQ(changes[i].new_rate_pct, 15);
    EXPECT_EQ(changes[i].previous_rate_pct, changes[i].target == "FR" ? 25 : 0);
  }
  EXPECT_EQ(changes[27].target, "CN");
}

}  // namespace
}  // namespace tariffalert
