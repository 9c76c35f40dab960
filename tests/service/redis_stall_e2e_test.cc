// End to end: a Redis stall (SIGSTOP of a redis-server this test starts, so
// that no other test's Redis stops) under a real server. A publish that was
// sent but not answered says its outcome is unknown; once the server knows
// Redis is down, publishes and book reads fail fast with UNAVAILABLE instead
// of waiting out the client's deadline; after SIGCONT, GetEvent finds the
// event the unanswered publish stored (from its record in Redis) and the
// retry with the same event_id answers duplicate = true.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/redis/redis_connection.h"
#include "server/service/server.h"
#include "tariffalert/v1/tariff_book_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/service/delivery_harness.h"
#include "tests/service/stream_client.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.43\n"
    "AAPL,sourcing,CN,*,0.7\n"
    "AAPL,sourcing,MX,*,0.2\n";

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server of the test's own, without persistence.
class OwnRedis {
 public:
  bool Start() {
    port_ = FreePort();
    if (port_ == 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = absl::StrCat(port_);
      execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port",
             port.c_str(), "--save", "", "--appendonly", "no", "--logfile",
             "/dev/null", static_cast<char*>(nullptr));
      _exit(127);
    }
    RedisOptions o;
    o.port = port_;
    for (int i = 0; i < 100; ++i) {
      RedisConnection c(o);
      if (c.Command({"PING"}).ok()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
  ~OwnRedis() {
    if (pid_ > 0) {
      kill(pid_, SIGCONT);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) { kill(pid_, sig); }
  int port() const { return port_; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

v1::TariffEvent Event(const std::string& id, const std::string& target,
                      double rate) {
  v1::TariffEvent e;
  e.set_event_id(id);
  e.set_imposing_country("US");
  e.add_target_countries(target);
  e.set_measure_id(absl::StrCat("m-", target));
  e.set_new_rate_pct(rate);
  e.set_stage(v1::STAGE_EFFECTIVE);
  e.set_headline(absl::StrCat("headline of ", id));
  return e;
}

class RedisStallE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start()) << "cannot start redis-server";
    options_.redis.port = redis_.port();
    options_.redis.key_prefix = "stall:";
    options_.redis.command_timeout = absl::Seconds(1);
    auto loaded =
        testing::LoadTestExposure(options_.redis, kCompanies, kExposures);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    options_.listen_address = "127.0.0.1:0";
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(50);
    options_.hub.heartbeat_interval = absl::Milliseconds(500);
    testing::Replica replica = testing::StartReplica(options_);
    ASSERT_NE(replica.server, nullptr);
    server_ = std::move(replica.server);
    channel_ = std::move(replica.channel);
    events_ = std::move(replica.events);
    book_ = v1::TariffBookService::NewStub(channel_);
  }

  void TearDown() override {
    redis_.Signal(SIGCONT);
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  grpc::Status Publish(const v1::TariffEvent& event,
                       v1::PublishEventResponse* response,
                       absl::Duration deadline = absl::Seconds(10)) {
    v1::PublishEventRequest request;
    *request.mutable_event() = event;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    return events_->PublishEvent(&context, request, response);
  }

  grpc::Status GetEvent(const std::string& id, v1::GetEventResponse* response) {
    v1::GetEventRequest request;
    request.set_event_id(id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return events_->GetEvent(&context, request, response);
  }

  grpc::Status GetTariff() {
    v1::GetTariffRequest request;
    request.set_imposing_country("US");
    request.set_exporting_country("CN");
    v1::GetTariffResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return book_->GetTariff(&context, request, &response);
  }

  // Until GetTariff's status satisfies `done`, at most `bound`.
  template <typename Pred>
  bool WaitForTariff(Pred done, absl::Duration bound = absl::Seconds(15)) {
    const absl::Time end = absl::Now() + bound;
    while (absl::Now() < end) {
      if (done(GetTariff())) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  OwnRedis redis_;
  ServerOptions options_;
  std::unique_ptr<TariffAlertServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TariffEventService::Stub> events_;
  std::unique_ptr<v1::TariffBookService::Stub> book_;
};

TEST_F(RedisStallE2eTest,
       AStalledRedisFailsPublishesFastAndTheUnansweredOneIsFoundAfterwards) {
  v1::PublishEventResponse before;
  ASSERT_TRUE(Publish(Event("before", "CN", 30), &before).ok());

  redis_.Signal(SIGSTOP);
  // Sent, not answered: Redis runs it once it continues.
  v1::PublishEventResponse ignored;
  grpc::Status unanswered = Publish(Event("during-stop", "MX", 25), &ignored);
  EXPECT_EQ(unanswered.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(unanswered.error_message(),
              HasSubstr("outcome unknown: retry with the same event_id, which "
                        "is idempotent"));

  // Once the log tailer has noticed, calls fail fast.
  ASSERT_TRUE(WaitForTariff([](const grpc::Status& s) {
    return s.error_code() == grpc::StatusCode::UNAVAILABLE &&
           s.error_message().find("Redis is unreachable") != std::string::npos;
  }));
  const absl::Time start = absl::Now();
  grpc::Status fast = Publish(Event("fail-fast", "CN", 40), &ignored);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(fast.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(fast.error_message(), HasSubstr("Redis is unreachable"));
  EXPECT_LT(took, absl::Milliseconds(500));  // not the 10 s deadline
  v1::GetEventResponse got;
  // Known to this process: served from memory, stall or not.
  EXPECT_TRUE(GetEvent("before", &got).ok());

  redis_.Signal(SIGCONT);
  ASSERT_TRUE(WaitForTariff([](const grpc::Status& s) { return s.ok(); }));

  // Stored by the unanswered publish: found in Redis, though this server
  // never acknowledged it.
  grpc::Status found = GetEvent("during-stop", &got);
  ASSERT_TRUE(found.ok()) << found.error_message();
  EXPECT_EQ(got.event().event_id(), "during-stop");
  EXPECT_EQ(got.result().event_id(), "during-stop");
  EXPECT_FALSE(got.result().duplicate());
  EXPECT_GT(got.result().alert_count(), 0u);
  EXPECT_GT(got.result().first_sequence(), before.last_sequence());

  v1::PublishEventResponse retried;
  grpc::Status retry = Publish(Event("during-stop", "MX", 25), &retried);
  ASSERT_TRUE(retry.ok()) << retry.error_message();
  EXPECT_TRUE(retried.duplicate());
  EXPECT_EQ(retried.first_sequence(), got.result().first_sequence());
  // Now remembered here as sent.
  ASSERT_TRUE(GetEvent("during-stop", &got).ok());
  EXPECT_EQ(got.event().headline(), "headline of during-stop");
  EXPECT_FALSE(got.result().duplicate());

  // The fail-fast one was never stored.
  EXPECT_EQ(GetEvent("fail-fast", &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::PublishEventResponse after;
  ASSERT_TRUE(Publish(Event("after", "CN", 50), &after).ok());
  EXPECT_FALSE(after.duplicate());
}

}  // namespace
}  // namespace tariffalert
