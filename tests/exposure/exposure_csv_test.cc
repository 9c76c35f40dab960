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
  // The loader refuses other bytes, so the publisher need not parse each
  // alert back to find them.
  EXPECT_TRUE(table.text_is_utf8());
}

TEST(ExposureTableTest, ATableBuiltWithANameThatIsNotUtf8SaysSo) {
  auto t = ParseRows(kCompanies, kExposures);
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<Company> companies((*t)->companies().begin(),
                                 (*t)->companies().end());
  companies[1].name = "General\xFF Motors";
  EXPECT_FALSE(ExposureTable("v8", companies).text_is_utf8());
  companies[1].name = "General Motors";
  companies[2].sector = "Consumer\xC3";  // a cut two-byte sequence
  EXPECT_FALSE(ExposureTable("v8", companies).text_is_utf8());
  companies[2].sector = "Consumer Discretionary";
  EXPECT_TRUE(ExposureTable("v8", companies).text_is_utf8());
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
                   "product"},
        BadRowCase{"MinusInfShare", "GM,revenue,US,*,-inf",
                   "exposures.csv:2: share: '-inf' is not a number"},
        BadRowCase{"HugeShare", "GM,revenue,US,*,1e308",
                   "exposures.csv:2: share: 1e308 is outside 0..1"},
        BadRowCase{"OverflowingShare", "GM,revenue,US,*,1e999",
                   "exposures.csv:2: share: '1e999' is not a number"},
        BadRowCase{"FormulaShare", "GM,revenue,US,*,=0.5",
                   "exposures.csv:2: share: '=0.5' is not a number"},
        BadRowCase{"PercentShare", "GM,revenue,US,*,50%",
                   "exposures.csv:2: share: '50%' is not a number"},
        BadRowCase{"AlphaThreeCountry", "GM,revenue,USA,*,0.5",
                   "exposures.csv:2: country: 'USA' is not an ISO 3166-1 "
                   "alpha-2 code or EU"},
        BadRowCase{"NumericCountry", "GM,revenue,840,*,0.5",
                   "exposures.csv:2: country: '840'"},
        BadRowCase{"OneDigitProduct", "GM,revenue,US,8,0.5",
                   "exposures.csv:2: product: '8' is not '*', an HS chapter "
                   "(01-97) or heading"},
        BadRowCase{"ChapterZero", "GM,revenue,US,00,0.5",
                   "exposures.csv:2: product: '00'"},
        BadRowCase{"ChapterPast97", "GM,revenue,US,98,0.5",
                   "exposures.csv:2: product: '98'"},
        BadRowCase{"HeadingZero", "GM,revenue,US,8700,0.5",
                   "exposures.csv:2: product: '8700'"},
        BadRowCase{"SixDigitSubheading", "GM,revenue,US,870323,0.5",
                   "exposures.csv:2: product: '870323'"},
        BadRowCase{"DottedHeading", "GM,revenue,US,87.03,0.5",
                   "exposures.csv:2: product: '87.03'"},
        BadRowCase{"LetterInProduct", "GM,revenue,US,8a,0.5",
                   "exposures.csv:2: product: '8a'"},
        BadRowCase{"StarAndChapter", "GM,revenue,US,*85,0.5",
                   "exposures.csv:2: product: '*85'"},
        BadRowCase{"InvalidUtf8Country", "GM,revenue,U\xD0,*,0.5",
                   "exposures.csv:2: country: not valid UTF-8 (byte 0xD0 at "
                   "offset 1 of the cell)"}),
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
                       "number"},
        BadCompanyCase{"InvalidUtf8Name",
                       "BBY,Best Buy\xFF Co. Inc.,Consumer Discretionary,US,"
                       "14e9,0.77,0.035",
                       "companies.csv:2: name: not valid UTF-8 (byte 0xFF at "
                       "offset 8 of the cell); save the file as UTF-8"},
        BadCompanyCase{"Latin1Name",
                       "NESN,Nestl\xE9,Consumer Staples,CH,250e9,0.53,0.17",
                       "companies.csv:2: name: not valid UTF-8 (byte 0xE9 at "
                       "offset 5 of the cell)"},
        BadCompanyCase{
            "FormulaName",
            "SAP,\"=HYPERLINK(\"\"http://x\"\",\"\"SAP\"\")\",Information "
            "Technology,DE,300e9,0.3,0.2",
            "companies.csv:2: name: '=HYPERLINK(\"http://x\",\"SAP\")' "
            "begins with '=', which a spreadsheet runs as a "
            "formula; a name must not begin with = + - or @"},
        BadCompanyCase{"PlusName",
                       "SAP,+SAP,Information Technology,DE,300e9,0.3,0.2",
                       "companies.csv:2: name: '+SAP' begins with '+'"},
        BadCompanyCase{"MinusName",
                       "SAP,-2+3,Information Technology,DE,300e9,0.3,0.2",
                       "companies.csv:2: name: '-2+3' begins with '-'"},
        BadCompanyCase{"AtName",
                       "SAP,@SUM(A1),Information Technology,DE,300e9,0.3,0.2",
                       "companies.csv:2: name: '@SUM(A1)' begins with '@'"},
        BadCompanyCase{"TabFirstName",
                       "SAP,\"\t=1+1\",Information Technology,DE,300e9,0.3,"
                       "0.2",
                       "companies.csv:2: name: control character U+0009 at "
                       "offset 0; a name is one line of printable text"},
        BadCompanyCase{"CarriageReturnFirstName",
                       "SAP,\"\r=1+1\",Information Technology,DE,300e9,0.3,"
                       "0.2",
                       "companies.csv:2: name: control character U+000D at "
                       "offset 0"},
        BadCompanyCase{"TerminalEscapeInName",
                       "SAP,SAP\x1B[2J,Information Technology,DE,300e9,0.3,"
                       "0.2",
                       "companies.csv:2: name: control character U+001B at "
                       "offset 3"},
        BadCompanyCase{"C1ControlInName",
                       "SAP,SAP\xC2\x9B,Information Technology,DE,300e9,0.3,"
                       "0.2",
                       "companies.csv:2: name: control character U+009B at "
                       "offset 3"},
        BadCompanyCase{"LineBreakInName",
                       "SAP,\"SAP\nSE\",Information Technology,DE,300e9,0.3,"
                       "0.2",
                       "companies.csv:2: name: control character U+000A at "
                       "offset 3"},
        BadCompanyCase{"FormulaTicker",
                       "=A1,SAP,Information Technology,DE,300e9,0.3,0.2",
                       "companies.csv:2: ticker: '=A1' must be 1-24 of"},
        BadCompanyCase{"FormulaMarketCap",
                       "SAP,SAP,Information Technology,DE,=1+2,0.3,0.2",
                       "companies.csv:2: market_cap_usd: '=1+2' is not a "
                       "number"},
        BadCompanyCase{"NanMarketCap",
                       "SAP,SAP,Information Technology,DE,nan,0.3,0.2",
                       "companies.csv:2: market_cap_usd: 'nan' is not a "
                       "number"},
        BadCompanyCase{"InfMarketCap",
                       "SAP,SAP,Information Technology,DE,inf,0.3,0.2",
                       "companies.csv:2: market_cap_usd: 'inf' is not a "
                       "number"},
        BadCompanyCase{"NegativeMarketCap",
                       "SAP,SAP,Information Technology,DE,-3e11,0.3,0.2",
                       "companies.csv:2: market_cap_usd: -3e11 is outside "
                       "0..1e+15"},
        BadCompanyCase{"AbsurdMarketCap",
                       "SAP,SAP,Information Technology,DE,1e300,0.3,0.2",
                       "companies.csv:2: market_cap_usd: 1e300 is outside "
                       "0..1e+15"},
        BadCompanyCase{"NegativeCogsRatio",
                       "SAP,SAP,Information Technology,DE,300e9,-0.3,0.2",
                       "companies.csv:2: cogs_ratio: -0.3 is outside 0..1"},
        BadCompanyCase{"NanCogsRatio",
                       "SAP,SAP,Information Technology,DE,300e9,NaN,0.2",
                       "companies.csv:2: cogs_ratio: 'NaN' is not a number"},
        BadCompanyCase{"MinusInfMargin",
                       "SAP,SAP,Information Technology,DE,300e9,0.3,-inf",
                       "companies.csv:2: operating_margin: '-inf' is not a "
                       "number"},
        BadCompanyCase{"MarginBelowMinusOne",
                       "SAP,SAP,Information Technology,DE,300e9,0.3,-1.5",
                       "companies.csv:2: operating_margin: -1.5 is outside "
                       "-1..1"},
        BadCompanyCase{"AlphaThreeCountry",
                       "SAP,SAP,Information Technology,DEU,300e9,0.3,0.2",
                       "companies.csv:2: country: 'DEU' is not an ISO 3166-1 "
                       "alpha-2 code"},
        BadCompanyCase{"EmptyCountry",
                       "SAP,SAP,Information Technology,,300e9,0.3,0.2",
                       "companies.csv:2: country: ''"}),
    [](const ::testing::TestParamInfo<BadCompanyCase>& info) {
      return std::string(info.param.name);
    });

TEST(ParseExposureFilesTest, NamesThatMerelyContainFormulaCharactersAreFine) {
  auto t = ParseRows(
      "FLWS,1-800-Flowers.com,Consumer Discretionary,US,0.5e9,0.6,0.01\n"
      "AAPL,\"Apple = Inc. + @home - x\",Information Technology,US,3e12,0.5,"
      "0.3\n"
      "NESN,Nestl\xC3\xA9 S.A.,Consumer Staples,CH,250e9,0.53,0.17\n"
      "7203.T,\xE3\x83\x88\xE3\x83\xA8\xE3\x82\xBF,Consumer Discretionary,JP,"
      "2.5e11,0.8,0.1\n",
      "");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->Find("NESN")->name, "Nestl\xC3\xA9 S.A.");
}

TEST(ParseExposureFilesTest, ANameOfTwoHundredBytesIsTheLongest) {
  const std::string row_end = ",Information Technology,DE,300e9,0.3,0.2\n";
  EXPECT_TRUE(
      ParseRows(absl::StrCat("SAP,", std::string(200, 'n'), row_end), "").ok());
  EXPECT_EQ(ErrorOf(absl::StrCat("SAP,", std::string(201, 'n'), row_end), ""),
            "companies.csv:2: name: 201 bytes, at most 200");
}

TEST(ParseExposureFilesTest, InvalidUtf8InAnIgnoredColumnNamesIt) {
  ExposureFiles files{absl::StrCat(kCompaniesHeader, kCompanies),
                      "ticker,kind,country,product,share,source\n"
                      "GM,revenue,US,*,0.85,10-K\n"
                      "GM,production,MX,87,0.2,\"estimate \xA0 2023\"\n"};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "exposures.csv:3: source: not valid UTF-8 (byte 0xA0 at offset 9 "
            "of the cell); save the file as UTF-8");
}

TEST(ParseExposureFilesTest, AHugeCellInTheIgnoredSourceColumnIsRefused) {
  // 50 MB in a column nobody reads: refused at its line, never stored.
  ExposureFiles files{absl::StrCat(kCompaniesHeader, kCompanies),
                      absl::StrCat("ticker,kind,country,product,share,source\n"
                                   "GM,revenue,US,*,0.85,10-K\n"
                                   "GM,production,MX,87,0.2,",
                                   std::string(50 << 20, 'x'), "\n")};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "exposures.csv:3: line longer than the limit of 65536 bytes");
}

TEST(ParseExposureFilesTest, ExcelExportWithBomCrLfAndQuotedCommasLoads) {
  ExposureFiles files{
      absl::StrCat("\xEF\xBB\xBF",
                   "ticker,name,sector,country,market_cap_usd,cogs_ratio,"
                   "operating_margin\r\n"
                   "AAPL,\"Apple, Inc. (\"\"the\"\" Apple)\",Information "
                   "Technology,US,3000e9,0.55,0.3\r\n"),
      "\xEF\xBB\xBFticker,kind,country,product,share\r\n"
      "AAPL,revenue,US,*,0.4\r\n"
      "\r\n"
      "AAPL,revenue,\"CN\",\"*\",0.2\r\n",
      "\xEF\xBB\xBFsupplier,customer,share\r\n"};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1");
  ASSERT_TRUE(t.ok()) << t.status();
  const Company* aapl = (*t)->Find("AAPL");
  ASSERT_NE(aapl, nullptr);
  EXPECT_EQ(aapl->name, "Apple, Inc. (\"the\" Apple)");
  ASSERT_EQ(aapl->revenue.size(), 2u);
  EXPECT_EQ(aapl->revenue[1].country.ToString(), "CN");
}

TEST(ParseExposureFilesTest, AnUnterminatedQuoteNamesFileAndLine) {
  ExposureFiles files{absl::StrCat(kCompaniesHeader, kCompanies),
                      "ticker,kind,country,product,share\r\n"
                      "GM,revenue,US,*,0.85\r\n"
                      "GM,revenue,\"CA,*,0.1\r\n"
                      "GM,revenue,MX,*,0.05\r\n"};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "exposures.csv:3: unterminated quoted field");
}

TEST(ParseExposureFilesTest, ADuplicateCountryRowIsRefusedNamingTheFirst) {
  EXPECT_EQ(ErrorOf(kCompanies,
                    "GM,revenue,US,*,0.5\n"
                    "GM,revenue,CA,*,0.1\n"
                    "GM,revenue,US,*,0.2\n"),
            "exposures.csv:4: product: * overlaps * on line 2 (GM revenue "
            "US); list disjoint products");
}

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

// usmca_share and low_value_share, the optional columns of companies.csv:
// the share of a company's North American flows that qualifies for USMCA,
// and of its imports that enters as low-value parcels.
constexpr char kSharesHeader[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin,"
    "usmca_share,low_value_share\n";

absl::StatusOr<std::shared_ptr<const ExposureTable>> ParseShares(
    const std::string& companies_csv) {
  return ParseExposureFiles({companies_csv, kExposuresHeader}, "companies.csv",
                            "exposures.csv", "v7");
}

TEST(ChannelSharesTest, WithoutTheColumnsEveryCompanyHasTheDefaults) {
  auto t = ParseRows(kCompanies, kExposures);
  ASSERT_TRUE(t.ok()) << t.status();
  for (const Company& c : (*t)->companies()) {
    SCOPED_TRACE(c.ticker);
    // 2024: $406.7B of $916.4B from Canada and Mexico entered under USMCA.
    EXPECT_DOUBLE_EQ(c.usmca_share, 0.444);
    EXPECT_DOUBLE_EQ(c.low_value_share, 0);
  }
  EXPECT_DOUBLE_EQ(kDefaultUsmcaShare, 0.444);
}

TEST(ChannelSharesTest, TheColumnsAreParsedAndAnEmptyCellKeepsTheDefault) {
  auto t = ParseShares(absl::StrCat(
      kSharesHeader,
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07,0.9,\n"
      "TEMU,PDD Holdings,Consumer Discretionary,CN,150e9,0.4,0.25,,0.8\n"
      "F,Ford,Consumer Discretionary,US,40e9,0.9,0.03,0,1\n"
      "AAPL,Apple,Information Technology,US,3000e9,0.55,0.3,,\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  const ExposureTable& table = **t;
  EXPECT_DOUBLE_EQ(table.Find("GM")->usmca_share, 0.9);
  EXPECT_DOUBLE_EQ(table.Find("GM")->low_value_share, 0);
  EXPECT_DOUBLE_EQ(table.Find("TEMU")->usmca_share, 0.444);
  EXPECT_DOUBLE_EQ(table.Find("TEMU")->low_value_share, 0.8);
  // The limits are inclusive.
  EXPECT_DOUBLE_EQ(table.Find("F")->usmca_share, 0);
  EXPECT_DOUBLE_EQ(table.Find("F")->low_value_share, 1);
  EXPECT_DOUBLE_EQ(table.Find("AAPL")->usmca_share, 0.444);
  EXPECT_DOUBLE_EQ(table.Find("AAPL")->low_value_share, 0);
}

TEST(ChannelSharesTest, EitherColumnMayComeAlone) {
  auto t = ParseShares(
      "low_value_share,ticker,name,sector,country,market_cap_usd,cogs_ratio,"
      "operating_margin\n"
      "0.3,TEMU,PDD Holdings,Consumer Discretionary,CN,150e9,0.4,0.25\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_DOUBLE_EQ((*t)->Find("TEMU")->low_value_share, 0.3);
  EXPECT_DOUBLE_EQ((*t)->Find("TEMU")->usmca_share, 0.444);
}

TEST(ChannelSharesTest, OutOfRangeSharesNameFileLineAndField) {
  auto t = ParseShares(absl::StrCat(
      kSharesHeader,
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07,0.9,0\n"
      "F,Ford,Consumer Discretionary,US,40e9,0.9,0.03,1.2,0\n"
      "TEMU,PDD Holdings,Consumer Discretionary,CN,150e9,0.4,0.25,0,-0.1\n"
      "SHEIN,Shein,Consumer Discretionary,SG,60e9,0.5,0.1,44.4%,0\n"
      "AAPL,Apple,Information Technology,US,3000e9,0.55,0.3,nan,80\n"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      Lines(std::string(t.status().message())),
      ElementsAre("companies.csv:3: usmca_share: 1.2 is outside 0..1",
                  "companies.csv:4: low_value_share: -0.1 is outside 0..1",
                  "companies.csv:5: usmca_share: '44.4%' is not a number",
                  "companies.csv:6: usmca_share: 'nan' is not a number",
                  "companies.csv:6: low_value_share: 80 is outside 0..1"));
}

}  // namespace
}  // namespace tariffalert
