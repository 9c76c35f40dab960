#include "tests/testing/redis_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/redis/redis_credentials.h"
#include "server/redis/redis_exposure_store.h"

namespace tariffalert::testing {

RedisOptions TestRedisOptions() {
  static std::atomic<int> counter{0};
  RedisOptions options;
  const char* address = std::getenv("TA_TEST_REDIS");
  if (address == nullptr || *address == '\0') {
    ADD_FAILURE()
        << "TA_TEST_REDIS is not set: run the suite with tests/run.sh, "
           "which starts a redis-server and sets it";
    return options;
  }
  const absl::Status parsed = ParseRedisAddress(address, &options);
  EXPECT_TRUE(parsed.ok()) << parsed;
  // The same reading of credentials as the server's and the CLI's.
  if (const char* user = std::getenv("TA_TEST_REDIS_USER")) options.user = user;
  const char* password_file = std::getenv("TA_TEST_REDIS_PASSWORD_FILE");
  const absl::Status credentials = LoadRedisCredentials(
      password_file != nullptr ? password_file : "", &options);
  EXPECT_TRUE(credentials.ok()) << credentials;
  options.key_prefix =
      absl::StrCat(kTestKeyRoot, ::getpid(), ":", counter++, ":");
  return options;
}

absl::StatusOr<LoadResult> LoadTestExposure(const RedisOptions& redis,
                                            absl::string_view companies_csv,
                                            absl::string_view exposures_csv,
                                            absl::string_view links_csv,
                                            absl::string_view base_rates_csv) {
  static std::atomic<int> files{0};
  const std::string tag = absl::StrCat(::testing::TempDir(), "/exposure_",
                                       ::getpid(), "_", files++);
  auto write = [&tag](const char* name, absl::string_view text) {
    const std::string path = absl::StrCat(tag, "_", name);
    std::ofstream(path) << text;
    return path;
  };
  // The optional files only when given: an empty path loads without one.
  auto optional = [&write](const char* name, absl::string_view text) {
    return text.empty() ? std::string() : write(name, text);
  };
  const std::string companies = write("companies.csv", companies_csv);
  const std::string exposures = write("exposures.csv", exposures_csv);
  const std::string links = optional("links.csv", links_csv);
  const std::string base_rates = optional("base-rates.csv", base_rates_csv);
  RedisExposureStore store(std::make_unique<RedisConnection>(redis));
  return LoadExposure(store, companies, exposures, links, base_rates);
}

}  // namespace tariffalert::testing
