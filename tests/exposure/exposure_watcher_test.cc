#include "server/exposure/exposure_watcher.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_exposure_store.h"

namespace tariffalert {
namespace {

using ::tariffalert::testing::FakeExposureStore;
using ::testing::HasSubstr;

constexpr char kCompaniesHeader[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n";
constexpr char kExposuresHeader[] = "ticker,kind,country,product,share\n";

ExposureFiles Files(const std::string& company_rows,
                    const std::string& exposure_rows) {
  return {absl::StrCat(kCompaniesHeader, company_rows),
          absl::StrCat(kExposuresHeader, exposure_rows)};
}

const ExposureFiles& OneCompany() {
  static const ExposureFiles files =
      Files("GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n",
            "GM,revenue,US,*,0.85\n");
  return files;
}

const ExposureFiles& TwoCompanies() {
  static const ExposureFiles files = Files(
      "GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n"
      "F,Ford,Consumer Discretionary,US,40e9,0.9,0.05\n",
      "GM,revenue,US,*,0.85\n"
      "F,revenue,US,*,0.6\n");
  return files;
}

// Line 3 of exposures.csv names a ticker that is not in companies.csv.
const ExposureFiles& Corrupt() {
  static const ExposureFiles files =
      Files("GM,General Motors,Consumer Discretionary,US,50e9,0.85,0.07\n",
            "GM,revenue,US,*,0.85\n"
            "TSLA,revenue,US,*,0.5\n");
  return files;
}

// Writes and activates a version, as the loader would.
std::string Publish(FakeExposureStore& store, const ExposureFiles& files) {
  auto version = store.WriteVersion(files, ExposureVersionInfo{});
  EXPECT_TRUE(version.ok()) << version.status();
  EXPECT_TRUE(store.Activate(*version).ok());
  return *version;
}

TEST(ExposureWatcherTest, ServesAnEmptyTableBeforeAnyVersion) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  ASSERT_NE(watcher.Current(), nullptr);
  EXPECT_EQ(watcher.Current()->version(), "");
  EXPECT_TRUE(watcher.Current()->companies().empty());
  // Nothing ever activated: nothing to load, and not an error.
  EXPECT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), "");
}

TEST(ExposureWatcherTest, RefreshPicksUpANewVersion) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  const std::string v1 = Publish(store, OneCompany());
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), v1);
  EXPECT_EQ(watcher.Current()->companies().size(), 1u);

  const std::string v2 = Publish(store, TwoCompanies());
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), v2);
  EXPECT_EQ(watcher.Current()->companies().size(), 2u);
}

TEST(ExposureWatcherTest, AReaderKeepsItsSnapshotWhole) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  const std::string v1 = Publish(store, OneCompany());
  ASSERT_TRUE(watcher.Refresh().ok());
  std::shared_ptr<const ExposureTable> held = watcher.Current();

  Publish(store, TwoCompanies());
  ASSERT_TRUE(watcher.Refresh().ok());
  // The swap replaced the serving snapshot, not the one a scorer holds.
  EXPECT_EQ(held->version(), v1);
  EXPECT_EQ(held->companies().size(), 1u);
  EXPECT_EQ(watcher.Current()->companies().size(), 2u);
}

TEST(ExposureWatcherTest, BadVersionIsRejectedAndTheOldOneKeepsServing) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  const std::string good = Publish(store, OneCompany());
  ASSERT_TRUE(watcher.Refresh().ok());

  const std::string bad = store.ForceCurrent(Corrupt());
  const absl::Status status = watcher.Refresh();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("exposure version ", bad,
                                     " exposures.csv:3: ticker: 'TSLA'")));
  EXPECT_EQ(watcher.Current()->version(), good);
  EXPECT_EQ(watcher.Current()->companies().size(), 1u);
}

TEST(ExposureWatcherTest, AGoodVersionAfterARejectedOneIsPickedUp) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  Publish(store, OneCompany());
  ASSERT_TRUE(watcher.Refresh().ok());
  store.ForceCurrent(Corrupt());
  EXPECT_FALSE(watcher.Refresh().ok());

  const std::string fixed = Publish(store, TwoCompanies());
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), fixed);
  EXPECT_EQ(watcher.Current()->companies().size(), 2u);
}

TEST(ExposureWatcherTest, UnreachableStoreKeepsTheOldSnapshot) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  const std::string v1 = Publish(store, OneCompany());
  ASSERT_TRUE(watcher.Refresh().ok());

  store.set_unavailable(true);
  const absl::Status status = watcher.Refresh();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(watcher.Current()->version(), v1);
  EXPECT_EQ(watcher.Current()->companies().size(), 1u);

  // Back again: the next version is picked up.
  store.set_unavailable(false);
  const std::string v2 = Publish(store, TwoCompanies());
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), v2);
}

TEST(ExposureWatcherTest, BackgroundPollingPicksUpANewVersion) {
  FakeExposureStore store;
  ExposureWatcher watcher(&store, absl::Milliseconds(10));
  watcher.Start();
  const std::string v1 = Publish(store, OneCompany());
  // Liveness, not speed: wait up to 5 s for the poller to see the version.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (watcher.Current()->version() != v1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(watcher.Current()->version(), v1);
  EXPECT_EQ(watcher.Current()->companies().size(), 1u);
}

TEST(ExposureWatcherTest, DestroyingAStartedWatcherStopsPolling) {
  FakeExposureStore store;
  auto watcher = std::make_unique<ExposureWatcher>(&store, absl::Hours(1));
  watcher->Start();
  // The destructor wakes the poller rather than sleep out the hour-long
  // interval.
  const absl::Time start = absl::Now();
  watcher.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace tariffalert
