// scoring_bench (B1): one tariff event scored against a generated exposure
// table (bench/gen_exposure.py), side by side with what a user would
// otherwise build: a scorer that keeps each ticker's exposure in Redis and
// fetches it with hiredis, one GET per ticker, and the same pipelined.
//
// Ours, in process: ScoreTickers (every ticker's score, the ranking: the
// same work the peer does) and ScoreAction (that plus the alerts'
// contributions and explanations). The peer computes the documented formula
// (docs/scoring.md, first order; the table has no links) from what it reads;
// its scores are checked against ours, and the largest difference printed.
// Bounded: --events and --naive-events repetitions of the one event.

#include <hiredis/hiredis.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "server/exposure/exposure_csv.h"
#include "server/scoring/scorer.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"

namespace ta = tariffalert;
namespace bench = tariffalert::bench;
using SteadyClock = std::chrono::steady_clock;

namespace {

double MicrosSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - t0)
      .count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ta::TariffAction Action(const char* importer, const char* target, double rate) {
  ta::TariffAction a;
  a.event_id = absl::StrCat("bench-", importer, "-", target, "-", rate);
  a.measure_id = "bench";
  a.importer = *ta::Country::Parse(importer);
  a.targets.push_back(*ta::Country::Parse(target));
  a.stage = ta::Stage::kEffective;
  a.new_rate_pct = rate;
  return a;
}

// A ticker's record as the peer keeps it in Redis: one line,
//   sector|cogs_ratio|R US=0.3 CN=0.1|S CN=0.4|P US=0.7 MX=0.3
std::string PeerRecord(const ta::Company& c) {
  std::string out = absl::StrCat(c.sector, "|", c.cogs_ratio);
  const std::pair<const char*, const std::vector<ta::ExposureRow>*> kinds[] = {
      {"R", &c.revenue}, {"S", &c.sourcing}, {"P", &c.production}};
  for (const auto& [tag, rows] : kinds) {
    absl::StrAppend(&out, "|", tag);
    for (const ta::ExposureRow& r : *rows) {
      absl::StrAppend(&out, " ", r.country.ToString(), "=", r.share);
    }
  }
  return out;
}

// What the peer knows of one event: the rate change per partner and the
// import-weighted change on competing goods (docs/scoring.md).
struct PeerEvent {
  ta::Country importer;
  std::vector<std::pair<ta::Country, double>> deltas;  // targeted, nonzero
  double competing_delta = 0;
  double competing_weight = 0;
};

PeerEvent MakePeerEvent(const ta::TariffAction& a, const ta::TariffBook& before,
                        const ta::TariffBook& after,
                        const ta::ScoringParams& params) {
  PeerEvent e;
  e.importer = a.importer;
  double weighted = 0;
  for (ta::Country x : ta::AllCountries()) {
    if (!a.TargetsCountry(x)) continue;
    const double d = after.Rate(a.importer, x, ta::HsCode::All()) -
                     before.Rate(a.importer, x, ta::HsCode::All());
    const double w = params.PartnerWeight(a.importer, x);
    e.competing_weight += w;
    weighted += w * d;
    if (d != 0) e.deltas.push_back({x, d});
  }
  if (e.competing_weight > 0) e.competing_delta = weighted / e.competing_weight;
  return e;
}

// Parses a record and scores it: the three first-order channels.
double PeerScore(absl::string_view record, const PeerEvent& e,
                 const ta::ScoringParams& params) {
  std::vector<absl::string_view> parts = absl::StrSplit(record, '|');
  if (parts.size() != 5) return NAN;
  double cogs = 0;
  if (!absl::SimpleAtod(parts[1], &cogs)) return NAN;
  const ta::SectorParams& sp = params.ForSector(parts[0]);
  std::vector<std::pair<ta::Country, double>> rows[3];
  for (int k = 0; k < 3; ++k) {
    for (absl::string_view item :
         absl::StrSplit(parts[2 + k].substr(1), ' ', absl::SkipEmpty())) {
      const size_t eq = item.find('=');
      double share = 0;
      auto country = ta::Country::Parse(item.substr(0, eq));
      if (eq == absl::string_view::npos || !country ||
          !absl::SimpleAtod(item.substr(eq + 1), &share)) {
        return NAN;
      }
      rows[k].push_back({*country, share});
    }
  }
  auto share_in = [](const std::vector<std::pair<ta::Country, double>>& r,
                     ta::Country c) {
    for (const auto& [country, share] : r) {
      if (country == c) return std::min(1.0, share);
    }
    return 0.0;
  };
  const double rev = share_in(rows[0], e.importer);
  if (rev == 0) return 0;
  const double made = share_in(rows[2], e.importer);
  const double imported = made < 1 ? std::max(0.0, rev - made) / (1 - made) : 0;
  const double local = made > 0 ? std::min(1.0, rev / made) : 0;
  double bps = 0;
  for (const auto& [x, delta] : e.deltas) {
    const double sourced = share_in(rows[1], x);
    bps -= delta / 100 * sourced * (1 - share_in(rows[2], x)) * rev * cogs *
           (1 - sp.pass_through) * 10000;
    bps -=
        delta / 100 * share_in(rows[2], x) * imported * sp.export_kappa * 10000;
  }
  bps += e.competing_delta / 100 * made * local * sp.protection_gamma *
         e.competing_weight * 10000;
  return bps;
}

struct Figures {
  double p50 = 0, p99 = 0;
};

Figures Summarize(const std::vector<double>& us) {
  return Figures{bench::Percentile(us, 0.5), bench::Percentile(us, 0.99)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B1: scoring one event, against a naive Redis scorer"};
  std::string dir, csv_path, label, bench_name = "B1";
  int redis_port = 0, events = 200, naive_events = 3;
  app.add_option("--dir", dir, "generated table (companies.csv, exposures.csv)")
      ->required();
  app.add_option("--redis-port", redis_port, "redis-server on 127.0.0.1")
      ->required();
  app.add_option("--events", events, "repetitions of ours")
      ->check(CLI::Range(1, 100000));
  app.add_option("--naive-events", naive_events, "repetitions of the peer")
      ->check(CLI::Range(1, 100));
  app.add_option("--label", label, "case name in the CSV (default: N tickers)");
  app.add_option("--csv", csv_path, "append results here");
  app.add_option("--bench", bench_name, "name in the CSV")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto t_load = SteadyClock::now();
  auto table = ta::ParseExposureFiles(
      {ReadFile(dir + "/companies.csv"), ReadFile(dir + "/exposures.csv")},
      "companies.csv", "exposures.csv", "bench");
  if (!table.ok()) {
    std::fprintf(stderr, "scoring_bench: %s: %s\n", dir.c_str(),
                 std::string(table.status().message()).c_str());
    return 1;
  }
  const ta::ExposureTable& t = **table;
  const auto companies = t.companies();
  if (label.empty()) label = absl::StrCat(companies.size(), " tickers");
  std::printf(
      "B1 table %s: %zu tickers, %zu rows, %zu on the row-by-row path, "
      "parsed in %.1f s\n",
      dir.c_str(), companies.size(), t.exposure_row_count(),
      t.general_companies().size(), MicrosSince(t_load) / 1e6);

  // US on CN goods 30% -> 145%: the 2025 escalation.
  const ta::ScoringParams& params = ta::ScoringParams::Default();
  auto setup = ta::TariffBook().Plan(Action("US", "CN", 30));
  auto step = setup.ok() ? setup->next->Plan(Action("US", "CN", 145)) : setup;
  if (!setup.ok() || !step.ok()) {
    std::fprintf(stderr, "scoring_bench: book: %s\n",
                 std::string(step.status().message()).c_str());
    return 1;
  }
  const ta::TariffAction event = Action("US", "CN", 145);
  const ta::TariffBook& before = *setup->next;
  const ta::TariffBook& after = *step->after;

  std::vector<double> ours, ours_full;
  std::vector<double> scores;
  size_t alerts = 0;
  for (int i = 0; i < events; ++i) {
    auto t0 = SteadyClock::now();
    scores = ta::ScoreTickers(event, before, after, t, params);
    ours.push_back(MicrosSince(t0));
  }
  for (int i = 0; i < std::max(1, events / 10); ++i) {
    auto t0 = SteadyClock::now();
    ta::ScoreResult r = ta::ScoreAction(event, before, after, t, params);
    ours_full.push_back(MicrosSince(t0));
    alerts = r.subjects.size();
  }

  // B4's kind of event: a small partner (US on PK 0% -> 35%) moves most of
  // the table through the protection channel, and few companies alert.
  const ta::TariffAction small = Action("US", "PK", 35);
  auto small_step = ta::TariffBook().Plan(small);
  if (!small_step.ok()) {
    std::fprintf(stderr, "scoring_bench: book: %s\n",
                 std::string(small_step.status().message()).c_str());
    return 1;
  }
  std::vector<double> ours_small;
  size_t small_alerts = 0, small_moved = 0;
  for (int i = 0; i < std::max(1, events / 10); ++i) {
    auto t0 = SteadyClock::now();
    ta::ScoreResult r =
        ta::ScoreAction(small, ta::TariffBook(), *small_step->after, t, params);
    ours_small.push_back(MicrosSince(t0));
    small_alerts = r.subjects.size();
  }
  for (double bps : ta::ScoreTickers(small, ta::TariffBook(),
                                     *small_step->after, t, params)) {
    small_moved += bps != 0;
  }

  // The peer: one key per ticker.
  redisContext* redis = redisConnect("127.0.0.1", redis_port);
  if (redis == nullptr || redis->err) {
    std::fprintf(stderr,
                 "scoring_bench: cannot connect to redis on 127.0.0.1:%d\n",
                 redis_port);
    return 1;
  }
  std::vector<std::string> keys;
  for (const ta::Company& c : companies) {
    keys.push_back("bench:exposure:" + c.ticker);
    const std::string record = PeerRecord(c);
    redisAppendCommand(redis, "SET %b %b", keys.back().data(),
                       keys.back().size(), record.data(), record.size());
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(redis, &reply) != REDIS_OK) {
      std::fprintf(stderr, "scoring_bench: redis SET failed\n");
      return 1;
    }
    freeReplyObject(reply);
  }
  const PeerEvent peer_event = MakePeerEvent(event, before, after, params);
  std::vector<double> peer(companies.size(), 0);
  std::vector<double> naive, pipelined;
  for (int rep = 0; rep < naive_events; ++rep) {
    auto t0 = SteadyClock::now();
    for (size_t i = 0; i < keys.size(); ++i) {
      auto* reply = static_cast<redisReply*>(
          redisCommand(redis, "GET %b", keys[i].data(), keys[i].size()));
      if (reply == nullptr) return 1;
      peer[i] = PeerScore(absl::string_view(reply->str, reply->len), peer_event,
                          params);
      freeReplyObject(reply);
    }
    naive.push_back(MicrosSince(t0));
  }
  constexpr size_t kDepth = 1000;  // GETs in flight per round trip
  for (int rep = 0; rep < naive_events; ++rep) {
    auto t0 = SteadyClock::now();
    for (size_t begin = 0; begin < keys.size(); begin += kDepth) {
      const size_t end = std::min(keys.size(), begin + kDepth);
      for (size_t i = begin; i < end; ++i) {
        redisAppendCommand(redis, "GET %b", keys[i].data(), keys[i].size());
      }
      for (size_t i = begin; i < end; ++i) {
        void* reply = nullptr;
        if (redisGetReply(redis, &reply) != REDIS_OK) return 1;
        auto* r = static_cast<redisReply*>(reply);
        peer[i] =
            PeerScore(absl::string_view(r->str, r->len), peer_event, params);
        freeReplyObject(reply);
      }
    }
    pipelined.push_back(MicrosSince(t0));
  }
  // Clean up the peer's keys (pipelined DEL in chunks).
  for (size_t begin = 0; begin < keys.size(); begin += kDepth) {
    const size_t end = std::min(keys.size(), begin + kDepth);
    for (size_t i = begin; i < end; ++i) {
      redisAppendCommand(redis, "DEL %b", keys[i].data(), keys[i].size());
    }
    for (size_t i = begin; i < end; ++i) {
      void* reply = nullptr;
      if (redisGetReply(redis, &reply) == REDIS_OK) freeReplyObject(reply);
    }
  }
  redisFree(redis);

  double max_diff = 0;
  size_t moved = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(scores[i] - peer[i]));
    moved += scores[i] != 0;
  }
  const Figures a = Summarize(ours), f = Summarize(ours_full),
                n = Summarize(naive), p = Summarize(pipelined);
  std::printf(
      "B1 %s, US on CN 30%% -> 145%%: %zu tickers moved, %zu alerts; "
      "peer agrees to %.2g bps\n",
      label.c_str(), moved, alerts, max_diff);
  std::printf("  %-44s p50 %10.1f us  p99 %10.1f us  (n=%zu)\n",
              "tariff-alert ScoreTickers (every ticker)", a.p50, a.p99,
              ours.size());
  std::printf("  %-44s p50 %10.1f us  p99 %10.1f us  (n=%zu)\n",
              "tariff-alert ScoreAction (with alerts)", f.p50, f.p99,
              ours_full.size());
  const Figures sm = Summarize(ours_small);
  std::printf(
      "  %-44s p50 %10.1f us  p99 %10.1f us  (n=%zu)  %zu moved, %zu "
      "alerts\n",
      "tariff-alert ScoreAction, US on PK 0 -> 35%", sm.p50, sm.p99,
      ours_small.size(), small_moved, small_alerts);
  std::printf("  %-44s p50 %10.1f us  p99 %10.1f us  (n=%zu)  ratio %.0fx\n",
              "peer: GET per ticker", n.p50, n.p99, naive.size(),
              n.p50 / a.p50);
  std::printf("  %-44s p50 %10.1f us  p99 %10.1f us  (n=%zu)  ratio %.0fx\n",
              "peer: pipelined GETs", p.p50, p.p99, pipelined.size(),
              p.p50 / a.p50);

  const bench::CsvOut csv(csv_path);
  const struct {
    const char* system;
    Figures fig;
  } rows[] = {{"tariff-alert ScoreTickers", a},
              {"tariff-alert ScoreAction", f},
              {"naive-redis GET", n},
              {"naive-redis pipelined", p}};
  for (const auto& r : rows) {
    csv.Row(bench_name, r.system, label, "p50_us", r.fig.p50, "us");
    csv.Row(bench_name, r.system, label, "p99_us", r.fig.p99, "us");
  }
  csv.Row(bench_name, "tariff-alert ScoreAction", label, "alerts",
          static_cast<double>(alerts), "alerts");
  csv.Row(bench_name, "tariff-alert ScoreAction small partner", label, "p50_us",
          sm.p50, "us");
  csv.Row(bench_name, "tariff-alert ScoreAction small partner", label, "p99_us",
          sm.p99, "us");
  csv.Row(bench_name, "tariff-alert ScoreAction small partner", label, "alerts",
          static_cast<double>(small_alerts), "alerts");
  csv.Row(bench_name, "naive-redis GET", label, "max_abs_diff_bps", max_diff,
          "bps");
  // The peer must have computed the same scores for the ratio to mean
  // anything.
  return max_diff < 1e-6 ? 0 : 3;
}
