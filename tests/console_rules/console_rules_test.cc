#include "server/console/console_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "google/protobuf/text_format.h"

namespace tariffalert::console {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1750000000);

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

v1::Alert TickerAlert(const std::string& event, const std::string& ticker,
                      const std::string& sector, double bps, uint64_t seq) {
  v1::Alert a;
  a.set_sequence(seq);
  a.set_event_id(event);
  a.set_alert_id(event + "/T/" + ticker);
  a.set_subject_kind(v1::SUBJECT_KIND_TICKER);
  a.set_subject(ticker);
  a.set_sector(sector);
  a.set_country("US");
  a.set_imposing_country("US");
  a.add_target_countries("CN");
  a.set_score_bps(bps);
  a.set_severity(v1::SEVERITY_MEDIUM);
  a.set_measure_id("us-cn-reciprocal");
  a.set_stage(v1::STAGE_EFFECTIVE);
  a.add_contributions()->set_delta_pct(20);
  return a;
}

v1::Silence SilenceOf(std::vector<std::pair<v1::MatcherField, std::string>> m,
                      absl::Time start, absl::Time end) {
  v1::Silence s;
  s.set_id("s-1");
  for (auto& [field, value] : m) {
    v1::Matcher* x = s.add_matchers();
    x->set_field(field);
    x->set_value(value);
  }
  *s.mutable_start_time() = At(start);
  *s.mutable_end_time() = At(end);
  s.set_comment("handled");
  return s;
}

TEST(SilenceTest, EveryMatcherMustMatch) {
  const AlertFields bby =
      FieldsOf(TickerAlert("e1", "BBY", "Consumer Discretionary", -400, 1));
  const AlertFields aapl =
      FieldsOf(TickerAlert("e1", "AAPL", "Information Technology", -180, 2));
  v1::Silence s = SilenceOf(
      {{v1::MATCHER_FIELD_TICKER, "bby"}, {v1::MATCHER_FIELD_EVENT, "e1"}},
      kNow, kNow + absl::Hours(1));
  EXPECT_TRUE(SilenceMatches(s, bby));  // tickers case-insensitive
  EXPECT_FALSE(SilenceMatches(s, aapl));
  s.mutable_matchers(1)->set_value("e2");
  EXPECT_FALSE(SilenceMatches(s, bby));
}

TEST(SilenceTest, CountryCoversImporterTargetsCompanyAndEuMembers) {
  v1::Alert a = TickerAlert("e1", "SAP", "Information Technology", -50, 1);
  a.set_country("DE");
  a.set_imposing_country("US");
  a.clear_target_countries();
  a.add_target_countries("EU");
  const AlertFields f = FieldsOf(a);
  for (const char* c : {"US", "DE", "EU", "FR", "eu"}) {
    EXPECT_TRUE(SilenceMatches(SilenceOf({{v1::MATCHER_FIELD_COUNTRY, c}}, kNow,
                                         kNow + absl::Hours(1)),
                               f))
        << c;
  }
  EXPECT_FALSE(SilenceMatches(SilenceOf({{v1::MATCHER_FIELD_COUNTRY, "JP"}},
                                        kNow, kNow + absl::Hours(1)),
                              f));
  // An all-partners event concerns every country outside the importer's.
  a.clear_target_countries();
  EXPECT_TRUE(SilenceMatches(SilenceOf({{v1::MATCHER_FIELD_COUNTRY, "JP"}},
                                       kNow, kNow + absl::Hours(1)),
                             FieldsOf(a)));
}

TEST(SilenceTest, SeverityMatchesThatSeverityAndBelow) {
  v1::Alert a = TickerAlert("e1", "BBY", "Consumer Discretionary", -400, 1);
  const v1::Silence medium = SilenceOf({{v1::MATCHER_FIELD_SEVERITY, "medium"}},
                                       kNow, kNow + absl::Hours(1));
  for (auto [sev, silenced] : {std::pair{v1::SEVERITY_LOW, true},
                               {v1::SEVERITY_MEDIUM, true},
                               {v1::SEVERITY_HIGH, false},
                               {v1::SEVERITY_CRITICAL, false}}) {
    a.set_severity(sev);
    EXPECT_EQ(SilenceMatches(medium, FieldsOf(a)), silenced) << sev;
  }
}

TEST(SilenceTest, ActiveFromStartUntilEnd) {
  const v1::Silence s = SilenceOf({{v1::MATCHER_FIELD_TICKER, "BBY"}}, kNow,
                                  kNow + absl::Hours(1));
  EXPECT_FALSE(SilenceActive(s, kNow - absl::Seconds(1)));
  EXPECT_TRUE(SilenceActive(s, kNow));
  EXPECT_TRUE(SilenceActive(s, kNow + absl::Minutes(59)));
  EXPECT_FALSE(SilenceActive(s, kNow + absl::Hours(1)));
}

TEST(SilenceTest, ValidationNamesTheField) {
  struct Case {
    v1::Silence silence;
    const char* field;
  };
  v1::Silence ok = SilenceOf({{v1::MATCHER_FIELD_TICKER, "BBY"}}, kNow,
                             kNow + absl::Hours(1));
  EXPECT_TRUE(ValidateSilence(ok, kNow).ok());
  std::vector<Case> cases;
  {
    v1::Silence s = ok;
    s.clear_matchers();
    cases.push_back({s, "silence.matchers:"});
  }
  {
    v1::Silence s = ok;
    s.mutable_matchers(0)->set_field(v1::MATCHER_FIELD_UNSPECIFIED);
    cases.push_back({s, "silence.matchers[0].field"});
  }
  {
    v1::Silence s = ok;
    s.mutable_matchers(0)->set_field(v1::MATCHER_FIELD_SEVERITY);
    s.mutable_matchers(0)->set_value("scary");
    cases.push_back({s, "silence.matchers[0].value"});
  }
  {
    v1::Silence s = ok;
    *s.mutable_end_time() = At(kNow - absl::Minutes(1));
    *s.mutable_start_time() = At(kNow - absl::Hours(1));
    cases.push_back({s, "silence.end_time"});
  }
  {
    v1::Silence s = ok;
    *s.mutable_end_time() = At(kNow + absl::Hours(24 * 31));
    cases.push_back({s, "silence.end_time"});
  }
  {
    v1::Silence s = ok;
    s.set_comment("  ");
    cases.push_back({s, "silence.comment"});
  }
  for (const Case& c : cases) {
    absl::Status st = ValidateSilence(c.silence, kNow);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(st.message()), ::testing::StartsWith(c.field));
  }
}

v1::BookState PausedBook() {
  v1::BookState book;
  book.set_revision(7);
  v1::Measure* m = book.add_measures();
  m->set_measure_id("us-cn-reciprocal");
  m->set_imposing_country("US");
  m->set_in_force(true);
  m->set_rate_pct(10);
  m->mutable_pause()->set_snap_back_rate_pct(34);
  *m->mutable_pause()->mutable_expires_time() = At(kNow + absl::Hours(24));
  m->mutable_pause()->set_event_id("pause-1");
  v1::Measure* other = book.add_measures();
  other->set_measure_id("us-mx-fentanyl");
  other->set_in_force(true);
  other->set_rate_pct(25);
  return book;
}

TEST(InhibitionTest, DefaultRuleInhibitsThreatenedEscalationsOfAPausedMeasure) {
  const auto inhibitions =
      InhibitionsInForce(DefaultConsoleConfig(), PausedBook());
  ASSERT_EQ(inhibitions.size(), 1u);
  EXPECT_EQ(inhibitions[0].rule(), "threat-during-pause");
  EXPECT_EQ(inhibitions[0].measure_id(), "us-cn-reciprocal");
  EXPECT_THAT(inhibitions[0].reason(), HasSubstr("paused at 10%"));
  EXPECT_EQ(inhibitions[0].until_time().seconds(),
            absl::ToUnixSeconds(kNow + absl::Hours(24)));

  v1::ConsoleState state;
  StateView view(state);
  view.SetInhibitions(inhibitions);
  v1::Alert threat = TickerAlert("t1", "BBY", "Consumer Discretionary", -50, 3);
  threat.set_stage(v1::STAGE_THREATENED);
  EXPECT_EQ(view.Mark(FieldsOf(threat), kNow).inhibited_by,
            "threat-during-pause");
  // Not a threat, another measure, or a threat to lower the rate: shown
  // plainly.
  v1::Alert effective = threat;
  effective.set_stage(v1::STAGE_EFFECTIVE);
  EXPECT_EQ(view.Mark(FieldsOf(effective), kNow).inhibited_by, "");
  v1::Alert other = threat;
  other.set_measure_id("us-mx-fentanyl");
  EXPECT_EQ(view.Mark(FieldsOf(other), kNow).inhibited_by, "");
  v1::Alert lower = threat;
  lower.mutable_contributions(0)->set_delta_pct(-5);
  EXPECT_EQ(view.Mark(FieldsOf(lower), kNow).inhibited_by, "");
}

TEST(InhibitionTest, NoPauseNoInhibition) {
  v1::BookState book = PausedBook();
  book.mutable_measures(0)->clear_pause();
  EXPECT_TRUE(InhibitionsInForce(DefaultConsoleConfig(), book).empty());
}

TEST(ConsoleConfigTest, ErrorsNameFileLineOrField) {
  auto bad = ParseConsoleConfig("inhibition_rules { nme: \"x\" }\n", "c.txt");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("c.txt:1:"));
  auto twice = ParseConsoleConfig(
      "inhibition_rules { name: \"a\" source_state: MEASURE_STATE_PAUSED "
      "target_stages: STAGE_THREATENED }\n"
      "inhibition_rules { name: \"a\" source_state: MEASURE_STATE_PAUSED "
      "target_stages: STAGE_THREATENED }\n",
      "c.txt");
  EXPECT_THAT(std::string(twice.status().message()),
              HasSubstr("c.txt: inhibition_rules[1].name"));
  auto no_stage = ParseConsoleConfig(
      "inhibition_rules { name: \"a\" source_state: MEASURE_STATE_PAUSED }",
      "c.txt");
  EXPECT_THAT(std::string(no_stage.status().message()),
              HasSubstr("inhibition_rules[0].target_stages"));
  EXPECT_EQ(DefaultConsoleConfig().inhibition_rules_size(), 1);
}

v1::AuditRecord AckRecord(uint64_t seq, const std::string& alert_id,
                          const std::string& event_id, bool deleted = false) {
  v1::AuditRecord r;
  r.set_sequence(seq);
  r.set_action(deleted ? v1::AUDIT_ACTION_ACKNOWLEDGEMENT_DELETED
                       : v1::AUDIT_ACTION_ACKNOWLEDGED);
  r.mutable_acknowledgement()->set_alert_id(alert_id);
  r.mutable_acknowledgement()->set_event_id(event_id);
  r.mutable_acknowledgement()->set_actor("ana");
  return r;
}

TEST(StateViewTest, AppliesRecordsInOrderOnlyAndMarksAlerts) {
  StateView view;
  const v1::Alert bby =
      TickerAlert("e1", "BBY", "Consumer Discretionary", -400, 1);
  const v1::Alert aapl =
      TickerAlert("e1", "AAPL", "Information Technology", -180, 2);
  EXPECT_EQ(view.Mark(FieldsOf(bby), kNow).acknowledgement, nullptr);
  // A gap (3 before 2) is refused and changes nothing.
  EXPECT_FALSE(view.Apply(AckRecord(2, bby.alert_id(), "")));
  EXPECT_EQ(view.audit_sequence(), 0u);
  ASSERT_TRUE(view.Apply(AckRecord(1, bby.alert_id(), "")));
  EXPECT_FALSE(view.Apply(AckRecord(1, bby.alert_id(), "")));  // a repeat
  ASSERT_NE(view.Mark(FieldsOf(bby), kNow).acknowledgement, nullptr);
  EXPECT_EQ(view.Mark(FieldsOf(aapl), kNow).acknowledgement, nullptr);
  // An event's acknowledgement covers all its alerts.
  ASSERT_TRUE(view.Apply(AckRecord(2, "", "e1")));
  EXPECT_EQ(view.Mark(FieldsOf(aapl), kNow).acknowledgement->event_id(), "e1");
  ASSERT_TRUE(view.Apply(AckRecord(3, bby.alert_id(), "", /*deleted=*/true)));
  EXPECT_EQ(view.Mark(FieldsOf(bby), kNow).acknowledgement->event_id(), "e1");
  EXPECT_EQ(view.state().acknowledgements_size(), 1);

  v1::AuditRecord silence;
  silence.set_sequence(4);
  silence.set_action(v1::AUDIT_ACTION_SILENCE_CREATED);
  *silence.mutable_silence() = SilenceOf({{v1::MATCHER_FIELD_TICKER, "BBY"}},
                                         kNow, kNow + absl::Hours(1));
  ASSERT_TRUE(view.Apply(silence));
  EXPECT_EQ(view.Mark(FieldsOf(bby), kNow).silenced_by, "s-1");
  EXPECT_EQ(view.Mark(FieldsOf(bby), kNow + absl::Hours(2)).silenced_by, "");
  // Expired early: the record carries the silence as ended.
  silence.set_sequence(5);
  silence.set_action(v1::AUDIT_ACTION_SILENCE_EXPIRED);
  *silence.mutable_silence()->mutable_end_time() = At(kNow + absl::Minutes(5));
  ASSERT_TRUE(view.Apply(silence));
  EXPECT_EQ(view.state().silences_size(), 1);
  EXPECT_EQ(view.Mark(FieldsOf(bby), kNow + absl::Minutes(10)).silenced_by, "");
}

// Found by tests/fuzz/console_request: the "next" record of a state at
// 2^64 - 1 was sequence 0 (audit_sequence() + 1 wrapped), and took the view
// back to 0.
TEST(StateViewTest, NoRecordFollowsTheLastSequence) {
  v1::ConsoleState state;
  state.set_audit_sequence(std::numeric_limits<uint64_t>::max());
  StateView view(state);
  EXPECT_FALSE(view.Apply(AckRecord(0, "e1/T/BBY", "")));
  EXPECT_EQ(view.audit_sequence(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(view.state().acknowledgements_size(), 0);
}

TEST(GroupingTest, EventsNewestFirstSectorsAndAlertsByMagnitude) {
  std::vector<v1::Alert> alerts = {
      TickerAlert("old", "NUE", "Materials", 30, 1),
      TickerAlert("new", "AAPL", "Information Technology", -180, 2),
      TickerAlert("new", "BBY", "Consumer Discretionary", -400, 3),
      TickerAlert("new", "DELL", "Information Technology", -300, 4),
      TickerAlert("new", "TGT", "Consumer Discretionary", -20, 5),
  };
  v1::Alert sector;
  sector.set_sequence(6);
  sector.set_event_id("new");
  sector.set_subject_kind(v1::SUBJECT_KIND_SECTOR);
  sector.set_subject("Information Technology");
  sector.set_sector("Information Technology");
  sector.set_score_bps(-900);
  alerts.push_back(sector);
  v1::Alert portfolio = sector;
  portfolio.set_subject_kind(v1::SUBJECT_KIND_PORTFOLIO);
  alerts.push_back(portfolio);
  std::vector<const v1::Alert*> ptrs;
  for (const auto& a : alerts) ptrs.push_back(&a);

  const std::vector<EventGroup> groups = GroupAlerts(ptrs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].event_id, "new");
  EXPECT_EQ(groups[0].newest_sequence, 6u);
  EXPECT_EQ(groups[0].alert_count, 5);  // the portfolio alert is left out
  std::vector<std::string> sectors;
  for (const auto& s : groups[0].sectors) sectors.push_back(s.sector);
  // IT 480 bps, Consumer Discretionary 420, then the sector alerts.
  EXPECT_THAT(sectors, ElementsAre("Information Technology",
                                   "Consumer Discretionary", "(sectors)"));
  EXPECT_EQ(groups[0].sectors[0].alerts[0]->subject(), "DELL");
  EXPECT_EQ(groups[0].sectors[0].alerts[1]->subject(), "AAPL");
  EXPECT_EQ(groups[0].sectors[1].alerts[0]->subject(), "BBY");
  EXPECT_EQ(groups[1].event_id, "old");
}

TEST(SeverityNameTest, RoundTrips) {
  EXPECT_EQ(SeverityShortName(v1::SEVERITY_HIGH), "HIGH");
  EXPECT_EQ(ParseSeverityName("high"), v1::SEVERITY_HIGH);
  EXPECT_EQ(ParseSeverityName("SEVERITY_CRITICAL"), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(ParseSeverityName("bad"), 0);
}

}  // namespace
}  // namespace tariffalert::console
