// Fuzzes the exposure interchange format (server/exposure/exposure_csv.h):
// companies.csv, exposures.csv and links.csv, parsed and cross-checked as one
// file set, as `tariff-alert load` and the exposure watcher read them.
//
// Input: the three files separated by a line "%%" (kSeparator); a missing
// section is an empty file (links.csv empty = no links). The whole input is
// also read as one CSV by CsvTable::Parse (server/common/csv.h).

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "server/common/csv.h"
#include "server/exposure/exposure_csv.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr absl::string_view kSeparator = "\n%%\n";

// The part of `*rest` before the next separator; advances `*rest` past it.
std::string NextSection(absl::string_view* rest) {
  const size_t at = rest->find(kSeparator);
  std::string section(rest->substr(0, at));
  if (at == absl::string_view::npos) {
    *rest = absl::string_view();
  } else {
    rest->remove_prefix(at + kSeparator.size());
  }
  return section;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view rest(reinterpret_cast<const char*>(data), size);
  // The reader on the fuzzer's own buffer too: the sections below are
  // std::string copies, whose terminating NUL would hide a read one past the
  // end from ASan.
  (void)tariffalert::CsvTable::Parse(rest, "input.csv", {});
  tariffalert::ExposureFiles files;
  files.companies_csv = NextSection(&rest);
  files.exposures_csv = NextSection(&rest);
  files.links_csv = std::string(rest);
  auto table = tariffalert::ParseExposureFiles(files, "companies.csv",
                                               "exposures.csv", "fuzz");
  if (!table.ok()) {
    TA_FUZZ_CHECK(!table.status().message().empty(),
                  "a rejected file set must say why");
    return 0;
  }
  const tariffalert::ExposureTable& t = **table;
  // What the scorer relies on of an accepted table.
  size_t links = 0;
  for (size_t i = 0; i < t.companies().size(); ++i) {
    const tariffalert::Company& c = t.companies()[i];
    TA_FUZZ_CHECK(t.Find(c.ticker) == &c, "every company is found by ticker");
    const int sector = t.sector_of(i);
    TA_FUZZ_CHECK(
        sector >= 0 && static_cast<size_t>(sector) < t.sectors().size(),
        "every company has a sector");
    links += t.CustomersOf(i).size();
  }
  TA_FUZZ_CHECK(links == t.link_count(), "links are grouped by supplier");
  return 0;
}
