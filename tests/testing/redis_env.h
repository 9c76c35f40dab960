#ifndef TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_
#define TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_

// Access to the redis-server that tests/run.sh starts
// (TA_TEST_REDIS=host:port). Each test gets its own key prefix, so tests run in
// parallel on one server.

#include <string>

#include "server/redis/redis_connection.h"

namespace tariffalert::testing {

// Options for the test Redis with a key prefix unique to this process and
// call. Fails the test (ADD_FAILURE) if TA_TEST_REDIS is not set.
RedisOptions TestRedisOptions();

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_REDIS_ENV_H_
