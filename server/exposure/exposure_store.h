#ifndef TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_STORE_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_STORE_H_

// Where exposure table versions live and which one is current. The real store
// is Redis (server/redis/redis_exposure_store.h, key schema in docs/redis.md);
// tests use an in-memory fake. A version is written whole under its own keys
// and only then made current by one pointer write, so a reader that follows
// the pointer never finds half a table.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/exposure/exposure_csv.h"

namespace tariffalert {

struct ExposureVersionInfo {
  std::string version;
  size_t company_count = 0;
  size_t exposure_row_count = 0;
  size_t link_count = 0;
};

class ExposureStore {
 public:
  virtual ~ExposureStore() = default;

  // The current version's id, or nullopt if none was ever activated.
  virtual absl::StatusOr<std::optional<std::string>> CurrentVersion() = 0;
  // The files of a stored version; NOT_FOUND if it is gone.
  virtual absl::StatusOr<ExposureFiles> ReadVersion(
      const std::string& version) = 0;
  // Stores validated files as a new version without making it current.
  virtual absl::StatusOr<std::string> WriteVersion(
      const ExposureFiles& files, const ExposureVersionInfo& info) = 0;
  // Makes `version` current. FAILED_PRECONDITION if it was not written.
  virtual absl::Status Activate(const std::string& version) = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_STORE_H_
