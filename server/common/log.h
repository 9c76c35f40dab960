#ifndef TARIFF_ALERT_SERVER_COMMON_LOG_H_
#define TARIFF_ALERT_SERVER_COMMON_LOG_H_

// A minimal line logger to stderr (Debian's Abseil has no absl/log):
//   TA_LOG(INFO) << "loaded exposure version " << v;
// Each line is written whole with one write, so lines from threads never mix.
// Never log a secret (tokens, passwords): log that one is set, not its value.

#include <sstream>

#include "absl/strings/string_view.h"

namespace tariffalert {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
// Parses "debug", "info", "warning" or "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line);
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace tariffalert

#define TA_LOG_LEVEL_DEBUG ::tariffalert::LogLevel::kDebug
#define TA_LOG_LEVEL_INFO ::tariffalert::LogLevel::kInfo
#define TA_LOG_LEVEL_WARNING ::tariffalert::LogLevel::kWarning
#define TA_LOG_LEVEL_ERROR ::tariffalert::LogLevel::kError

#define TA_LOG(severity)                                                   \
  if (TA_LOG_LEVEL_##severity < ::tariffalert::MinLogLevel()) {            \
  } else                                                                   \
    ::tariffalert::LogMessage(TA_LOG_LEVEL_##severity, __FILE__, __LINE__) \
        .stream()

#endif  // TARIFF_ALERT_SERVER_COMMON_LOG_H_
