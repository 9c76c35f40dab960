// Delivery through the shared alert log in Redis: several replicas on one
// Redis, restarts, idempotent publish. Real servers on 127.0.0.1:0, the test
// redis-server, real gRPC clients; every wait is bounded.

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_exposure_store.h"
#include "server/service/server.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/service/delivery_harness.h"
#include "tests/service/stream_client.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using testing::StreamClient;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31\n"
    "BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04\n"
    "STZ,Constellation Brands,Consumer Staples,US,40000000000,0.49,0.33\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.43\n"
    "AAPL,sourcing,CN,*,0.7\n"
    "BBY,revenue,US,*,0.92\n"
    "BBY,sourcing,CN,*,0.55\n"
    "BBY,sourcing,MX,*,0.2\n"
    "STZ,revenue,US,*,0.98\n"
    "STZ,production,MX,*,0.85\n";

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

// One replica and a client channel to it.
using testing::Replica;

class DeliveryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.redis = testing::TestRedisOptions();
    ASSERT_TRUE(
        testing::LoadTestExposure(options_.redis, kCompanies, kExposures).ok());
    options_.listen_address = "127.0.0.1:0";
    // Plaintext on loopback; tests/security covers TLS and tokens.
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(20);
    options_.hub.heartbeat_interval = absl::Milliseconds(200);
  }

  Replica Start() { return testing::StartReplica(options_); }

  static v1::TariffEvent Event(const std::string& id, const std::string& target,
                               double rate) {
    v1::TariffEvent e;
    e.set_event_id(id);
    e.set_imposing_country("US");
    e.add_target_countries(target);
    e.set_measure_id(absl::StrCat("m-", target));
    e.set_new_rate_pct(rate);
    e.set_stage(v1::STAGE_EFFECTIVE);
    return e;
  }

  static grpc::Status Publish(Replica& r, const v1::TariffEvent& event,
                              v1::PublishEventResponse* response) {
    v1::PublishEventRequest request;
    *request.mutable_event() = event;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return r.events->PublishEvent(&context, request, response);
  }

  static std::vector<uint64_t> Sequences(StreamClient& s) {
    std::vector<uint64_t> out;
    for (const auto& a : s.alerts()) out.push_back(a.sequence());
    return out;
  }

  static std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
    std::vector<uint64_t> out;
    for (uint64_t s = first; s <= last; ++s) out.push_back(s);
    return out;
  }

  ServerOptions options_;
};

TEST_F(DeliveryE2eTest, ReplicasOnOneRedisShareOneSequence) {
  Replica a = Start();
  Replica b = Start();
  StreamClient on_a(a.channel, {});
  StreamClient on_b(b.channel, {});
  ASSERT_TRUE(on_a.WaitForHeartbeat());
  ASSERT_TRUE(on_b.WaitForHeartbeat());

  v1::PublishEventResponse first, second, third;
  ASSERT_TRUE(Publish(a, Event("e1", "CN", 30), &first).ok());
  ASSERT_TRUE(Publish(b, Event("e2", "MX", 25), &second).ok());
  ASSERT_TRUE(Publish(a, Event("e3", "CN", 60), &third).ok());
  EXPECT_EQ(first.first_sequence(), 1u);
  EXPECT_EQ(second.first_sequence(), first.last_sequence() + 1);
  EXPECT_EQ(third.first_sequence(), second.last_sequence() + 1);
  // B's publish was planned on A's book: the CN measure is A's, MX is B's.
  EXPECT_EQ(second.book_revision(), 2u);
  EXPECT_EQ(third.rate_changes(0).previous_rate_pct(), 30);

  const uint64_t last = third.last_sequence();
  ASSERT_TRUE(on_a.WaitForSequence(last));
  ASSERT_TRUE(on_b.WaitForSequence(last));
  EXPECT_EQ(Sequences(on_a), Range(1, last));
  EXPECT_EQ(Sequences(on_b), Range(1, last));
  const auto alerts_a = on_a.alerts();
  const auto alerts_b = on_b.alerts();
  for (size_t i = 0; i < alerts_a.size(); ++i) {
    EXPECT_EQ(alerts_a[i].alert_id(), alerts_b[i].alert_id());
  }
}

TEST_F(DeliveryE2eTest, ARestartedServerContinuesTheSequenceAndResumesClients) {
  v1::PublishEventResponse before;
  {
    Replica a = Start();
    ASSERT_TRUE(Publish(a, Event("e1", "CN", 30), &before).ok());
    ASSERT_TRUE(Publish(a, Event("e2", "MX", 25), &before).ok());
    a.server->Shutdown(absl::Seconds(1));
  }
  Replica restarted = Start();
  // A client that had seen up to sequence 2 resumes on the new process.
  v1::SubscribeAlertsRequest resume;
  resume.set_resume_after_sequence(2);
  StreamClient client(restarted.channel, resume);
  v1::PublishEventResponse after;
  ASSERT_TRUE(Publish(restarted, Event("e3", "CN", 60), &after).ok());
  EXPECT_EQ(after.first_sequence(), before.last_sequence() + 1);
  ASSERT_TRUE(client.WaitForSequence(after.last_sequence()));
  EXPECT_EQ(Sequences(client), Range(3, after.last_sequence()));
}

TEST_F(DeliveryE2eTest,
       ADuplicateEventIdMakesOneSetOfAlertsAcrossClientsAndRestarts) {
  v1::PublishEventResponse reference;
  {
    Replica a = Start();
    Replica b = Start();
    std::vector<v1::PublishEventResponse> responses(8);
    std::vector<grpc::Status> statuses(8);
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i) {
      clients.emplace_back([&, i] {
        statuses[i] =
            Publish(i % 2 == 0 ? a : b, Event("dup", "CN", 30), &responses[i]);
      });
    }
    for (auto& t : clients) t.join();
    int firsts = 0;
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
      if (!responses[i].duplicate()) {
        ++firsts;
        reference = responses[i];
      }
    }
    EXPECT_EQ(firsts, 1);
    for (const auto& r : responses) {
      EXPECT_EQ(r.first_sequence(), reference.first_sequence());
      EXPECT_EQ(r.last_sequence(), reference.last_sequence());
    }
    a.server->Shutdown(absl::Seconds(1));
    b.server->Shutdown(absl::Seconds(1));
  }
  Replica restarted = Start();
  v1::PublishEventResponse again;
  ASSERT_TRUE(Publish(restarted, Event("dup", "CN", 30), &again).ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.first_sequence(), reference.first_sequence());
  EXPECT_EQ(again.last_sequence(), reference.last_sequence());
  // Other content under the same id is refused.
  v1::PublishEventResponse refused;
  grpc::Status s = Publish(restarted, Event("dup", "CN", 99), &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  // And the log holds one set: the next event follows right after.
  v1::PublishEventResponse next;
  ASSERT_TRUE(Publish(restarted, Event("next", "MX", 10), &next).ok());
  EXPECT_EQ(next.first_sequence(), reference.last_sequence() + 1);
}

TEST_F(DeliveryE2eTest, ARepeatTheBookWouldNowRefuseIsStillAnsweredAsARepeat) {
  v1::TariffEvent revoke = Event("rev", "CN", 0);
  revoke.set_stage(v1::STAGE_REVOKED);
  revoke.clear_new_rate_pct();
  revoke.clear_target_countries();
  v1::PublishEventResponse first;
  {
    Replica a = Start();
    v1::PublishEventResponse put;
    ASSERT_TRUE(Publish(a, Event("put", "CN", 30), &put).ok());
    grpc::Status s = Publish(a, revoke, &first);
    ASSERT_TRUE(s.ok()) << s.error_message();
    a.server->Shutdown(absl::Seconds(1));
  }
  // After a restart the measure is gone, so the book would refuse a second
  // REVOKED; the repeat is recognised first.
  Replica restarted = Start();
  v1::PublishEventResponse again;
  grpc::Status s = Publish(restarted, revoke, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.book_revision(), first.book_revision());
  EXPECT_EQ(again.first_sequence(), first.first_sequence());
}

}  // namespace
}  // namespace tariffalert
