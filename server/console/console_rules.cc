#include "server/console/console_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "server/common/country.h"
#include "server/common/quote.h"
#include "server/common/text_proto.h"

namespace tariffalert {
// config/console.textproto, embedded at build time
// (default_console_config.cc.in).
extern const char kDefaultConsoleConfig[];
}  // namespace tariffalert

namespace tariffalert::console {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kMaxMatchers = 16;
constexpr size_t kMaxValueBytes = 128;
constexpr size_t kMaxCommentBytes = 500;
constexpr absl::Duration kMaxSilence = absl::Hours(24 * 30);

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

bool HasTime(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

constexpr const char* kSeverityNames[] = {"UNSPECIFIED", "INFO", "LOW",
                                          "MEDIUM",      "HIGH", "CRITICAL"};

bool CountryMatches(absl::string_view value, const AlertFields& a) {
  const std::optional<Country> wanted = Country::Parse(value);
  if (!wanted.has_value()) return false;
  const Country importer =
      Country::Parse(a.imposing_country).value_or(Country());
  const Country company = Country::Parse(a.company_country).value_or(Country());
  std::vector<Country> targets;
  targets.reserve(a.target_countries.size());
  for (const std::string& t : a.target_countries) {
    if (auto c = Country::Parse(t)) targets.push_back(*c);
  }
  return InvolvesCountry(*wanted, importer, company, targets);
}

bool MatcherMatches(const v1::Matcher& m, const AlertFields& a) {
  const std::string& v = m.value();
  switch (m.field()) {
    case v1::MATCHER_FIELD_TICKER:
      return a.subject_kind == v1::SUBJECT_KIND_TICKER &&
             absl::EqualsIgnoreCase(a.subject, v);
    case v1::MATCHER_FIELD_SECTOR:
      return a.sector == v;
    case v1::MATCHER_FIELD_COUNTRY:
      return CountryMatches(absl::AsciiStrToUpper(v), a);
    case v1::MATCHER_FIELD_EVENT:
      return a.event_id == v;
    case v1::MATCHER_FIELD_SEVERITY: {
      const int wanted = ParseSeverityName(v);
      return wanted != 0 && a.severity <= wanted;
    }
    case v1::MATCHER_FIELD_MEASURE:
      return a.measure_id == v;
    default:
      return false;
  }
}

}  // namespace

AlertFields FieldsOf(const v1::Alert& alert) {
  AlertFields f;
  f.subject_kind = alert.subject_kind();
  f.subject = alert.subject();
  f.sector = alert.sector();
  f.company_country = alert.country();
  f.imposing_country = alert.imposing_country();
  f.target_countries.assign(alert.target_countries().begin(),
                            alert.target_countries().end());
  f.event_id = alert.event_id();
  f.alert_id = alert.alert_id();
  f.severity = alert.severity();
  f.measure_id = alert.measure_id();
  f.stage = alert.stage();
  for (const v1::Contribution& c : alert.contributions()) {
    if (c.delta_pct() > 0) f.escalation = true;
  }
  return f;
}

std::string SeverityShortName(int severity) {
  if (severity < 0 || severity > 5) return "UNSPECIFIED";
  return kSeverityNames[severity];
}

int ParseSeverityName(absl::string_view name) {
  std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view n = upper;
  absl::ConsumePrefix(&n, "SEVERITY_");
  for (int i = 1; i <= 5; ++i) {
    if (n == kSeverityNames[i]) return i;
  }
  return 0;
}

absl::Status ValidateSilence(const v1::Silence& s, absl::Time now) {
  if (s.matchers().empty()) {
    return absl::InvalidArgumentError(
        "silence.matchers: at least one matcher is needed (a silence of "
        "everything would hide every alert)");
  }
  if (s.matchers_size() > kMaxMatchers) {
    return absl::InvalidArgumentError(
        absl::StrCat("silence.matchers: ", s.matchers_size(),
                     " matchers, at most ", kMaxMatchers));
  }
  for (int i = 0; i < s.matchers_size(); ++i) {
    const v1::Matcher& m = s.matchers(i);
    const std::string where = absl::StrCat("silence.matchers[", i, "]");
    if (!v1::MatcherField_IsValid(m.field()) ||
        m.field() == v1::MATCHER_FIELD_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".field: unset or unknown (", m.field(),
                       "); one of TICKER, SECTOR, COUNTRY, EVENT, "
                       "SEVERITY, MEASURE"));
    }
    if (m.value().empty() || m.value().size() > kMaxValueBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".value: ", QuoteForError(m.value()),
                       " must be 1 to ", kMaxValueBytes, " bytes"));
    }
    if (m.field() == v1::MATCHER_FIELD_COUNTRY &&
        !Country::Parse(absl::AsciiStrToUpper(m.value())).has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".value: ", QuoteForError(m.value()),
                       " is not a country (alpha-2 or EU)"));
    }
    if (m.field() == v1::MATCHER_FIELD_SEVERITY &&
        ParseSeverityName(m.value()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".value: ", QuoteForError(m.value()),
                       " is not a severity (INFO, LOW, MEDIUM, HIGH, "
                       "CRITICAL)"));
    }
  }
  if (!HasTime(s.end_time())) {
    return absl::InvalidArgumentError("silence.end_time: not set");
  }
  const absl::Time start =
      HasTime(s.start_time()) ? ToTime(s.start_time()) : now;
  const absl::Time end = ToTime(s.end_time());
  if (end <= start) {
    return absl::InvalidArgumentError(
        absl::StrCat("silence.end_time: ", TimeUtil::ToString(s.end_time()),
                     " is not after the start"));
  }
  if (end <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("silence.end_time: ", TimeUtil::ToString(s.end_time()),
                     " is in the past"));
  }
  if (end - now > kMaxSilence) {
    return absl::InvalidArgumentError(
        "silence.end_time: more than 30 days from now; silences are for "
        "noise, not for turning alerts off");
  }
  if (absl::StripAsciiWhitespace(s.comment()).empty()) {
    return absl::InvalidArgumentError(
        "silence.comment: say why (a colleague will read it)");
  }
  if (s.comment().size() > kMaxCommentBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("silence.comment: ", s.comment().size(),
                     " bytes, at most ", kMaxCommentBytes));
  }
  return absl::OkStatus();
}

bool SilenceActive(const v1::Silence& s, absl::Time now) {
  return ToTime(s.start_time()) <= now && now < ToTime(s.end_time());
}

bool SilenceMatches(const v1::Silence& s, const AlertFields& alert) {
  if (s.matchers().empty()) return false;
  for (const v1::Matcher& m : s.matchers()) {
    if (!MatcherMatches(m, alert)) return false;
  }
  return true;
}

absl::Status ValidateConsoleConfig(const config::v1::ConsoleConfig& config) {
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < config.inhibition_rules_size(); ++i) {
    const auto& r = config.inhibition_rules(i);
    const std::string where = absl::StrCat("inhibition_rules[", i, "]");
    if (r.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".name: empty"));
    }
    if (!names.insert(r.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".name: ", QuoteForError(r.name()), " is used twice"));
    }
    if (r.source_state() == config::v1::MEASURE_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".source_state: unset"));
    }
    if (r.target_stages().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".target_stages: at least one stage"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<config::v1::ConsoleConfig> ParseConsoleConfig(
    absl::string_view text, absl::string_view file) {
  config::v1::ConsoleConfig config;
  if (absl::Status s = ParseTextProto(text, file, &config); !s.ok()) return s;
  if (absl::Status s = ValidateConsoleConfig(config); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", s.message()));
  }
  return config;
}

const config::v1::ConsoleConfig& DefaultConsoleConfig() {
  static const config::v1::ConsoleConfig* const config = [] {
    auto parsed =
        ParseConsoleConfig(kDefaultConsoleConfig, "config/console.textproto");
    // The build embeds the file the unit tests parse; a broken one must not
    // start a server without its rules.
    if (!parsed.ok()) {
      std::fprintf(stderr, "built-in console config: %s\n",
                   std::string(parsed.status().message()).c_str());
      std::abort();
    }
    return new config::v1::ConsoleConfig(*std::move(parsed));
  }();
  return *config;
}

std::vector<v1::Inhibition> InhibitionsInForce(
    const config::v1::ConsoleConfig& config, const v1::BookState& book) {
  std::vector<v1::Inhibition> out;
  for (const auto& rule : config.inhibition_rules()) {
    if (rule.source_state() != config::v1::MEASURE_STATE_PAUSED) continue;
    for (const v1::Measure& m : book.measures()) {
      if (!m.has_pause() || !m.in_force()) continue;
      // The book drops a pause when it snaps back, at the clock move that
      // passes its expiry: while the book holds it, it is in force.
      const bool open_ended = !HasTime(m.pause().expires_time());
      v1::Inhibition& in = out.emplace_back();
      in.set_rule(rule.name());
      in.set_measure_id(m.measure_id());
      for (int stage : rule.target_stages()) {
        in.add_target_stages(static_cast<v1::Stage>(stage));
      }
      in.set_escalations_only(rule.escalations_only());
      if (!open_ended) *in.mutable_until_time() = m.pause().expires_time();
      in.set_reason(absl::StrCat(
          "measure ", m.measure_id(), " is paused at ", m.rate_pct(),
          "% (event ", m.pause().event_id(), ")",
          open_ended ? ""
                     : absl::StrCat(" until ", TimeUtil::ToString(
                                                   m.pause().expires_time())),
          ": a threat to raise it is not acted on while the pause holds"));
    }
  }
  return out;
}

void StateView::Reset(const v1::ConsoleState& state) {
  state_ = state;
  Index();
}

void StateView::Index() {
  alert_acks_.clear();
  event_acks_.clear();
  for (int i = 0; i < state_.acknowledgements_size(); ++i) {
    const v1::Acknowledgement& a = state_.acknowledgements(i);
    if (!a.alert_id().empty()) {
      alert_acks_[a.alert_id()] = i;
    } else {
      event_acks_[a.event_id()] = i;
    }
  }
}

bool StateView::Apply(const v1::AuditRecord& record) {
  // Sequences start at 1; after 2^64 - 1 (a state no store makes) comes
  // none, not 0 wrapped around.
  if (state_.audit_sequence() == std::numeric_limits<uint64_t>::max() ||
      record.sequence() != state_.audit_sequence() + 1) {
    return false;
  }
  state_.set_audit_sequence(record.sequence());
  switch (record.action()) {
    case v1::AUDIT_ACTION_ACKNOWLEDGED:
    case v1::AUDIT_ACTION_ACKNOWLEDGEMENT_DELETED: {
      const v1::Acknowledgement& ack = record.acknowledgement();
      auto* acks = state_.mutable_acknowledgements();
      for (int i = 0; i < acks->size(); ++i) {
        const v1::Acknowledgement& a = acks->Get(i);
        if (a.alert_id() == ack.alert_id() && a.event_id() == ack.event_id()) {
          acks->DeleteSubrange(i, 1);
          break;
        }
      }
      if (record.action() == v1::AUDIT_ACTION_ACKNOWLEDGED) *acks->Add() = ack;
      break;
    }
    case v1::AUDIT_ACTION_SILENCE_CREATED:
    case v1::AUDIT_ACTION_SILENCE_EXPIRED: {
      auto* silences = state_.mutable_silences();
      bool replaced = false;
      for (v1::Silence& s : *silences) {
        if (s.id() == record.silence().id()) {
          s = record.silence();
          replaced = true;
          break;
        }
      }
      if (!replaced) *silences->Add() = record.silence();
      break;
    }
    default:
      break;
  }
  Index();
  return true;
}

void StateView::SetInhibitions(std::vector<v1::Inhibition> inhibitions) {
  state_.clear_inhibitions();
  for (v1::Inhibition& in : inhibitions) {
    *state_.add_inhibitions() = std::move(in);
  }
}

const v1::Silence* StateView::SilencedBy(const AlertFields& alert,
                                         absl::Time now) const {
  for (const v1::Silence& s : state_.silences()) {
    if (SilenceActive(s, now) && SilenceMatches(s, alert)) return &s;
  }
  return nullptr;
}

AlertMarks StateView::Mark(const AlertFields& alert, absl::Time now) const {
  AlertMarks marks;
  if (auto it = alert_acks_.find(alert.alert_id); it != alert_acks_.end()) {
    marks.acknowledgement = &state_.acknowledgements(it->second);
  } else if (auto ev = event_acks_.find(alert.event_id);
             ev != event_acks_.end()) {
    marks.acknowledgement = &state_.acknowledgements(ev->second);
  }
  if (const v1::Silence* s = SilencedBy(alert, now)) {
    marks.silenced_by = s->id();
  }
  for (const v1::Inhibition& in : state_.inhibitions()) {
    if (in.measure_id() != alert.measure_id) continue;
    if (in.escalations_only() && !alert.escalation) continue;
    if (std::find(in.target_stages().begin(), in.target_stages().end(),
                  alert.stage) == in.target_stages().end()) {
      continue;
    }
    marks.inhibited_by = in.rule();
    break;
  }
  return marks;
}

std::vector<EventGroup> GroupAlerts(absl::Span<const v1::Alert* const> alerts) {
  std::vector<EventGroup> events;
  absl::flat_hash_map<std::string, size_t> event_index;
  // event -> sector -> group index
  std::vector<absl::flat_hash_map<std::string, size_t>> sector_index;
  constexpr char kSectorsGroup[] = "(sectors)";
  for (const v1::Alert* a : alerts) {
    if (a->subject_kind() == v1::SUBJECT_KIND_PORTFOLIO) continue;
    auto [it, inserted] = event_index.try_emplace(a->event_id(), events.size());
    if (inserted) {
      EventGroup& g = events.emplace_back();
      g.event_id = a->event_id();
      g.headline = a->headline();
      sector_index.emplace_back();
    }
    EventGroup& g = events[it->second];
    g.newest_sequence = std::max(g.newest_sequence, a->sequence());
    ++g.alert_count;
    const std::string& sector = a->subject_kind() == v1::SUBJECT_KIND_SECTOR
                                    ? std::string(kSectorsGroup)
                                    : a->sector();
    auto [sit, sinserted] =
        sector_index[it->second].try_emplace(sector, g.sectors.size());
    if (sinserted) g.sectors.emplace_back().sector = sector;
    SectorGroup& sg = g.sectors[sit->second];
    sg.abs_score_bps += std::abs(a->score_bps());
    sg.alerts.push_back(a);
  }
  for (EventGroup& g : events) {
    for (SectorGroup& sg : g.sectors) {
      std::stable_sort(sg.alerts.begin(), sg.alerts.end(),
                       [](const v1::Alert* x, const v1::Alert* y) {
                         const double ax = std::abs(x->score_bps());
                         const double ay = std::abs(y->score_bps());
                         if (ax != ay) return ax > ay;
                         return x->sequence() < y->sequence();
                       });
    }
    std::stable_sort(g.sectors.begin(), g.sectors.end(),
                     [&](const SectorGroup& x, const SectorGroup& y) {
                       const bool xs = x.sector == kSectorsGroup;
                       const bool ys = y.sector == kSectorsGroup;
                       if (xs != ys) return ys;  // the sector alerts last
                       if (x.abs_score_bps != y.abs_score_bps) {
                         return x.abs_score_bps > y.abs_score_bps;
                       }
                       return x.sector < y.sector;
                     });
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const EventGroup& x, const EventGroup& y) {
                     return x.newest_sequence > y.newest_sequence;
                   });
  return events;
}

}  // namespace tariffalert::console
