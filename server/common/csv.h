#ifndef TARIFF_ALERT_SERVER_COMMON_CSV_H_
#define TARIFF_ALERT_SERVER_COMMON_CSV_H_

// An RFC 4180 CSV reader that keeps line numbers, so every error can name
// file:line. A header row names the columns; columns are found by name, in any
// order, and columns nobody asks for are ignored. The files come from outside
// (vendor exports, spreadsheets): the reader bounds what a file may cost
// (CsvLimits) and refuses any cell that is not UTF-8, since every string the
// server sends is a protobuf string, which must be. Also the one writer of a
// CSV cell, which neutralises cells a spreadsheet would run as a formula.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tariffalert {

// What one CSV file may cost. A line (or a row, which a quoted line break may
// spread over several lines) longer than `max_line_bytes`, a cell longer than
// `max_cell_bytes`, more than `max_rows` rows after the header or more than
// `max_file_bytes` in all is an error naming file:line.
struct CsvLimits {
  size_t max_line_bytes = 64 << 10;
  size_t max_cell_bytes = 16 << 10;
  size_t max_rows = 1000000;
  size_t max_file_bytes = 128 << 20;
};

struct CsvRow {
  int line = 0;  // 1-based line on which the row starts
  std::vector<std::string> fields;
};

class CsvTable {
 public:
  // Parses `text`; `file_name` prefixes errors. Every name in `required` must
  // be in the header. Blank lines are skipped; a UTF-8 BOM is ignored;
  // unquoted fields are trimmed of spaces. Every cell, the header's too, must
  // be UTF-8: the error names file:line and the column.
  static absl::StatusOr<CsvTable> Parse(
      absl::string_view text, absl::string_view file_name,
      absl::Span<const absl::string_view> required,
      const CsvLimits& limits = CsvLimits());

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

// The size of the regular file at `path`, if at most `max_bytes`: what a
// reader of an input file checks before it reads. Errors name the path.
absl::StatusOr<uint64_t> RegularFileSize(const std::string& path,
                                         uint64_t max_bytes);

// Reads the CSV file at `path` in bounded chunks: a line longer than
// `limits.max_line_bytes` stops the read at that line (path:line: ...), so a
// 1 GiB line costs one chunk of memory, not 1 GiB; a file larger than
// `limits.max_file_bytes` is refused before it is read.
absl::StatusOr<std::string> ReadCsvFile(const std::string& path,
                                        const CsvLimits& limits = CsvLimits());

// The offset of the first byte of `text` that is not part of well-formed
// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF),
// or npos if it is all UTF-8.
size_t FindInvalidUtf8(absl::string_view text);

// True if a spreadsheet would run `text` as a formula (or DDE command): it
// begins with '=', '+', '-', '@', a tab or a carriage return (OWASP, "CSV
// Injection").
bool LooksLikeFormula(absl::string_view text);

// `text` as one text cell of a CSV the project writes: prefixed with a single
// quote if it LooksLikeFormula (the spreadsheet then shows it as text), and
// quoted as RFC 4180 says (quotes doubled) if it holds a comma, a quote or a
// line break, or if `always_quote`. For text only: numbers the project writes
// (a negative score) go out as they are.
std::string CsvCell(absl::string_view text, bool always_quote = false);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_CSV_H_
