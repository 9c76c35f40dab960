#include "server/redis/redis_credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/redis/redis_ha_flags.h"

namespace tariffalert {
namespace {

absl::Status ReadPasswordFile(const std::string& path, std::string* password,
                              const char* what = "redis password file") {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " '", path, "': cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    TA_LOG(WARNING) << what << " '" << path
                    << "' may be read by group or others (mode " << mode
                    << "); chmod 600 it";
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "': the first line is empty"));
  }
  *password = std::move(line);
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadRedisCredentials(const std::string& password_file,
                                  RedisOptions* options) {
  if (options->user.empty()) {
    if (const char* user = std::getenv(kRedisUserEnv)) options->user = user;
  }
  if (!password_file.empty()) {
    if (absl::Status s = ReadPasswordFile(password_file, &options->password);
        !s.ok()) {
      return s;
    }
  } else if (const char* password = std::getenv(kRedisPasswordEnv)) {
    options->password = password;
  }
  if (!options->user.empty() && options->password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis user '", options->user,
                     "' needs a password: --redis-password-file FILE or ",
                     kRedisPasswordEnv));
  }
  return absl::OkStatus();
}

absl::Status ApplyRedisHaFlags(const RedisHaFlags& flags,
                               RedisOptions* options) {
  if (!flags.sentinels.empty()) {
    if (absl::Status s = ParseSentinelAddresses(flags.sentinels, options);
        !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis-sentinels: ", s.message()));
    }
    if (flags.master.empty()) {
      return absl::InvalidArgumentError("--redis-master: must not be empty");
    }
    options->master_name = flags.master;
  }
  if (!flags.sentinel_password_file.empty()) {
    if (absl::Status s = ReadPasswordFile(flags.sentinel_password_file,
                                          &options->sentinel_password,
                                          "redis sentinel password file");
        !s.ok()) {
      return s;
    }
  } else if (const char* p = std::getenv(kRedisSentinelPasswordEnv)) {
    options->sentinel_password = p;
  }
  options->min_replicas = flags.min_replicas >= 0      ? flags.min_replicas
                          : options->sentinels.empty() ? 0
                                                       : 1;
  options->wait_timeout = absl::Milliseconds(flags.wait_timeout_ms);
  return absl::OkStatus();
}

}  // namespace tariffalert
