// base-rates.csv, the optional fourth file of the exposure format: the base
// (MFN) rate per importer and HS scope, each row with its source.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/exposure_csv.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using ::testing::ElementsAre;
using testing::H;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple,Information Technology,US,3000e9,0.54,0.31\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.4\n";
constexpr char kHeader[] = "importer,product,mfn_rate_pct,year,source\n";
constexpr char kSource[] = "USITC HTS 2025 Basic Edition, column 1 General";

absl::StatusOr<std::shared_ptr<const ExposureTable>> ParseBaseRates(
    const std::string& base_rates_csv) {
  ExposureFiles files{kCompanies, kExposures, "", base_rates_csv};
  return ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1",
                            "links.csv", "base-rates.csv");
}

// The error message of a base-rates file that must be rejected; `rows`
// follow the five-column header, so the first is line 2.
std::string ErrorOf(const std::string& rows) {
  auto t = ParseBaseRates(absl::StrCat(kHeader, rows));
  EXPECT_FALSE(t.ok()) << "accepted:\n" << rows;
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

std::vector<std::string> Lines(const std::string& message) {
  return absl::StrSplit(message, '\n');
}

// Rows from data/exposure/base-rates.csv, in its column order (the optional
// columns lines and left_out among them), not in scope order.
constexpr char kSampleRows[] =
    "importer,product,mfn_rate_pct,lines,left_out,year,source,url,method\n"
    "US,84,1.41,823,1,2025,\"USITC HTS 2025 Basic Edition, column 1 "
    "General\",https://www.usitc.gov/sites/default/files/tata/hts/"
    "hts_2025_basic_edition_csv.csv,simple mean of free and ad valorem HS8 "
    "lines; specific and compound lines left out\n"
    "US,8471,0.00,20,0,2025,\"USITC HTS 2025 Basic Edition, column 1 "
    "General\",,\n"
    "US,*,4.24,10177,1236,2025,\"USITC HTS 2025 Basic Edition, column 1 "
    "General\",,\n"
    "US,2403,350.00,3,10,2025,\"USITC HTS 2025 Basic Edition, column 1 "
    "General\",,\n";

TEST(BaseRatesCsvTest, NoFileMeansNoBaseRates) {
  auto t = ParseExposureFiles({kCompanies, kExposures}, "companies.csv",
                              "exposures.csv", "v1");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE((*t)->base_rates().empty());
  EXPECT_EQ((*t)->base_rates().Find(C("US"), H("8471")), nullptr);
}

TEST(BaseRatesCsvTest, AHeaderAloneMeansNoBaseRates) {
  auto t = ParseBaseRates(kHeader);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE((*t)->base_rates().empty());
}

TEST(BaseRatesCsvTest, TheSampleRowsParseWithTheirSource) {
  auto t = ParseBaseRates(kSampleRows);
  ASSERT_TRUE(t.ok()) << t.status();
  const BaseRates& rates = (*t)->base_rates();
  EXPECT_EQ(rates.size(), 4u);
  const BaseRate* chapter = rates.Find(C("US"), H("84"));
  ASSERT_NE(chapter, nullptr);
  EXPECT_EQ(chapter->importer, C("US"));
  EXPECT_EQ(chapter->product, H("84"));
  EXPECT_DOUBLE_EQ(chapter->rate_pct, 1.41);
  EXPECT_EQ(chapter->year, 2025);
  EXPECT_EQ(chapter->source, kSource);
  EXPECT_EQ(chapter->url,
            "https://www.usitc.gov/sites/default/files/tata/hts/"
            "hts_2025_basic_edition_csv.csv");
  EXPECT_EQ(chapter->method,
            "simple mean of free and ad valorem HS8 lines; specific and "
            "compound lines left out");
  EXPECT_EQ(chapter->lines, 823);
  // Over-quota tobacco, the highest rate in the 2025 HTS, is in range.
  ASSERT_NE(rates.Find(C("US"), H("2403")), nullptr);
  EXPECT_DOUBLE_EQ(rates.Find(C("US"), H("2403"))->rate_pct, 350);
}

TEST(BaseRatesCsvTest, FindFallsBackFromHeadingToChapterToAllGoods) {
  auto t = ParseBaseRates(kSampleRows);
  ASSERT_TRUE(t.ok()) << t.status();
  const BaseRates& rates = (*t)->base_rates();
  // The heading's own row.
  const BaseRate* heading = rates.Find(C("US"), H("8471"));
  ASSERT_NE(heading, nullptr);
  EXPECT_EQ(heading->product, H("8471"));
  EXPECT_DOUBLE_EQ(heading->rate_pct, 0);
  // A heading without a row: its chapter's.
  const BaseRate* chapter = rates.Find(C("US"), H("8473"));
  ASSERT_NE(chapter, nullptr);
  EXPECT_EQ(chapter->product, H("84"));
  // A heading and a chapter without rows: the all-goods row.
  for (const char* product : {"0901", "09", "2402", "24"}) {
    SCOPED_TRACE(product);
    const BaseRate* all = rates.Find(C("US"), H(product));
    ASSERT_NE(all, nullptr);
    EXPECT_TRUE(all->product.is_all());
    EXPECT_DOUBLE_EQ(all->rate_pct, 4.24);
  }
  ASSERT_NE(rates.Find(C("US"), HsCode::All()), nullptr);
  EXPECT_DOUBLE_EQ(rates.Find(C("US"), HsCode::All())->rate_pct, 4.24);
  // An importer with no rows has no base rate, whatever the goods.
  EXPECT_EQ(rates.Find(C("CN"), H("8471")), nullptr);
  EXPECT_EQ(rates.Find(C("CN"), HsCode::All()), nullptr);
}

TEST(BaseRatesCsvTest, WithoutAnAllGoodsRowAnUnlistedChapterHasNone) {
  auto t = ParseBaseRates(
      absl::StrCat(kHeader, "US,72,0.30,2025,HTS\n", "EU,72,0,2025,TARIC\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  const BaseRates& rates = (*t)->base_rates();
  ASSERT_NE(rates.Find(C("US"), H("7208")), nullptr);
  EXPECT_DOUBLE_EQ(rates.Find(C("US"), H("7208"))->rate_pct, 0.3);
  EXPECT_EQ(rates.Find(C("US"), H("7308")), nullptr);
  EXPECT_EQ(rates.Find(C("US"), H("73")), nullptr);
  // "EU" is an importer of its own.
  ASSERT_NE(rates.Find(C("EU"), H("7208")), nullptr);
  EXPECT_EQ(rates.Find(C("EU"), H("7208"))->source, "TARIC");
}

TEST(BaseRatesCsvTest, TheLimitsAreInclusive) {
  auto t = ParseBaseRates(
      absl::StrCat(kHeader, "US,01,0,1930,HTS\n", "US,02,1000,2100,HTS\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->base_rates().size(), 2u);
  EXPECT_EQ((*t)->base_rates().Find(C("US"), H("01"))->year, 1930);
  EXPECT_DOUBLE_EQ((*t)->base_rates().Find(C("US"), H("02"))->rate_pct, 1000);
}

struct BadBaseRateCase {
  const char* name;
  const char* row;    // line 2 of base-rates.csv
  const char* error;  // the whole message
};

class BadBaseRateRowTest : public ::testing::TestWithParam<BadBaseRateCase> {};

TEST_P(BadBaseRateRowTest, ErrorNamesFileLineAndField) {
  const BadBaseRateCase& c = GetParam();
  EXPECT_EQ(ErrorOf(c.row), c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadBaseRateRowTest,
    ::testing::Values(
        BadBaseRateCase{"UnknownImporter", "XX,84,1.41,2025,HTS",
                        "base-rates.csv:2: importer: 'XX' is not an ISO "
                        "3166-1 alpha-2 code or EU"},
        BadBaseRateCase{"LowerCaseImporter", "us,84,1.41,2025,HTS",
                        "base-rates.csv:2: importer: 'us' is not an ISO "
                        "3166-1 alpha-2 code or EU"},
        BadBaseRateCase{"EmptyImporter", ",84,1.41,2025,HTS",
                        "base-rates.csv:2: importer: '' is not an ISO 3166-1 "
                        "alpha-2 code or EU"},
        BadBaseRateCase{"ReservedChapter", "US,77,1.41,2025,HTS",
                        "base-rates.csv:2: product: '77' is not '*', an HS "
                        "chapter (01-97) or heading"},
        BadBaseRateCase{"Subheading", "US,847130,0,2025,HTS",
                        "base-rates.csv:2: product: '847130' is not '*', an "
                        "HS chapter (01-97) or heading"},
        BadBaseRateCase{"EmptyProduct", "US,,1.41,2025,HTS",
                        "base-rates.csv:2: product: '' is not '*', an HS "
                        "chapter (01-97) or heading"},
        BadBaseRateCase{"NegativeRate", "US,84,-1,2025,HTS",
                        "base-rates.csv:2: mfn_rate_pct: -1 is outside "
                        "0..1000"},
        BadBaseRateCase{"RateOver1000", "US,84,1000.5,2025,HTS",
                        "base-rates.csv:2: mfn_rate_pct: 1000.5 is outside "
                        "0..1000"},
        BadBaseRateCase{"TextRate", "US,84,free,2025,HTS",
                        "base-rates.csv:2: mfn_rate_pct: 'free' is not a "
                        "number"},
        BadBaseRateCase{"PercentSign", "US,84,2.5%,2025,HTS",
                        "base-rates.csv:2: mfn_rate_pct: '2.5%' is not a "
                        "number"},
        BadBaseRateCase{"NanRate", "US,84,nan,2025,HTS",
                        "base-rates.csv:2: mfn_rate_pct: 'nan' is not a "
                        "number"},
        BadBaseRateCase{"EmptyRate", "US,84,,2025,HTS",
                        "base-rates.csv:2: mfn_rate_pct: '' is not a number"},
        BadBaseRateCase{"FractionalYear", "US,84,1.41,2024.5,HTS",
                        "base-rates.csv:2: year: '2024.5' is not a whole "
                        "year"},
        BadBaseRateCase{"YearBefore1930", "US,84,1.41,1929,HTS",
                        "base-rates.csv:2: year: 1929 is outside 1930..2100"},
        BadBaseRateCase{"TextYear", "US,84,1.41,FY25,HTS",
                        "base-rates.csv:2: year: 'FY25' is not a number"},
        BadBaseRateCase{"MissingSource", "US,84,1.41,2025,",
                        "base-rates.csv:2: source: must not be empty"}),
    [](const ::testing::TestParamInfo<BadBaseRateCase>& info) {
      return std::string(info.param.name);
    });

TEST(BaseRatesCsvTest, LinesMustBeAWholeNumber) {
  auto t = ParseBaseRates(
      "importer,product,mfn_rate_pct,year,source,lines\n"
      "US,84,1.41,2025,HTS,\n"
      "US,85,1.51,2025,HTS,82.5\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "base-rates.csv:3: lines: '82.5' is not a whole number");
}

TEST(BaseRatesCsvTest, EveryBadFieldOfARowIsReported) {
  EXPECT_THAT(Lines(ErrorOf("ZZ,77,-1,2024.5,\n")),
              ElementsAre(StartsWith("base-rates.csv:2: importer: 'ZZ'"),
                          StartsWith("base-rates.csv:2: product: '77'"),
                          StartsWith("base-rates.csv:2: mfn_rate_pct: -1"),
                          StartsWith("base-rates.csv:2: year: '2024.5'"),
                          "base-rates.csv:2: source: must not be empty"));
}

TEST(BaseRatesCsvTest, ARepeatedImporterAndProductNamesTheEarlierLine) {
  const std::string message = ErrorOf(
      "US,8471,0,2025,HTS\n"
      "US,84,1.41,2025,HTS\n"
      "CN,8471,0,2025,MOF\n"  // another importer: not a repeat
      "US,8471,2.5,2025,other source\n");
  EXPECT_EQ(message, "base-rates.csv:5: product: US 8471 already on line 2");
}

TEST(BaseRatesCsvTest, ARejectedFileLeavesNoTable) {
  auto t = ParseBaseRates(absl::StrCat(kHeader,
                                       "US,*,4.24,2025,HTS\n"
                                       "US,84,1.41,2025,HTS\n"
                                       "US,8471,abc,2025,HTS\n"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "base-rates.csv:4: mfn_rate_pct: 'abc' is not a number");
}

TEST(BaseRatesCsvTest, AMissingColumnNamesTheFile) {
  auto t = ParseBaseRates(
      "importer,product,mfn_rate_pct,year\n"
      "US,84,1.41,2025\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              StartsWith("base-rates.csv:1: "));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("'source'"));
}

TEST(BaseRatesCsvTest, ErrorsOfTheOtherFilesAreReportedWithIt) {
  ExposureFiles files{
      kCompanies, "ticker,kind,country,product,share\nAAPL,revenue,US,*,1.5\n",
      "", absl::StrCat(kHeader, "US,84,-1,2025,HTS\n")};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1",
                              "links.csv", "base-rates.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(Lines(std::string(t.status().message())),
              ElementsAre(StartsWith("exposures.csv:2: share:"),
                          StartsWith("base-rates.csv:2: mfn_rate_pct:")));
}

}  // namespace
}  // namespace tariffalert
