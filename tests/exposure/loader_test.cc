#include "server/exposure/loader.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_exposure_store.h"

namespace tariffalert {
namespace {

using ::tariffalert::testing::FakeExposureStore;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n"
    "F,Ford,Consumer Discretionary,US,40e9,0.9,0.05\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "GM,revenue,US,*,0.85\n"
    "GM,production,MX,87,0.2\n"
    "F,revenue,US,*,0.6\n";
// Line 3 has a share above 1.
constexpr char kBadExposures[] =
    "ticker,kind,country,product,share\n"
    "GM,revenue,US,*,0.85\n"
    "GM,production,MX,87,1.2\n";

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ =
        absl::StrCat(::testing::TempDir(), "loader_test.XXXXXX");
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const std::string& f : written_) ::unlink(f.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path, std::ios::binary) << text;
    written_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> written_;
  FakeExposureStore store_;
};

TEST_F(LoaderTest, ValidFilesBecomeTheCurrentVersion) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  auto result = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->version.empty());
  EXPECT_EQ(result->previous_version, std::nullopt);
  EXPECT_EQ(result->company_count, 2u);
  EXPECT_EQ(result->exposure_row_count, 3u);

  EXPECT_EQ(store_.activations(), 1);
  auto current = store_.CurrentVersion();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, result->version);
  // The store holds the files as given, for every replica to read.
  auto files = store_.ReadVersion(result->version);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->companies_csv, kCompanies);
  EXPECT_EQ(files->exposures_csv, kExposures);
}

TEST_F(LoaderTest, SecondLoadReportsThePreviousVersion) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  auto first = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->version, first->version);
  EXPECT_EQ(second->previous_version, first->version);
  EXPECT_EQ(*store_.CurrentVersion(), second->version);
}

TEST_F(LoaderTest, InvalidFileIsRejectedWithFileAndLineAndNothingIsWritten) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kBadExposures);
  auto result = LoadExposure(store_, companies, exposures);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith(absl::StrCat(exposures, ":3: share:")));
  EXPECT_EQ(store_.version_count(), 0u);
  EXPECT_EQ(store_.activations(), 0);
  EXPECT_EQ(*store_.CurrentVersion(), std::nullopt);
}

TEST_F(LoaderTest, InvalidFileLeavesThePreviousVersionCurrent) {
  const std::string companies = Write("companies.csv", kCompanies);
  auto good = LoadExposure(store_, companies, Write("good.csv", kExposures));
  ASSERT_TRUE(good.ok()) << good.status();
  auto bad = LoadExposure(store_, companies, Write("bad.csv", kBadExposures));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(store_.version_count(), 1u);
  EXPECT_EQ(store_.activations(), 1);
  EXPECT_EQ(*store_.CurrentVersion(), good->version);
}

TEST_F(LoaderTest, MissingFileIsAnErrorNamingThePath) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string missing = absl::StrCat(dir_, "/no-such-exposures.csv");
  auto result = LoadExposure(store_, companies, missing);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(missing));
  EXPECT_EQ(store_.version_count(), 0u);
}

TEST_F(LoaderTest, StoreWriteFailureIsAnErrorAndCurrentIsUnchanged) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  auto first = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(first.ok()) << first.status();

  store_.set_fail_writes(true);
  auto second = LoadExposure(store_, companies, exposures);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.activations(), 1);
  EXPECT_EQ(*store_.CurrentVersion(), first->version);
}

TEST_F(LoaderTest, UnreachableStoreIsAnErrorAndNothingIsWritten) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  store_.set_unavailable(true);
  auto result = LoadExposure(store_, companies, exposures);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  store_.set_unavailable(false);
  EXPECT_EQ(store_.version_count(), 0u);
  EXPECT_EQ(store_.activations(), 0);
}

constexpr char kLinks[] =
    "supplier,customer,share\n"
    "F,GM,0.02\n";

TEST_F(LoaderTest, LinksAreValidatedCountedAndStoredWithTheVersion) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  const std::string links = Write("links.csv", kLinks);
  auto result = LoadExposure(store_, companies, exposures, links);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->link_count, 1u);
  auto files = store_.ReadVersion(result->version);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->links_csv, kLinks);
}

TEST_F(LoaderTest, WithoutLinksTheVersionHasNone) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  auto result = LoadExposure(store_, companies, exposures, "");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->link_count, 0u);
  EXPECT_EQ(store_.ReadVersion(result->version)->links_csv, "");
}

TEST_F(LoaderTest, ABadLinksFileRejectsTheWholeLoad) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  auto good = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(good.ok()) << good.status();
  const std::string links =
      Write("links.csv", "supplier,customer,share\nF,GM,0.02\nGM,GM,0.1\n");
  auto bad = LoadExposure(store_, companies, exposures, links);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()),
            absl::StrCat(links, ":3: customer: 'GM' is the supplier itself"));
  EXPECT_EQ(store_.version_count(), 1u);
  EXPECT_EQ(*store_.CurrentVersion(), good->version);
}

TEST_F(LoaderTest, AMissingLinksFileIsAnErrorNamingThePath) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures = Write("exposures.csv", kExposures);
  const std::string missing = absl::StrCat(dir_, "/no-links.csv");
  auto result = LoadExposure(store_, companies, exposures, missing);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(missing));
  EXPECT_EQ(store_.version_count(), 0u);
}

TEST_F(LoaderTest, InvalidUtf8IsRefusedAndThePreviousVersionStaysCurrent) {
  const std::string exposures = Write("exposures.csv", kExposures);
  auto good =
      LoadExposure(store_, Write("companies.csv", kCompanies), exposures);
  ASSERT_TRUE(good.ok()) << good.status();
  const std::string bad = Write(
      "bad_companies.csv",
      "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n"
      "F,Ford\xFF,Consumer Discretionary,US,40e9,0.9,0.05\n");
  auto result = LoadExposure(store_, bad, exposures);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(result.status().message()),
            absl::StrCat(bad,
                         ":3: name: not valid UTF-8 (byte 0xFF at offset 4 of "
                         "the cell); save the file as UTF-8"));
  EXPECT_EQ(store_.version_count(), 1u);
  EXPECT_EQ(*store_.CurrentVersion(), good->version);
}

TEST_F(LoaderTest, ALongLineIsRefusedAtItsLineAndNothingIsWritten) {
  const std::string companies = Write("companies.csv", kCompanies);
  const std::string exposures =
      Write("exposures.csv", absl::StrCat("ticker,kind,country,product,share,"
                                          "source\n"
                                          "GM,revenue,US,*,0.85,10-K\n"
                                          "F,revenue,US,*,0.6,",
                                          std::string(1 << 20, 's'), "\n"));
  auto result = LoadExposure(store_, companies, exposures);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(result.status().message()),
      absl::StrCat(exposures, ":3: line longer than the limit of 65536 bytes"));
  EXPECT_EQ(store_.version_count(), 0u);
  EXPECT_EQ(store_.activations(), 0);
}

TEST_F(LoaderTest, AFormulaNameIsRefused) {
  const std::string companies = Write(
      "companies.csv",
      "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
      "GM,=cmd|' /C calc'!A0,Consumer Discretionary,US,50e9,0.85,0.07\n");
  auto result =
      LoadExposure(store_, companies, Write("exposures.csv", kExposures));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith(absl::StrCat(companies,
                                      ":2: name: '=cmd|' /C calc'!A0' begins "
                                      "with '='")));
  EXPECT_EQ(store_.version_count(), 0u);
}

TEST(ReadFileToStringTest, ReadsBytesExactly) {
  std::string templ = absl::StrCat(::testing::TempDir(), "read_test.XXXXXX");
  const int fd = ::mkstemp(templ.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string bytes("a,b\r\n\"x\"\0y\n", 11);
  std::ofstream(templ, std::ios::binary) << bytes;
  auto read = ReadFileToString(templ);
  ::unlink(templ.c_str());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);
}

TEST(ReadFileToStringTest, ADirectoryIsNotARegularFile) {
  const std::string dir = ::testing::TempDir();
  auto read = ReadFileToString(dir);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(read.status().message()), dir + ": not a regular file");
}

}  // namespace
}  // namespace tariffalert
