#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_HA_FLAGS_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_HA_FLAGS_H_

// The Redis high-availability flags tariff-alertd and `tariff-alert load`
// share (docs/redis.md, "High availability with Sentinel"): --redis-sentinels,
// --redis-master, --redis-sentinel-password-file, --redis-min-replicas and
// --redis-wait-timeout-ms.

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/status.h"
#include "server/redis/redis_connection.h"

namespace tariffalert {

inline constexpr char kRedisSentinelPasswordEnv[] =
    "TARIFF_ALERT_REDIS_SENTINEL_PASSWORD";

struct RedisHaFlags {
  std::string sentinels;  // "host:port,..."; empty: no Sentinel
  std::string master = "tariff-alert";
  std::string sentinel_password_file;
  int min_replicas = -1;  // -1: 1 with sentinels, 0 without
  int wait_timeout_ms = 1000;
};

// Adds the flags to `app` (a command or a subcommand); without `with_wait`
// only those that find the primary.
inline void AddRedisHaFlags(CLI::App& app, RedisHaFlags* flags,
                            bool with_wait = true) {
  app.add_option("--redis-sentinels", flags->sentinels,
                 "Redis Sentinel host:port,...: find the primary through "
                 "them (instead of --redis) and follow a failover");
  app.add_option("--redis-master", flags->master,
                 "the master name the sentinels monitor")
      ->capture_default_str();
  app.add_option("--redis-sentinel-password-file",
                 flags->sentinel_password_file,
                 "file whose first line is the sentinels' password (mode "
                 "600); default: TARIFF_ALERT_REDIS_SENTINEL_PASSWORD, else "
                 "no AUTH to the sentinels");
  if (!with_wait) return;
  app.add_option("--redis-min-replicas", flags->min_replicas,
                 "a publish is acknowledged only once WAIT confirms this many "
                 "replicas have it; default 1 with --redis-sentinels, else 0")
      ->check(CLI::Range(0, 100));
  app.add_option("--redis-wait-timeout-ms", flags->wait_timeout_ms,
                 "how long WAIT waits for --redis-min-replicas")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
}

// Fills options from the flags (sentinels, master, the sentinels' password
// from its file or the environment, min_replicas, wait_timeout).
// INVALID_ARGUMENT naming the flag.
absl::Status ApplyRedisHaFlags(const RedisHaFlags& flags,
                               RedisOptions* options);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_HA_FLAGS_H_
