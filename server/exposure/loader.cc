#include "server/exposure/loader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/common/csv.h"
#include "server/common/status_macros.h"

namespace tariffalert {
namespace {

// A vendor file larger than this is a mistake, not a table.
constexpr uint64_t kMaxFileBytes = 512ull << 20;

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  auto size = RegularFileSize(path, kMaxFileBytes);
  if (!size.ok()) return size.status();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  return out.str();
}

absl::StatusOr<LoadResult> LoadExposure(ExposureStore& store,
                                        const std::string& companies_path,
                                        const std::string& exposures_path,
                                        const std::string& links_path,
                                        const std::string& base_rates_path) {
  // Bounded reads: a hostile line stops the read where it starts.
  ExposureFiles files;
  TA_ASSIGN_OR_RETURN(files.companies_csv, ReadCsvFile(companies_path));
  TA_ASSIGN_OR_RETURN(files.exposures_csv, ReadCsvFile(exposures_path));
  if (!links_path.empty()) {
    TA_ASSIGN_OR_RETURN(files.links_csv, ReadCsvFile(links_path));
  }
  if (!base_rates_path.empty()) {
    TA_ASSIGN_OR_RETURN(files.base_rates_csv, ReadCsvFile(base_rates_path));
  }
  TA_ASSIGN_OR_RETURN(
      auto table, ParseExposureFiles(files, companies_path, exposures_path,
                                     "candidate", links_path, base_rates_path));

  LoadResult result;
  TA_ASSIGN_OR_RETURN(result.previous_version, store.CurrentVersion());
  result.company_count = table->companies().size();
  result.exposure_row_count = table->exposure_row_count();
  result.link_count = table->link_count();
  result.base_rate_count = table->base_rates().size();
  ExposureVersionInfo info{"", result.company_count, result.exposure_row_count,
                           result.link_count};
  TA_ASSIGN_OR_RETURN(result.version, store.WriteVersion(files, info));
  TA_RETURN_IF_ERROR(store.Activate(result.version));
  return result;
}

absl::StatusOr<ExposureFiles> ReadExposureDir(const std::string& dir,
                                              std::vector<std::string>* names) {
  ExposureFiles files;
  const std::string companies = dir + "/companies.csv";
  const std::string exposures = dir + "/exposures.csv";
  const std::string links = dir + "/links.csv";
  const std::string base_rates = dir + "/base-rates.csv";
  TA_ASSIGN_OR_RETURN(files.companies_csv, ReadCsvFile(companies));
  TA_ASSIGN_OR_RETURN(files.exposures_csv, ReadCsvFile(exposures));
  struct stat st;
  if (::stat(links.c_str(), &st) == 0) {
    TA_ASSIGN_OR_RETURN(files.links_csv, ReadCsvFile(links));
  }
  if (::stat(base_rates.c_str(), &st) == 0) {
    TA_ASSIGN_OR_RETURN(files.base_rates_csv, ReadCsvFile(base_rates));
  }
  if (names != nullptr) *names = {companies, exposures, links, base_rates};
  return files;
}

}  // namespace tariffalert
