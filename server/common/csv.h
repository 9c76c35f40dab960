#ifndef TARIFF_ALERT_SERVER_COMMON_CSV_H_
#define TARIFF_ALERT_SERVER_COMMON_CSV_H_

// An RFC 4180 CSV reader that keeps line numbers, so every error can name
// file:line. A header row names the columns; columns are found by name, in any
// order, and columns nobody asks for are ignored.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tariffalert {

struct CsvRow {
  int line = 0;  // 1-based line on which the row starts
  std::vector<std::string> fields;
};

class CsvTable {
 public:
  // Parses `text`; `file_name` prefixes errors. Every name in `required` must
  // be in the header. Blank lines are skipped; a UTF-8 BOM is ignored;
  // unquoted fields are trimmed of spaces.
  static absl::StatusOr<CsvTable> Parse(
      absl::string_view text, absl::string_view file_name,
      absl::Span<const absl::string_view> required);

  const std::vector<CsvRow>& rows() const { return rows_; }
  const std::string& file_name() const { return file_name_; }
  // Index of a column given in `required` (or any header column), or -1.
  int Column(absl::string_view name) const;
  // The field of `row` in column `index` (from Column()).
  const std::string& Field(const CsvRow& row, int index) const {
    return row.fields[static_cast<size_t>(index)];
  }

 private:
  std::string file_name_;
  absl::flat_hash_map<std::string, int> columns_;
  std::vector<CsvRow> rows_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_CSV_H_
