#ifndef TARIFF_ALERT_SERVER_EXPOSURE_LOADER_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_LOADER_H_

// Loads an exposure file set into a store: validate everything, write a new
// version, flip the pointer. Any error leaves the store's current version as
// it was.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/exposure/exposure_store.h"

namespace tariffalert {

struct LoadResult {
  std::string version;
  std::optional<std::string> previous_version;
  size_t company_count = 0;
  size_t exposure_row_count = 0;
  size_t link_count = 0;  // supplier-customer links (0 without links.csv)
};

// Reads a whole file; errors name the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// `links_path` empty: the version has no links.csv (no spillover). The files
// are read with ReadCsvFile (server/common/csv.h) and its limits.
absl::StatusOr<LoadResult> LoadExposure(ExposureStore& store,
                                        const std::string& companies_path,
                                        const std::string& exposures_path,
                                        const std::string& links_path = "");

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_LOADER_H_
