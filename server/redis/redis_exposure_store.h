#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_EXPOSURE_STORE_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_EXPOSURE_STORE_H_

// ExposureStore in Redis. Key schema (docs/redis.md), with P the key prefix:
//   P exposure:next_id            INCR counter of version ids
//   P exposure:v:<id>:companies   companies.csv as loaded
//   P exposure:v:<id>:exposures   exposures.csv as loaded
//   P exposure:v:<id>:links       links.csv as loaded; absent for a version
//                                 without links
//   P exposure:v:<id>:meta        hash: sizes, FNV-1a 64 checksums, counts,
//                                 time
//   P exposure:current            the current version id: the one pointer
// A version is written with a one-hour expiry; activation persists it and gives
// the version it replaces one hour to live, so abandoned and superseded
// versions clean themselves up.

#include <memory>
#include <optional>
#include <string>

#include "server/exposure/exposure_store.h"
#include "server/redis/redis_connection.h"

namespace tariffalert {

class RedisExposureStore : public ExposureStore {
 public:
  explicit RedisExposureStore(std::unique_ptr<RedisConnection> connection);

  absl::StatusOr<std::optional<std::string>> CurrentVersion() override;
  absl::StatusOr<ExposureFiles> ReadVersion(
      const std::string& version) override;
  absl::StatusOr<std::string> WriteVersion(
      const ExposureFiles& files, const ExposureVersionInfo& info) override;
  absl::Status Activate(const std::string& version) override;

  // Key names, for tests and docs.
  std::string PointerKey() const;
  std::string VersionKey(const std::string& version, const char* part) const;

 private:
  std::unique_ptr<RedisConnection> connection_;
};

// How long an unactivated or superseded version stays in Redis.
inline constexpr int kExposureVersionTtlSeconds = 3600;

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_EXPOSURE_STORE_H_
