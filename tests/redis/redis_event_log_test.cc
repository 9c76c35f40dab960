// The tariff book in the real redis-server that tests/run.sh starts: kept
// across restarts, shared by replicas, written by compare-and-set.

#include "server/redis/redis_event_log.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/exposure_csv.h"
#include "server/ingest/publisher.h"
#include "tests/testing/collecting_subscriber.h"
#include "tests/testing/commit_one.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using testing::CommitOne;

using ::testing::HasSubstr;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.5,0.3\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.4\n"
    "AAPL,sourcing,CN,*,0.8\n";

v1::TariffEvent Event(const std::string& id, const std::string& measure,
                      double rate, v1::Stage stage = v1::STAGE_EFFECTIVE) {
  v1::TariffEvent e;
  e.set_event_id(id);
  e.set_imposing_country("US");
  e.add_target_countries("CN");
  e.set_measure_id(measure);
  e.set_stage(stage);
  e.set_new_rate_pct(rate);
  return e;
}

// One server's publishing side: its own hub and publisher, on the shared
// Redis book.
struct Replica {
  Replica(const RedisOptions& options, const Clock& clock,
          std::shared_ptr<const ExposureTable> table)
      : store(options) {
    HubOptions hub_options;
    hub_options.heartbeat_interval = absl::ZeroDuration();
    hub = std::make_unique<AlertHub>(hub_options, clock);
    EXPECT_TRUE(hub->Subscribe(&collector, std::nullopt).ok());
    publisher = std::make_unique<Publisher>(
        PublisherOptions{}, [table] { return table; }, ScoringParams::Default(),
        hub.get(), clock, &store);
    EXPECT_TRUE(publisher->Init().ok());
  }
  ~Replica() { hub->Unsubscribe(&collector); }

  RedisEventLog store;
  testing::CollectingSubscriber collector;
  std::unique_ptr<AlertHub> hub;
  std::unique_ptr<Publisher> publisher;
};

class RedisEventLogTest : public ::testing::Test {
 protected:
  RedisEventLogTest() : options_(testing::TestRedisOptions()) {
    auto parsed = ParseExposureFiles({kCompanies, kExposures}, "companies.csv",
                                     "exposures.csv", "1");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    table_ = *parsed;
  }

  double UsCnRate(Publisher& p) {
    auto book = p.CurrentBook();
    EXPECT_TRUE(book.ok()) << book.status();
    return book.ok() ? book->Rate(Country::Parse("US").value(),
                                  Country::Parse("CN").value(),
                                  HsCode::Parse("85").value())
                     : -1;
  }

  RedisOptions options_;
  testing::FakeClock clock_;
  std::shared_ptr<const ExposureTable> table_;
};

TEST_F(RedisEventLogTest, AnEmptyStoreHoldsAnEmptyBook) {
  RedisEventLog store(options_);
  auto book = store.LoadBook();
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->revision(), 0u);
  EXPECT_TRUE(book->measures().empty());
}

TEST_F(RedisEventLogTest, ACommitWritesOnlyOverTheRevisionItRead) {
  RedisEventLog store(options_);
  TariffBook empty;
  TariffAction a;
  a.event_id = "e1";
  a.importer = Country::Parse("US").value();
  a.targets = {Country::Parse("CN").value()};
  a.stage = Stage::kEffective;
  a.new_rate_pct = 20;
  a.measure_id = "us-cn-fentanyl";
  auto step = empty.Plan(a);
  ASSERT_TRUE(step.ok()) << step.status();

  EventCommit c;
  c.event_id = "first";
  c.expected_revision = 0;
  c.next_book = step->next.get();
  auto first = CommitOne(store, c);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind, CommitOutcome::kCommitted);
  // A second writer that also read revision 0 loses.
  c.event_id = "second";
  auto second = CommitOne(store, c);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->kind, CommitOutcome::kBookConflict);

  auto loaded = store.LoadBook();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->revision(), 1u);
  ASSERT_EQ(loaded->measures().count("us-cn-fentanyl"), 1u);
  EXPECT_EQ(loaded->measures().at("us-cn-fentanyl").rate_pct, 20);
}

TEST_F(RedisEventLogTest, ACorruptStoredBookIsRefusedNamingTheKey) {
  RedisConnection raw(options_);
  ASSERT_TRUE(
      raw.Command({"SET", options_.key_prefix + "book", "not a book"}).ok());
  RedisEventLog store(options_);
  auto book = store.LoadBook();
  ASSERT_FALSE(book.ok());
  EXPECT_THAT(std::string(book.status().message()),
              HasSubstr(options_.key_prefix + "book"));
}

TEST_F(RedisEventLogTest, TheBookSurvivesARestart) {
  {
    Replica a(options_, clock_, table_);
    ASSERT_TRUE(a.publisher->Publish(Event("f", "us-cn-fentanyl", 20)).ok());
    ASSERT_TRUE(a.publisher->Publish(Event("r", "us-cn-recip", 125)).ok());
  }
  Replica restarted(options_, clock_, table_);
  EXPECT_EQ(restarted.publisher->book_revision(), 2u);
  EXPECT_DOUBLE_EQ(UsCnRate(*restarted.publisher), 145);
  // The restarted server computes the next change from the stored book.
  auto paused = Event("p", "us-cn-recip", 10, v1::STAGE_PAUSED);
  paused.mutable_expires_time()->set_seconds(1755000000);
  auto r = restarted.publisher->Publish(paused);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(r->rate_changes(0).previous_rate_pct(), 145);
  EXPECT_DOUBLE_EQ(r->rate_changes(0).new_rate_pct(), 30);
}

TEST_F(RedisEventLogTest, ReplicasStackOnOneBook) {
  Replica a(options_, clock_, table_);
  Replica b(options_, clock_, table_);
  ASSERT_TRUE(a.publisher->Publish(Event("f", "us-cn-fentanyl", 20)).ok());
  // B still holds the empty book it loaded; its write is refused, it reloads
  // and computes the change on A's book.
  auto r = b.publisher->Publish(Event("r", "us-cn-recip", 10));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rate_changes_size(), 1);
  EXPECT_DOUBLE_EQ(r->rate_changes(0).previous_rate_pct(), 20);
  EXPECT_DOUBLE_EQ(r->rate_changes(0).new_rate_pct(), 30);
  EXPECT_EQ(r->book_revision(), 2u);
  EXPECT_DOUBLE_EQ(UsCnRate(*a.publisher), 30);
}

TEST_F(RedisEventLogTest, ALapsedPauseSnapsBackOnceAcrossReplicas) {
  Replica a(options_, clock_, table_);
  Replica b(options_, clock_, table_);
  ASSERT_TRUE(a.publisher->Publish(Event("r", "us-cn-recip", 125)).ok());
  auto paused = Event("p", "us-cn-recip", 10, v1::STAGE_PAUSED);
  const absl::Time expiry = clock_.Now() + absl::Hours(24 * 90);
  paused.mutable_expires_time()->set_seconds(absl::ToUnixSeconds(expiry));
  ASSERT_TRUE(a.publisher->Publish(paused).ok());
  clock_.Advance(absl::Hours(24 * 90) + absl::Seconds(1));
  auto on_b = b.publisher->PublishDue();
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_EQ(*on_b, 1);
  auto on_a = a.publisher->PublishDue();
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  EXPECT_EQ(*on_a, 0) << "A must see that B already published the snap-back";
  EXPECT_DOUBLE_EQ(UsCnRate(*a.publisher), 125);
  // The shared log holds the snap-back's alerts once, after the pause's,
  // with dense sequences.
  auto logged = a.store.ReadAfter(0, 100000, absl::ZeroDuration());
  ASSERT_TRUE(logged.ok()) << logged.status();
  size_t snap_backs = 0;
  uint64_t expected = 1;
  for (const LoggedAlert& l : *logged) {
    EXPECT_EQ(l.sequence, expected++);
    v1::Alert alert;
    ASSERT_TRUE(alert.ParseFromString(l.alert));
    EXPECT_EQ(alert.sequence(), l.sequence);
    if (alert.event_id().find("/snap-back/") != std::string::npos) {
      EXPECT_EQ(alert.measure_id(), "us-cn-recip");
      ++snap_backs;
    }
  }
  EXPECT_GT(snap_backs, 0u);
  EXPECT_EQ(snap_backs, a.collector.received.size() / 2)
      << "the snap-back makes as many alerts as the raise and the pause";
}

// Alerts created at `minutes` past a fixed hour, committed as one event.
EventCommit CommitAt(const std::string& id, const TariffBook& next,
                     uint64_t expected, std::vector<int> minutes) {
  EventCommit c;
  c.event_id = id;
  c.fingerprint = 7;
  c.expected_revision = expected;
  c.next_book = &next;
  for (int m : minutes) {
    v1::Alert a;
    a.set_event_id(id);
    a.mutable_created_time()->set_seconds(1750000000 + 60 * m);
    c.alerts.push_back(a.SerializeAsString());
  }
  c.response = "r";
  return c;
}

TEST_F(RedisEventLogTest, TheLogIsTrimmedByAgeAndKeepsWhatIsNewer) {
  RedisEventLog store(options_);
  TariffBook book;
  for (int i = 0; i < 3; ++i) {
    TariffBook next = TariffBook::FromParts(i + 1, absl::InfinitePast(), {});
    // Event i's alerts are created at minutes 10i, 10i+1, 10i+2.
    auto done = CommitOne(store, CommitAt(absl::StrCat("e", i), next, i,
                                          {10 * i, 10 * i + 1, 10 * i + 2}));
    ASSERT_TRUE(done.ok()) << done.status();
    ASSERT_EQ(done->kind, CommitOutcome::kCommitted);
    EXPECT_EQ(done->first_sequence, 3u * i + 1);
  }
  // Keep what was created from minute 11 on. The log holds whole events:
  // event 1 (sequences 4..6, minutes 10-12) has alerts that new, so it
  // stays whole; event 0 (minutes 0-2) goes.
  auto kept = store.TrimOlderThan(absl::FromUnixSeconds(1750000000 + 60 * 11));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, 4u);
  auto logged = store.ReadAfter(0, 100, absl::ZeroDuration());
  ASSERT_TRUE(logged.ok()) << logged.status();
  std::vector<uint64_t> sequences;
  for (const LoggedAlert& l : *logged) sequences.push_back(l.sequence);
  EXPECT_EQ(sequences, (std::vector<uint64_t>{4, 5, 6, 7, 8, 9}));
  // Past event 1's newest alert it goes too.
  kept = store.TrimOlderThan(absl::FromUnixSeconds(1750000000 + 60 * 13));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, 7u);
  // Trimming again changes nothing; a cutoff before everything keeps all.
  kept = store.TrimOlderThan(absl::FromUnixSeconds(1750000000));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 7u);
}

TEST_F(RedisEventLogTest, EachEventIsOneLogEntryTaggedWithItsWriter) {
  AlertLogOptions log;
  log.writer = "replica-a";
  RedisEventLog store(options_, log);
  TariffBook one = TariffBook::FromParts(1, absl::InfinitePast(), {});
  TariffBook two = TariffBook::FromParts(2, absl::InfinitePast(), {});
  ASSERT_TRUE(CommitOne(store, CommitAt("e1", one, 0, {1, 1, 1})).ok());
  ASSERT_TRUE(CommitOne(store, CommitAt("e2", two, 1, {2, 2})).ok());
  auto entries = store.ReadEntries(0, 10, absl::ZeroDuration());
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].last_sequence, 3u);
  EXPECT_EQ((*entries)[1].last_sequence, 5u);
  EXPECT_EQ((*entries)[0].writer, "replica-a");
  auto unpacked = UnpackLoggedEntry((*entries)[1]);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  ASSERT_EQ(unpacked->size(), 2u);
  v1::Alert alert;
  ASSERT_TRUE(alert.ParseFromString((*unpacked)[0].alert));
  EXPECT_EQ(alert.sequence(), 4u);
  EXPECT_EQ(alert.event_id(), "e2");
  // A read from inside an event gives only the alerts after the point.
  auto after = store.ReadAfter(1, 10, absl::ZeroDuration());
  ASSERT_TRUE(after.ok()) << after.status();
  std::vector<uint64_t> sequences;
  for (const LoggedAlert& l : *after) sequences.push_back(l.sequence);
  EXPECT_EQ(sequences, (std::vector<uint64_t>{2, 3, 4, 5}));
  // At most max_entries events per read.
  auto first_only = store.ReadAfter(0, 1, absl::ZeroDuration());
  ASSERT_TRUE(first_only.ok());
  EXPECT_EQ(first_only->size(), 3u);
}

TEST_F(RedisEventLogTest, OlderEntriesAreReadAndABrokenEntryIsNamed) {
  RedisEventLog store(options_);
  RedisConnection redis(options_);
  const std::string key = options_.key_prefix + "alerts";
  v1::Alert alert;
  alert.set_event_id("old");
  // The older layout: one alert per entry, field "a".
  ASSERT_TRUE(
      redis.Command({"XADD", key, "1-0", "a", alert.SerializeAsString()}).ok());
  auto read = store.ReadAfter(0, 10, absl::ZeroDuration());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  v1::Alert back;
  ASSERT_TRUE(back.ParseFromString(read->front().alert));
  EXPECT_EQ(back.sequence(), 1u);
  EXPECT_EQ(back.event_id(), "old");
  // A packed entry whose length runs past its end.
  ASSERT_TRUE(redis
                  .Command({"XADD", key, "3-0", "e",
                            std::string("\x05"
                                        "ab")})
                  .ok());
  read = store.ReadAfter(1, 10, absl::ZeroDuration());
  EXPECT_TRUE(absl::IsDataLoss(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr("entry 3-0"));
  // And one with a field the log never writes.
  ASSERT_TRUE(redis.Command({"XADD", key, "4-0", "x", "y"}).ok());
  read = store.ReadAfter(3, 10, absl::ZeroDuration());
  EXPECT_TRUE(absl::IsDataLoss(read.status())) << read.status();
  EXPECT_THAT(read.status().message(), HasSubstr("entry 4-0"));
}

TEST_F(RedisEventLogTest, CommitsGoTogetherAndAChainedOneNeedsItsBase) {
  AlertLogOptions mine;
  mine.writer = "a";
  AlertLogOptions theirs;
  theirs.writer = "b";
  RedisEventLog a(options_, mine), b(options_, theirs);
  TariffBook one = TariffBook::FromParts(1, absl::InfinitePast(), {});
  TariffBook two = TariffBook::FromParts(2, absl::InfinitePast(), {});
  TariffBook three = TariffBook::FromParts(3, absl::InfinitePast(), {});
  // Two commits in one round trip, the second planned on the first's book.
  EventCommit e1 = CommitAt("e1", one, 0, {1, 1});
  EventCommit e2 = CommitAt("e2", two, 1, {2});
  e2.chained = true;
  const EventCommit* both[] = {&e1, &e2};
  auto done = a.Commit(both);
  ASSERT_EQ(done.size(), 2u);
  ASSERT_TRUE(done[0].ok() && done[1].ok());
  EXPECT_EQ(done[0]->kind, CommitOutcome::kCommitted);
  EXPECT_EQ(done[0]->first_sequence, 1u);
  EXPECT_EQ(done[1]->kind, CommitOutcome::kCommitted);
  EXPECT_EQ(done[1]->first_sequence, 3u);
  // B stores revision 3 over A's 2. A commit of A's chained on a revision-3
  // book of its own (whose commit, say, was refused) must not land on B's,
  // though the revision matches; unchained, the revision is the guard.
  ASSERT_EQ(CommitOne(b, CommitAt("b3", three, 2, {}))->kind,
            CommitOutcome::kCommitted);
  TariffBook four = TariffBook::FromParts(4, absl::InfinitePast(), {});
  EventCommit chained = CommitAt("a4", four, 3, {4});
  chained.chained = true;
  EXPECT_EQ(CommitOne(a, chained)->kind, CommitOutcome::kBookConflict);
  chained.chained = false;
  EXPECT_EQ(CommitOne(a, chained)->kind, CommitOutcome::kCommitted);
  auto last = a.LastSequence();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 4u);
}

TEST_F(RedisEventLogTest, ARepeatedEventIdReturnsTheFirstRecord) {
  RedisEventLog store(options_);
  TariffBook next = TariffBook::FromParts(1, absl::InfinitePast(), {});
  auto first = CommitOne(store, CommitAt("same", next, 0, {1, 2}));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->kind, CommitOutcome::kCommitted);
  TariffBook later = TariffBook::FromParts(2, absl::InfinitePast(), {});
  auto again = CommitOne(store, CommitAt("same", later, 1, {3}));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->kind, CommitOutcome::kDuplicate);
  EXPECT_EQ(again->prior.first_sequence, 1u);
  EXPECT_EQ(again->prior.fingerprint, 7u);
  EXPECT_EQ(again->prior.response, "r");
  // Nothing of the repeat was stored: the book and the sequence stand.
  auto book = store.LoadBook();
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(book->revision(), 1u);
  auto last = store.LastSequence();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 2u);
  auto found = store.FindEvent("same");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->first_sequence, 1u);
}

}  // namespace
}  // namespace tariffalert
