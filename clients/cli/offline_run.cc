#include "clients/cli/offline_run.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/exposure/exposure_csv.h"
#include "server/exposure/loader.h"

namespace tariffalert::cli {

std::optional<InputError> ReadTimeline(const std::string& path, Timeline& out) {
  out.name = path;
  std::ifstream in(path);
  if (!in) return InputError{absl::StrCat(path, ": cannot open")};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    v1::TariffEvent event;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto parsed = google::protobuf::util::JsonStringToMessage(std::string(text),
                                                              &event, options);
    if (!parsed.ok()) {
      // protobuf's message may run over lines; the first says what is wrong.
      std::string why = parsed.ToString();
      why = why.substr(0, why.find('\n'));
      return InputError{absl::StrCat(path, ":", number,
                                     ": not a TariffEvent in JSON: ", why)};
    }
    out.events.push_back(std::move(event));
    out.lines.push_back(number);
  }
  if (in.bad()) return InputError{absl::StrCat(path, ": read error")};
  return std::nullopt;
}

InputError Rejected(const absl::Status& s, absl::string_view prefix,
                    const Timeline& timeline) {
  const std::string message(s.message());
  const std::string code = absl::StatusCodeToString(s.code());
  const std::string head = absl::StrCat(prefix, "[");
  size_t index = 0;
  const size_t close = message.find(']');
  if (absl::StartsWith(message, head) && close != std::string::npos &&
      absl::SimpleAtoi(
          absl::string_view(message).substr(head.size(), close - head.size()),
          &index) &&
      index < timeline.events.size()) {
    std::string rest = message.substr(close + 1);
    // "[3].stage: ..." -> "event.stage: ..."; "[3]: ..." -> "...".
    if (absl::StartsWith(rest, ".")) {
      rest = absl::StrCat("event", rest);
    } else if (absl::StartsWith(rest, ": ")) {
      rest = rest.substr(2);
    }
    return InputError{absl::StrCat(
        timeline.name, ":", timeline.lines[index], ": event '",
        timeline.events[index].event_id(), "' rejected: ", code, ": ", rest)};
  }
  return InputError{absl::StrCat(timeline.name, ": ", code, ": ", message)};
}

bool ParseUntil(const std::string& text, absl::Time* t, std::string* error) {
  if (absl::ParseTime(absl::RFC3339_full, text, t, error)) return true;
  std::string date_error;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), t, &date_error)) {
    return true;
  }
  return false;
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<std::shared_ptr<const ExposureTable>> LoadExposureDir(
    const std::string& dir, std::string version) {
  std::vector<std::string> names;
  auto files = ReadExposureDir(dir, &names);
  if (!files.ok()) return files.status();
  auto table = ParseExposureFiles(*files, names[0], names[1],
                                  std::move(version), names[2], names[3]);
  if (!table.ok()) {
    return absl::Status(table.status().code(),
                        absl::StrCat("the exposure files are invalid:\n",
                                     table.status().message()));
  }
  return table;
}

absl::StatusOr<ScoringParams> LoadScoringParams(const std::string& path) {
  if (path.empty()) return ScoringParams::Default();
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ScoringParams::Parse(*text, path);
}

AlertContext StepContext(const ScoredStep& step, const ExposureTable& table) {
  AlertContext context;
  context.exposure_version = table.version();
  context.book_revision = step.book.next->revision();
  context.probability = step.book.probability;
  context.created = step.book.action.EventTime().value_or(absl::UnixEpoch());
  return context;
}

}  // namespace tariffalert::cli
