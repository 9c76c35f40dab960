#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_CREDENTIALS_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_CREDENTIALS_H_

// Where tariff-alertd and `tariff-alert load` get the Redis user and password
// (docs/redis.md, "Authentication and network"). The password comes from a
// file or the environment, never from a flag: a flag shows in the process
// list and in shell history. The password never appears in a message.

#include <string>

#include "absl/status/status.h"
#include "server/redis/redis_connection.h"

namespace tariffalert {

inline constexpr char kRedisUserEnv[] = "TARIFF_ALERT_REDIS_USER";
inline constexpr char kRedisPasswordEnv[] = "TARIFF_ALERT_REDIS_PASSWORD";

// Fills options->user, unless already set (a --redis-user flag), from
// TARIFF_ALERT_REDIS_USER; and options->password from the first line of
// `password_file` (its line end stripped) when one is named, else from
// TARIFF_ALERT_REDIS_PASSWORD. Warns (a log line naming the file, never its
// contents) if group or others may read the file. INVALID_ARGUMENT naming the
// file if it cannot be read or its first line is empty, or if a user is set
// without a password.
absl::Status LoadRedisCredentials(const std::string& password_file,
                                  RedisOptions* options);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_CREDENTIALS_H_
