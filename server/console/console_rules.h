#ifndef TARIFF_ALERT_SERVER_CONSOLE_CONSOLE_RULES_H_
#define TARIFF_ALERT_SERVER_CONSOLE_CONSOLE_RULES_H_

// The risk console's rules, pure and without a server (docs/console.md):
// what a silence matches, when it is active, which inhibitions the tariff
// book puts in force, how an alert is marked (acknowledged, silenced,
// inhibited), and how alerts are grouped (by event, then by sector). The
// server uses them for streams that respect silences, the terminal console
// for its list; the web page mirrors them in web/console/rules.js.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tariffalert/config/v1/console_config.pb.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/console_service.pb.h"
#include "tariffalert/v1/tariff_book.pb.h"

namespace tariffalert::console {

// The fields of an alert that silences and inhibitions look at.
struct AlertFields {
  int subject_kind = 0;  // v1::SubjectKind
  std::string subject;   // ticker, or sector name
  std::string sector;
  // The company's country, the event's imposing and targeted countries.
  std::string company_country;
  std::string imposing_country;
  std::vector<std::string> target_countries;  // empty: all partners
  std::string event_id;
  std::string alert_id;
  int severity = 0;  // v1::Severity
  std::string measure_id;
  int stage = 0;  // v1::Stage
  // Some contribution's rate change raises the rate.
  bool escalation = false;
};
AlertFields FieldsOf(const v1::Alert& alert);

// INVALID_ARGUMENT naming the field ("silence.matchers[1].value: ...") for
// a silence a user asks to create at `now`.
absl::Status ValidateSilence(const v1::Silence& silence, absl::Time now);

// start_time <= now < end_time.
bool SilenceActive(const v1::Silence& silence, absl::Time now);
// Every matcher matches.
bool SilenceMatches(const v1::Silence& silence, const AlertFields& alert);

// The inhibitions the rules put in force for the book: for the pause rule,
// one per measure the book holds paused.
std::vector<v1::Inhibition> InhibitionsInForce(
    const config::v1::ConsoleConfig& config, const v1::BookState& book);
// INVALID_ARGUMENT naming the rule ("inhibition_rules[0].target_stages: ...").
absl::Status ValidateConsoleConfig(const config::v1::ConsoleConfig& config);
// A console config file's text, parsed and validated: errors name
// file:line:column or file: field.
absl::StatusOr<config::v1::ConsoleConfig> ParseConsoleConfig(
    absl::string_view text, absl::string_view file);
// config/console.textproto as built in.
const config::v1::ConsoleConfig& DefaultConsoleConfig();

// How the console shows one alert.
struct AlertMarks {
  const v1::Acknowledgement* acknowledgement = nullptr;  // alert's or event's
  std::string silenced_by;                               // a silence id
  std::string inhibited_by;                              // a rule name
};

// A state the console folds audit records into.
class StateView {
 public:
  StateView() = default;
  explicit StateView(const v1::ConsoleState& state) { Reset(state); }

  void Reset(const v1::ConsoleState& state);
  // Applies a record after audit_sequence(); false (and no change) for one
  // that is not the next (a gap or a repeat): ask for a snapshot then.
  bool Apply(const v1::AuditRecord& record);
  void SetInhibitions(std::vector<v1::Inhibition> inhibitions);

  uint64_t audit_sequence() const { return state_.audit_sequence(); }
  const v1::ConsoleState& state() const { return state_; }

  AlertMarks Mark(const AlertFields& alert, absl::Time now) const;
  // The first active silence that matches, or null.
  const v1::Silence* SilencedBy(const AlertFields& alert, absl::Time now) const;

 private:
  void Index();

  v1::ConsoleState state_;
  absl::flat_hash_map<std::string, int> alert_acks_;  // index in state_
  absl::flat_hash_map<std::string, int> event_acks_;
};

// Alerts grouped for display: events newest first (by their newest
// sequence); within an event, ticker alerts by sector, sectors by the sum of
// their |score_bps| (largest first), alerts by |score_bps| (largest first);
// the event's sector alerts are a group of their own named "(sectors)".
struct SectorGroup {
  std::string sector;
  double abs_score_bps = 0;  // sum over the group
  std::vector<const v1::Alert*> alerts;
};
struct EventGroup {
  std::string event_id;
  std::string headline;
  uint64_t newest_sequence = 0;
  int alert_count = 0;
  std::vector<SectorGroup> sectors;
};
std::vector<EventGroup> GroupAlerts(absl::Span<const v1::Alert* const> alerts);

// "HIGH" for SEVERITY_HIGH; parses both forms back (case-insensitive).
std::string SeverityShortName(int severity);
int ParseSeverityName(absl::string_view name);  // 0 when unknown

}  // namespace tariffalert::console

#endif  // TARIFF_ALERT_SERVER_CONSOLE_CONSOLE_RULES_H_
