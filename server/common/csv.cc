#include "server/common/csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace tariffalert {
namespace {

struct RawRow {
  int line;
  std::vector<std::string> fields;
};

// Splits `text` into records. Quoted fields may hold commas, doubled quotes
// and newlines.
absl::StatusOr<std::vector<RawRow>> Split(absl::string_view text,
                                          absl::string_view file_name) {
  std::vector<RawRow> rows;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    RawRow row{line, {}};
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      bool quoted = false;
      // Leading spaces before an opening quote are allowed.
      size_t j = i;
      while (j < text.size() && text[j] == ' ') ++j;
      if (j < text.size() && text[j] == '"') {
        quoted = true;
        const int quote_line = line;
        i = j + 1;
        while (true) {
          if (i >= text.size()) {
            return absl::InvalidArgumentError(absl::StrCat(
                file_name, ":", quote_line, ": unterminated quoted field"));
          }
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        while (i < text.size() && text[i] == ' ') ++i;
        if (i < text.size() && text[i] != ',' && text[i] != '\n' &&
            text[i] != '\r') {
          return absl::InvalidArgumentError(
              absl::StrCat(file_name, ":", line,
                           ": unexpected character after a quoted field"));
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' &&
               text[i] != '\r') {
          if (text[i] == '"') {
            return absl::InvalidArgumentError(absl::StrCat(
                file_name, ":", line,
                ": a quote inside an unquoted field (quote the whole field)"));
          }
          field.push_back(text[i]);
          ++i;
        }
      }
      row.fields.push_back(
          quoted ? std::move(field)
                 : std::string(absl::StripAsciiWhitespace(field)));
      if (i >= text.size()) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else {
        // \n, \r\n or a lone \r ends the record.
        if (text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        end_of_record = true;
      }
    }
    const bool blank = row.fields.size() == 1 && row.fields[0].empty();
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

absl::StatusOr<CsvTable> CsvTable::Parse(
    absl::string_view text, absl::string_view file_name,
    absl::Span<const absl::string_view> required) {
  auto split = Split(text, file_name);
  if (!split.ok()) return split.status();
  std::vector<RawRow>& raw = *split;
  if (raw.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":1: empty file, expected a header row with ",
                     absl::StrJoin(required, ",")));
  }
  CsvTable table;
  table.file_name_ = std::string(file_name);
  const RawRow& header = raw.front();
  for (size_t c = 0; c < header.fields.size(); ++c) {
    const std::string& name = header.fields[c];
    if (name.empty()) continue;
    if (!table.columns_.emplace(name, static_cast<int>(c)).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ":", header.line, ": column '", name, "' appears twice"));
    }
  }
  for (absl::string_view name : required) {
    if (!table.columns_.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ":", header.line, ": missing column '", name,
          "'; the header must name ", absl::StrJoin(required, ",")));
    }
  }
  const size_t width = header.fields.size();
  for (size_t r = 1; r < raw.size(); ++r) {
    if (raw[r].fields.size() != width) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_name, ":", raw[r].line, ": expected ", width,
                       " fields as in the header, got ", raw[r].fields.size()));
    }
    table.rows_.push_back(CsvRow{raw[r].line, std::move(raw[r].fields)});
  }
  return table;
}

int CsvTable::Column(absl::string_view name) const {
  auto it = columns_.find(name);
  return it == columns_.end() ? -1 : it->second;
}

}  // namespace tariffalert
