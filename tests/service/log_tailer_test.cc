// The log tailer on the real redis-server that tests/run.sh starts: it skips,
// unparsed, the entries its own replica's publisher handed to the hub, and
// decodes everything else, its own entries too when nobody handed them over.

#include "server/service/log_tailer.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/fanout/encoded_alert.h"
#include "server/redis/redis_event_log.h"
#include "tests/testing/collecting_subscriber.h"
#include "tests/testing/commit_one.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using testing::CommitOne;

// One event's alerts for `ticker`, unsequenced, as a publisher commits them.
EventCommit Commit(const std::string& id, const TariffBook& next,
                   uint64_t expected, const std::string& ticker, int count) {
  EventCommit c;
  c.event_id = id;
  c.fingerprint = 1;
  c.expected_revision = expected;
  c.next_book = &next;
  for (int i = 0; i < count; ++i) {
    v1::Alert a;
    a.set_event_id(id);
    a.set_subject_kind(v1::SUBJECT_KIND_TICKER);
    a.set_subject(ticker);
    c.alerts.push_back(a.SerializeAsString());
  }
  c.response = "r";
  return c;
}

class LogTailerTest : public ::testing::Test {
 protected:
  LogTailerTest() : options_(testing::TestRedisOptions()) {
    HubOptions hub_options;
    hub_options.heartbeat_interval = absl::ZeroDuration();
    hub_ = std::make_unique<AlertHub>(hub_options, clock_);
    EXPECT_TRUE(hub_->Subscribe(&collector_, std::nullopt).ok());
  }
  ~LogTailerTest() override { hub_->Unsubscribe(&collector_); }

  std::vector<std::string> Subjects() const {
    std::vector<std::string> out;
    for (const v1::Alert& a : collector_.received) {
      out.push_back(absl::StrCat(a.sequence(), ":", a.subject()));
    }
    return out;
  }

  // An entry tagged "me" ending at `last` that does not unpack, and the
  // log's sequence moved on by `count` as a commit would.
  absl::Status WriteOwnEntry(uint64_t last, int count) {
    RedisConnection redis(options_);
    auto added = redis.Command({"XADD", options_.key_prefix + "alerts",
                                absl::StrCat(last, "-0"), "e",
                                std::string("\x05"
                                            "ab"),
                                "w", "me"});
    if (!added.ok()) return added.status();
    auto counted = redis.Command(
        {"INCRBY", options_.key_prefix + "alerts:seq", absl::StrCat(count)});
    return counted.status();
  }
  // Alerts 1..n of event `id`, encoded as the publisher hands them over.
  static std::vector<EncodedAlertPtr> Offered(const std::string& id,
                                              uint64_t first, uint64_t last) {
    std::vector<EncodedAlertPtr> out;
    for (uint64_t seq = first; seq <= last; ++seq) {
      v1::Alert a;
      a.set_sequence(seq);
      a.set_event_id(id);
      a.set_subject_kind(v1::SUBJECT_KIND_TICKER);
      a.set_subject("OFFERED");
      out.push_back(EncodeAlert(a));
    }
    return out;
  }

  RedisOptions options_;
  testing::FakeClock clock_;
  testing::CollectingSubscriber collector_;
  std::unique_ptr<AlertHub> hub_;
};

TEST_F(LogTailerTest, OwnEntriesTheHubHoldsAreSkippedOthersAreDecoded) {
  AlertLogOptions other_log, own_log;
  other_log.writer = "other";
  own_log.writer = "me";
  RedisEventLog other(options_, other_log);
  TariffBook one = TariffBook::FromParts(1, absl::InfinitePast(), {});
  ASSERT_TRUE(CommitOne(other, Commit("e1", one, 0, "FROM-LOG", 2)).ok());
  // This replica's entry, 3..4, is not alerts at all: the tailer would fail
  // on it if it parsed it.
  ASSERT_TRUE(WriteOwnEntry(4, 2).ok());
  // This replica's publisher hands its event over before the tailer has
  // read the other replica's: the hub holds it.
  hub_->Offer(Offered("e2", 3, 4));
  EXPECT_TRUE(collector_.received.empty());

  LogTailer tailer(options_, own_log, hub_.get(), 100, clock_);
  const absl::Status loaded = tailer.Load(absl::Seconds(10));
  ASSERT_TRUE(loaded.ok()) << loaded;
  EXPECT_EQ(Subjects(), (std::vector<std::string>{"1:FROM-LOG", "2:FROM-LOG",
                                                  "3:OFFERED", "4:OFFERED"}));
}

TEST_F(LogTailerTest, AnOwnEntryWaitsForThePublisherToHandItOver) {
  // The tailer reads the entry before the publisher, which got Redis's
  // answer at the same moment, has handed the alerts over.
  AlertLogOptions own_log;
  own_log.writer = "me";
  ASSERT_TRUE(WriteOwnEntry(2, 2).ok());
  std::thread publisher([this] {
    absl::SleepFor(absl::Milliseconds(20));
    hub_->Offer(Offered("e1", 1, 2));
  });
  LogTailer tailer(options_, own_log, hub_.get(), 100, clock_);
  const absl::Status loaded = tailer.Load(absl::Seconds(10));
  publisher.join();
  ASSERT_TRUE(loaded.ok()) << loaded;
  EXPECT_EQ(Subjects(), (std::vector<std::string>{"1:OFFERED", "2:OFFERED"}));
}

TEST_F(LogTailerTest, AnotherReplicasBrokenEntryIsDataLoss) {
  // The same entry from another writer is parsed, and refused by name.
  AlertLogOptions own_log;
  own_log.writer = "not-me";
  ASSERT_TRUE(WriteOwnEntry(2, 2).ok());
  LogTailer tailer(options_, own_log, hub_.get(), 100, clock_);
  const absl::Status loaded = tailer.Load(absl::Seconds(10));
  EXPECT_TRUE(absl::IsDataLoss(loaded)) << loaded;
  EXPECT_THAT(std::string(loaded.message()), ::testing::HasSubstr("entry 2-0"));
}

TEST_F(LogTailerTest, AnOwnEntryNobodyHandedOverIsDecodedAfterAWait) {
  // The publisher's commit reached Redis but its answer was lost: the
  // publisher never handed the alerts over.
  AlertLogOptions own_log;
  own_log.writer = "me";
  RedisEventLog own(options_, own_log);
  TariffBook one = TariffBook::FromParts(1, absl::InfinitePast(), {});
  ASSERT_TRUE(CommitOne(own, Commit("e1", one, 0, "FROM-LOG", 3)).ok());
  LogTailer tailer(options_, own_log, hub_.get(), 100, clock_);
  ASSERT_TRUE(tailer.Load(absl::Seconds(10)).ok());
  EXPECT_EQ(Subjects(), (std::vector<std::string>{"1:FROM-LOG", "2:FROM-LOG",
                                                  "3:FROM-LOG"}));
  EXPECT_EQ(hub_->newest_sequence(), 3u);
}

}  // namespace
}  // namespace tariffalert
