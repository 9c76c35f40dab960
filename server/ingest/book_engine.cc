#include "server/ingest/book_engine.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/ingest/alert_builder.h"
#include "server/ingest/event_validator.h"

namespace tariffalert {
namespace {

// "event.new_rate_pct: ..." -> "events[3].new_rate_pct: ...".
absl::Status Rename(const absl::Status& s, absl::string_view prefix,
                    size_t index) {
  std::string message(s.message());
  const std::string name = absl::StrCat(prefix, "[", index, "]");
  if (absl::StartsWith(message, "event.")) {
    message = absl::StrCat(name, message.substr(5));
  } else {
    message = absl::StrCat(name, ": ", message);
  }
  return absl::Status(s.code(), message);
}

}  // namespace

absl::StatusOr<ScoredStep> ScoreStep(const TariffBook& book,
                                     const TariffAction& action,
                                     const v1::TariffEvent& event,
                                     const ExposureTable& table,
                                     const ScoringParams& params) {
  auto planned = book.Plan(action, &table.base_rates());
  if (!planned.ok()) return planned.status();
  ScoredStep step;
  step.event = event;
  step.book = *std::move(planned);
  TariffAction scored = step.book.action;
  scored.probability = step.book.probability;
  step.scores = ScoreAction(scored, *step.book.before, *step.book.after,
                            step.book.scored_changes, table, params);
  if (action.snap_back) {
    // The headline quotes the effective rates, not just the measure's own.
    std::vector<std::string> parts;
    for (const BookRateChange& c : step.book.changes) {
      parts.push_back(absl::StrFormat(
          "%s%s %g%% -> %g%%", c.target == "*" ? "all partners" : c.target,
          c.product.is_all() ? "" : absl::StrCat(" ", c.product.ToString()),
          c.previous_rate_pct, c.new_rate_pct));
    }
    step.event.set_headline(absl::StrFormat(
        "Pause on %s lapsed: %s tariff on %s (the measure returns to %g%%)",
        action.measure_id, action.importer.ToString(),
        absl::StrJoin(parts, ", "), *action.new_rate_pct));
  }
  return step;
}

void AdvanceBook(TariffBook& book, absl::Time t, const ExposureTable& table,
                 const ScoringParams& params, std::vector<ScoredStep>& out) {
  // Each snap-back changes the book; a measure snaps back once, so this ends.
  for (std::vector<TariffAction> due = book.DueSnapBacks(t); !due.empty();
       due = book.DueSnapBacks(t)) {
    const TariffAction& a = due.front();
    auto step = ScoreStep(book, a, SnapBackEvent(a), table, params);
    if (!step.ok()) break;  // unreachable: a paused measure is in force
    book = *step->book.next;
    out.push_back(*std::move(step));
  }
  book.AdvanceClock(t);
}

absl::StatusOr<std::vector<ScoredStep>> RunScenario(
    TariffBook& book, absl::Span<const v1::TariffEvent> events,
    std::optional<absl::Time> until, const ExposureTable& table,
    const ScoringParams& params, absl::string_view prefix) {
  std::vector<ScoredStep> out;
  for (size_t i = 0; i < events.size(); ++i) {
    auto action = ValidateEvent(events[i], params);
    if (!action.ok()) return Rename(action.status(), prefix, i);
    if (auto t = action->EventTime()) {
      AdvanceBook(book, JustBefore(*t), table, params, out);
      book.AdvanceClock(*t);
    }
    auto step = ScoreStep(book, *action, events[i], table, params);
    if (!step.ok()) return Rename(step.status(), prefix, i);
    book = *step->book.next;
    out.push_back(*std::move(step));
  }
  if (until) AdvanceBook(book, *until, table, params, out);
  return out;
}

}  // namespace tariffalert
