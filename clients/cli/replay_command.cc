// tariff-alert replay: a backtest of the model on history. Runs a timeline of
// events (JSON lines) through a private tariff book with RunScenario, the
// same engine the server publishes with, and writes every alert as one CSV
// row. No server, no Redis, no wall clock: the same input gives the same
// bytes.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cli/commands.h"
#include "clients/cli/offline_run.h"
#include "server/common/csv.h"
#include "server/ingest/alert_builder.h"
#include "server/ingest/book_engine.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/tariff_event.pb.h"

namespace tariffalert::cli {
namespace {

namespace v1 = ::tariffalert::v1;

// "CN *: 145->30; EU *: 10->15".
std::string RateChanges(const std::vector<BookRateChange>& changes) {
  std::vector<std::string> parts;
  for (const BookRateChange& c : changes) {
    parts.push_back(absl::StrFormat("%s %s: %g->%g", c.target,
                                    c.product.ToString(), c.previous_rate_pct,
                                    c.new_rate_pct));
  }
  return absl::StrJoin(parts, "; ");
}

// From the score, not the wire alert: every channel the scorer has.
const char* ChannelText(ScoreChannel c) {
  switch (c) {
    case ScoreChannel::kImportCost:
      return "import_cost";
    case ScoreChannel::kExport:
      return "export";
    case ScoreChannel::kProtection:
      return "protection";
    case ScoreChannel::kSpillover:
      return "spillover";
  }
  return "";
}

// "HIGH" for SEVERITY_HIGH.
std::string SeverityText(v1::Severity s) {
  const std::string& name = v1::Severity_Name(s);
  return absl::StartsWith(name, "SEVERITY_") ? name.substr(9) : name;
}

constexpr const char* kHeader =
    "step,event_id,event_time,stage,measure_id,snap_back,rate_changes,"
    "book_revision,subject_kind,subject,name,sector,score_bps,severity,"
    "operating_profit_change_pct,probability,top_channel,explanation\n";

class ReplayCommand : public Command {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "replay",
        "Backtest: run a timeline of tariff events (JSON lines) through a "
        "private tariff book, as the server would, and write every alert as "
        "one CSV row. No server and no Redis; the same input gives the same "
        "bytes.");
    c->add_option("file", file_,
                  "JSON-lines file of TariffEvents, in time "
                  "order")
        ->required();
    c->add_option("--exposure-dir", exposure_dir_,
                  "directory holding companies.csv and exposures.csv, and "
                  "links.csv if there is one")
        ->required();
    c->add_option("--book", book_,
                  "JSON-lines file of events applied first, silently, to "
                  "build the starting book");
    c->add_option("--until", until_,
                  "RFC 3339 time (or YYYY-MM-DD, midnight UTC) to carry the "
                  "book's clock to after the last event, so that pauses "
                  "lapse");
    c->add_option("--out", out_, "CSV file; '-' for stdout")
        ->capture_default_str();
    c->add_option("--tickers", tickers_,
                  "only these tickers' rows (sector rows are left out)")
        ->delimiter(',');
    c->add_option("--min-abs-bps", min_abs_bps_,
                  "only rows with |score| >= this")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    c->add_option("--subjects", subjects_, "tickers, sectors or all")
        ->capture_default_str()
        ->check(CLI::IsMember({"tickers", "sectors", "all"}));
    c->add_option("--scoring-config", scoring_config_,
                  "ScoringConfig text proto (default: the built-in "
                  "config/scoring.textproto)");
    *sub = c;
  }

  int Run() override {
    if (!tickers_.empty() && subjects_ == "sectors") {
      std::fprintf(stderr,
                   "replay: --tickers selects ticker rows; it cannot "
                   "go with --subjects sectors\n");
      return kExitUsage;
    }
    std::optional<absl::Time> until;
    if (!until_.empty()) {
      absl::Time t;
      std::string error;
      if (!ParseUntil(until_, &t, &error)) {
        std::fprintf(stderr,
                     "replay: --until: '%s' is not an RFC 3339 time or a "
                     "YYYY-MM-DD date: %s\n",
                     until_.c_str(), error.c_str());
        return kExitUsage;
      }
      until = t;
    }

    // The model's parameters and the exposure table.
    auto params = LoadScoringParams(scoring_config_);
    if (!params.ok()) return Fail(params.status().message());
    auto table = LoadExposureDir(exposure_dir_, "replay");
    if (!table.ok()) return Fail(table.status().message());

    // The starting book, then the timeline.
    TariffBook book;
    int book_events = 0;
    if (!book_.empty()) {
      Timeline start;
      if (auto e = ReadTimeline(book_, start)) return FailAt(*e);
      auto steps = RunScenario(book, start.events, std::nullopt, **table,
                               *params, "book");
      if (!steps.ok()) return FailAt(Rejected(steps.status(), "book", start));
      book_events = static_cast<int>(start.events.size());
    }
    Timeline timeline;
    if (auto e = ReadTimeline(file_, timeline)) return FailAt(*e);
    auto steps =
        RunScenario(book, timeline.events, until, **table, *params, "events");
    if (!steps.ok()) {
      return FailAt(Rejected(steps.status(), "events", timeline));
    }

    // The rows.
    const absl::flat_hash_set<std::string> tickers(tickers_.begin(),
                                                   tickers_.end());
    const bool want_tickers = subjects_ != "sectors";
    const bool want_sectors = subjects_ != "tickers" && tickers.empty();
    std::string csv = kHeader;
    int snap_backs = 0;
    size_t rows = 0;
    v1::Alert alert;
    for (size_t i = 0; i < steps->size(); ++i) {
      const ScoredStep& step = (*steps)[i];
      const TariffAction& action = step.book.action;
      if (action.snap_back) ++snap_backs;
      const std::optional<absl::Time> when = action.EventTime();
      const AlertContext context = StepContext(step, **table);
      const std::string step_fields = absl::StrCat(
          i + 1, ",", CsvCell(action.event_id), ",",
          when ? TimeText(*when) : "", ",", StageName(action.stage), ",",
          CsvCell(action.measure_id), ",", action.snap_back ? 1 : 0, ",",
          CsvCell(RateChanges(step.book.changes)), ",", context.book_revision);
      for (const SubjectScore& s : step.scores.subjects) {
        const bool ticker = s.kind == ScoreSubjectKind::kTicker;
        if (ticker ? !want_tickers : !want_sectors) continue;
        if (ticker && !tickers.empty() && !tickers.contains(s.subject)) {
          continue;
        }
        if (std::abs(s.score_bps) < min_abs_bps_) continue;
        BuildAlert(s, action, step.event, context, *params, alert);
        const char* top = s.contributions.empty()
                              ? ""
                              : ChannelText(s.contributions[0].channel);
        absl::StrAppend(
            &csv, step_fields, ",", ticker ? "TICKER" : "SECTOR", ",",
            CsvCell(alert.subject()), ",", CsvCell(alert.name()), ",",
            CsvCell(alert.sector()), ",",
            absl::StrFormat("%.3f", alert.score_bps()), ",",
            SeverityText(alert.severity()), ",",
            absl::StrFormat("%.4f", alert.operating_profit_change_pct()), ",",
            absl::StrFormat("%.4g", context.probability), ",", top, ",",
            CsvCell(alert.explanation(), /*always_quote=*/true), "\n");
        ++rows;
      }
    }

    if (!Write(csv)) return kExitFailed;
    std::string summary =
        absl::StrCat("replay: ", timeline.events.size(), " events");
    if (book_events > 0) {
      absl::StrAppend(&summary, " after ", book_events,
                      " starting-book events");
    }
    absl::StrAppend(&summary, ", ", snap_backs, " snap-backs, ", rows, " rows");
    if (until) {
      absl::StrAppend(&summary, ", clock carried to ", TimeText(*until));
    }
    if (out_ != "-") absl::StrAppend(&summary, " -> ", out_);
    std::fprintf(stderr, "%s\n", summary.c_str());
    return kExitOk;
  }

 private:
  static int Fail(absl::string_view message) {
    std::fprintf(stderr, "replay: %s\n", std::string(message).c_str());
    return kExitUsage;
  }
  // "FILE:LINE: ...", first on the line as compilers put it, so that
  // editors and terminals can jump there.
  static int FailAt(const InputError& e) {
    std::fprintf(stderr, "%s\n", e.message.c_str());
    return kExitUsage;
  }

  bool Write(const std::string& csv) {
    if (out_ == "-") {
      if (std::fwrite(csv.data(), 1, csv.size(), stdout) != csv.size() ||
          std::fflush(stdout) != 0) {
        std::fprintf(stderr, "replay: cannot write to stdout\n");
        return false;
      }
      return true;
    }
    std::ofstream out(out_, std::ios::binary | std::ios::trunc);
    out << csv;
    out.close();
    if (!out) {
      std::fprintf(stderr, "replay: cannot write %s\n", out_.c_str());
      return false;
    }
    return true;
  }

  std::string file_;
  std::string exposure_dir_;
  std::string book_;
  std::string until_;
  std::string out_ = "-";
  std::vector<std::string> tickers_;
  double min_abs_bps_ = 0;
  std::string subjects_ = "all";
  std::string scoring_config_;
};

}  // namespace

std::unique_ptr<Command> AddReplayCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<ReplayCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
