#include "server/tariff_book/event_log.h"

#include "gtest/gtest.h"
#include "tariffalert/v1/alert.pb.h"
#include "tests/testing/codes.h"
#include "tests/testing/commit_one.h"

namespace tariffalert {
namespace {

using testing::C;

TariffBook BookAt(const TariffBook& from, double rate) {
  TariffAction a;
  a.event_id = "e";
  a.importer = C("US");
  a.targets = {C("CN")};
  a.stage = Stage::kEffective;
  a.new_rate_pct = rate;
  auto step = from.Plan(a);
  EXPECT_TRUE(step.ok()) << step.status();
  return step.ok() ? *step->next : from;
}

EventCommit CommitOf(const std::string& id, uint64_t expected,
                     const TariffBook& next, int alerts) {
  EventCommit c;
  c.event_id = id;
  c.fingerprint = 9;
  c.expected_revision = expected;
  c.next_book = &next;
  for (int i = 0; i < alerts; ++i) {
    v1::Alert a;
    a.set_event_id(id);
    c.alerts.push_back(a.SerializeAsString());
  }
  c.response = "r-" + id;
  return c;
}

CommitOutcome CommitOne(EventLog& log, const EventCommit& c) {
  auto out = testing::CommitOne(log, c);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : CommitOutcome();
}

TEST(InMemoryEventLogTest, StartsWithAnEmptyBookAtRevisionZero) {
  InMemoryEventLog log;
  auto book = log.LoadBook();
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->revision(), 0u);
  EXPECT_TRUE(book->measures().empty());
  EXPECT_EQ(*log.LastSequence(), 0u);
}

TEST(InMemoryEventLogTest, CommitsOnlyOverTheRevisionItWasToldOf) {
  InMemoryEventLog log;
  const TariffBook first = BookAt(TariffBook(), 10);  // revision 1
  EXPECT_EQ(CommitOne(log, CommitOf("a", 0, first, 2)).kind,
            CommitOutcome::kCommitted);
  // A writer that still believes the log holds revision 0 loses.
  const TariffBook stale = BookAt(TariffBook(), 99);
  EXPECT_EQ(CommitOne(log, CommitOf("b", 0, stale, 1)).kind,
            CommitOutcome::kBookConflict);
  auto book = log.LoadBook();
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(book->revision(), 1u);
  EXPECT_EQ(book->Rate(C("US"), C("CN"), HsCode::All()), 10);
  // Nothing of the refused commit was kept.
  EXPECT_EQ(*log.LastSequence(), 2u);
  EXPECT_FALSE(log.FindEvent("b")->has_value());
}

TEST(InMemoryEventLogTest, SequencesRecordsAndReadsAreTheLogs) {
  InMemoryEventLog log;
  const TariffBook one = BookAt(TariffBook(), 10);
  const TariffBook two = BookAt(one, 20);
  EventCommit a = CommitOf("a", 0, one, 2);
  EventCommit b = CommitOf("b", 1, two, 3);
  b.chained = true;
  const EventCommit* both[] = {&a, &b};
  auto done = log.Commit(both);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0]->first_sequence, 1u);
  EXPECT_EQ(done[1]->first_sequence, 3u);
  // A repeat of an event_id gives its record and stores nothing.
  CommitOutcome again = CommitOne(log, CommitOf("a", 2, BookAt(two, 30), 1));
  EXPECT_EQ(again.kind, CommitOutcome::kDuplicate);
  EXPECT_EQ(again.prior.first_sequence, 1u);
  EXPECT_EQ(again.prior.response, "r-a");
  EXPECT_EQ(log.LoadBook()->revision(), 2u);
  // Reads: from inside the first event, whole events after it, at most
  // max_events of them.
  auto read = log.ReadAfter(1, 10, absl::ZeroDuration());
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 4u);
  v1::Alert alert;
  ASSERT_TRUE(alert.ParseFromString(read->front().alert));
  EXPECT_EQ(alert.sequence(), 2u);
  EXPECT_EQ(alert.event_id(), "a");
  EXPECT_EQ(log.ReadAfter(0, 1, absl::ZeroDuration())->size(), 2u);
  EXPECT_TRUE(log.ReadAfter(5, 10, absl::ZeroDuration())->empty());
}

TEST(InMemoryEventLogTest, AChainedCommitOverTheStartingBookIsRefused) {
  // Chained: planned on a book this log's writer committed; the book it
  // started with was not.
  InMemoryEventLog log(BookAt(TariffBook(), 10));
  EventCommit c = CommitOf("c", 1, BookAt(BookAt(TariffBook(), 10), 20), 1);
  c.chained = true;
  EXPECT_EQ(CommitOne(log, c).kind, CommitOutcome::kBookConflict);
  c.chained = false;
  EXPECT_EQ(CommitOne(log, c).kind, CommitOutcome::kCommitted);
}

}  // namespace
}  // namespace tariffalert
