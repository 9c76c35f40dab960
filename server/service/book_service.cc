#include "server/service/book_service.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/common/quote.h"
#include "server/ingest/alert_builder.h"
#include "server/ingest/book_engine.h"
#include "server/ingest/event_validator.h"
#include "server/scoring/portfolio.h"
#include "server/service/grpc_status.h"
#include "server/service/request_parser.h"
#include "server/service/unary_call.h"
#include "server/tariff_book/book_codec.h"

namespace tariffalert {
namespace {

// Events in one ScoreScenario request at most.
constexpr int kMaxScenarioEvents = 200;
constexpr uint32_t kDefaultTopN = 20;

void SortTotals(std::vector<v1::ScenarioTotal>& v) {
  std::sort(v.begin(), v.end(),
            [](const v1::ScenarioTotal& a, const v1::ScenarioTotal& b) {
              const double x = std::abs(a.score_bps());
              const double y = std::abs(b.score_bps());
              if (x != y) return x > y;
              return a.subject() < b.subject();
            });
}

}  // namespace

absl::StatusOr<v1::ScoreScenarioResponse> ScoreScenario(
    const v1::ScoreScenarioRequest& request, const TariffBook& book,
    const ExposureTable& table, const ScoringParams& params) {
  if (request.events_size() == 0) {
    return absl::InvalidArgumentError("events: give at least one event");
  }
  if (request.events_size() > kMaxScenarioEvents) {
    return absl::InvalidArgumentError(
        absl::StrCat("events: at most ", kMaxScenarioEvents, " per scenario"));
  }
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < request.events_size(); ++i) {
    if (!ids.insert(request.events(i).event_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i,
          "].event_id: ", QuoteForError(request.events(i).event_id()),
          " repeats an earlier event of the scenario"));
    }
  }
  std::optional<absl::Time> until;
  if (request.has_until_time()) {
    const google::protobuf::Timestamp& t = request.until_time();
    if (t.seconds() < absl::ToUnixSeconds(kEarliestEventTime) ||
        t.seconds() >= absl::ToUnixSeconds(kLatestEventTime) || t.nanos() < 0 ||
        t.nanos() > 999999999) {
      return absl::InvalidArgumentError(
          "until_time: outside the years 1930-2100 a tariff event can have");
    }
    until = TimeFromProto(t);
  }
  const size_t top_n = request.top_n() == 0 ? kDefaultTopN : request.top_n();
  auto holdings = ValidateHoldings(request.holdings(), "holdings");
  if (!holdings.ok()) return holdings.status();
  auto in_table = [&table](absl::string_view ticker) {
    return table.Find(ticker) != nullptr;
  };

  TariffBook scenario_book = book;
  const std::vector<v1::TariffEvent> events(request.events().begin(),
                                            request.events().end());
  auto steps =
      RunScenario(scenario_book, events, until, table, params, "events");
  if (!steps.ok()) return steps.status();

  v1::ScoreScenarioResponse response;
  response.set_book_revision(book.revision());
  response.set_exposure_version(table.version());
  response.set_model_version(params.model_version());
  absl::flat_hash_map<std::string, v1::ScenarioTotal> tickers;
  absl::flat_hash_map<std::string, v1::ScenarioTotal> sectors;
  for (const ScoredStep& step : *steps) {
    v1::ScenarioStep* out = response.add_steps();
    *out->mutable_event() = step.event;
    out->set_snap_back(step.book.action.snap_back);
    for (const BookRateChange& c : step.book.changes) {
      v1::RateChange* rc = out->add_rate_changes();
      rc->set_target_country(c.target);
      rc->set_product_code(c.product.ToString());
      rc->set_previous_rate_pct(c.previous_rate_pct);
      rc->set_new_rate_pct(c.new_rate_pct);
    }
    out->set_book_revision(step.book.next->revision());
    AlertContext context;
    context.exposure_version = table.version();
    context.book_revision = step.book.next->revision();
    context.probability = step.book.probability;
    context.created =
        step.book.action.EventTime().value_or(absl::UnixEpoch());
    if (!holdings->empty()) {
      *out->mutable_portfolio() = ComputePortfolioImpact(
          *holdings, TickerScores::FromSubjects(step.scores.subjects), in_table,
          params.valuation_elasticity());
    }
    size_t ticker_alerts = 0;
    size_t sector_alerts = 0;
    for (const SubjectScore& s : step.scores.subjects) {
      const bool ticker = s.kind == ScoreSubjectKind::kTicker;
      auto& totals = ticker ? tickers : sectors;
      auto [it, inserted] = totals.try_emplace(s.subject);
      v1::ScenarioTotal& t = it->second;
      if (inserted) {
        t.set_subject_kind(ticker ? v1::SUBJECT_KIND_TICKER
                                  : v1::SUBJECT_KIND_SECTOR);
        t.set_subject(s.subject);
        t.set_name(s.name);
        t.set_sector(s.sector);
      }
      t.set_score_bps(t.score_bps() + s.score_bps);
      t.set_operating_profit_change_pct(t.operating_profit_change_pct() +
                                        s.operating_profit_change_pct);
      size_t& shown = ticker ? ticker_alerts : sector_alerts;
      if (shown < top_n) {
        ++shown;
        BuildAlert(s, step.book.action, step.event, context, params,
                   *out->add_alerts());
      }
    }
  }
  if (!holdings->empty()) {
    // The scenario's total: each holding's summed score over the steps.
    TickerScores totals;
    totals.Reserve(tickers.size());
    for (const auto& [ticker, t] : tickers) {
      totals.Add(ticker, TickerScore{t.name(), t.score_bps(),
                                     t.operating_profit_change_pct()});
    }
    *response.mutable_portfolio() = ComputePortfolioImpact(
        *holdings, totals, in_table, params.valuation_elasticity());
  }
  auto emit = [top_n](absl::flat_hash_map<std::string, v1::ScenarioTotal>& from,
                      google::protobuf::RepeatedPtrField<v1::ScenarioTotal>* to) {
    std::vector<v1::ScenarioTotal> sorted;
    sorted.reserve(from.size());
    for (auto& [k, v] : from) sorted.push_back(std::move(v));
    SortTotals(sorted);
    if (sorted.size() > top_n) sorted.resize(top_n);
    for (auto& t : sorted) *to->Add() = std::move(t);
  };
  emit(tickers, response.mutable_tickers());
  emit(sectors, response.mutable_sectors());
  return response;
}

TariffBookServiceImpl::TariffBookServiceImpl(Publisher* publisher,
                                             WorkPool* calls,
                                             ServerLimits limits)
    : publisher_(publisher), calls_(calls), limits_(limits) {
  InstallProtobufLogHandler();
}

absl::StatusOr<v1::GetTariffResponse> TariffBookServiceImpl::Tariff(
    const v1::GetTariffRequest& request) {
  auto importer = Country::Parse(request.imposing_country());
  if (!importer) {
    return absl::InvalidArgumentError(absl::StrCat(
        "imposing_country: ", QuoteForError(request.imposing_country()),
        " is not an ISO 3166-1 alpha-2 code or EU"));
  }
  auto exporter = Country::Parse(request.exporting_country());
  if (!exporter || exporter->is_eu()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exporting_country: ", QuoteForError(request.exporting_country()),
        " is not one country's ISO 3166-1 alpha-2 code (for the EU, ask for "
        "a member state)"));
  }
  std::optional<HsCode> product = HsCode::All();
  if (!request.product_code().empty()) {
    product = HsCode::Parse(request.product_code());
    if (!product || product->is_all()) {
      return absl::InvalidArgumentError(
          absl::StrCat("product_code: ", QuoteForError(request.product_code()),
                       " is not an HS chapter (2 digits) or heading (4 "
                       "digits); leave it empty for all goods"));
    }
  }
  StackQuery query;
  query.importer = *importer;
  query.exporter = *exporter;
  query.product = *product;
  if (request.channel() != v1::SHIPMENT_CHANNEL_UNSPECIFIED) {
    auto channel = ChannelFromProto(request.channel());
    if (!channel) {
      return absl::InvalidArgumentError(
          "channel: must be SHIPMENT_GENERAL, SHIPMENT_USMCA or "
          "SHIPMENT_LOW_VALUE");
    }
    query.channel = *channel;
  }
  if (request.has_content_share_pct()) {
    const double share = request.content_share_pct();
    if (!(share >= 0 && share <= 100)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("content_share_pct: %g is outside 0..100", share));
    }
    query.content_share = share / 100;
  }
  auto book = publisher_->CurrentBook();
  if (!book.ok()) return book.status();
  const std::shared_ptr<const ExposureTable> table = publisher_->exposure();
  const RateStack stack = book->Stack(query, &table->base_rates());
  v1::GetTariffResponse response;
  response.set_effective_rate_pct(stack.total_pct);
  response.set_base_rate_pct(stack.base_pct);
  response.set_base_rate_source(DescribeBase(stack, query));
  std::vector<std::string> terms = {
      absl::StrFormat("%.4g%% base", stack.base_pct)};
  for (const StackLine& line : stack.lines) {
    const Measure& m = *line.measure;
    v1::TariffLine* out = response.add_lines();
    out->set_measure_id(m.id);
    out->set_authority(AuthorityToProto(m.terms.authority));
    out->set_combination(CombinationToProto(m.terms.combination));
    out->set_rate_pct(line.reason == StackReason::kPending ? 0 : line.rate_pct);
    out->set_applied_pct(line.applied_pct);
    out->set_applies(line.applied_pct != 0 ||
                     line.reason == StackReason::kAdds ||
                     line.reason == StackReason::kAllIn ||
                     line.reason == StackReason::kOnContent ||
                     line.reason == StackReason::kInLieu);
    out->set_reason(DescribeLine(line, stack, query));
    out->set_event_id(m.event_id);
    if (out->applies()) {
      terms.push_back(absl::StrFormat("%.4g%% %s", line.applied_pct, m.id));
    }
    *response.add_measures() = MeasureToProto(m);
  }
  response.set_explanation(absl::StrFormat("%.4g%% = %s", stack.total_pct,
                                           absl::StrJoin(terms, " + ")));
  response.set_book_revision(book->revision());
  if (book->clock() != absl::InfinitePast()) {
    TimeToProto(book->clock(), response.mutable_book_clock_time());
  }
  return response;
}

absl::StatusOr<v1::ScoreScenarioResponse> TariffBookServiceImpl::Scenario(
    const v1::ScoreScenarioRequest& request) {
  if (request.holdings_size() > limits_.max_holdings) {
    return absl::InvalidArgumentError(absl::StrCat(
        "holdings: ", request.holdings_size(), " entries, the limit is ",
        limits_.max_holdings, " (--max-holdings)"));
  }
  auto book = publisher_->CurrentBook();
  if (!book.ok()) return book.status();
  return tariffalert::ScoreScenario(request, *book, *publisher_->exposure(),
                                    publisher_->params());
}

grpc::ServerUnaryReactor* TariffBookServiceImpl::GetTariff(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeOnPool<v1::GetTariffRequest>(
      calls_, context, request, response,
      [this](const v1::GetTariffRequest& parsed) { return Tariff(parsed); });
}

grpc::ServerUnaryReactor* TariffBookServiceImpl::ScoreScenario(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeOnPool<v1::ScoreScenarioRequest>(
      calls_, context, request, response,
      [this](const v1::ScoreScenarioRequest& parsed) {
        return Scenario(parsed);
      });
}

}  // namespace tariffalert
