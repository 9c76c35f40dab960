#ifndef TARIFF_ALERT_SERVER_COMMON_LOG_H_
#define TARIFF_ALERT_SERVER_COMMON_LOG_H_

// A minimal line logger to stderr (Debian's Abseil has no absl/log):
//   TA_LOG(INFO) << "loaded exposure version " << v;
//   TA_LOG(INFO).With("event_id", id).With("sequence", seq) << "published";
// Each line is written whole with one write, so lines from threads never mix.
// Never log a secret (tokens, passwords): log that one is set, not its value;
// a token is logged by its name (field "token").
//
// Two formats (SetLogFormat, tariff-alertd --log-format):
//   text (default): "I 2026-01-02T03:04:05.678Z file.cc:12] message k=v ..."
//   json: one object per line: {"time":"2026-01-02T03:04:05.678Z",
//     "level":"info","message":"...","source":"file.cc:12", fields...};
//     strings escaped (control characters as \uXXXX, UTF-8 as-is, invalid
//     UTF-8 replaced by U+FFFD), integer fields as JSON numbers.

#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tariffalert {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kText = 0, kJson = 1 };

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
// Parses "debug", "info", "warning" or "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();
// Parses "text" or "json".
bool ParseLogFormat(absl::string_view text, LogFormat* format);

// Sets the level and format from --log-level and --log-format as a binary
// took them; an error naming --log-level (after `where`, e.g. a config
// file's "file:line: ") if the level is not one of the four. The format is
// "text" or "json" (anything else is text: CLI11 checks it).
absl::Status ApplyLogFlags(absl::string_view level, absl::string_view format,
                           absl::string_view where = "");

// `text` as a JSON string literal, quotes included: '"', '\\' and control
// characters escaped, valid UTF-8 as-is, each invalid byte as U+FFFD.
std::string JsonStringLiteral(absl::string_view text);

// Where lines go (tests capture them); nullptr: stderr.
void SetLogSinkForTesting(std::string* sink);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;

  // A structured field: a JSON member in json, " key=value" in text.
  LogMessage& With(absl::string_view key, absl::string_view value);
  LogMessage& With(absl::string_view key, const std::string& value) {
    return With(key, absl::string_view(value));
  }
  LogMessage& With(absl::string_view key, const char* value) {
    return With(key, absl::string_view(value ? value : ""));
  }
  LogMessage& With(absl::string_view key, bool value);
  LogMessage& With(absl::string_view key, double value);
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>,
                             int> = 0>
  LogMessage& With(absl::string_view key, T value) {
    if constexpr (std::is_signed_v<T>) {
      return WithNumber(key, std::to_string(static_cast<int64_t>(value)));
    } else {
      return WithNumber(key, std::to_string(static_cast<uint64_t>(value)));
    }
  }

  template <typename T>
  LogMessage& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }
  LogMessage& operator<<(std::ostream& (*manipulator)(std::ostream&)) {
    stream_ << manipulator;
    return *this;
  }
  std::ostream& stream() { return stream_; }

 private:
  struct Field {
    std::string key;
    std::string value;  // the text
    bool number;        // json: unquoted
  };
  LogMessage& WithNumber(absl::string_view key, std::string value);

  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
  std::vector<Field> fields_;
};

}  // namespace tariffalert

#define TA_LOG_LEVEL_DEBUG ::tariffalert::LogLevel::kDebug
#define TA_LOG_LEVEL_INFO ::tariffalert::LogLevel::kInfo
#define TA_LOG_LEVEL_WARNING ::tariffalert::LogLevel::kWarning
#define TA_LOG_LEVEL_ERROR ::tariffalert::LogLevel::kError

#define TA_LOG(severity)                                        \
  if (TA_LOG_LEVEL_##severity < ::tariffalert::MinLogLevel()) { \
  } else                                                        \
    ::tariffalert::LogMessage(TA_LOG_LEVEL_##severity, __FILE__, __LINE__)

// TA_LOG at a level chosen at run time (e.g. the access log).
#define TA_LOG_AT(level)                        \
  if ((level) < ::tariffalert::MinLogLevel()) { \
  } else                                        \
    ::tariffalert::LogMessage((level), __FILE__, __LINE__)

#endif  // TARIFF_ALERT_SERVER_COMMON_LOG_H_
