#include "server/exposure/exposure_csv.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCompaniesHeader[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n";
constexpr char kExposuresHeader[] = "ticker,kind,country,product,share\n";

// Three companies, deliberately not in ticker order.
constexpr char kCompanies[] =
    "TSLA,Tesla,Consumer Discretionary,US,800e9,0.8,0.08\n"
    "AAPL,\"Apple, Inc.\",Information Technology,US,3000e9,0.55,0.3\n"
    "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n";

constexpr char kExposures[] =
    "AAPL,revenue,US,*,0.4\n"
    "AAPL,revenue,CN,*,0.2\n"
    "AAPL,revenue,EU,*,0.25\n"
    "AAPL,sourcing,CN,*,0.6\n"
    "AAPL,production,CN,*,0.8\n"
    "AAPL,product,,85,0.7\n"
    "TSLA,revenue,US,*,0.5\n"
    "TSLA,production,US,87,0.6\n"
    "TSLA,production,CN,87,0.4\n"
    "GM,revenue,US,*,0.85\n";

absl::StatusOr<std::shared_ptr<const ExposureTable>> ParseRows(
    const std::string& company_rows, const std::string& exposure_rows) {
  ExposureFiles files{absl::StrCat(kCompaniesHeader, company_rows),
                      absl::StrCat(kExposuresHeader, exposure_rows)};
  return ParseExposureFiles(files, "companies.csv", "exposures.csv", "v7");
}

// The error message of a file set that must be rejected.
std::string ErrorOf(const std::string& company_rows,
                    const std::string& exposure_rows) {
  auto t = ParseRows(company_rows, exposure_rows);
  EXPECT_FALSE(t.ok()) << "accepted:\n" << company_rows << exposure_rows;
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

std::vector<std::string> Lines(const std::string& message) {
  return absl::StrSplit(message, '\n');
}

TEST(ParseExposureFilesTest, ValidFilesGiveASortedTable) {
  auto t = ParseRows(kCompanies, kExposures);
  ASSERT_TRUE(t.ok()) << t.status();
  const ExposureTable& table = **t;
  EXPECT_EQ(table.version(), "v7");
  ASSERT_EQ(table.companies().size(), 3u);
  EXPECT_EQ(table.companies()[0].ticker, "AAPL");
  EXPECT_EQ(table.companies()[1].ticker, "GM");
  EXPECT_EQ(table.companies()[2].ticker, "TSLA");
  EXPECT_EQ(table.exposure_row_count(), 10u);

  const Company* aapl = table.Find("AAPL");
  ASSERT_NE(aapl, nullptr);
  EXPECT_EQ(aapl->name, "Apple, Inc.");
  EXPECT_EQ(aapl->sector, "Information Technology");
  EXPECT_EQ(aapl->country.ToString(), "US");
  EXPECT_DOUBLE_EQ(aapl->market_cap_usd, 3e12);
  EXPECT_DOUBLE_EQ(aapl->cogs_ratio, 0.55);
  EXPECT_DOUBLE_EQ(aapl->operating_margin, 0.3);
  ASSERT_EQ(aapl->revenue.size(), 3u);
  EXPECT_TRUE(aapl->revenue[2].country.is_eu());
  EXPECT_DOUBLE_EQ(aapl->revenue[2].share, 0.25);
  ASSERT_EQ(aapl->sourcing.size(), 1u);
  EXPECT_EQ(aapl->sourcing[0].country.ToString(), "CN");
  EXPECT_TRUE(aapl->sourcing[0].product.is_all());
  ASSERT_EQ(aapl->production.size(), 1u);
  ASSERT_EQ(aapl->products.size(), 1u);
  EXPECT_EQ(aapl->products[0].product.ToString(), "85");
  EXPECT_FALSE(aapl->products[0].country.valid());

  const Company* tsla = table.Find("TSLA");
  ASSERT_NE(tsla, nullptr);
  ASSERT_EQ(tsla->production.size(), 2u);
  EXPECT_EQ(tsla->production[1].country.ToString(), "CN");
  EXPECT_EQ(tsla->production[1].product.ToString(), "87");
  EXPECT_DOUBLE_EQ(tsla->production[1].share, 0.4);

  EXPECT_EQ(table.Find("MSFT"), nullptr);
}

TEST(ParseExposureFilesTest, SectorsAreGroupedWithTheirMarketCaps) {
  auto t = ParseRows(kCompanies, kExposures);
  ASSERT_TRUE(t.ok()) << t.status();
  auto sectors = (*t)->sectors();
  ASSERT_EQ(sectors.size(), 2u);
  EXPECT_EQ(sectors[0].name, "Consumer Discretionary");
  // GM and TSLA, at indices 1 and 2 of the ticker-sorted companies.
  EXPECT_THAT(sectors[0].members, ElementsAre(1, 2));
  EXPECT_DOUBLE_EQ(sectors[0].market_cap_usd, 850e9);  // 800e9 + 50e9
  EXPECT_EQ(sectors[1].name, "Information Technology");
  EXPECT_THAT(sectors[1].members, ElementsAre(0));
  EXPECT_DOUBLE_EQ(sectors[1].market_cap_usd, 3000e9);
}

TEST(ParseExposureFilesTest, ExtraColumnsAreIgnored) {
  ExposureFiles files{
      "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin,"
      "isin\n"
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07,US37045V1008"
      "\n",
      "source,ticker,kind,country,product,share,year\n"
      "10-K,GM,revenue,US,*,0.85,2024\n"
      "estimate,GM,production,MX,87,0.2,2023\n"};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1");
  ASSERT_TRUE(t.ok()) << t.status();
  const Company* gm = (*t)->Find("GM");
  ASSERT_NE(gm, nullptr);
  ASSERT_EQ(gm->revenue.size(), 1u);
  EXPECT_DOUBLE_EQ(gm->revenue[0].share, 0.85);
  ASSERT_EQ(gm->production.size(), 1u);
  EXPECT_EQ(gm->production[0].country.ToString(), "MX");
}

TEST(ParseExposureFilesTest, EuIsAllowedInExposureRows) {
  auto t = ParseRows(kCompanies,
                     "GM,revenue,EU,*,0.1\n"
                     "GM,sourcing,EU,87,0.2\n"
                     "GM,production,EU,*,0.3\n");
  ASSERT_TRUE(t.ok()) << t.status();
  const Company* gm = (*t)->Find("GM");
  ASSERT_NE(gm, nullptr);
  EXPECT_TRUE(gm->revenue[0].country.is_eu());
  EXPECT_TRUE(gm->sourcing[0].country.is_eu());
  EXPECT_TRUE(gm->production[0].country.is_eu());
}

TEST(ParseExposureFilesTest, SharesOfAKindMaySumToOneWithRounding) {
  // 0.3334 * 3 = 1.0002: a vendor's rounding, not an error. Each kind has its
  // own budget: revenue and sourcing both sum to about 1.
  auto t = ParseRows(kCompanies,
                     "GM,revenue,US,*,0.3334\n"
                     "GM,revenue,CA,*,0.3334\n"
                     "GM,revenue,MX,*,0.3334\n"
                     "GM,sourcing,US,*,0.5\n"
                     "GM,sourcing,MX,*,0.5\n");
  ASSERT_TRUE(t.ok()) << t.status();
}

TEST(ParseExposureFilesTest, DisjointProductsOfOneCountryAreFine) {
  auto t = ParseRows(kCompanies,
                     "GM,sourcing,CN,85,0.2\n"
                     "GM,sourcing,CN,8703,0.1\n"
                     "GM,sourcing,MX,*,0.3\n"
                     "GM,product,,87,0.9\n"
                     "GM,product,,8544,0.05\n");
  ASSERT_TRUE(t.ok()) << t.status();
}

struct BadRowCase {
  const char* name;
  const char* exposure_row;  // line 2 of exposures.csv
  const char* error;         // the message must start with this
};

class BadExposureRowTest : public ::testing::TestWithParam<BadRowCase> {};

TEST_P(BadExposureRowTest, ErrorNamesFileLineAndField) {
  const BadRowCase& c = GetParam();
  const std::string message = ErrorOf(kCompanies, c.exposure_row);
  EXPECT_THAT(message, StartsWith(c.error));
  EXPECT_EQ(Lines(message).size(), 1u) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadExposureRowTest,
    ::testing::Values(
        BadRowCase{"UnknownTicker", "MSFT,revenue,US,*,0.5",
                   "exposures.csv:2: ticker: 'MSFT' is not in companies.csv"},
        BadRowCase{"ShareAboveOne", "GM,revenue,US,*,1.5",
                   "exposures.csv:2: share: 1.5 is outside 0..1"},
        BadRowCase{"NegativeShare", "GM,revenue,US,*,-0.1",
                   "exposures.csv:2: share: -0.1 is outside 0..1"},
        BadRowCase{"NanShare", "GM,revenue,US,*,nan",
                   "exposures.csv:2: share: 'nan' is not a number"},
        BadRowCase{"InfShare", "GM,revenue,US,*,inf",
                   "exposures.csv:2: share: 'inf' is not a number"},
        BadRowCase{"TextShare", "GM,revenue,US,*,abc",
                   "exposures.csv:2: share: 'abc' is not a number"},
        BadRowCase{"EmptyShare", "GM,revenue,US,*,",
                   "exposures.csv:2: share: '' is not a number"},
        BadRowCase{"UnknownKind", "GM,income,US,*,0.5",
                   "exposures.csv:2: kind: 'income'"},
        BadRowCase{"UnassignedCountry", "GM,revenue,XX,*,0.5",
                   "exposures.csv:2: country: 'XX'"},
        BadRowCase{"LowerCaseCountry", "GM,revenue,us,*,0.5",
                   "exposures.csv:2: country: 'us'"},
        BadRowCase{"UkIsNotGb", "GM,revenue,UK,*,0.5",
                   "exposures.csv:2: country: 'UK'"},
        BadRowCase{"EmptyCountry", "GM,sourcing,,*,0.5",
                   "exposures.csv:2: country: ''"},
        BadRowCase{"ReservedChapter", "GM,revenue,US,77,0.5",
                   "exposures.csv:2: product: '77'"},
        BadRowCase{"ThreeDigitProduct", "GM,revenue,US,870,0.5",
                   "exposures.csv:2: product: '870'"},
        BadRowCase{"EmptyProduct", "GM,revenue,US,,0.5",
                   "exposures.csv:2: product: ''"},
        BadRowCase{"StarForKindProduct", "GM,product,,*,0.5",
                   "exposures.csv:2: product: kind product needs"},
        BadRowCase{"CountryForKindProduct", "GM,product,US,87,0.5",
                   "exposures.csv:2: country: must be empty for kind "
                   "product"}),
    [](const ::testing::TestParamInfo<BadRowCase>& info) {
      return std::string(info.param.name);
    });

struct BadCompanyCase {
  const char* name;
  const char* company_row;  // line 2 of companies.csv
  const char* error;
};

class BadCompanyRowTest : public ::testing::TestWithParam<BadCompanyCase> {};

TEST_P(BadCompanyRowTest, ErrorNamesFileLineAndField) {
  const BadCompanyCase& c = GetParam();
  const std::string message = ErrorOf(c.company_row, "");
  EXPECT_THAT(message, StartsWith(c.error));
  EXPECT_EQ(Lines(message).size(), 1u) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadCompanyRowTest,
    ::testing::Values(
        BadCompanyCase{"EuIsNotACompanyCountry",
                       "SAP,SAP,Information Technology,EU,300e9,0.3,0.2",
                       "companies.csv:2: country: 'EU'"},
        BadCompanyCase{"UnassignedCountry",
                       "SAP,SAP,Information Technology,XX,300e9,0.3,0.2",
                       "companies.csv:2: country: 'XX'"},
        BadCompanyCase{"NotAGicsSector", "SAP,SAP,Tech,DE,300e9,0.3,0.2",
                       "companies.csv:2: sector: 'Tech' is not a GICS "
                       "sector"},
        BadCompanyCase{"LowerCaseTicker",
                       "sap,SAP,Information Technology,DE,300e9,0.3,0.2",
                       "companies.csv:2: ticker: 'sap'"},
        BadCompanyCase{"EmptyName",
                       "SAP,,Information Technology,DE,300e9,0.3,0.2",
                       "companies.csv:2: name: empty"},
        BadCompanyCase{"ZeroMarketCap",
                       "SAP,SAP,Information Technology,DE,0,0.3,0.2",
                       "companies.csv:2: market_cap_usd: must be positive"},
        BadCompanyCase{"CogsRatioAboveOne",
                       "SAP,SAP,Information Technology,DE,300e9,1.2,0.2",
                       "companies.csv:2: cogs_ratio: 1.2 is outside 0..1"},
        BadCompanyCase{"MarginNotANumber",
                       "SAP,SAP,Information Technology,DE,300e9,0.3,n/a",
                       "companies.csv:2: operating_margin: 'n/a' is not a "
                       "number"}),
    [](const ::testing::TestParamInfo<BadCompanyCase>& info) {
      return std::string(info.param.name);
    });

TEST(ParseExposureFilesTest, DuplicateTickerNamesTheEarlierLine) {
  const std::string message = ErrorOf(
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n"
      "F,Ford,Consumer Discretionary,US,40e9,0.9,0.05\n"
      "GM,General Motors Co,Consumer Discretionary,US,51e9,0.85,0.07\n",
      "");
  EXPECT_EQ(message, "companies.csv:4: ticker: 'GM' already on line 2");
}

TEST(ParseExposureFilesTest, ShareSumOverOneIsReportedAtTheLineThatCrossesIt) {
  // 0.6 + 0.3 = 0.9 is fine at line 3; + 0.2 = 1.1 crosses 1 at line 4.
  const std::string message = ErrorOf(kCompanies,
                                      "GM,revenue,US,*,0.6\n"
                                      "GM,revenue,CN,*,0.3\n"
                                      "GM,revenue,JP,*,0.2\n"
                                      "GM,sourcing,JP,*,0.9\n");
  EXPECT_THAT(message, StartsWith("exposures.csv:4: share: GM revenue shares "
                                  "sum to 1.1"));
  EXPECT_EQ(Lines(message).size(), 1u) << message;
}

TEST(ParseExposureFilesTest, OverlappingProductsInOneCountryAreRejected) {
  // CN/* already covers chapter 85 of CN.
  EXPECT_THAT(ErrorOf(kCompanies,
                      "GM,sourcing,CN,*,0.2\n"
                      "GM,sourcing,CN,85,0.1\n"),
              StartsWith("exposures.csv:3: product: 85 overlaps * on line 2"));
  // Heading 8703 is inside chapter 87.
  EXPECT_THAT(
      ErrorOf(kCompanies,
              "GM,product,,87,0.5\n"
              "GM,product,,8703,0.3\n"),
      StartsWith("exposures.csv:3: product: 8703 overlaps 87 on line 2"));
  // Listing the same scope twice is an overlap too.
  EXPECT_THAT(ErrorOf(kCompanies,
                      "GM,revenue,US,*,0.2\n"
                      "GM,revenue,US,*,0.3\n"),
              StartsWith("exposures.csv:3: product: * overlaps * on line 2"));
}

TEST(ParseExposureFilesTest, CsvLevelErrorsNameTheFile) {
  ExposureFiles files{absl::StrCat(kCompaniesHeader, kCompanies),
                      "ticker,kind,country,product\nGM,revenue,US,*\n"};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              StartsWith("exposures.csv:1: "));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("'share'"));
}

TEST(ParseExposureFilesTest, AllErrorsAreReportedTogether) {
  const std::string message = ErrorOf(
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n"
      "SAP,SAP,Tech,DE,300e9,0.3,0.2\n",
      "GM,revenue,US,*,1.5\n"
      "GM,revenue,CN,*,0.2\n"
      "GM,sourcing,XX,*,0.2\n");
  EXPECT_THAT(Lines(message),
              ElementsAre(StartsWith("companies.csv:3: sector:"),
                          StartsWith("exposures.csv:2: share:"),
                          StartsWith("exposures.csv:4: country:")));
}

TEST(ParseExposureFilesTest, MoreThanTwentyErrorsAreCounted) {
  // 25 rows with an unknown ticker: 20 are listed, 5 counted.
  std::string rows;
  for (int i = 0; i < 25; ++i) rows += "MSFT,revenue,US,*,0.01\n";
  const std::vector<std::string> lines = Lines(ErrorOf(kCompanies, rows));
  ASSERT_EQ(lines.size(), 21u);
  EXPECT_THAT(lines[0], StartsWith("exposures.csv:2: ticker: 'MSFT'"));
  EXPECT_THAT(lines[19], StartsWith("exposures.csv:21: ticker: 'MSFT'"));
  EXPECT_EQ(lines[20], "... and 5 more errors");
}

TEST(ParseExposureFilesTest, ExactlyTwentyErrorsAreAllListed) {
  std::string rows;
  for (int i = 0; i < 20; ++i) rows += "MSFT,revenue,US,*,0.01\n";
  const std::vector<std::string> lines = Lines(ErrorOf(kCompanies, rows));
  EXPECT_EQ(lines.size(), 20u);
  EXPECT_THAT(lines.back(), Not(HasSubstr("more errors")));
}

}  // namespace
}  // namespace tariffalert
