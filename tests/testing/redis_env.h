#ifndef TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_
#define TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_

// Access to the redis-server that tests/run.sh starts
// (TA_TEST_REDIS=host:port), as the ACL user TA_TEST_REDIS_USER with the
// password in TA_TEST_REDIS_PASSWORD_FILE when those are set. Each test gets
// its own key prefix, so tests run in parallel on one server; every prefix
// starts with kTestKeyRoot, the only keys the test user may touch.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_connection.h"

namespace tariffalert::testing {

// The start of every test key prefix (tests/run.sh's ACL: ~test:*).
inline constexpr char kTestKeyRoot[] = "test:";

// Options for the test Redis, with its credentials and a key prefix unique to
// this process and call. Fails the test (ADD_FAILURE) if TA_TEST_REDIS is not
// set or the credentials cannot be read.
RedisOptions TestRedisOptions();

// Writes the CSV texts to files of their own under the test's temporary
// directory and loads them into the exposure store at `redis`, as
// `tariff-alert load` would. An empty `links_csv` or `base_rates_csv` loads
// without that file.
absl::StatusOr<LoadResult> LoadTestExposure(
    const RedisOptions& redis, absl::string_view companies_csv,
    absl::string_view exposures_csv, absl::string_view links_csv = "",
    absl::string_view base_rates_csv = "");

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_
