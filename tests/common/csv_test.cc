#include "server/common/csv.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
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

TEST(CsvTableTest, QuotedCellsMayHoldCrLfCommasAndQuotesTogether) {
  auto t = Parse(
      "a,b\r\n"
      "\"Caterpillar, Inc.\",\"say \"\"hi\"\", then\r\nleave\"\r\n"  // 2-3
      "x,y\r\n");                                                    // 4
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(
      Fields(*t),
      (Rows{{"Caterpillar, Inc.", "say \"hi\", then\r\nleave"}, {"x", "y"}}));
  EXPECT_EQ(Lines(*t), (std::vector<int>{2, 4}));
}

TEST(CsvTableTest, ByteOrderMarkWithCrLfAsExcelExportsIt) {
  auto t = Parse(
      "\xEF\xBB\xBF"
      "a,b\r\n\"1,5\",2\r\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->Column("a"), 0);
  EXPECT_EQ(Fields(*t), (Rows{{"1,5", "2"}}));
}

TEST(CsvTableTest, UnterminatedQuoteOnTheLastLineNamesIt) {
  auto t = Parse("a,b\r\n1,2\r\n3,\"4\r\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "f.csv:3: unterminated quoted field");
}

TEST(CsvTableTest, InvalidUtf8NamesFileLineAndColumn) {
  auto t = Parse("a,b\n1,2\nok,Best Buy\xFF Co.\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(t.status().message()),
            "f.csv:3: b: not valid UTF-8 (byte 0xFF at offset 8 of the cell); "
            "save the file as UTF-8");
}

TEST(CsvTableTest, InvalidUtf8InAnIgnoredColumnIsRefusedToo) {
  auto t = Parse("a,b,source\n1,2,\"caf\xE9\"\n");  // Latin-1 é
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              StartsWith("f.csv:2: source: not valid UTF-8 (byte 0xE9"));
}

TEST(CsvTableTest, InvalidUtf8InTheHeaderNamesTheColumnNumber) {
  auto t = Parse("a,b,\xC0\xAF\n1,2,3\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              StartsWith("f.csv:1: header column 3: not valid UTF-8 (byte "
                         "0xC0 at offset 0"));
}

TEST(CsvTableTest, ValidMultiByteUtf8IsKept) {
  auto t =
      Parse("a,b\nNestl\xC3\xA9,\xE4\xB8\xB0\xE7\x94\xB0 \xF0\x9F\x9A\x97\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(
      Fields(*t),
      (Rows{{"Nestl\xC3\xA9", "\xE4\xB8\xB0\xE7\x94\xB0 \xF0\x9F\x9A\x97"}}));
}

TEST(FindInvalidUtf8Test, AcceptsWellFormedAndFindsTheFirstBadByte) {
  constexpr size_t npos = absl::string_view::npos;
  EXPECT_EQ(FindInvalidUtf8(""), npos);
  EXPECT_EQ(FindInvalidUtf8("plain ASCII"), npos);
  EXPECT_EQ(FindInvalidUtf8("\xC3\xA9\xE2\x82\xAC\xF4\x8F\xBF\xBF"), npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xFF"), 2u);
  EXPECT_EQ(FindInvalidUtf8("a\x80"), 1u);             // lone continuation
  EXPECT_EQ(FindInvalidUtf8("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);      // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);      // surrogate D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("x\xE2\x82"), 1u);         // cut short
  EXPECT_EQ(FindInvalidUtf8("\xC3\xA9\xC3"), 2u);
}

// Small limits, so that each is cheap to cross.
CsvLimits Small() {
  CsvLimits limits;
  limits.max_line_bytes = 20;
  limits.max_cell_bytes = 8;
  limits.max_rows = 3;
  limits.max_file_bytes = 200;
  return limits;
}

absl::StatusOr<CsvTable> ParseSmall(absl::string_view text) {
  return CsvTable::Parse(text, "f.csv", kAB, Small());
}

TEST(CsvLimitsTest, TheDefaultsAreTheDocumentedOnes) {
  const CsvLimits limits;
  EXPECT_EQ(limits.max_line_bytes, 65536u);
  EXPECT_EQ(limits.max_cell_bytes, 16384u);
  EXPECT_EQ(limits.max_rows, 1000000u);
  EXPECT_EQ(limits.max_file_bytes, 128u << 20);
}

TEST(CsvLimitsTest, ALineAtTheLimitIsFineOneByteMoreIsNot) {
  // Quotes and commas count; cells of 8 bytes are within their own limit.
  auto at = ParseSmall("a,b\n\"1234567\",\"12345678\"\n");  // 20 bytes
  EXPECT_TRUE(at.ok()) << at.status();
  auto over = ParseSmall("a,b\n\"12345678\",\"12345678\"\n");  // 21
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(std::string(over.status().message()),
            "f.csv:2: line longer than the limit of 20 bytes");
}

TEST(CsvLimitsTest, AHugeLineInAnyColumnNamesItsLine) {
  const std::string huge(1000, 'x');
  for (const std::string& text :
       {absl::StrCat("a,b\n1,2\n1,", huge, "\n3,4\n"),
        absl::StrCat("a,b\n1,2\n1,\"", huge, "\"\n3,4\n"),
        absl::StrCat("a,b\n1,2\n1,\"", huge, "\n"),  // and unterminated
        absl::StrCat("a,b\n1,2\n\"1\"", std::string(1000, ' '), ",2\n"),
        absl::StrCat("a,b\n1,2\n\"1\"", std::string(1000, ' '))}) {
    CsvLimits limits = Small();
    limits.max_file_bytes = 10000;
    auto t = CsvTable::Parse(text, "f.csv", kAB, limits);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(std::string(t.status().message()),
              "f.csv:3: line longer than the limit of 20 bytes");
  }
}

TEST(CsvLimitsTest, ARowSpreadOverLinesCountsWhole) {
  auto t = ParseSmall("a,b\n1,\"12345\n12345\n12345\n12345\n\"\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "f.csv:2: line longer than the limit of 20 bytes");
}

TEST(CsvLimitsTest, ALongCellNamesItsColumn) {
  auto t = ParseSmall("b,a\n1,2\n123456789,1\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "f.csv:3: b: 9 bytes, longer than the limit of 8");
}

TEST(CsvLimitsTest, RowsPastTheLimitAreRefusedAtTheFirstOneOver) {
  EXPECT_TRUE(ParseSmall("a,b\n1,2\n\n3,4\n5,6\n").ok());
  auto t = ParseSmall("a,b\n1,2\n\n3,4\n5,6\n7,8\n9,0\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "f.csv:6: more than the limit of 3 rows");
}

TEST(CsvLimitsTest, ATextLargerThanTheFileLimitIsRefused) {
  auto t = ParseSmall(std::string(201, '\n'));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "f.csv: 201 bytes, larger than the limit of 200");
}

class ReadCsvFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "read_csv_test.XXXXXX");
    const int fd = ::mkstemp(path_.data());
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  void Write(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string path_;
};

TEST_F(ReadCsvFileTest, ReadsBytesExactly) {
  const std::string bytes(
      "\xEF\xBB\xBF"
      "a,b\r\n\"x\"\0y\rz\n",
      17);
  Write(bytes);
  auto read = ReadCsvFile(path_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);
}

TEST_F(ReadCsvFileTest, ALongLineIsRefusedWithItsLineNumber) {
  // Line ends as the parser counts them: \n, \r\n and a lone \r.
  Write(absl::StrCat("a,b\r\n1,2\n3,4\r5,6\n", std::string(21, 'x'), "\n"));
  auto read = ReadCsvFile(path_, Small());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(std::string(read.status().message()),
            absl::StrCat(path_, ":5: line longer than the limit of 20 bytes"));
  Write(absl::StrCat("a,b\n", std::string(20, 'x'), "\r\n"));
  EXPECT_TRUE(ReadCsvFile(path_, Small()).ok());
}

TEST_F(ReadCsvFileTest, AFileOverTheLimitIsRefusedUnread) {
  Write(std::string(201, '\n'));
  auto read = ReadCsvFile(path_, Small());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(std::string(read.status().message()),
            absl::StrCat(path_, ": 201 bytes, larger than the limit of 200"));
}

TEST_F(ReadCsvFileTest, MissingFileAndDirectoryAreErrorsNamingThePath) {
  const std::string missing = path_ + ".missing";
  auto read = ReadCsvFile(missing);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(read.status().message()), StartsWith(missing));
  auto dir = ReadCsvFile(::testing::TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()),
              HasSubstr("not a regular file"));
}

long MaxRssKiB() {
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// A 100 MB line (under the file limit, so the read starts) is refused after
// one chunk: the peak memory of the process hardly moves.
TEST_F(ReadCsvFileTest, AHundredMegabyteLineIsRefusedWithoutReadingItAll) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "ticker,kind,country,product,share,source\n"
        "GM,revenue,US,*,0.5,10-K\n"
        "GM,sourcing,MX,*,0.2,",
        f);
    const std::string block(1 << 20, 'A');
    for (int i = 0; i < 100; ++i) std::fwrite(block.data(), 1, block.size(), f);
    std::fputs("\n", f);
    ASSERT_EQ(std::fclose(f), 0);
  }
  const long before = MaxRssKiB();
  auto read = ReadCsvFile(path_);
  const long after = MaxRssKiB();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(read.status().message()),
      absl::StrCat(path_, ":3: line longer than the limit of 65536 bytes"));
  EXPECT_LT(after - before, 8 * 1024) << "KiB of peak memory for the read";
}

TEST(LooksLikeFormulaTest, TheOwaspLeadingCharacters) {
  for (absl::string_view text : {"=1+2", "=HYPERLINK(\"http://x\",\"y\")", "+1",
                                 "-1", "@SUM(A1)", "\tx", "\rx"}) {
    EXPECT_TRUE(LooksLikeFormula(text)) << text;
  }
  for (absl::string_view text : {"", "Apple", " =1", "1-800-Flowers", "'=1"}) {
    EXPECT_FALSE(LooksLikeFormula(text)) << text;
  }
}

TEST(CsvCellTest, PlainTextIsWrittenAsIs) {
  EXPECT_EQ(CsvCell("Apple Inc."), "Apple Inc.");
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_EQ(CsvCell("BF-B"), "BF-B");
}

TEST(CsvCellTest, CommasQuotesAndLineBreaksAreQuoted) {
  EXPECT_EQ(CsvCell("Tesla, Inc."), "\"Tesla, Inc.\"");
  EXPECT_EQ(CsvCell("the \"Model Y\""), "\"the \"\"Model Y\"\"\"");
  EXPECT_EQ(CsvCell("a\nb"), "\"a\nb\"");
  EXPECT_EQ(CsvCell("a\r\nb"), "\"a\r\nb\"");
  EXPECT_EQ(CsvCell("x", /*always_quote=*/true), "\"x\"");
}

TEST(CsvCellTest, FormulaLookingCellsGetASingleQuoteFirst) {
  EXPECT_EQ(CsvCell("=1+2"), "'=1+2");
  EXPECT_EQ(CsvCell("+1"), "'+1");
  EXPECT_EQ(CsvCell("-1"), "'-1");
  EXPECT_EQ(CsvCell("@SUM(A1:A9)"), "'@SUM(A1:A9)");
  EXPECT_EQ(CsvCell("\tx"), "'\tx");
  EXPECT_EQ(CsvCell("\rx"), "\"'\rx\"");
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://evil\",\"click\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\"");
  EXPECT_EQ(CsvCell("=x", /*always_quote=*/true), "\"'=x\"");
}

TEST(CsvCellTest, WhatItWritesParsesBackToTheNeutralisedText) {
  const std::string row =
      absl::StrCat("a,b\n", CsvCell("=HYPERLINK(\"u\",\"t, x\")"), ",",
                   CsvCell("plain, \"quoted\""), "\n");
  auto t = Parse(row);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Fields(*t),
            (Rows{{"'=HYPERLINK(\"u\",\"t, x\")", "plain, \"quoted\""}}));
}

}  // namespace
}  // namespace tariffalert
