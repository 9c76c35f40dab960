#include "server/common/hs_code.h"

#include <string>

#include "gtest/gtest.h"

namespace tariffalert {
namespace {

HsCode H(const char* text) {
  auto h = HsCode::Parse(text);
  EXPECT_TRUE(h.has_value()) << text;
  return h.value_or(HsCode::All());
}

TEST(HsCodeParseTest, StarIsAllGoods) {
  auto h = HsCode::Parse("*");
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->is_all());
  EXPECT_EQ(*h, HsCode::All());
  EXPECT_EQ(h->ToString(), "*");
}

TEST(HsCodeParseTest, TwoDigitsAreAChapter) {
  auto h = HsCode::Parse("87");
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->is_chapter());
  EXPECT_FALSE(h->is_heading());
  EXPECT_EQ(h->chapter(), 87);
  EXPECT_TRUE(HsCode::Parse("01").has_value());
  EXPECT_TRUE(HsCode::Parse("97").has_value());
}

TEST(HsCodeParseTest, FourDigitsAreAHeadingInItsChapter) {
  auto h = HsCode::Parse("8703");
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->is_heading());
  EXPECT_FALSE(h->is_chapter());
  EXPECT_EQ(h->chapter(), 87);
}

TEST(HsCodeParseTest, RejectsReservedOutOfRangeAndMalformedCodes) {
  // 77 is reserved, there is no chapter 00 and chapters stop at 97; a heading
  // is never xx00; only 2 or 4 digits (no subheadings).
  for (const char* bad :
       {"77", "7701", "00", "0001", "98", "99", "9801", "8700", "8", "870",
        "87031", "870321", "abc", "8a", "", "**", " 87", "-1"}) {
    EXPECT_FALSE(HsCode::Parse(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(HsCodeTest, ToStringKeepsLeadingZeros) {
  EXPECT_EQ(H("09").ToString(), "09");
  EXPECT_EQ(H("0901").ToString(), "0901");
  EXPECT_EQ(H("0901").chapter(), 9);
  EXPECT_EQ(H("87").ToString(), "87");
  EXPECT_EQ(H("8703").ToString(), "8703");
}

TEST(HsCodeTest, ParentOfAHeadingIsItsChapter) {
  EXPECT_EQ(H("8703").Parent(), H("87"));
  EXPECT_EQ(H("0901").Parent(), H("09"));
  EXPECT_EQ(H("0901").Parent().ToString(), "09");
  EXPECT_EQ(H("87").Parent(), H("87"));
  EXPECT_EQ(HsCode::All().Parent(), HsCode::All());
}

TEST(HsCodeTest, AllGoodsContainsEveryScope) {
  EXPECT_TRUE(HsCode::All().Contains(HsCode::All()));
  EXPECT_TRUE(HsCode::All().Contains(H("87")));
  EXPECT_TRUE(HsCode::All().Contains(H("8703")));
  EXPECT_FALSE(H("87").Contains(HsCode::All()));
  EXPECT_FALSE(H("8703").Contains(HsCode::All()));
}

TEST(HsCodeTest, AChapterContainsItsHeadingsOnly) {
  EXPECT_TRUE(H("87").Contains(H("87")));
  EXPECT_TRUE(H("87").Contains(H("8703")));
  EXPECT_FALSE(H("87").Contains(H("8471")));
  EXPECT_FALSE(H("87").Contains(H("84")));
  EXPECT_FALSE(H("8703").Contains(H("87")));
  EXPECT_TRUE(H("8703").Contains(H("8703")));
  EXPECT_FALSE(H("8703").Contains(H("8704")));
  // Chapter 9 and heading 0901 vs chapter 90 and heading 9001.
  EXPECT_TRUE(H("09").Contains(H("0901")));
  EXPECT_FALSE(H("09").Contains(H("9001")));
  EXPECT_FALSE(H("90").Contains(H("0901")));
}

TEST(HsCodeTest, OverlapsIsSymmetricNesting) {
  EXPECT_TRUE(H("87").Overlaps(H("8703")));
  EXPECT_TRUE(H("8703").Overlaps(H("87")));
  EXPECT_TRUE(HsCode::All().Overlaps(H("8703")));
  EXPECT_TRUE(H("8703").Overlaps(HsCode::All()));
  EXPECT_TRUE(H("87").Overlaps(H("87")));
  EXPECT_FALSE(H("87").Overlaps(H("84")));
  EXPECT_FALSE(H("8703").Overlaps(H("8704")));
  EXPECT_FALSE(H("8703").Overlaps(H("84")));
}

TEST(HsCodeTest, EqualityComparesScopeNotJustDigits) {
  EXPECT_NE(H("87"), H("8703"));
  EXPECT_NE(H("09"), H("0901"));
  EXPECT_NE(H("87"), HsCode::All());
}

}  // namespace
}  // namespace tariffalert
