// scoring_bench: in-process cost of scoring one event against the sample
// exposure table, and of the whole publish pipeline (score, build, serialize,
// log) with no subscriber. Google Benchmark; run from the repository root.

#include <benchmark/benchmark.h>

#include <memory>

#include "server/exposure/exposure_csv.h"
#include "server/exposure/loader.h"
#include "server/fanout/alert_hub.h"
#include "server/ingest/publisher.h"
#include "server/scoring/scorer.h"

namespace tariffalert {
namespace {

std::shared_ptr<const ExposureTable> SampleTable() {
  static std::shared_ptr<const ExposureTable> table = [] {
    ExposureFiles files{*ReadFileToString("data/exposure/companies.csv"),
                        *ReadFileToString("data/exposure/exposures.csv")};
    return *ParseExposureFiles(files, "companies.csv", "exposures.csv", "1");
  }();
  return table;
}

TariffAction UsOnChina(double rate) {
  TariffAction a;
  a.event_id = "bench";
  a.importer = *Country::Parse("US");
  a.targets = {*Country::Parse("CN")};
  a.stage = Stage::kEffective;
  a.new_rate_pct = rate;
  return a;
}

void BM_ScoreAction(benchmark::State& state) {
  const auto table = SampleTable();
  TariffBook book;
  book.Apply(UsOnChina(30));
  const TariffAction raise = UsOnChina(145);
  const TariffBook after = book.After(raise);
  size_t subjects = 0;
  for (auto _ : state) {
    ScoreResult r =
        ScoreAction(raise, book, after, *table, ScoringParams::Default());
    subjects = r.subjects.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["companies"] = static_cast<double>(table->companies().size());
  state.counters["alerts"] = static_cast<double>(subjects);
}
BENCHMARK(BM_ScoreAction);

void BM_Publish(benchmark::State& state) {
  const auto table = SampleTable();
  HubOptions options;
  options.heartbeat_interval = absl::ZeroDuration();
  options.log_capacity = 1000;
  AlertHub hub(options, RealClock());
  Publisher publisher(
      PublisherOptions{}, [table] { return table; }, ScoringParams::Default(),
      &hub, RealClock());
  int i = 0;
  for (auto _ : state) {
    v1::TariffEvent e;
    e.set_event_id("bench-" + std::to_string(i));
    e.set_imposing_country("US");
    e.add_target_countries("CN");
    e.set_new_rate_pct(i % 2 == 0 ? 35 : 30);
    e.set_stage(v1::STAGE_EFFECTIVE);
    ++i;
    auto r = publisher.Publish(e);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Publish);

}  // namespace
}  // namespace tariffalert

BENCHMARK_MAIN();
