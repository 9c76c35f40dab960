#ifndef TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_CSV_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_CSV_H_

// Parses and validates the exposure interchange format
// (docs/exposure-format.md): companies.csv, exposures.csv and the optional
// links.csv and base-rates.csv. The whole file set is checked before anything
// is returned; every error names file:line and the field.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/exposure/exposure_table.h"

namespace tariffalert {

struct ExposureFiles {
  std::string companies_csv;
  std::string exposures_csv;
  // Supplier-customer links; empty = none (a table without spillover). The
  // initializer keeps two-file aggregates ({companies, exposures})
  // warning-free.
  std::string links_csv = {};
  // Base (MFN) rates, base-rates.csv; empty = none (rates are the additional
  // duties only).
  std::string base_rates_csv = {};
};

// At most this many errors are listed; the rest are counted.
inline constexpr int kMaxReportedCsvErrors = 20;

// Returns the table, or INVALID_ARGUMENT listing the errors, one per line.
// `companies_name`, `exposures_name` and `links_name` name the files in
// errors.
absl::StatusOr<std::shared_ptr<const ExposureTable>> ParseExposureFiles(
    const ExposureFiles& files, absl::string_view companies_name,
    absl::string_view exposures_name, std::string version,
    absl::string_view links_name = "links.csv",
    absl::string_view base_rates_name = "base-rates.csv");

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_CSV_H_
