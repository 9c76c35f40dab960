#include "tests/testing/redis_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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
  options.key_prefix = absl::StrCat("test:", ::getpid(), ":", counter++, ":");
  return options;
}

}  // namespace tariffalert::testing
