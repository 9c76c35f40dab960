// Fuzzes the console's request handling and rules without a server
// (server/console/console_rules.h; server/service/console_service.cc's
// CreateSilence): what a client sends, and the state and alerts a console
// folds and marks, which it gets from a server (or Redis) like any input.
//
// The input is chunks of [kind: 1 byte][length: 2 bytes LE][payload]; by
// kind % 5:
//   0  now: int64 LE Unix seconds (short payloads zero-padded; the default
//      is 2025-07-08)
//   1  a CreateSilenceRequest: refused without a silence, ValidateSilence at
//      now; an accepted one is applied as the next audit record, as the
//      server does (start unset or past: now)
//   2  a ConsoleState: StateView::Reset
//   3  an AuditRecord: StateView::Apply
//   4  an Alert (at most 64 kept)
// Then every alert is marked (Mark(FieldsOf(alert), now)) and all are
// grouped (GroupAlerts).
//
// Checks: a refused silence is INVALID_ARGUMENT naming a silence field; an
// accepted one ends after now, within 30 days, with 1 to 16 matchers; Apply
// accepts exactly the record after audit_sequence() (no wrap past 2^64 - 1)
// and leaves the state as it was when it refuses; a mark's acknowledgement,
// silence and inhibition are the state's and fit the alert; GroupAlerts
// puts each non-portfolio alert in one group of its event, the counts add
// up, and events come newest first.

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/console/console_rules.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/console_service.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

namespace v1 = ::tariffalert::v1;
namespace console = ::tariffalert::console;
using google::protobuf::util::MessageDifferencer;

constexpr size_t kMaxAlerts = 64;

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void CheckValidSilence(const v1::Silence& s, absl::Time now) {
  TA_FUZZ_CHECK(s.matchers_size() >= 1 && s.matchers_size() <= 16,
                "an accepted silence has 1 to 16 matchers");
  for (const v1::Matcher& m : s.matchers()) {
    TA_FUZZ_CHECK(m.field() != v1::MATCHER_FIELD_UNSPECIFIED &&
                      v1::MatcherField_IsValid(m.field()) && !m.value().empty(),
                  "an accepted matcher has a field and a value");
  }
  const absl::Time end = ToTime(s.end_time());
  TA_FUZZ_CHECK(end > now && end - now <= absl::Hours(24 * 30),
                "an accepted silence ends after now, within 30 days");
}

// What CreateSilenceImpl makes of an accepted request (its start; the id
// the server would assign), as the next audit record.
v1::AuditRecord SilenceCreated(const v1::Silence& silence, absl::Time now,
                               uint64_t sequence, int n) {
  v1::AuditRecord record;
  record.set_sequence(sequence);
  record.set_action(v1::AUDIT_ACTION_SILENCE_CREATED);
  record.mutable_time()->set_seconds(absl::ToUnixSeconds(now));
  record.set_actor("fuzz");
  v1::Silence* s = record.mutable_silence();
  *s = silence;
  s->set_id("s-fuzz" + std::to_string(n));
  s->set_created_by("fuzz");
  s->clear_expired_by();
  *s->mutable_create_time() = record.time();
  if (!s->has_start_time() || ToTime(s->start_time()) < now) {
    *s->mutable_start_time() = record.time();
  }
  return record;
}

void CheckMarks(const console::StateView& view, const v1::Alert& alert,
                absl::Time now) {
  const console::AlertFields fields = console::FieldsOf(alert);
  const console::AlertMarks marks = view.Mark(fields, now);
  const v1::ConsoleState& state = view.state();
  if (const v1::Acknowledgement* ack = marks.acknowledgement) {
    bool in_state = false;
    for (const v1::Acknowledgement& a : state.acknowledgements()) {
      if (&a == ack) in_state = true;
    }
    TA_FUZZ_CHECK(in_state, "a mark's acknowledgement is the state's");
    TA_FUZZ_CHECK(
        (!ack->alert_id().empty() && ack->alert_id() == alert.alert_id()) ||
            (ack->alert_id().empty() && ack->event_id() == alert.event_id()),
        "an acknowledgement of the alert or of its event");
  } else {
    for (const v1::Acknowledgement& a : state.acknowledgements()) {
      TA_FUZZ_CHECK(a.alert_id().empty() || a.alert_id() != alert.alert_id(),
                    "an acknowledged alert is marked");
    }
  }
  const v1::Silence* silence = view.SilencedBy(fields, now);
  if (silence != nullptr) {
    TA_FUZZ_CHECK(console::SilenceActive(*silence, now) &&
                      console::SilenceMatches(*silence, fields),
                  "a silence that marks is active and matches");
    TA_FUZZ_CHECK(marks.silenced_by == silence->id(),
                  "the mark names the silence");
  } else {
    TA_FUZZ_CHECK(marks.silenced_by.empty(), "no silence, no mark");
  }
  if (!marks.inhibited_by.empty()) {
    bool found = false;
    for (const v1::Inhibition& in : state.inhibitions()) {
      if (in.rule() == marks.inhibited_by &&
          in.measure_id() == fields.measure_id) {
        found = true;
      }
    }
    TA_FUZZ_CHECK(found, "an inhibition of the alert's measure marks it");
  }
}

void CheckGroups(const std::vector<const v1::Alert*>& alerts) {
  const std::vector<console::EventGroup> groups = console::GroupAlerts(alerts);
  size_t expected = 0;
  for (const v1::Alert* a : alerts) {
    if (a->subject_kind() != v1::SUBJECT_KIND_PORTFOLIO) ++expected;
  }
  size_t counted = 0;
  absl::flat_hash_set<const v1::Alert*> seen;
  absl::flat_hash_set<std::string> events;
  for (size_t i = 0; i < groups.size(); ++i) {
    const console::EventGroup& g = groups[i];
    TA_FUZZ_CHECK(events.insert(g.event_id).second, "one group per event");
    TA_FUZZ_CHECK(g.alert_count > 0, "a group has alerts");
    if (i > 0) {
      TA_FUZZ_CHECK(groups[i - 1].newest_sequence >= g.newest_sequence,
                    "events newest first");
    }
    counted += static_cast<size_t>(g.alert_count);
    size_t in_sectors = 0;
    uint64_t newest = 0;
    for (size_t j = 0; j < g.sectors.size(); ++j) {
      const console::SectorGroup& sg = g.sectors[j];
      TA_FUZZ_CHECK(!sg.alerts.empty(), "a sector group has alerts");
      TA_FUZZ_CHECK(sg.sector != "(sectors)" || j + 1 == g.sectors.size(),
                    "the sector alerts come last");
      in_sectors += sg.alerts.size();
      for (const v1::Alert* a : sg.alerts) {
        TA_FUZZ_CHECK(seen.insert(a).second, "each alert in one group");
        TA_FUZZ_CHECK(a->event_id() == g.event_id, "an alert of the event");
        TA_FUZZ_CHECK(a->subject_kind() != v1::SUBJECT_KIND_PORTFOLIO,
                      "portfolio alerts are not grouped");
        newest = std::max(newest, a->sequence());
      }
    }
    TA_FUZZ_CHECK(in_sectors == static_cast<size_t>(g.alert_count),
                  "an event's count is its sectors' alerts");
    TA_FUZZ_CHECK(newest == g.newest_sequence,
                  "an event's newest sequence is its alerts'");
  }
  TA_FUZZ_CHECK(counted == expected,
                "alert_count sums to the non-portfolio alerts given");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size > (1 << 20)) return 0;
  absl::Time now = absl::FromUnixSeconds(1751932800);
  console::StateView view;
  std::vector<v1::Alert> alerts;
  alerts.reserve(kMaxAlerts);
  int silences = 0;
  size_t at = 0;
  while (at + 3 <= size) {
    const uint8_t kind = data[at] % 5;
    const size_t length = std::min<size_t>(
        size - at - 3, static_cast<size_t>(data[at + 1]) | (data[at + 2] << 8));
    const uint8_t* payload = data + at + 3;
    at += 3 + length;
    switch (kind) {
      case 0: {
        uint8_t bytes[8] = {};
        std::memcpy(bytes, payload, std::min<size_t>(length, 8));
        uint64_t seconds = 0;
        for (int i = 7; i >= 0; --i) seconds = (seconds << 8) | bytes[i];
        now = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
        break;
      }
      case 1: {
        v1::CreateSilenceRequest request;
        if (!request.ParseFromArray(payload, static_cast<int>(length))) break;
        if (!request.has_silence()) break;  // the server's "silence: not set"
        const absl::Status status =
            console::ValidateSilence(request.silence(), now);
        if (!status.ok()) {
          TA_FUZZ_CHECK(absl::IsInvalidArgument(status),
                        "a refused silence is INVALID_ARGUMENT");
          TA_FUZZ_CHECK(absl::StartsWith(status.message(), "silence."),
                        "a refusal names the silence's field");
          break;
        }
        CheckValidSilence(request.silence(), now);
        const uint64_t before = view.audit_sequence();
        if (before == std::numeric_limits<uint64_t>::max()) break;
        const v1::AuditRecord record =
            SilenceCreated(request.silence(), now, before + 1, ++silences);
        TA_FUZZ_CHECK(view.Apply(record), "the next record applies");
        const v1::Silence* made = nullptr;
        for (const v1::Silence& s : view.state().silences()) {
          if (s.id() == record.silence().id()) made = &s;
        }
        TA_FUZZ_CHECK(made != nullptr, "a new silence is in the state");
        TA_FUZZ_CHECK(console::SilenceActive(*made, now) ==
                          (ToTime(made->start_time()) <= now),
                      "a silence made now is active from its start");
        break;
      }
      case 2: {
        v1::ConsoleState state;
        if (!state.ParseFromArray(payload, static_cast<int>(length))) break;
        view.Reset(state);
        TA_FUZZ_CHECK(view.audit_sequence() == state.audit_sequence(),
                      "Reset takes the state's sequence");
        break;
      }
      case 3: {
        v1::AuditRecord record;
        if (!record.ParseFromArray(payload, static_cast<int>(length))) break;
        const uint64_t before = view.audit_sequence();
        const v1::ConsoleState old = view.state();
        const bool applied = view.Apply(record);
        const bool next = before != std::numeric_limits<uint64_t>::max() &&
                          record.sequence() == before + 1;
        TA_FUZZ_CHECK(applied == next,
                      "Apply accepts only sequence == audit_sequence() + 1");
        if (applied) {
          TA_FUZZ_CHECK(view.audit_sequence() == record.sequence(),
                        "an applied record is the state's sequence");
        } else {
          TA_FUZZ_CHECK(MessageDifferencer::Equals(old, view.state()),
                        "a refused record changes nothing");
        }
        break;
      }
      case 4: {
        if (alerts.size() >= kMaxAlerts) break;
        v1::Alert alert;
        if (!alert.ParseFromArray(payload, static_cast<int>(length))) break;
        alerts.push_back(std::move(alert));
        break;
      }
    }
  }
  std::vector<const v1::Alert*> pointers;
  for (const v1::Alert& a : alerts) {
    CheckMarks(view, a, now);
    pointers.push_back(&a);
  }
  CheckGroups(pointers);
  return 0;
}
