#ifndef TARIFF_ALERT_SERVER_INGEST_BOOK_ENGINE_H_
#define TARIFF_ALERT_SERVER_INGEST_BOOK_ENGINE_H_

// One step of the tariff book, scored: what the publisher, ScoreScenario and
// `tariff-alert replay` all do with an event. Pure.

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/exposure/exposure_table.h"
#include "server/scoring/scorer.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_event.pb.h"

namespace tariffalert {

struct ScoredStep {
  // As published, or made by the book's clock for a snap-back.
  v1::TariffEvent event;
  // The action as the book read it, its rate changes, and the book after it.
  BookStep book;
  ScoreResult scores;
};

// Plans `action` (validated from `event`) on `book` and scores it. The book's
// errors (FAILED_PRECONDITION, INVALID_ARGUMENT) pass through.
absl::StatusOr<ScoredStep> ScoreStep(const TariffBook& book,
                                     const TariffAction& action,
                                     const v1::TariffEvent& event,
                                     const ExposureTable& table,
                                     const ScoringParams& params);

// Moves `book`'s clock to `t`, applying and scoring the pauses that lapse by
// then, in order. Appends their steps to `out`.
void AdvanceBook(TariffBook& book, absl::Time t, const ExposureTable& table,
                 const ScoringParams& params, std::vector<ScoredStep>& out);

// The instant before an event dated `t`: pauses that lapse before then snap
// back ahead of the event; one that lapses at `t` itself gives way to it (a
// new rate that takes effect as a pause ends replaces the snap-back, as the
// July 31, 2025 order's rates did at 12:01 a.m. on August 7) and, if it
// still stands, snaps back at the next move of the clock.
inline absl::Time JustBefore(absl::Time t) { return t - absl::Nanoseconds(1); }

// Runs `events` in order through `book` (a private copy the caller owns): the
// book's clock moves to each event's time (effective_time, else
// announced_time) before it, so pauses lapse on the way (JustBefore); after
// the last event it moves to `until` if given. Errors name the event as
// "<prefix>[i].<field>" and leave `book` as the events before it left it.
absl::StatusOr<std::vector<ScoredStep>> RunScenario(
    TariffBook& book, absl::Span<const v1::TariffEvent> events,
    std::optional<absl::Time> until, const ExposureTable& table,
    const ScoringParams& params, absl::string_view prefix = "events");

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_BOOK_ENGINE_H_
