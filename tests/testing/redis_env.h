#ifndef TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_
#define TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_

// Access to the redis-server that tests/run.sh starts
// (TA_TEST_REDIS=host:port). Each test gets its own key prefix, so tests run in
// parallel on one server.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_connection.h"

namespace tariffalert::testing {

// Options for the test Redis with a key prefix unique to this process and
// call. Fails the test (ADD_FAILURE) if TA_TEST_REDIS is not set.
RedisOptions TestRedisOptions();

// Writes the two CSV texts to files of their own under the test's temporary
// directory and loads them into the exposure store at `redis`, as
// `tariff-alert load` would.
absl::StatusOr<LoadResult> LoadTestExposure(const RedisOptions& redis,
                                            absl::string_view companies_csv,
                                            absl::string_view exposures_csv);

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_
