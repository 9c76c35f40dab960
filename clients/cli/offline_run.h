#ifndef TARIFF_ALERT_CLIENTS_CLI_OFFLINE_RUN_H_
#define TARIFF_ALERT_CLIENTS_CLI_OFFLINE_RUN_H_

// What the offline commands (replay, backtest) share, so that both run the
// same model on the same inputs: the timeline file and its errors by
// file:line, the --until time, the exposure directory, the scoring config,
// and the context an alert of a replayed step is built with. No server, no
// Redis, no wall clock.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/exposure/exposure_table.h"
#include "server/ingest/alert_builder.h"
#include "server/ingest/book_engine.h"
#include "server/scoring/scoring_params.h"
#include "tariffalert/v1/tariff_event.pb.h"

namespace tariffalert::cli {

// An input error: printed as is, exit code 2.
struct InputError {
  std::string message;
};

// The events of one JSON-lines file and the line each came from.
struct Timeline {
  std::string name;
  std::vector<v1::TariffEvent> events;
  std::vector<int> lines;
};

// Blank lines and lines starting with '#' are skipped; anything else must be
// one TariffEvent in the protobuf JSON mapping.
std::optional<InputError> ReadTimeline(const std::string& path, Timeline& out);

// RunScenario names a rejected event "<prefix>[i]"; this names its file and
// line: "july.jsonl:14: event 'id' rejected: FAILED_PRECONDITION: event.stage:
// EXTENDED needs a paused measure; ...".
InputError Rejected(const absl::Status& s, absl::string_view prefix,
                    const Timeline& timeline);

// "2025-11-11" (midnight UTC) or a full RFC 3339 time.
bool ParseUntil(const std::string& text, absl::Time* t, std::string* error);

// "2025-04-05T04:01:00Z".
std::string TimeText(absl::Time t);

// companies.csv and exposures.csv in `dir`, and links.csv and base-rates.csv
// if they are there,
// validated as `load` validates them; the table's version is `version`.
absl::StatusOr<std::shared_ptr<const ExposureTable>> LoadExposureDir(
    const std::string& dir, std::string version);

// The ScoringConfig text proto at `path`, or the built-in config if `path`
// is empty.
absl::StatusOr<ScoringParams> LoadScoringParams(const std::string& path);

// The context the server would build the step's alerts with, but for the
// time: the event's own time, never the wall clock, so replays repeat.
AlertContext StepContext(const ScoredStep& step, const ExposureTable& table);

}  // namespace tariffalert::cli

#endif  // TARIFF_ALERT_CLIENTS_CLI_OFFLINE_RUN_H_
