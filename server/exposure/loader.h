#ifndef TARIFF_ALERT_SERVER_EXPOSURE_LOADER_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_LOADER_H_

// Loads an exposure file set into a store: validate everything, write a new
// version, flip the pointer. Any error leaves the store's current version as
// it was.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/exposure/exposure_store.h"

namespace tariffalert {

struct LoadResult {
  std::string version;
  std::optional<std::string> previous_version;
  size_t company_count = 0;
  size_t exposure_row_count = 0;
  size_t link_count = 0;  // supplier-customer links (0 without links.csv)
  size_t base_rate_count = 0;  // 0 without base-rates.csv
};

// Reads a whole file; errors name the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// `links_path` empty: the version has no links.csv (no spillover);
// `base_rates_path` empty: no base rates. The files are read with
// ReadCsvFile (server/common/csv.h) and its limits.
absl::StatusOr<LoadResult> LoadExposure(
    ExposureStore& store, const std::string& companies_path,
    const std::string& exposures_path, const std::string& links_path = "",
    const std::string& base_rates_path = "");

// The file set of an exposure directory: companies.csv and exposures.csv,
// and links.csv and base-rates.csv when they are there. The names it read,
// for errors, in `names` (companies, exposures, links, base rates).
absl::StatusOr<ExposureFiles> ReadExposureDir(const std::string& dir,
                                              std::vector<std::string>* names);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_LOADER_H_
