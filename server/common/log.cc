#include "server/common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/common/utf8.h"

namespace tariffalert {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::mutex g_sink_mu;
std::string* g_sink = nullptr;  // guarded by g_sink_mu

const char* LevelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "D";
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarning:
      return "W";
    case LogLevel::kError:
      return "E";
  }
  return "?";
}

const char* LevelWord(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

// Text-format field values: bare unless they hold a space, '"', '=' or a
// control character (then JSON-quoted).
std::string TextValue(absl::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || u == 0x7F) bare = false;
  }
  return bare ? std::string(value) : JsonStringLiteral(value);
}

void WriteLine(const std::string& text) {
  {
    std::lock_guard<std::mutex> lock(g_sink_mu);
    if (g_sink != nullptr) {
      g_sink->append(text);
      return;
    }
  }
  // One write per line: concurrent lines interleave whole, never mixed.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

}  // namespace

void SetMinLogLevel(LogLevel level) {
  g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel MinLogLevel() {
  return static_cast<LogLevel>(g_min_level.load(std::memory_order_relaxed));
}

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  if (text == "debug") {
    *level = LogLevel::kDebug;
  } else if (text == "info") {
    *level = LogLevel::kInfo;
  } else if (text == "warning") {
    *level = LogLevel::kWarning;
  } else if (text == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

void SetLogFormat(LogFormat format) {
  g_format.store(static_cast<int>(format), std::memory_order_relaxed);
}

LogFormat GetLogFormat() {
  return static_cast<LogFormat>(g_format.load(std::memory_order_relaxed));
}

bool ParseLogFormat(absl::string_view text, LogFormat* format) {
  if (text == "text") {
    *format = LogFormat::kText;
  } else if (text == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

absl::Status ApplyLogFlags(absl::string_view level, absl::string_view format,
                           absl::string_view where) {
  LogLevel parsed;
  if (!ParseLogLevel(level, &parsed)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "--log-level: '", level,
                     "' is not debug, info, warning or error"));
  }
  SetMinLogLevel(parsed);
  LogFormat f = LogFormat::kText;
  ParseLogFormat(format, &f);
  SetLogFormat(f);
  return absl::OkStatus();
}

std::string JsonStringLiteral(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x80) {
      if (const size_t n = Utf8SequenceLength(text, i); n > 0) {
        out.append(text.data() + i, n);
        i += n;
      } else {
        out.append("\xEF\xBF\xBD");  // U+FFFD
        ++i;
      }
      continue;
    }
    switch (u) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out.append(buf);
        } else {
          out.push_back(static_cast<char>(u));
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

void SetLogSinkForTesting(std::string* sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  g_sink = sink;
}

LogMessage::LogMessage(LogLevel level, const char* file, int line)
    : level_(level), file_(file), line_(line) {
  const char* base = std::strrchr(file, '/');
  file_ = base ? base + 1 : file;
}

LogMessage& LogMessage::With(absl::string_view key, absl::string_view value) {
  fields_.push_back({std::string(key), std::string(value), false});
  return *this;
}

LogMessage& LogMessage::With(absl::string_view key, bool value) {
  return WithNumber(key, value ? "true" : "false");
}

LogMessage& LogMessage::With(absl::string_view key, double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  // JSON has no NaN or infinity.
  if (std::strpbrk(buf, "ni") != nullptr) {
    return With(key, absl::string_view(buf));
  }
  return WithNumber(key, buf);
}

LogMessage& LogMessage::WithNumber(absl::string_view key, std::string value) {
  fields_.push_back({std::string(key), std::move(value), true});
  return *this;
}

LogMessage::~LogMessage() {
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  std::string text;
  if (GetLogFormat() == LogFormat::kJson) {
    text = "{\"time\":\"" + time + "\",\"level\":\"" + LevelWord(level_) +
           "\",\"message\":" + JsonStringLiteral(stream_.str()) +
           ",\"source\":" +
           JsonStringLiteral(std::string(file_) + ":" + std::to_string(line_));
    for (const Field& f : fields_) {
      text += "," + JsonStringLiteral(f.key) + ":" +
              (f.number ? f.value : JsonStringLiteral(f.value));
    }
    text += "}\n";
  } else {
    text = std::string(LevelLetter(level_)) + " " + time + " " + file_ + ":" +
           std::to_string(line_) + "] " + stream_.str();
    for (const Field& f : fields_) {
      text += " " + f.key + "=" + (f.number ? f.value : TextValue(f.value));
    }
    text += "\n";
  }
  WriteLine(text);
}

}  // namespace tariffalert
