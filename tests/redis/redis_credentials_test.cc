// Where the Redis user and password come from: a file or the environment,
// never a flag; no Redis needed.

#include "server/redis/redis_credentials.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/redis/redis_ha_flags.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RedisCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv(kRedisUserEnv);
    ::unsetenv(kRedisPasswordEnv);
  }
  void TearDown() override { SetUp(); }

  std::string WriteFile(const std::string& name, const std::string& text,
                        mode_t mode = 0600) {
    const std::string path =
        ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path, std::ios::trunc) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
};

TEST_F(RedisCredentialsTest, NothingSetMeansNoAuth) {
  RedisOptions options;
  ASSERT_TRUE(LoadRedisCredentials("", &options).ok());
  EXPECT_EQ(options.user, "");
  EXPECT_EQ(options.password, "");
}

TEST_F(RedisCredentialsTest, TheEnvironmentGivesUserAndPassword) {
  ::setenv(kRedisUserEnv, "ta", 1);
  ::setenv(kRedisPasswordEnv, "from-env", 1);
  RedisOptions options;
  ASSERT_TRUE(LoadRedisCredentials("", &options).ok());
  EXPECT_EQ(options.user, "ta");
  EXPECT_EQ(options.password, "from-env");
}

TEST_F(RedisCredentialsTest, AUserFlagWinsOverTheEnvironment) {
  ::setenv(kRedisUserEnv, "from-env", 1);
  ::setenv(kRedisPasswordEnv, "pw", 1);
  RedisOptions options;
  options.user = "from-flag";
  ASSERT_TRUE(LoadRedisCredentials("", &options).ok());
  EXPECT_EQ(options.user, "from-flag");
}

TEST_F(RedisCredentialsTest, AFileGivesItsFirstLineWithoutTheLineEnd) {
  ::setenv(kRedisPasswordEnv, "from-env", 1);
  RedisOptions options;
  ASSERT_TRUE(
      LoadRedisCredentials(WriteFile("pw", "s3cret\nignored\n"), &options)
          .ok());
  EXPECT_EQ(options.password, "s3cret");  // the file wins over the env
  ASSERT_TRUE(
      LoadRedisCredentials(WriteFile("crlf", "s3cret2\r\n"), &options).ok());
  EXPECT_EQ(options.password, "s3cret2");
  ASSERT_TRUE(
      LoadRedisCredentials(WriteFile("bare", "s3cret3"), &options).ok());
  EXPECT_EQ(options.password, "s3cret3");
}

TEST_F(RedisCredentialsTest, AFileOthersCanReadIsUsedWithAWarning) {
  const std::string path = WriteFile("open", "visible-s3cret\n", 0644);
  RedisOptions options;
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(LoadRedisCredentials(path, &options).ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(options.password, "visible-s3cret");
  EXPECT_THAT(log, HasSubstr("redis password file '" + path +
                             "' may be read by group or others (mode 0644)"));
  EXPECT_THAT(log, Not(HasSubstr("visible-s3cret")));
  // Mode 600: no warning.
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(LoadRedisCredentials(WriteFile("closed", "x\n"), &options).ok());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(RedisCredentialsTest, AMissingOrEmptyFileIsAnErrorNamingIt) {
  RedisOptions options;
  const std::string missing = ::testing::TempDir() + "/no-such-password-file";
  absl::Status s = LoadRedisCredentials(missing, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("redis password file '" + missing + "': cannot open"));
  const std::string empty = WriteFile("empty", "\nsecond-line\n");
  s = LoadRedisCredentials(empty, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the first line is empty"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("second-line")));
}

TEST_F(RedisCredentialsTest, AUserWithoutAPasswordIsAnError) {
  ::setenv(kRedisUserEnv, "ta", 1);
  RedisOptions options;
  const absl::Status s = LoadRedisCredentials("", &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("redis user 'ta' needs a password"));
}

TEST_F(RedisCredentialsTest, SentinelFlagsSetTheSentinelsAndMinReplicas) {
  ::unsetenv(kRedisSentinelPasswordEnv);
  RedisOptions alone;
  ASSERT_TRUE(ApplyRedisHaFlags(RedisHaFlags{}, &alone).ok());
  EXPECT_TRUE(alone.sentinels.empty());
  EXPECT_EQ(alone.min_replicas, 0);  // default without sentinels

  RedisHaFlags flags;
  flags.sentinels = "127.0.0.1:26379, s2:26380";
  flags.master = "mymaster";
  flags.wait_timeout_ms = 250;
  RedisOptions options;
  ASSERT_TRUE(ApplyRedisHaFlags(flags, &options).ok());
  ASSERT_EQ(options.sentinels.size(), 2u);
  EXPECT_EQ(options.sentinels[0],
            std::make_pair(std::string("127.0.0.1"), 26379));
  EXPECT_EQ(options.sentinels[1], std::make_pair(std::string("s2"), 26380));
  EXPECT_EQ(options.master_name, "mymaster");
  EXPECT_EQ(options.min_replicas, 1);  // default with sentinels
  EXPECT_EQ(options.wait_timeout, absl::Milliseconds(250));
  EXPECT_EQ(options.sentinel_password, "");

  flags.min_replicas = 0;
  flags.sentinel_password_file = WriteFile("sentinel", "s-pass\n");
  ASSERT_TRUE(ApplyRedisHaFlags(flags, &options).ok());
  EXPECT_EQ(options.min_replicas, 0);
  EXPECT_EQ(options.sentinel_password, "s-pass");

  flags.sentinels = "no-port";
  const absl::Status s = ApplyRedisHaFlags(flags, &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--redis-sentinels"));
}

}  // namespace
}  // namespace tariffalert
