#include "server/tariff_book/book_store.h"

#include "gtest/gtest.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;

TariffBook BookAt(const TariffBook& from, double rate) {
  TariffAction a;
  a.event_id = "e";
  a.importer = C("US");
  a.targets = {C("CN")};
  a.stage = Stage::kEffective;
  a.new_rate_pct = rate;
  auto step = from.Plan(a);
  EXPECT_TRUE(step.ok()) << step.status();
  return step.ok() ? *step->next : from;
}

TEST(InMemoryBookStoreTest, StartsWithAnEmptyBookAtRevisionZero) {
  InMemoryBookStore store;
  auto book = store.Load();
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->revision(), 0u);
  EXPECT_TRUE(book->measures().empty());
}

TEST(InMemoryBookStoreTest, StoresOnlyOverTheRevisionItWasToldOf) {
  InMemoryBookStore store;
  const TariffBook first = BookAt(TariffBook(), 10);  // revision 1
  auto stored = store.Store(0, first);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(*stored);

  // A writer that still believes the store holds revision 0 loses.
  const TariffBook stale = BookAt(TariffBook(), 99);
  stored = store.Store(0, stale);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(*stored);
  auto book = store.Load();
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(book->revision(), 1u);
  EXPECT_EQ(book->Rate(C("US"), C("CN"), HsCode::All()), 10);

  // One that reloaded first wins.
  stored = store.Store(1, BookAt(*book, 20));
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(*stored);
  EXPECT_EQ(store.Load()->Rate(C("US"), C("CN"), HsCode::All()), 20);
  EXPECT_EQ(store.Load()->revision(), 2u);
}

}  // namespace
}  // namespace tariffalert
