#include "server/scoring/portfolio.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/common/quote.h"

namespace tariffalert {
namespace {

// Longest ticker accepted (as in AlertFilter).
constexpr size_t kMaxTickerLength = 24;

}  // namespace

absl::StatusOr<std::vector<Holding>> ValidateHoldings(
    const google::protobuf::RepeatedPtrField<v1::Holding>& holdings,
    absl::string_view field) {
  if (static_cast<size_t>(holdings.size()) > kMaxHoldings) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", holdings.size(), " holdings; at most ", kMaxHoldings));
  }
  std::vector<Holding> out;
  out.reserve(static_cast<size_t>(holdings.size()));
  absl::flat_hash_set<absl::string_view> seen;
  seen.reserve(static_cast<size_t>(holdings.size()));
  for (int i = 0; i < holdings.size(); ++i) {
    const v1::Holding& h = holdings.Get(i);
    if (h.ticker().empty() || h.ticker().size() > kMaxTickerLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "].ticker: ", QuoteForError(h.ticker()),
          " is not a ticker (1 to ", kMaxTickerLength, " characters)"));
    }
    if (!seen.insert(h.ticker()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "].ticker: ", QuoteForError(h.ticker()),
                       " is held twice; give one position per ticker"));
    }
    if (!std::isfinite(h.position_value()) || h.position_value() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "].position_value: ", h.position_value(),
          " must be a finite nonzero number (negative for a short position)"));
    }
    out.push_back(Holding{h.ticker(), h.position_value()});
  }
  return out;
}

TickerScores TickerScores::FromSubjects(
    absl::Span<const SubjectScore> subjects) {
  TickerScores scores;
  scores.Reserve(subjects.size());
  for (const SubjectScore& s : subjects) {
    if (s.kind != ScoreSubjectKind::kTicker) continue;
    scores.Add(s.subject,
               TickerScore{s.name, s.score_bps, s.operating_profit_change_pct});
  }
  return scores;
}

v1::PortfolioImpact ComputePortfolioImpact(
    absl::Span<const Holding> holdings, const TickerScores& scores,
    absl::FunctionRef<bool(absl::string_view)> in_table,
    double valuation_elasticity) {
  v1::PortfolioImpact impact;
  double gross = 0;
  double total = 0;
  struct Hit {
    const Holding* holding;
    const TickerScore* score;
    double impact;
  };
  std::vector<Hit> hits;
  for (const Holding& h : holdings) {
    gross += std::abs(h.position_value);
    const TickerScore* s = scores.Find(h.ticker);
    if (s == nullptr) {
      if (!in_table(h.ticker)) impact.add_unknown_tickers(h.ticker);
      continue;
    }
    const double value = h.position_value * s->operating_profit_change_pct /
                         100 * valuation_elasticity;
    if (value == 0) continue;
    total += value;
    hits.push_back(Hit{&h, s, value});
  }
  const size_t top = std::min(hits.size(), kTopHoldings);
  std::partial_sort(hits.begin(), hits.begin() + static_cast<ptrdiff_t>(top),
                    hits.end(), [](const Hit& a, const Hit& b) {
                      const double ma = std::abs(a.impact);
                      const double mb = std::abs(b.impact);
                      if (ma != mb) return ma > mb;
                      return a.holding->ticker < b.holding->ticker;
                    });
  for (size_t i = 0; i < top; ++i) {
    const Hit& hit = hits[i];
    v1::HoldingImpact* out = impact.add_top_holdings();
    out->set_ticker(hit.holding->ticker);
    out->set_name(std::string(hit.score->name));
    out->set_position_value(hit.holding->position_value);
    out->set_score_bps(hit.score->score_bps);
    out->set_operating_profit_change_pct(
        hit.score->operating_profit_change_pct);
    out->set_impact_value(hit.impact);
  }
  impact.set_position_value(gross);
  impact.set_impact_value(total);
  impact.set_impact_bps(gross > 0 ? total / gross * 10000 : 0);
  return impact;
}

std::string FormatMoney(double value) {
  const double m = std::abs(value);
  if (m >= 1e9) return absl::StrFormat("%+.2fB", value / 1e9);
  if (m >= 1e6) return absl::StrFormat("%+.2fM", value / 1e6);
  if (m >= 1e3) return absl::StrFormat("%+.1fk", value / 1e3);
  return absl::StrFormat("%+.0f", value);
}

std::string DescribePortfolio(const v1::PortfolioImpact& impact,
                              absl::string_view event) {
  std::string gross = FormatMoney(impact.position_value());
  if (!gross.empty() && gross[0] == '+') gross.erase(0, 1);
  std::string out = absl::StrFormat(
      "Portfolio %+.1f bps (%s of %s) from %s", impact.impact_bps(),
      FormatMoney(impact.impact_value()), gross, event);
  if (impact.top_holdings_size() == 0) {
    absl::StrAppend(&out, ": no holding is affected");
  } else {
    std::vector<std::string> parts;
    for (const v1::HoldingImpact& h : impact.top_holdings()) {
      parts.push_back(
          absl::StrCat(h.ticker(), " ", FormatMoney(h.impact_value())));
    }
    absl::StrAppend(&out, ": ", absl::StrJoin(parts, ", "));
  }
  if (impact.unknown_tickers_size() > 0) {
    const int n = impact.unknown_tickers_size();
    absl::StrAppend(&out, "; ", n, n == 1 ? " holding" : " holdings",
                    " not in the exposure table (");
    constexpr int kNamed = 5;
    for (int i = 0; i < n && i < kNamed; ++i) {
      absl::StrAppend(&out, i > 0 ? ", " : "", impact.unknown_tickers(i));
    }
    absl::StrAppend(&out, n > kNamed ? ", ...)" : ")");
  }
  absl::StrAppend(&out, ".");
  return out;
}

}  // namespace tariffalert
