// Against the real redis-server that tests/run.sh starts.

#include "server/redis/redis_exposure_store.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/exposure_watcher.h"
#include "server/exposure/loader.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.5,0.3\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.4\n";
constexpr char kCompaniesV2[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.5,0.3\n"
    "BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04\n";
constexpr char kLinks[] =
    "supplier,customer,share,source\n"
    "AAPL,BBY,0.05,illustrative\n";
// As Excel's "CSV UTF-8" saves it: a byte order mark, CRLF line ends, a
// quoted comma and a non-ASCII byte, so a round trip that changed a byte
// would show.
constexpr char kBaseRates[] =
    "\xEF\xBB\xBFimporter,product,mfn_rate_pct,year,source,method\r\n"
    "US,*,4.24,2025,\"USITC HTS 2025 Basic Edition, column 1 General\",mean\r\n"
    "US,8471,0.00,2025,\"USITC HTS 2025 Basic Edition, column 1 General\","
    "exact \xE2\x80\x94 all lines free\r\n";

// The watcher's store, counting the pointer reads it answered: a test waits
// for polls that began after a write instead of sleeping out a few.
class CountingExposureStore : public ExposureStore {
 public:
  explicit CountingExposureStore(ExposureStore* store) : store_(store) {}
  absl::StatusOr<std::optional<std::string>> CurrentVersion() override {
    auto pointer = store_->CurrentVersion();
    absl::MutexLock lock(&mu_);
    ++pointer_reads_;
    return pointer;
  }
  absl::StatusOr<ExposureFiles> ReadVersion(
      const std::string& version) override {
    return store_->ReadVersion(version);
  }
  absl::StatusOr<std::string> WriteVersion(
      const ExposureFiles& files, const ExposureVersionInfo& info) override {
    return store_->WriteVersion(files, info);
  }
  absl::Status Activate(const std::string& version) override {
    return store_->Activate(version);
  }
  int pointer_reads() const {
    absl::MutexLock lock(&mu_);
    return pointer_reads_;
  }
  // Until `n` pointer reads were answered, at most `timeout`.
  bool WaitForPointerReads(int n, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return pointer_reads_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  ExposureStore* const store_;
  mutable absl::Mutex mu_;
  int pointer_reads_ ABSL_GUARDED_BY(mu_) = 0;
};

class RedisExposureStoreTest : public ::testing::Test {
 protected:
  RedisExposureStoreTest()
      : options_(testing::TestRedisOptions()),
        raw_(std::make_unique<RedisConnection>(options_)),
        store_(std::make_unique<RedisConnection>(options_)) {}

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path =
        ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path) << text;
    return path;
  }

  long long Ttl(const std::string& key) {
    auto reply = raw_->Command({"TTL", key});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? (*reply)->integer : -99;
  }

  // The test's keys, by SCAN (KEYS is not in the test user's ACL: it stalls
  // a shared server).
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      auto reply = raw_->Command({"SCAN", cursor, "MATCH",
                                  options_.key_prefix + "*", "COUNT", "1000"});
      EXPECT_TRUE(reply.ok()) << reply.status();
      if (!reply.ok() || (*reply)->elements != 2) break;
      cursor =
          std::string((*reply)->element[0]->str, (*reply)->element[0]->len);
      const redisReply& page = *(*reply)->element[1];
      for (size_t i = 0; i < page.elements; ++i) {
        keys.emplace_back(page.element[i]->str, page.element[i]->len);
      }
    } while (cursor != "0");
    return keys;
  }

  RedisOptions options_;
  std::unique_ptr<RedisConnection> raw_;
  RedisExposureStore store_;
};

TEST_F(RedisExposureStoreTest, NothingIsCurrentBeforeTheFirstLoad) {
  auto current = store_.CurrentVersion();
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_FALSE(current->has_value());
}

TEST_F(RedisExposureStoreTest, AWrittenVersionIsInvisibleUntilActivated) {
  auto v = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(store_.CurrentVersion()->has_value());
  // Written with an expiry, so an abandoned load cleans itself up.
  EXPECT_GT(Ttl(store_.VersionKey(*v, "companies")), 0);

  ASSERT_TRUE(store_.Activate(*v).ok());
  EXPECT_EQ(store_.CurrentVersion()->value(), *v);
  EXPECT_EQ(Ttl(store_.VersionKey(*v, "companies")), -1);  // persisted
  auto files = store_.ReadVersion(*v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->companies_csv, kCompanies);
  EXPECT_EQ(files->exposures_csv, kExposures);
}

TEST_F(RedisExposureStoreTest, ActivatingAVersionThatWasNeverWrittenFails) {
  absl::Status s = store_.Activate("999");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(store_.CurrentVersion()->has_value());
}

TEST_F(RedisExposureStoreTest, ASupersededVersionExpiresLater) {
  auto v1 = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*v1).ok());
  auto v2 = store_.WriteVersion({kCompaniesV2, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*v2).ok());
  EXPECT_GT(Ttl(store_.VersionKey(*v1, "meta")), 0);
  EXPECT_EQ(Ttl(store_.VersionKey(*v2, "meta")), -1);
}

TEST_F(RedisExposureStoreTest, AnAlteredValueIsDetectedOnRead) {
  auto v = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*v).ok());
  ASSERT_TRUE(
      raw_->Command({"APPEND", store_.VersionKey(*v, "companies"), "X"}).ok());
  auto files = store_.ReadVersion(*v);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr("companies"));
}

TEST_F(RedisExposureStoreTest, LoaderWritesNothingForABadFile) {
  const std::string companies = WriteFile("companies.csv", kCompanies);
  const std::string bad = WriteFile("bad_exposures.csv",
                                    "ticker,kind,country,product,share\n"
                                    "AAPL,revenue,US,*,0.4\n"
                                    "MSFT,revenue,US,*,0.4\n");
  auto result = LoadExposure(store_, companies, bad);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(bad + ":3: ticker: 'MSFT'"));
  EXPECT_FALSE(store_.CurrentVersion()->has_value());
  EXPECT_THAT(Keys(), ::testing::IsEmpty()) << "a rejected file wrote keys";
}

// Hostile input in a second load: each is refused with file:line, writes no
// key, and version 1 stays current and served.
TEST_F(RedisExposureStoreTest, ARejectedLoadLeavesTheOldVersionServing) {
  const std::string exposures = WriteFile("e.csv", kExposures);
  auto first = LoadExposure(store_, WriteFile("c1.csv", kCompanies), exposures);
  ASSERT_TRUE(first.ok()) << first.status();
  RedisExposureStore watcher_store(std::make_unique<RedisConnection>(options_));
  ExposureWatcher watcher(&watcher_store, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());

  const std::string header =
      "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin,"
      "source\n"
      "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.5,0.3,10-K\n";
  const struct {
    const char* file;
    std::string text;
    std::string error;  // after the path
  } cases[] = {
      {"utf8.csv",
       header + "BBY,Best Buy\xFF,Consumer Discretionary,US,2e10,0.77,0.04,x\n",
       ":3: name: not valid UTF-8 (byte 0xFF at offset 8 of the cell); save "
       "the file as UTF-8"},
      {"long.csv",
       header + "BBY,Best Buy,Consumer Discretionary,US,2e10,0.77,0.04," +
           std::string(1 << 20, 'x') + "\n",
       ":3: line longer than the limit of 65536 bytes"},
      {"formula.csv",
       header +
           "BBY,=HYPERLINK(\"\"),Consumer Discretionary,US,2e10,0.77,0.04,x\n",
       ":3: a quote inside an unquoted field (quote the whole field)"},
      {"formula2.csv",
       header + "BBY,@SUM(A1),Consumer Discretionary,US,2e10,0.77,0.04,x\n",
       ":3: name: '@SUM(A1)' begins with '@', which a spreadsheet runs as a "
       "formula; a name must not begin with = + - or @"},
      {"quote.csv",
       header + "BBY,\"Best Buy,Consumer Discretionary,US,2e10,0.77,0.04,x\n",
       ":3: unterminated quoted field"},
      {"nan.csv",
       header + "BBY,Best Buy,Consumer Discretionary,US,nan,0.77,0.04,x\n",
       ":3: market_cap_usd: 'nan' is not a number"},
  };
  for (const auto& c : cases) {
    const std::string path = WriteFile(c.file, c.text);
    auto second = LoadExposure(store_, path, exposures);
    ASSERT_FALSE(second.ok()) << c.file;
    EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(second.status().message()), path + c.error);
    std::remove(path.c_str());
  }

  EXPECT_EQ(store_.CurrentVersion()->value(), first->version);
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), first->version);
  EXPECT_EQ(watcher.Current()->companies().size(), 1u);
  // No rejected load took a version id (each write takes the next one).
  auto fixed =
      LoadExposure(store_, WriteFile("c2.csv", kCompaniesV2), exposures);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->previous_version, first->version);
  EXPECT_EQ(fixed->version, std::to_string(std::stoll(first->version) + 1));
}

// A writer that skipped the loader's checks: the server refuses the version
// by the same rules and keeps serving the old one.
TEST_F(RedisExposureStoreTest, InvalidUtf8WrittenPastTheLoaderIsNotServed) {
  auto good = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*good).ok());
  ExposureWatcher watcher(&store_, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());
  auto bad = store_.WriteVersion(
      {absl::StrCat(kCompanies,
                    "BBY,Best Buy\xC3\x28,Consumer Discretionary,US,2e10,0.77,"
                    "0.04\n"),
       kExposures},
      {});
  ASSERT_TRUE(store_.Activate(*bad).ok());
  absl::Status refreshed = watcher.Refresh();
  EXPECT_EQ(refreshed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(refreshed.message()),
            absl::StrCat("exposure version ", *bad,
                         " companies.csv:3: name: not valid UTF-8 (byte 0xC3 "
                         "at offset 8 of the cell); save the file as UTF-8"));
  EXPECT_EQ(watcher.Current()->version(), *good);
}

TEST_F(RedisExposureStoreTest, WatcherFollowsLoadsAndIgnoresHalfWrittenOnes) {
  const std::string companies = WriteFile("c1.csv", kCompanies);
  const std::string companies2 = WriteFile("c2.csv", kCompaniesV2);
  const std::string exposures = WriteFile("e.csv", kExposures);
  auto first = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(first.ok()) << first.status();

  RedisExposureStore redis_store(std::make_unique<RedisConnection>(options_));
  CountingExposureStore watcher_store(&redis_store);
  ExposureWatcher watcher(&watcher_store, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), first->version);
  watcher.Start();

  // Half-written: the keys are there but the pointer never moved.
  auto orphan = store_.WriteVersion({kCompaniesV2, kExposures}, {});
  ASSERT_TRUE(orphan.ok());
  // Read n + 1 may have begun before the write; read n + 2 began after it,
  // and its poll had finished (swapped in or not) before read n + 3 began.
  const int reads = watcher_store.pointer_reads();
  ASSERT_TRUE(watcher_store.WaitForPointerReads(reads + 3, absl::Seconds(10)))
      << "the watcher did not poll after the half-written version";
  EXPECT_EQ(watcher.Current()->version(), first->version);
  EXPECT_EQ(watcher.Current()->companies().size(), 1u);

  auto second = LoadExposure(store_, companies2, exposures);
  ASSERT_TRUE(second.ok());
  // Liveness: the new version is picked up without a restart.
  for (int i = 0; i < 500 && watcher.Current()->version() != second->version;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(watcher.Current()->version(), second->version);
  EXPECT_EQ(watcher.Current()->companies().size(), 2u);
}

TEST_F(RedisExposureStoreTest, APointerToABadVersionLeavesTheOldOneServing) {
  auto good = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*good).ok());
  ExposureWatcher watcher(&store_, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());
  // A writer that skipped validation: an unknown ticker in exposures.
  auto bad = store_.WriteVersion(
      {kCompanies, "ticker,kind,country,product,share\nXYZ,revenue,US,*,0.1\n"},
      {});
  ASSERT_TRUE(store_.Activate(*bad).ok());
  absl::Status refreshed = watcher.Refresh();
  EXPECT_EQ(refreshed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refreshed.message()),
              HasSubstr("exposures.csv:2: ticker: 'XYZ'"));
  EXPECT_EQ(watcher.Current()->version(), *good);
}

TEST_F(RedisExposureStoreTest, AnAlteredVersionIsRejectedAndTheOldOneServes) {
  auto good = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*good).ok());
  ExposureWatcher watcher(&store_, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());
  auto next = store_.WriteVersion({kCompaniesV2, kExposures}, {});
  ASSERT_TRUE(store_.Activate(*next).ok());
  ASSERT_TRUE(raw_->Command({"SETRANGE", store_.VersionKey(*next, "exposures"),
                             "0", "T"})
                  .ok());
  EXPECT_EQ(watcher.Refresh().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(watcher.Current()->version(), *good);
  // Skipped until the pointer moves: the next poll does not retry it.
  EXPECT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), *good);
}

TEST_F(RedisExposureStoreTest, AVersionWithLinksRoundTrips) {
  auto v =
      store_.WriteVersion({kCompaniesV2, kExposures, kLinks}, {"", 2, 1, 1});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_GT(Ttl(store_.VersionKey(*v, "links")), 0);
  ASSERT_TRUE(store_.Activate(*v).ok());
  EXPECT_EQ(Ttl(store_.VersionKey(*v, "links")), -1);  // persisted with it
  auto files = store_.ReadVersion(*v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->companies_csv, kCompaniesV2);
  EXPECT_EQ(files->exposures_csv, kExposures);
  EXPECT_EQ(files->links_csv, kLinks);
  auto link_count =
      raw_->Command({"HGET", store_.VersionKey(*v, "meta"), "link_count"});
  ASSERT_TRUE(link_count.ok());
  EXPECT_EQ(ReplyString(**link_count).value_or(""), "1");

  // A version without links reads as no links, and has no links key.
  auto bare = store_.WriteVersion({kCompaniesV2, kExposures}, {"", 2, 1, 0});
  ASSERT_TRUE(bare.ok()) << bare.status();
  ASSERT_TRUE(store_.Activate(*bare).ok());
  auto bare_files = store_.ReadVersion(*bare);
  ASSERT_TRUE(bare_files.ok()) << bare_files.status();
  EXPECT_EQ(bare_files->links_csv, "");
  auto exists = raw_->Command({"EXISTS", store_.VersionKey(*bare, "links")});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ((*exists)->integer, 0);
  // The superseded version's links expire with its other keys.
  EXPECT_GT(Ttl(store_.VersionKey(*v, "links")), 0);
}

TEST_F(RedisExposureStoreTest, AVersionFromBeforeLinksReadsAsNoLinks) {
  auto v = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(v.ok()) << v.status();
  // What an older loader wrote: no links size or checksum in the meta.
  ASSERT_TRUE(raw_->Command({"HDEL", store_.VersionKey(*v, "meta"),
                             "links_bytes", "links_fnv1a64"})
                  .ok());
  auto files = store_.ReadVersion(*v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->links_csv, "");
  // A links key such a version cannot vouch for is not trusted.
  ASSERT_TRUE(
      raw_->Command({"SET", store_.VersionKey(*v, "links"), kLinks}).ok());
  EXPECT_EQ(store_.ReadVersion(*v).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(RedisExposureStoreTest, AlteredOrLostLinksAreDetectedOnRead) {
  auto v = store_.WriteVersion({kCompaniesV2, kExposures, kLinks}, {});
  ASSERT_TRUE(store_.Activate(*v).ok());
  ASSERT_TRUE(
      raw_->Command({"SETRANGE", store_.VersionKey(*v, "links"), "40", "9"})
          .ok());
  auto altered = store_.ReadVersion(*v);
  EXPECT_EQ(altered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(altered.status().message()), HasSubstr("links"));
  ASSERT_TRUE(raw_->Command({"DEL", store_.VersionKey(*v, "links")}).ok());
  EXPECT_EQ(store_.ReadVersion(*v).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(RedisExposureStoreTest, TheWatcherServesTheLinksOfTheLoadedVersion) {
  const std::string companies = WriteFile("lc.csv", kCompaniesV2);
  const std::string exposures = WriteFile("le.csv", kExposures);
  const std::string links = WriteFile("ll.csv", kLinks);
  auto with = LoadExposure(store_, companies, exposures, links);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->link_count, 1u);
  ExposureWatcher watcher(&store_, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), with->version);
  ASSERT_EQ(watcher.Current()->link_count(), 1u);
  EXPECT_EQ(watcher.Current()->companies()[0].ticker, "AAPL");
  ASSERT_EQ(watcher.Current()->CustomersOf(0).size(), 1u);
  EXPECT_EQ(watcher.Current()->CustomersOf(0)[0].customer, 1);  // BBY
  EXPECT_DOUBLE_EQ(watcher.Current()->CustomersOf(0)[0].share, 0.05);

  auto without = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->link_count, 0u);
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), without->version);
  EXPECT_EQ(watcher.Current()->link_count(), 0u);
}

TEST_F(RedisExposureStoreTest, ABadLinksFileWritesNothing) {
  const std::string companies = WriteFile("bc.csv", kCompaniesV2);
  const std::string exposures = WriteFile("be.csv", kExposures);
  const std::string links = WriteFile(
      "bl.csv", "supplier,customer,share\nAAPL,BBY,0.05\nAAPL,MSFT,0.1\n");
  auto result = LoadExposure(store_, companies, exposures, links);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(links + ":3: customer: 'MSFT'"));
  EXPECT_THAT(Keys(), ::testing::IsEmpty())
      << "a rejected links file wrote keys";
}

TEST_F(RedisExposureStoreTest, AVersionWithBaseRatesReadsBackByteExact) {
  auto v = store_.WriteVersion({kCompanies, kExposures, "", kBaseRates},
                               {"", 1, 1, 0});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_GT(Ttl(store_.VersionKey(*v, "base_rates")), 0);
  ASSERT_TRUE(store_.Activate(*v).ok());
  EXPECT_EQ(Ttl(store_.VersionKey(*v, "base_rates")), -1);  // persisted
  auto files = store_.ReadVersion(*v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->base_rates_csv, std::string(kBaseRates));
  EXPECT_EQ(files->base_rates_csv.size(), sizeof(kBaseRates) - 1);
  EXPECT_EQ(files->companies_csv, kCompanies);
  EXPECT_EQ(files->exposures_csv, kExposures);
  EXPECT_EQ(files->links_csv, "");  // base rates without links
  auto bytes = raw_->Command(
      {"HGET", store_.VersionKey(*v, "meta"), "base_rates_bytes"});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ReplyString(**bytes).value_or(""),
            std::to_string(sizeof(kBaseRates) - 1));

  // The superseded version's base rates expire with its other keys.
  auto next = store_.WriteVersion({kCompanies, kExposures}, {"", 1, 1, 0});
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(store_.Activate(*next).ok());
  EXPECT_GT(Ttl(store_.VersionKey(*v, "base_rates")), 0);
}

TEST_F(RedisExposureStoreTest, AVersionWithoutBaseRatesHasNone) {
  auto v = store_.WriteVersion({kCompaniesV2, kExposures, kLinks}, {});
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(store_.Activate(*v).ok());
  auto files = store_.ReadVersion(*v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->base_rates_csv, "");
  EXPECT_EQ(files->links_csv, kLinks);
  auto exists = raw_->Command({"EXISTS", store_.VersionKey(*v, "base_rates")});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ((*exists)->integer, 0);
  // The meta says "none" (0 bytes), so a reader can tell none from lost.
  auto bytes = raw_->Command(
      {"HGET", store_.VersionKey(*v, "meta"), "base_rates_bytes"});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ReplyString(**bytes).value_or(""), "0");
}

TEST_F(RedisExposureStoreTest, AVersionFromBeforeBaseRatesReadsAsNone) {
  auto v = store_.WriteVersion({kCompanies, kExposures}, {});
  ASSERT_TRUE(v.ok()) << v.status();
  // What an older loader wrote: no base_rates size or checksum in the meta.
  ASSERT_TRUE(raw_->Command({"HDEL", store_.VersionKey(*v, "meta"),
                             "base_rates_bytes", "base_rates_fnv1a64"})
                  .ok());
  auto files = store_.ReadVersion(*v);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->base_rates_csv, "");
  // A base_rates key such a version cannot vouch for is not trusted.
  ASSERT_TRUE(
      raw_->Command({"SET", store_.VersionKey(*v, "base_rates"), kBaseRates})
          .ok());
  auto untrusted = store_.ReadVersion(*v);
  EXPECT_EQ(untrusted.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(untrusted.status().message()),
              HasSubstr("a base_rates key that its meta records no size or "
                        "checksum for"));
}

TEST_F(RedisExposureStoreTest, AlteredOrLostBaseRatesAreDetectedOnRead) {
  auto v = store_.WriteVersion({kCompanies, kExposures, "", kBaseRates}, {});
  ASSERT_TRUE(store_.Activate(*v).ok());
  // 4.24 becomes 9.24: same size, another checksum.
  const size_t at = std::string(kBaseRates).find("4.24");
  ASSERT_NE(at, std::string::npos);
  ASSERT_TRUE(raw_->Command({"SETRANGE", store_.VersionKey(*v, "base_rates"),
                             std::to_string(at), "9"})
                  .ok());
  auto altered = store_.ReadVersion(*v);
  EXPECT_EQ(altered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(altered.status().message()), HasSubstr("base_rates"));
  ASSERT_TRUE(raw_->Command({"DEL", store_.VersionKey(*v, "base_rates")}).ok());
  auto lost = store_.ReadVersion(*v);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(lost.status().message()), HasSubstr("base_rates"));
}

TEST_F(RedisExposureStoreTest, TheWatcherServesTheBaseRatesOfTheLoadedVersion) {
  const std::string companies = WriteFile("rc.csv", kCompanies);
  const std::string exposures = WriteFile("re.csv", kExposures);
  const std::string base_rates = WriteFile("rb.csv", kBaseRates);
  auto with = LoadExposure(store_, companies, exposures, "", base_rates);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->base_rate_count, 2u);
  ExposureWatcher watcher(&store_, absl::Milliseconds(20));
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), with->version);
  const BaseRates& rates = watcher.Current()->base_rates();
  ASSERT_EQ(rates.size(), 2u);
  const BaseRate* heading =
      rates.Find(*Country::Parse("US"), *HsCode::Parse("8471"));
  ASSERT_NE(heading, nullptr);
  EXPECT_DOUBLE_EQ(heading->rate_pct, 0);
  EXPECT_EQ(heading->method, "exact \xE2\x80\x94 all lines free");
  const BaseRate* all =
      rates.Find(*Country::Parse("US"), *HsCode::Parse("8703"));
  ASSERT_NE(all, nullptr);
  EXPECT_DOUBLE_EQ(all->rate_pct, 4.24);
  EXPECT_EQ(all->source, "USITC HTS 2025 Basic Edition, column 1 General");

  auto without = LoadExposure(store_, companies, exposures);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->base_rate_count, 0u);
  ASSERT_TRUE(watcher.Refresh().ok());
  EXPECT_EQ(watcher.Current()->version(), without->version);
  EXPECT_TRUE(watcher.Current()->base_rates().empty());
}

TEST_F(RedisExposureStoreTest, ABadBaseRatesFileWritesNothing) {
  const std::string companies = WriteFile("xc.csv", kCompanies);
  const std::string exposures = WriteFile("xe.csv", kExposures);
  const std::string base_rates =
      WriteFile("xb.csv",
                "importer,product,mfn_rate_pct,year,source\n"
                "US,*,4.24,2025,HTS\n"
                "US,84,-1.41,2025,HTS\n");
  auto result = LoadExposure(store_, companies, exposures, "", base_rates);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(result.status().message()),
            base_rates + ":3: mfn_rate_pct: -1.41 is outside 0..1000");
  EXPECT_FALSE(store_.CurrentVersion()->has_value());
  EXPECT_THAT(Keys(), ::testing::IsEmpty())
      << "a rejected base-rates file wrote keys";
}

TEST(RedisConnectionTest, AnUnreachableServerIsUnavailableAndNamed) {
  RedisOptions options;
  options.port = 1;  // nothing listens on port 1 of loopback
  options.connect_timeout = absl::Milliseconds(200);
  RedisConnection connection(options);
  auto reply = connection.Command({"PING"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("127.0.0.1:1"));
}

TEST(RedisConnectionTest, AWrongPasswordIsRefusedWithoutEchoingIt) {
  RedisOptions options = testing::TestRedisOptions();
  options.password = "s3cret-do-not-print";
  RedisConnection connection(options);
  auto reply = connection.Command({"PING"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr(absl::StrCat("redis ", options.host, ":", options.port,
                                     ": AUTH rejected for ")));
  EXPECT_THAT(std::string(reply.status().message()),
              ::testing::Not(HasSubstr("s3cret-do-not-print")));
}

// The rest need tests/run.sh's ACL user (TA_TEST_REDIS_USER).
class RedisAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (options_.user.empty()) GTEST_SKIP() << "the test Redis has no ACL user";
  }
  RedisOptions options_ = testing::TestRedisOptions();
};

TEST_F(RedisAclTest, AnUnknownUserIsRefusedNamingTheUser) {
  const std::string password = options_.password;
  options_.user = "nobody-" + std::to_string(::getpid());
  RedisConnection connection(options_);
  auto reply = connection.Command({"GET", options_.key_prefix + "x"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  const std::string message(reply.status().message());
  EXPECT_THAT(message, HasSubstr("AUTH rejected for user '" + options_.user +
                                 "': WRONGPASS"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr(password)));
}

TEST_F(RedisAclTest, NoPasswordIsNoAuthAndSaysSo) {
  options_.user.clear();
  options_.password.clear();
  RedisConnection connection(options_);
  auto reply = connection.Command({"GET", options_.key_prefix + "x"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr(": GET: NOAUTH Authentication required. (no password "
                        "was given"));
}

TEST_F(RedisAclTest, AKeyOutsideTheTestRootIsRefusedInCommandAndPipeline) {
  RedisConnection connection(options_);
  ASSERT_TRUE(connection.Command({"SET", options_.key_prefix + "x", "1"}).ok());
  auto reply = connection.Command({"SET", "elsewhere:x", "1"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr(": SET: NOPERM"));
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr("(user '" + options_.user + "')"));
  auto replies = connection.Pipeline(
      {{"GET", options_.key_prefix + "x"}, {"GET", "elsewhere:x"}});
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kPermissionDenied);
  // A command outside the ACL, likewise.
  reply = connection.Command({"FLUSHALL"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr("FLUSHALL: NOPERM"));
}

}  // namespace
}  // namespace tariffalert
