#include "server/common/csv.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

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

absl::Status LineTooLong(absl::string_view file_name, int line, size_t limit) {
  return absl::InvalidArgumentError(
      absl::StrCat(file_name, ":", line, ": line longer than the limit of ",
                   limit, " bytes"));
}

// Splits `text` into records. Quoted fields may hold commas, doubled quotes
// and newlines.
absl::StatusOr<std::vector<RawRow>> Split(absl::string_view text,
                                          absl::string_view file_name,
                                          const CsvLimits& limits) {
  std::vector<RawRow> rows;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    RawRow row{line, {}};
    // A row ends before this (its line ends are not counted): scanning stops
    // there, so a huge row is never copied into a field.
    const size_t row_end = i + std::min(limits.max_line_bytes, text.size() - i);
    const bool row_may_be_too_long = text.size() - i > limits.max_line_bytes;
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
          if (i >= row_end && row_may_be_too_long) {
            return LineTooLong(file_name, row.line, limits.max_line_bytes);
          }
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
          if (i >= row_end) {
            return LineTooLong(file_name, row.line, limits.max_line_bytes);
          }
          if (text[i] == '"') {
            return absl::InvalidArgumentError(absl::StrCat(
                file_name, ":", line,
                ": a quote inside an unquoted field (quote the whole field)"));
          }
          field.push_back(text[i]);
          ++i;
        }
      }
      if (i > row_end) {  // spaces after a closing quote
        return LineTooLong(file_name, row.line, limits.max_line_bytes);
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
    if (blank) continue;
    // The header and max_rows rows.
    if (rows.size() > limits.max_rows) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_name, ":", row.line, ": more than the limit of ",
                       limits.max_rows, " rows"));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// "name" for a named column, "column 3" (1-based) for one without a name.
std::string ColumnName(const RawRow& header, size_t c) {
  if (c < header.fields.size() && !header.fields[c].empty()) {
    return header.fields[c];
  }
  return absl::StrCat("column ", c + 1);
}

// A cell that is too long or not UTF-8; `column` names it.
absl::Status CheckCell(absl::string_view file_name, int line,
                       absl::string_view column, absl::string_view cell,
                       const CsvLimits& limits) {
  if (cell.size() > limits.max_cell_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ":", line, ": ", column, ": ", cell.size(),
        " bytes, longer than the limit of ", limits.max_cell_bytes));
  }
  const size_t bad = FindInvalidUtf8(cell);
  if (bad != absl::string_view::npos) {
    // The bytes themselves are not quoted: the message must stay UTF-8 too.
    constexpr char kHex[] = "0123456789ABCDEF";
    const unsigned char byte = static_cast<unsigned char>(cell[bad]);
    const char hex[2] = {kHex[byte >> 4], kHex[byte & 0xF]};
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ":", line, ": ", column, ": not valid UTF-8 (byte 0x",
        absl::string_view(hex, 2), " at offset ", bad,
        " of the cell); save the file as UTF-8"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CsvTable> CsvTable::Parse(
    absl::string_view text, absl::string_view file_name,
    absl::Span<const absl::string_view> required, const CsvLimits& limits) {
  if (text.size() > limits.max_file_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": ", text.size(), " bytes, larger than the limit of ",
        limits.max_file_bytes));
  }
  auto split = Split(text, file_name, limits);
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
    if (absl::Status s = CheckCell(file_name, header.line,
                                   absl::StrCat("header column ", c + 1),
                                   header.fields[c], limits);
        !s.ok()) {
      return s;
    }
  }
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
    for (size_t c = 0; c < width; ++c) {
      if (absl::Status s =
              CheckCell(file_name, raw[r].line, ColumnName(header, c),
                        raw[r].fields[c], limits);
          !s.ok()) {
        return s;
      }
    }
    table.rows_.push_back(CsvRow{raw[r].line, std::move(raw[r].fields)});
  }
  return table;
}

int CsvTable::Column(absl::string_view name) const {
  auto it = columns_.find(name);
  return it == columns_.end() ? -1 : it->second;
}

absl::StatusOr<uint64_t> RegularFileSize(const std::string& path,
                                         uint64_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", st.st_size,
                     " bytes, larger than the limit of ", max_bytes));
  }
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::string> ReadCsvFile(const std::string& path,
                                        const CsvLimits& limits) {
  auto size = RegularFileSize(path, limits.max_file_bytes);
  if (!size.ok()) return size.status();
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"),
                                             &std::fclose);
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::string text;
  text.reserve(static_cast<size_t>(*size));
  // Lines end as Split ends records: \n, \r\n or a lone \r, so the line
  // numbers agree with the parser's.
  int line = 1;
  size_t line_bytes = 0;
  bool after_cr = false;
  char chunk[64 << 10];
  while (true) {
    const size_t n = std::fread(chunk, 1, sizeof(chunk), file.get());
    for (size_t k = 0; k < n; ++k) {
      const char c = chunk[k];
      if (c == '\n') {
        if (!after_cr) ++line;
        line_bytes = 0;
      } else if (c == '\r') {
        ++line;
        line_bytes = 0;
      } else if (++line_bytes > limits.max_line_bytes) {
        return LineTooLong(path, line, limits.max_line_bytes);
      }
      after_cr = c == '\r';
    }
    // The file may have grown since stat.
    if (text.size() + n > limits.max_file_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than the limit of ",
                       limits.max_file_bytes, " bytes"));
    }
    text.append(chunk, n);
    if (n < sizeof(chunk)) break;
  }
  if (std::ferror(file.get())) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  return text;
}

size_t FindInvalidUtf8(absl::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The length of the sequence and the range of its second byte
    // (RFC 3629, section 4); later bytes are 0x80..0xBF.
    size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c == 0xE0) {
      length = 3, lo = 0xA0;
    } else if (c == 0xED) {
      length = 3, hi = 0x9F;  // not a surrogate
    } else if (c >= 0xE1 && c <= 0xEF) {
      length = 3;
    } else if (c == 0xF0) {
      length = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      length = 4;
    } else if (c == 0xF4) {
      length = 4, hi = 0x8F;  // at most U+10FFFF
    } else {
      return i;
    }
    if (n - i < length) return i;
    const unsigned char second = static_cast<unsigned char>(text[i + 1]);
    if (second < lo || second > hi) return i;
    for (size_t k = 2; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xBF) return i;
    }
    i += length;
  }
  return absl::string_view::npos;
}

bool LooksLikeFormula(absl::string_view text) {
  return !text.empty() &&
         (text[0] == '=' || text[0] == '+' || text[0] == '-' ||
          text[0] == '@' || text[0] == '\t' || text[0] == '\r');
}

std::string CsvCell(absl::string_view text, bool always_quote) {
  const absl::string_view prefix = LooksLikeFormula(text) ? "'" : "";
  if (!always_quote && text.find_first_of(",\"\r\n") == text.npos) {
    return absl::StrCat(prefix, text);
  }
  std::string out = absl::StrCat("\"", prefix);
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace tariffalert
