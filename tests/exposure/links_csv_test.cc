// links.csv, the optional third file of the exposure format: supplier,
// customer, share of the supplier's revenue that the customer buys.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/exposure_csv.h"

namespace tariffalert {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Four companies, not in ticker order: AAPL 0, GM 1, HON 2, QCOM 3 once
// sorted.
constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "QCOM,Qualcomm,Information Technology,US,175e9,0.44,0.26\n"
    "HON,Hon Hai,Information Technology,TW,78e9,0.94,0.03\n"
    "AAPL,Apple,Information Technology,US,3000e9,0.54,0.31\n"
    "GM,General Motors,Consumer Discretionary,US,50e9,0.86,0.07\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.4\n";
constexpr char kLinksHeader[] = "supplier,customer,share\n";

absl::StatusOr<std::shared_ptr<const ExposureTable>> ParseLinks(
    const std::string& links_csv) {
  ExposureFiles files{kCompanies, kExposures, links_csv};
  return ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1",
                            "links.csv");
}

// The error message of a links file that must be rejected; `rows` follow
// the header, so the first is line 2.
std::string ErrorOf(const std::string& rows) {
  auto t = ParseLinks(absl::StrCat(kLinksHeader, rows));
  EXPECT_FALSE(t.ok()) << "accepted:\n" << rows;
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

std::vector<std::string> Lines(const std::string& message) {
  return absl::StrSplit(message, '\n');
}

MATCHER_P2(LinkTo, customer, share, "") {
  return arg.customer == customer && arg.share == share;
}

TEST(LinksCsvTest, NoLinksFileMeansNoLinks) {
  auto t = ParseExposureFiles({kCompanies, kExposures}, "companies.csv",
                              "exposures.csv", "v1");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->link_count(), 0u);
  for (size_t i = 0; i < (*t)->companies().size(); ++i) {
    EXPECT_TRUE((*t)->CustomersOf(i).empty());
  }
}

TEST(LinksCsvTest, AHeaderAloneMeansNoLinks) {
  auto t = ParseLinks(kLinksHeader);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->link_count(), 0u);
  EXPECT_TRUE((*t)->CustomersOf(0).empty());
}

TEST(LinksCsvTest, LinksAreGroupedBySupplierInCustomerTickerOrder) {
  auto t = ParseLinks(
      "supplier,source,customer,share,year\n"  // extra columns are ignored
      "HON,annual report,GM,0.1,2024\n"
      "QCOM,10-K,AAPL,0.2,2024\n"
      "HON,annual report,AAPL,0.5,2024\n");
  ASSERT_TRUE(t.ok()) << t.status();
  const ExposureTable& table = **t;
  EXPECT_EQ(table.link_count(), 3u);
  ASSERT_EQ(table.companies()[2].ticker, "HON");
  // AAPL (index 0) before GM (index 1), whatever the file order.
  EXPECT_THAT(table.CustomersOf(2),
              ElementsAre(LinkTo(0, 0.5), LinkTo(1, 0.1)));
  ASSERT_EQ(table.companies()[3].ticker, "QCOM");
  EXPECT_THAT(table.CustomersOf(3), ElementsAre(LinkTo(0, 0.2)));
  EXPECT_TRUE(table.CustomersOf(0).empty());  // AAPL supplies nobody here
  EXPECT_TRUE(table.CustomersOf(1).empty());
}

TEST(LinksCsvTest, ASuppliersSharesMaySumToOneWithRounding) {
  // 0.3334 * 3 = 1.0002: within the tolerance the other sums use.
  auto t = ParseLinks(absl::StrCat(kLinksHeader,
                                   "HON,AAPL,0.3334\n"
                                   "HON,GM,0.3334\n"
                                   "HON,QCOM,0.3334\n"
                                   "QCOM,AAPL,1\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->link_count(), 4u);
}

struct BadLinkCase {
  const char* name;
  const char* row;    // line 2 of links.csv
  const char* error;  // the message must start with this
};

class BadLinkRowTest : public ::testing::TestWithParam<BadLinkCase> {};

TEST_P(BadLinkRowTest, ErrorNamesFileLineAndField) {
  const BadLinkCase& c = GetParam();
  const std::string message = ErrorOf(c.row);
  EXPECT_THAT(message, StartsWith(c.error));
  EXPECT_EQ(Lines(message).size(), 1u) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadLinkRowTest,
    ::testing::Values(
        BadLinkCase{"UnknownSupplier", "MSFT,AAPL,0.1",
                    "links.csv:2: supplier: 'MSFT' is not in companies.csv"},
        BadLinkCase{"UnknownCustomer", "HON,MSFT,0.1",
                    "links.csv:2: customer: 'MSFT' is not in companies.csv"},
        BadLinkCase{"EmptySupplier", ",AAPL,0.1",
                    "links.csv:2: supplier: '' is not in companies.csv"},
        BadLinkCase{"LowerCaseCustomer", "HON,aapl,0.1",
                    "links.csv:2: customer: 'aapl' is not in companies.csv"},
        BadLinkCase{"SelfLink", "AAPL,AAPL,0.1",
                    "links.csv:2: customer: 'AAPL' is the supplier itself"},
        BadLinkCase{"ZeroShare", "HON,AAPL,0",
                    "links.csv:2: share: must be positive"},
        BadLinkCase{"NegativeShare", "HON,AAPL,-0.1",
                    "links.csv:2: share: -0.1 is outside 0..1"},
        BadLinkCase{"ShareAboveOne", "HON,AAPL,1.5",
                    "links.csv:2: share: 1.5 is outside 0..1"},
        BadLinkCase{"PercentNotFraction", "HON,AAPL,50",
                    "links.csv:2: share: 50 is outside 0..1"},
        BadLinkCase{"TextShare", "HON,AAPL,half",
                    "links.csv:2: share: 'half' is not a number"},
        BadLinkCase{"NanShare", "HON,AAPL,nan",
                    "links.csv:2: share: 'nan' is not a number"},
        BadLinkCase{"EmptyShare", "HON,AAPL,",
                    "links.csv:2: share: '' is not a number"},
        BadLinkCase{"InfShare", "HON,AAPL,inf",
                    "links.csv:2: share: 'inf' is not a number"},
        BadLinkCase{"MinusInfShare", "HON,AAPL,-inf",
                    "links.csv:2: share: '-inf' is not a number"},
        BadLinkCase{"AbsurdShare", "HON,AAPL,1e300",
                    "links.csv:2: share: 1e300 is outside 0..1"},
        BadLinkCase{"FormulaCustomer", "HON,=AAPL,0.1",
                    "links.csv:2: customer: '=AAPL' is not in companies.csv"},
        BadLinkCase{"InvalidUtf8Supplier", "HO\xC3\x28,AAPL,0.1",
                    "links.csv:2: supplier: not valid UTF-8 (byte 0xC3 at "
                    "offset 2 of the cell); save the file as UTF-8"}),
    [](const ::testing::TestParamInfo<BadLinkCase>& info) {
      return std::string(info.param.name);
    });

TEST(LinksCsvTest, ADuplicatePairNamesTheEarlierLine) {
  const std::string message = ErrorOf(
      "HON,AAPL,0.5\n"
      "HON,GM,0.1\n"
      "HON,AAPL,0.2\n");
  EXPECT_EQ(message, "links.csv:4: customer: HON -> AAPL already on line 2");
}

TEST(LinksCsvTest, TheReverseLinkIsNotADuplicate) {
  auto t = ParseLinks(absl::StrCat(kLinksHeader,
                                   "HON,AAPL,0.5\n"
                                   "AAPL,HON,0.01\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->link_count(), 2u);
}

TEST(LinksCsvTest, ShareSumOverOneIsReportedAtTheLineThatCrossesIt) {
  // HON: 0.6 + 0.3 = 0.9 at line 3, + 0.2 = 1.1 at line 5; QCOM's line 4
  // has its own budget.
  const std::string message = ErrorOf(
      "HON,AAPL,0.6\n"
      "HON,GM,0.3\n"
      "QCOM,AAPL,0.9\n"
      "HON,QCOM,0.2\n");
  EXPECT_THAT(message,
              StartsWith("links.csv:5: share: HON customer shares sum to 1.1 "
                         "with this row (at most 1)"));
  EXPECT_EQ(Lines(message).size(), 1u) << message;
}

TEST(LinksCsvTest, AMissingColumnNamesTheFile) {
  auto t = ParseLinks("supplier,customer\nHON,AAPL\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), StartsWith("links.csv:1: "));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("'share'"));
}

TEST(LinksCsvTest, ErrorsOfAllThreeFilesAreReportedTogether) {
  ExposureFiles files{
      absl::StrCat(kCompanies, "SAP,SAP,Tech,DE,300e9,0.3,0.2\n"),
      "ticker,kind,country,product,share\nAAPL,revenue,US,*,1.5\n",
      absl::StrCat(kLinksHeader,
                   "HON,AAPL,0.5\n"
                   "SAP,AAPL,0.1\n"  // SAP's own row is invalid
                   "HON,GM,2\n")};
  auto t = ParseExposureFiles(files, "companies.csv", "exposures.csv", "v1",
                              "links.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(Lines(std::string(t.status().message())),
              ElementsAre(StartsWith("companies.csv:6: sector:"),
                          StartsWith("exposures.csv:2: share:"),
                          StartsWith("links.csv:3: supplier: 'SAP'"),
                          StartsWith("links.csv:4: share:")));
}

}  // namespace
}  // namespace tariffalert
