#ifndef TARIFF_ALERT_SERVER_FANOUT_PORTFOLIO_ALERT_H_
#define TARIFF_ALERT_SERVER_FANOUT_PORTFOLIO_ALERT_H_

// Portfolio alerts: a subscriber that sent holdings gets, after each event's
// alerts, one alert (subject_kind PORTFOLIO) with the event's impact on its
// holdings (server/scoring/portfolio.h). It is derived, never logged: it
// carries the sequence of the event's last alert and takes none of its own,
// so sequences stay dense for everyone. It is computed from all the event's
// ticker alerts, whatever the subscriber's filter; a holding whose |score|
// was below min_alert_bps has no alert and counts as 0.
//
// The hub builds a LoggedEvent once per event (only when some subscriber
// holds a portfolio) and asks each such subscriber's PortfolioWatch for its
// alert, serialized once for that subscriber.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "server/exposure/exposure_table.h"
#include "server/fanout/encoded_alert.h"
#include "server/scoring/portfolio.h"
#include "server/scoring/scoring_params.h"

namespace tariffalert {

// Where portfolio alerts take their parameters from.
struct PortfolioContext {
  // Severity bands and valuation_elasticity; nullptr: the built-in default.
  const ScoringParams* params = nullptr;
  // The exposure table being served: holdings it does not know are listed
  // as unknown_tickers. Unset: every holding counts as known. (A replayed
  // event is checked against the table served now, not the one it was
  // scored against.)
  std::function<std::shared_ptr<const ExposureTable>()> exposure;
};

// All the logged alerts of one event, in sequence order, prepared once for
// every portfolio: the ticker scores and the event's fields. `alerts` must
// outlive it (the scores are views into them).
class LoggedEvent {
 public:
  explicit LoggedEvent(absl::Span<const EncodedAlertPtr> alerts);
  LoggedEvent(const LoggedEvent&) = delete;
  LoggedEvent& operator=(const LoggedEvent&) = delete;

  uint64_t last_sequence() const { return last_sequence_; }
  const TickerScores& scores() const { return scores_; }
  // The event's last alert with its subject fields cleared: the event
  // fields a portfolio alert copies.
  const v1::Alert& event_fields() const { return event_fields_; }

 private:
  uint64_t last_sequence_ = 0;
  TickerScores scores_;
  v1::Alert event_fields_;
};

class PortfolioWatch {
 public:
  // `holdings` as ValidateHoldings returns them.
  PortfolioWatch(std::vector<Holding> holdings, PortfolioContext context);

  // This subscriber's portfolio alert for `event`.
  EncodedAlertPtr AlertFor(const LoggedEvent& event) const;
  // The impact alone (what the alert carries).
  v1::PortfolioImpact ImpactOf(const LoggedEvent& event) const;

  absl::Span<const Holding> holdings() const { return holdings_; }

 private:
  const std::vector<Holding> holdings_;
  const PortfolioContext context_;
  const ScoringParams& params_;
};

// "<event_id>/P/portfolio".
std::string PortfolioAlertId(absl::string_view event_id);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_PORTFOLIO_ALERT_H_
