#include "server/common/csv.h"

#include <array>
#include <string>

#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::array<absl::string_view, 2> kAB = {"a", "b"};

absl::StatusOr<CsvTable> Parse(absl::string_view text) {
  return CsvTable::Parse(text, "f.csv", kAB);
}

// The fields of every row, for compact comparison.
std::vector<std::vector<std::string>> Fields(const CsvTable& t) {
  std::vector<std::vector<std::string>> out;
  for (const CsvRow& r : t.rows()) out.push_back(r.fields);
  return out;
}

std::vector<int> Lines(const CsvTable& t) {
  std::vector<int> out;
  for (const CsvRow& r : t.rows()) out.push_back(r.line);
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvTableTest, ParsesRowsAfterTheHeaderWithTheirLines) {
  auto t = Parse("a,b\n1,2\n3,4\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t), (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(Lines(*t), (std::vector<int>{2, 3}));
  EXPECT_EQ(t->file_name(), "f.csv");
}

TEST(CsvTableTest, FindsColumnsByNameInAnyOrder) {
  auto t = Parse("b,a\nx,y\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows().size(), 1u);
  EXPECT_EQ(t->Field(t->rows()[0], t->Column("a")), "y");
  EXPECT_EQ(t->Field(t->rows()[0], t->Column("b")), "x");
  EXPECT_EQ(t->Column("c"), -1);
}

TEST(CsvTableTest, LastRowNeedsNoNewline) {
  auto t = Parse("a,b\n1,2");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t), (Rows{{"1", "2"}}));
}

TEST(CsvTableTest, QuotedFieldsMayHoldCommasAndDoubledQuotes) {
  auto t = Parse(
      "a,b\n"
      "\"Tesla, Inc.\",\"the \"\"Model Y\"\"\"\n"
      "\"\",plain\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t),
            (Rows{{"Tesla, Inc.", "the \"Model Y\""}, {"", "plain"}}));
}

TEST(CsvTableTest, EmbeddedNewlineKeepsLaterLineNumbersRight) {
  auto t = Parse(
      "a,b\n"
      "\"two\nlines\",x\n"  // lines 2-3
      "after,y\n");         // line 4
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t), (Rows{{"two\nlines", "x"}, {"after", "y"}}));
  EXPECT_EQ(Lines(*t), (std::vector<int>{2, 4}));
}

TEST(CsvTableTest, ErrorAfterAMultiLineFieldNamesTheRightLine) {
  auto t = Parse(
      "a,b\n"
      "\"one\ntwo\nthree\",x\n"  // lines 2-4
      "short\n");                // line 5
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:5: "));
}

TEST(CsvTableTest, CrLfLineEndsAreNotPartOfFields) {
  auto t = Parse("a,b\r\n1,2\r\n3,\"4\"\r\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t), (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(Lines(*t), (std::vector<int>{2, 3}));
}

TEST(CsvTableTest, Utf8ByteOrderMarkIsIgnored) {
  auto t = Parse(
      "\xEF\xBB\xBF"
      "a,b\n1,2\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->Column("a"), 0);
  EXPECT_EQ(Fields(*t), (Rows{{"1", "2"}}));
}

TEST(CsvTableTest, BlankLinesAreSkippedButCounted) {
  auto t = Parse("a,b\n\n1,2\n   \n\n3,4\n\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t), (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(Lines(*t), (std::vector<int>{3, 6}));
}

TEST(CsvTableTest, UnquotedFieldsAreTrimmedQuotedOnesAreNot) {
  auto t = Parse("a , b\n  1 ,\" 2 \"\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->Column("a"), 0);
  EXPECT_EQ(t->Column("b"), 1);
  EXPECT_EQ(Fields(*t), (Rows{{"1", " 2 "}}));
}

TEST(CsvTableTest, ExtraColumnsAreIgnoredButAccessible) {
  auto t = Parse("source,a,b,year\nvendor,1,2,2024\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows().size(), 1u);
  const CsvRow& row = t->rows()[0];
  EXPECT_EQ(t->Field(row, t->Column("a")), "1");
  EXPECT_EQ(t->Field(row, t->Column("b")), "2");
  EXPECT_EQ(t->Field(row, t->Column("source")), "vendor");
  EXPECT_EQ(t->Field(row, t->Column("year")), "2024");
}

TEST(CsvTableTest, MissingRequiredColumnNamesFileLineOneAndTheColumn) {
  auto t = Parse("a,c\n1,2\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:1: "));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("'b'"));
}

TEST(CsvTableTest, WrongFieldCountNamesFileAndLine) {
  auto t = Parse("a,b\n1,2\n3,4,5\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:3: "));
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr("expected 2 fields"));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("got 3"));

  auto short_row = Parse("a,b\n1\n");
  ASSERT_FALSE(short_row.ok());
  EXPECT_THAT(std::string(short_row.status().message()),
              StartsWith("f.csv:2: "));
}

TEST(CsvTableTest, UnterminatedQuoteNamesTheLineWhereItOpened) {
  auto t = Parse("a,b\n1,2\n3,\"open\nstill open\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:3: "));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("unterminated"));
}

TEST(CsvTableTest, QuoteInsideAnUnquotedFieldIsAnError) {
  auto t = Parse("a,b\n1,2 \"inch\"\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:2: "));
}

TEST(CsvTableTest, TextAfterAClosingQuoteIsAnError) {
  auto t = Parse("a,b\n\"1\"x,2\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:2: "));
}

TEST(CsvTableTest, DuplicateHeaderColumnIsAnError) {
  auto t = Parse("a,b,a\n1,2,3\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:1: "));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("'a'"));
}

TEST(CsvTableTest, EmptyFileIsAnErrorAskingForAHeader) {
  for (absl::string_view text : {"", "\n\n", "\xEF\xBB\xBF"}) {
    auto t = Parse(text);
    ASSERT_FALSE(t.ok());
    EXPECT_THAT(std::string(t.status().message()), StartsWith("f.csv:1: "));
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("header"));
  }
}

TEST(CsvTableTest, HeaderOnlyGivesNoRows) {
  auto t = Parse("a,b\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->rows().empty());
}

}  // namespace
}  // namespace tariffalert
