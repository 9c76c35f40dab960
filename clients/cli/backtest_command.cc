// tariff-alert backtest: the model's scores on the days the market traded
// tariff news, against the returns of those days net of the market. Runs a
// timeline as replay does (RunScenario), sums each ticker's alert scores over
// each day's events (days.csv), nets each company's closing return
// (returns.csv) against its index's on that date, and prints the hit rate,
// Spearman's rho and the largest misses per day and over all days
// (docs/backtest.md). No server, no Redis, no wall clock.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "clients/cli/backtest_stats.h"
#include "clients/cli/commands.h"
#include "clients/cli/offline_run.h"
#include "server/common/csv.h"
#include "server/ingest/alert_builder.h"
#include "server/ingest/book_engine.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert::cli {
namespace {

namespace v1 = ::tariffalert::v1;

// One trading day of days.csv and the events it traded, in file order.
struct Day {
  std::string date;
  std::vector<std::string> event_ids;
};

// One row of returns.csv. An index row has an empty `index`.
struct ReturnRow {
  int line = 0;
  std::string date;
  std::string ticker;
  std::string return_text;  // as the source gave it: "-9.3", "14.34"
  double return_pct = 0;
  std::string index;
};

// What the model said about one ticker on one day: its alerts' scores
// summed over the day's events, and those alerts.
struct DayScore {
  double score_bps = 0;
  std::vector<std::string> event_ids;
  std::vector<std::string> explanations;
};

struct Point {
  const ReturnRow* row = nullptr;
  const ReturnRow* index = nullptr;
  double net_return_pct = 0;
  std::string net_text;
  DayScore score;
};

struct DayResult {
  const Day* day = nullptr;
  std::vector<Point> points;
  std::vector<std::string> not_in_table;  // tickers, returns order
  BacktestStats stats;
};

constexpr const char* kBases[] = {"close_to_close", "close_to_close_local",
                                  "close_to_close_qualitative_flat"};

// "2025-04-03" and nothing else (no "2025-4-3", no time).
bool IsDate(const std::string& text) {
  absl::Time t;
  std::string error;
  return absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error) &&
         absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()) == text;
}

// "-4.84", "14", "0": digits with an optional sign and decimals, as sources
// print returns; so the texts can go into the CSV and JSON as they are.
bool IsPlainDecimal(absl::string_view text) {
  if (absl::ConsumePrefix(&text, "-") && text.empty()) return false;
  const size_t dot = text.find('.');
  const absl::string_view whole = text.substr(0, dot);
  const absl::string_view decimals =
      dot == absl::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != absl::string_view::npos && decimals.empty())) {
    return false;
  }
  if (whole.size() > 1 && whole[0] == '0') return false;
  for (absl::string_view part : {whole, decimals}) {
    for (const char c : part) {
      if (!absl::ascii_isdigit(c)) return false;
    }
  }
  return true;
}

// Digits after the decimal point of a number as written: 2 for "-4.84".
int Decimals(const std::string& text) {
  const size_t dot = text.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

// The return less its index's, to the decimals of the two as written; the
// backtest judges it as printed: 5.84 - 4.84 is 1, not 1.0000000000000004,
// so it is not above a 1% threshold.
std::string NetReturnText(const ReturnRow& r, const ReturnRow& index) {
  const int decimals =
      std::max(Decimals(r.return_text), Decimals(index.return_text));
  std::string text =
      absl::StrFormat("%.*f", decimals, r.return_pct - index.return_pct);
  // No "-0.00" for a rounding residue.
  if (absl::StartsWith(text, "-") &&
      text.find_first_of("123456789") == std::string::npos) {
    text.erase(0, 1);
  }
  return text;
}

InputError At(const CsvTable& csv, const CsvRow& row, absl::string_view field,
              absl::string_view what) {
  return InputError{
      absl::StrCat(csv.file_name(), ":", row.line, ": ", field, ": ", what)};
}

absl::StatusOr<CsvTable> ReadCsv(const std::string& path,
                                 absl::Span<const absl::string_view> columns) {
  auto text = ReadCsvFile(path);
  if (!text.ok()) return text.status();
  return CsvTable::Parse(*text, path, columns);
}

// days.csv: every event id must be an event of the timeline, on one day
// only, and not traded before it was announced. Days come out by date.
std::optional<InputError> ReadDays(const std::string& path,
                                   const Timeline& timeline,
                                   std::vector<Day>& out) {
  auto csv = ReadCsv(path, {"date", "event_id"});
  if (!csv.ok()) return InputError{std::string(csv.status().message())};
  absl::flat_hash_map<std::string, const v1::TariffEvent*> events;
  for (const v1::TariffEvent& e : timeline.events) {
    events.emplace(e.event_id(), &e);
  }
  const int date_column = csv->Column("date");
  const int id_column = csv->Column("event_id");
  std::map<std::string, Day> days;
  absl::flat_hash_map<std::string, std::pair<std::string, int>> seen;
  for (const CsvRow& row : csv->rows()) {
    const std::string& date = csv->Field(row, date_column);
    const std::string& id = csv->Field(row, id_column);
    if (!IsDate(date)) {
      return At(*csv, row, "date",
                absl::StrCat("'", date, "' is not a YYYY-MM-DD date"));
    }
    if (id.empty()) return At(*csv, row, "event_id", "is empty");
    auto event = events.find(id);
    if (event == events.end()) {
      return At(*csv, row, "event_id",
                absl::StrCat("'", id, "' is not an event of ", timeline.name));
    }
    auto [first, inserted] = seen.emplace(id, std::pair{date, row.line});
    if (!inserted) {
      return At(*csv, row, "event_id",
                absl::StrCat("'", id, "' is already on ", first->second.first,
                             " (line ", first->second.second, ")"));
    }
    const v1::TariffEvent& e = *event->second;
    if (e.has_announced_time()) {
      const absl::Time announced =
          absl::FromUnixSeconds(e.announced_time().seconds());
      if (absl::FormatTime("%Y-%m-%d", announced, absl::UTCTimeZone()) > date) {
        return At(*csv, row, "date",
                  absl::StrCat(date, " is before event '", id,
                               "' was announced (", TimeText(announced), ")"));
      }
    }
    Day& day = days[date];
    day.date = date;
    day.event_ids.push_back(id);
  }
  for (auto& [date, day] : days) out.push_back(std::move(day));
  return std::nullopt;
}

// returns.csv: closing moves only; every company row's index has a row on
// the same date.
std::optional<InputError> ReadReturns(const std::string& path,
                                      std::vector<ReturnRow>& out) {
  auto csv = ReadCsv(path, {"date", "ticker", "return_pct", "basis", "index"});
  if (!csv.ok()) return InputError{std::string(csv.status().message())};
  const int date = csv->Column("date");
  const int ticker = csv->Column("ticker");
  const int value = csv->Column("return_pct");
  const int basis = csv->Column("basis");
  const int index = csv->Column("index");
  absl::flat_hash_map<std::pair<std::string, std::string>, size_t> by_key;
  for (const CsvRow& row : csv->rows()) {
    ReturnRow r{row.line,
                csv->Field(row, date),
                csv->Field(row, ticker),
                csv->Field(row, value),
                0,
                csv->Field(row, index)};
    if (!IsDate(r.date)) {
      return At(*csv, row, "date",
                absl::StrCat("'", r.date, "' is not a YYYY-MM-DD date"));
    }
    if (r.ticker.empty()) return At(*csv, row, "ticker", "is empty");
    if (!IsPlainDecimal(r.return_text) ||
        !absl::SimpleAtod(r.return_text, &r.return_pct)) {
      return At(
          *csv, row, "return_pct",
          absl::StrCat("'", r.return_text, "' is not a number like -4.84"));
    }
    const std::string& b = csv->Field(row, basis);
    if (std::find(std::begin(kBases), std::end(kBases), b) ==
        std::end(kBases)) {
      return At(*csv, row, "basis",
                absl::StrCat("'", b, "' is not a closing move (",
                             absl::StrJoin(kBases, ", "), ")"));
    }
    auto [it, inserted] =
        by_key.emplace(std::pair{r.date, r.ticker}, out.size());
    if (!inserted) {
      return At(*csv, row, "ticker",
                absl::StrCat(r.ticker, " already has a return on ", r.date,
                             " (line ", out[it->second].line, ")"));
    }
    out.push_back(std::move(r));
  }
  for (const ReturnRow& r : out) {
    if (r.index.empty()) continue;
    auto it = by_key.find(std::pair{r.date, r.index});
    if (it == by_key.end()) {
      return InputError{absl::StrCat(path, ":", r.line, ": index: no ", r.index,
                                     " row on ", r.date, " to net ", r.ticker,
                                     " against")};
    }
    if (!out[it->second].index.empty()) {
      return InputError{absl::StrCat(path, ":", r.line, ": index: ", r.index,
                                     " on ", r.date, " is a company row (line ",
                                     out[it->second].line, "), not an index")};
    }
  }
  return std::nullopt;
}

// The alerts of the day's events, summed by ticker. Snap-backs belong to no
// day: their ids are made by the book's clock, not the timeline.
absl::flat_hash_map<std::string, DayScore> ScoreDay(
    const Day& day, const std::vector<ScoredStep>& steps,
    const ExposureTable& table, const ScoringParams& params) {
  absl::flat_hash_map<std::string, DayScore> scores;
  v1::Alert alert;
  for (const std::string& id : day.event_ids) {
    for (const ScoredStep& step : steps) {
      const TariffAction& action = step.book.action;
      if (action.snap_back || action.event_id != id) continue;
      const AlertContext context = StepContext(step, table);
      for (const SubjectScore& s : step.scores.subjects) {
        if (s.kind != ScoreSubjectKind::kTicker) continue;
        BuildAlert(s, action, step.event, context, params, alert);
        DayScore& d = scores[s.subject];
        d.score_bps += s.score_bps;
        d.event_ids.push_back(id);
        d.explanations.push_back(alert.explanation());
      }
    }
  }
  return scores;
}

std::vector<DayResult> BuildResults(const std::vector<Day>& days,
                                    const std::vector<ReturnRow>& returns,
                                    const std::vector<ScoredStep>& steps,
                                    const ExposureTable& table,
                                    const ScoringParams& params,
                                    double threshold_pct) {
  absl::flat_hash_map<std::pair<std::string, std::string>, const ReturnRow*>
      by_key;
  for (const ReturnRow& r : returns) by_key[{r.date, r.ticker}] = &r;
  std::vector<DayResult> results;
  for (const Day& day : days) {
    DayResult result;
    result.day = &day;
    auto scores = ScoreDay(day, steps, table, params);
    for (const ReturnRow& r : returns) {
      if (r.date != day.date || r.index.empty()) continue;
      if (table.Find(r.ticker) == nullptr) {
        result.not_in_table.push_back(r.ticker);
        continue;
      }
      Point p;
      p.row = &r;
      p.index = by_key.at({r.date, r.index});
      p.net_text = NetReturnText(r, *p.index);
      (void)absl::SimpleAtod(p.net_text, &p.net_return_pct);
      if (auto it = scores.find(r.ticker); it != scores.end()) {
        p.score = it->second;
      }
      result.points.push_back(std::move(p));
    }
    std::vector<BacktestPoint> points;
    for (const Point& p : result.points) {
      points.push_back({p.score.score_bps, p.net_return_pct});
    }
    result.stats = ComputeBacktestStats(points, threshold_pct);
    results.push_back(std::move(result));
  }
  return results;
}

// Every day's points in one list, for the pooled figures.
std::vector<const Point*> AllPoints(const std::vector<DayResult>& results) {
  std::vector<const Point*> all;
  for (const DayResult& r : results) {
    for (const Point& p : r.points) all.push_back(&p);
  }
  return all;
}

BacktestStats PooledStats(const std::vector<const Point*>& all,
                          double threshold_pct) {
  std::vector<BacktestPoint> points;
  for (const Point* p : all) {
    points.push_back({p->score.score_bps, p->net_return_pct});
  }
  return ComputeBacktestStats(points, threshold_pct);
}

std::string RateText(const std::optional<double>& rate) {
  return rate ? absl::StrFormat("%.1f%%", *rate * 100) : "n/a";
}

std::string RhoText(const std::optional<double>& rho) {
  return rho ? absl::StrFormat("%.2f", *rho) : "n/a";
}

std::string StatsRow(absl::string_view label, size_t events,
                     const BacktestStats& s) {
  return absl::StrFormat("%-10s %6d %4d %6d %5d %6d %8d %9s %9s\n", label,
                         events, s.n, s.moved, s.hits, s.wrong_sign, s.no_calls,
                         RateText(s.hit_rate), RhoText(s.spearman));
}

std::string MissText(const Point& p, bool with_date) {
  const std::string what = p.score.score_bps == 0 ? "no call" : "wrong sign";
  const std::string net =
      absl::StrCat(p.net_return_pct > 0 ? "+" : "", p.net_text);
  std::string text = absl::StrFormat(
      "  %s%-10s score %+9.3f bps  net %7s%%  (%s%% vs %s %s%%)  %s\n",
      with_date ? p.row->date + " " : "", p.row->ticker, p.score.score_bps, net,
      p.row->return_text, p.index->ticker, p.index->return_text, what);
  if (p.score.explanations.empty()) {
    absl::StrAppend(&text, "      no alert for ", p.row->ticker,
                    " from the day's events\n");
  }
  for (const std::string& e : p.score.explanations) {
    absl::StrAppend(&text, "      ", e, "\n");
  }
  return text;
}

std::string TextReport(const std::vector<DayResult>& results,
                       const std::vector<const Point*>& all,
                       const BacktestStats& pooled, double threshold_pct) {
  std::string out = absl::StrFormat(
      "A hit: the sign of the day's summed score is the sign of the net "
      "return (return less its index's) on a name with |net| > %g%%.\n\n",
      threshold_pct);
  absl::StrAppend(&out,
                  "date       events    n  moved  hits  wrong  no call  hit "
                  "rate  Spearman\n");
  size_t events = 0;
  for (const DayResult& r : results) {
    events += r.day->event_ids.size();
    absl::StrAppend(&out,
                    StatsRow(r.day->date, r.day->event_ids.size(), r.stats));
  }
  absl::StrAppend(&out, StatsRow("all", events, pooled));
  for (const DayResult& r : results) {
    absl::StrAppend(&out, "\n", r.day->date, ": ",
                    absl::StrJoin(r.day->event_ids, ", "), "\n");
    if (!r.not_in_table.empty()) {
      absl::StrAppend(&out, "  not in the table (left out): ",
                      absl::StrJoin(r.not_in_table, ", "), "\n");
    }
    if (r.stats.largest_misses.empty()) {
      absl::StrAppend(&out, "  no misses\n");
    }
    for (size_t i : r.stats.largest_misses) {
      absl::StrAppend(&out, MissText(r.points[i], /*with_date=*/false));
    }
  }
  absl::StrAppend(&out, "\nLargest misses over all days:\n");
  if (pooled.largest_misses.empty()) absl::StrAppend(&out, "  none\n");
  for (size_t i : pooled.largest_misses) {
    absl::StrAppend(&out, MissText(*all[i], /*with_date=*/true));
  }
  return out;
}

// JSON is written here rather than through protobuf's Struct so that keys
// keep a fixed order and numbers keep the digits their sources gave.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
        } else {
          out += c;  // UTF-8 (the CSV reader and protobuf check it)
        }
    }
  }
  return out + "\"";
}

std::string JsonList(const std::vector<std::string>& list) {
  std::vector<std::string> items;
  for (const std::string& s : list) items.push_back(JsonString(s));
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::string JsonFigure(const std::optional<double>& x) {
  return x ? absl::StrFormat("%.6f", *x) : "null";
}

std::string PointJson(const Point& p) {
  return absl::StrCat(
      "{\"date\": ", JsonString(p.row->date),
      ", \"ticker\": ", JsonString(p.row->ticker),
      ", \"index\": ", JsonString(p.index->ticker),
      ", \"return_pct\": ", p.row->return_text,
      ", \"index_return_pct\": ", p.index->return_text,
      ", \"net_return_pct\": ", p.net_text,
      ", \"score_bps\": ", absl::StrFormat("%.3f", p.score.score_bps),
      ", \"event_ids\": ", JsonList(p.score.event_ids),
      ", \"explanations\": ", JsonList(p.score.explanations), "}");
}

// The figures' fields, without the braces, for a day or for all days.
std::string StatsJson(const BacktestStats& s,
                      const std::vector<const Point*>& points) {
  std::vector<std::string> misses;
  for (size_t i : s.largest_misses) {
    misses.push_back(absl::StrCat("\n      ", PointJson(*points[i])));
  }
  return absl::StrCat(
      "\"n\": ", s.n, ", \"moved\": ", s.moved, ", \"hits\": ", s.hits,
      ", \"wrong_sign\": ", s.wrong_sign, ", \"no_calls\": ", s.no_calls,
      ", \"hit_rate\": ", JsonFigure(s.hit_rate),
      ", \"spearman\": ", JsonFigure(s.spearman),
      ",\n     \"largest_misses\": [", absl::StrJoin(misses, ","), "]");
}

std::string JsonReport(const std::vector<DayResult>& results,
                       const std::vector<const Point*>& all,
                       const BacktestStats& pooled, double threshold_pct) {
  std::vector<std::string> days;
  for (const DayResult& r : results) {
    std::vector<const Point*> points;
    for (const Point& p : r.points) points.push_back(&p);
    days.push_back(absl::StrCat(
        "\n    {\"date\": ", JsonString(r.day->date),
        ", \"event_ids\": ", JsonList(r.day->event_ids), ", \"not_in_table\": ",
        JsonList(r.not_in_table), ",\n     ", StatsJson(r.stats, points), "}"));
  }
  return absl::StrCat("{\"threshold_pct\": ", threshold_pct, ",\n  \"days\": [",
                      absl::StrJoin(days, ","), "],\n  \"all\": {",
                      StatsJson(pooled, all), "}}\n");
}

constexpr const char* kPointsHeader =
    "date,ticker,index,return_pct,index_return_pct,net_return_pct,score_bps,"
    "event_ids,explanation\n";

std::string PointsCsv(const std::vector<const Point*>& all) {
  std::string csv = kPointsHeader;
  for (const Point* p : all) {
    absl::StrAppend(&csv, p->row->date, ",", CsvCell(p->row->ticker), ",",
                    CsvCell(p->index->ticker), ",", p->row->return_text, ",",
                    p->index->return_text, ",", p->net_text, ",",
                    absl::StrFormat("%.3f", p->score.score_bps), ",",
                    CsvCell(absl::StrJoin(p->score.event_ids, ";")), ",",
                    CsvCell(absl::StrJoin(p->score.explanations, " | "),
                            /*always_quote=*/true),
                    "\n");
  }
  return csv;
}

class BacktestCommand : public Command {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "backtest",
        "Compare the model's scores on each event day with the tickers' "
        "closing returns that day, net of their index: hit rate, Spearman's "
        "rho and the largest misses, per day and over all days. No server "
        "and no Redis.");
    c->add_option("--timeline", timeline_,
                  "JSON-lines file of TariffEvents, in time order, run as "
                  "replay runs it")
        ->required();
    c->add_option("--exposure-dir", exposure_dir_,
                  "directory holding companies.csv and exposures.csv, and "
                  "links.csv if there is one")
        ->required();
    c->add_option("--returns", returns_,
                  "CSV date,ticker,return_pct,basis,index: closing returns; "
                  "index rows have an empty index")
        ->required();
    c->add_option("--days", days_,
                  "CSV date,event_id: the timeline events whose news the "
                  "market first traded on each date")
        ->required();
    c->add_option("--until", until_,
                  "RFC 3339 time (or YYYY-MM-DD, midnight UTC) to carry the "
                  "book's clock to after the last event");
    c->add_option("--threshold-pct", threshold_pct_,
                  "a name is judged when |net return| is above this many "
                  "percent")
        ->capture_default_str()
        ->check(
            [](const std::string& text) -> std::string {
              double v = 0;
              if (absl::SimpleAtod(text, &v) && std::isfinite(v) && v >= 0) {
                return "";
              }
              return "must be a number of percent >= 0";
            },
            "PCT");
    c->add_option("--out", out_, "CSV file of every (day, ticker) point");
    c->add_flag("--json", json_, "print the figures as JSON");
    c->add_option("--scoring-config", scoring_config_,
                  "ScoringConfig text proto (default: the built-in "
                  "config/scoring.textproto)");
    *sub = c;
  }

  int Run() override {
    std::optional<absl::Time> until;
    if (!until_.empty()) {
      absl::Time t;
      std::string error;
      if (!ParseUntil(until_, &t, &error)) {
        return Fail(absl::StrCat("--until: '", until_,
                                 "' is not an RFC 3339 time or a YYYY-MM-DD "
                                 "date: ",
                                 error));
      }
      until = t;
    }
    auto params = LoadScoringParams(scoring_config_);
    if (!params.ok()) return Fail(params.status().message());
    auto table = LoadExposureDir(exposure_dir_, "backtest");
    if (!table.ok()) return Fail(table.status().message());

    Timeline timeline;
    if (auto e = ReadTimeline(timeline_, timeline)) return FailAt(*e);
    std::vector<Day> days;
    if (auto e = ReadDays(days_, timeline, days)) return FailAt(*e);
    std::vector<ReturnRow> returns;
    if (auto e = ReadReturns(returns_, returns)) return FailAt(*e);

    TariffBook book;
    auto steps =
        RunScenario(book, timeline.events, until, **table, *params, "events");
    if (!steps.ok()) {
      return FailAt(Rejected(steps.status(), "events", timeline));
    }

    const std::vector<DayResult> results =
        BuildResults(days, returns, *steps, **table, *params, threshold_pct_);
    const std::vector<const Point*> all = AllPoints(results);
    const BacktestStats pooled = PooledStats(all, threshold_pct_);
    if (!out_.empty() && !WriteFile(out_, PointsCsv(all))) return kExitFailed;
    const std::string report =
        json_ ? JsonReport(results, all, pooled, threshold_pct_)
              : TextReport(results, all, pooled, threshold_pct_);
    if (std::fwrite(report.data(), 1, report.size(), stdout) != report.size() ||
        std::fflush(stdout) != 0) {
      std::fprintf(stderr, "backtest: cannot write to stdout\n");
      return kExitFailed;
    }
    std::string summary =
        absl::StrCat("backtest: ", timeline.events.size(), " events, ",
                     days.size(), " days, ", all.size(), " points");
    if (until) {
      absl::StrAppend(&summary, ", clock carried to ", TimeText(*until));
    }
    if (!out_.empty()) absl::StrAppend(&summary, " -> ", out_);
    std::fprintf(stderr, "%s\n", summary.c_str());
    return kExitOk;
  }

 private:
  static int Fail(absl::string_view message) {
    std::fprintf(stderr, "backtest: %s\n", std::string(message).c_str());
    return kExitUsage;
  }
  // "FILE:LINE: ...", first on the line as compilers put it.
  static int FailAt(const InputError& e) {
    std::fprintf(stderr, "%s\n", e.message.c_str());
    return kExitUsage;
  }

  static bool WriteFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::fprintf(stderr, "backtest: cannot write %s\n", path.c_str());
      return false;
    }
    return true;
  }

  std::string timeline_;
  std::string exposure_dir_;
  std::string returns_;
  std::string days_;
  std::string until_;
  double threshold_pct_ = 1;
  std::string out_;
  bool json_ = false;
  std::string scoring_config_;
};

}  // namespace

std::unique_ptr<Command> AddBacktestCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<BacktestCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
