// End to end: a real server on 127.0.0.1:0 against the test redis-server, and
// real gRPC clients over loopback.

#include <unistd.h>

#include <fstream>
#include <memory>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_exposure_store.h"
#include "server/service/alert_stream.h"
#include "server/service/server.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/service/stream_client.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using testing::StreamClient;

// Apple and Best Buy buy from China, Constellation brews in Mexico, Nucor
// makes steel at home, JPMorgan sells services.
constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31\n"
    "BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04\n"
    "STZ,Constellation Brands,Consumer Staples,US,40000000000,0.49,0.33\n"
    "NUE,Nucor,Materials,US,35000000000,0.85,0.12\n"
    "JPM,JPMorgan Chase,Financials,US,700000000000,0,0.35\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.43\n"
    "AAPL,sourcing,CN,*,0.7\n"
    "BBY,revenue,US,*,0.92\n"
    "BBY,sourcing,CN,*,0.55\n"
    "BBY,sourcing,MX,*,0.2\n"
    "STZ,revenue,US,*,0.98\n"
    "STZ,production,MX,*,0.85\n"
    "NUE,revenue,US,*,0.95\n"
    "NUE,production,US,*,1\n"
    "JPM,revenue,US,*,0.8\n";

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.redis = testing::TestRedisOptions();
    Load(kCompanies);
    options_.listen_address = "127.0.0.1:0";
    // Plaintext on loopback; tests/security covers TLS and tokens.
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(20);
    options_.hub.heartbeat_interval = absl::Seconds(30);
  }

  void StartServer() {
    auto server = TariffAlertServer::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    publisher_ = v1::TariffEventService::NewStub(channel_);
  }

  LoadResult Load(const std::string& companies) {
    auto loaded =
        testing::LoadTestExposure(options_.redis, companies, kExposures);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? *loaded : LoadResult{};
  }

  static v1::TariffEvent Event(const std::string& id, const std::string& target,
                               double rate) {
    v1::TariffEvent e;
    e.set_event_id(id);
    e.set_imposing_country("US");
    e.add_target_countries(target);
    e.set_new_rate_pct(rate);
    e.set_stage(v1::STAGE_EFFECTIVE);
    return e;
  }

  grpc::Status Publish(const v1::TariffEvent& event,
                       v1::PublishEventResponse* response) {
    v1::PublishEventRequest request;
    *request.mutable_event() = event;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return publisher_->PublishEvent(&context, request, response);
  }

  std::unique_ptr<StreamClient> Subscribe(
      v1::SubscribeAlertsRequest request = {}) {
    auto client = std::make_unique<StreamClient>(channel_, request);
    EXPECT_TRUE(client->WaitForHeartbeat()) << "no first heartbeat";
    return client;
  }

  ServerOptions options_;
  std::unique_ptr<TariffAlertServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TariffEventService::Stub> publisher_;
};

TEST_F(ServerE2eTest, AFilteredSubscriberGetsExactlyTheMatchingAlertsInOrder) {
  StartServer();
  v1::SubscribeAlertsRequest filtered;
  filtered.mutable_filter()->add_tickers("AAPL");
  filtered.mutable_filter()->add_tickers("STZ");
  filtered.mutable_filter()->add_tickers("NUE");
  auto mine = Subscribe(filtered);
  auto everything = Subscribe();

  v1::PublishEventResponse china, mexico;
  ASSERT_TRUE(Publish(Event("us-cn", "CN", 145), &china).ok());
  ASSERT_TRUE(Publish(Event("us-mx", "MX", 25), &mexico).ok());
  EXPECT_EQ(mexico.first_sequence(), china.last_sequence() + 1);
  ASSERT_TRUE(everything->WaitForSequence(mexico.last_sequence()));
  // The unfiltered stream has every alert, densely numbered.
  const auto all = everything->alerts();
  ASSERT_EQ(all.size(), china.alert_count() + mexico.alert_count());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].sequence(), i + 1);
  // The filtered one has exactly the ticker alerts for its tickers.
  std::vector<uint64_t> expected;
  for (const auto& a : all) {
    if (a.subject_kind() == v1::SUBJECT_KIND_TICKER &&
        (a.subject() == "AAPL" || a.subject() == "STZ" ||
         a.subject() == "NUE")) {
      expected.push_back(a.sequence());
    }
  }
  // A heartbeat after the last publish proves nothing more is on its way.
  server_->hub().SendHeartbeats();
  ASSERT_TRUE(mine->WaitForSequence(mexico.last_sequence()));
  std::vector<uint64_t> got;
  for (const auto& a : mine->alerts()) got.push_back(a.sequence());
  EXPECT_EQ(got, expected);
  // Apple is hit by the China tariff; Constellation tops the Mexico one.
  EXPECT_EQ(all.front().subject(), "BBY");
  EXPECT_LT(all.front().score_bps(), 0);
  EXPECT_EQ(all[china.alert_count()].subject(), "STZ");
}

TEST_F(ServerE2eTest, ARepeatedEventIdIsAcknowledgedWithoutNewAlerts) {
  StartServer();
  auto client = Subscribe();
  v1::PublishEventResponse first, repeat, next;
  ASSERT_TRUE(Publish(Event("once", "CN", 30), &first).ok());
  ASSERT_TRUE(Publish(Event("once", "CN", 30), &repeat).ok());
  EXPECT_TRUE(repeat.duplicate());
  EXPECT_EQ(repeat.first_sequence(), first.first_sequence());
  EXPECT_EQ(repeat.last_sequence(), first.last_sequence());
  ASSERT_TRUE(Publish(Event("next", "MX", 25), &next).ok());
  EXPECT_EQ(next.first_sequence(), first.last_sequence() + 1);
  ASSERT_TRUE(client->WaitForSequence(next.last_sequence()));
  EXPECT_EQ(client->alerts().size(), first.alert_count() + next.alert_count());
}

TEST_F(ServerE2eTest, BadEventsAreRejectedNamingTheFieldAndProduceNoAlert) {
  StartServer();
  auto client = Subscribe();
  struct Case {
    const char* field;
    void (*mutate)(v1::TariffEvent&);
  } cases[] = {
      {"event.event_id", [](v1::TariffEvent& e) { e.set_event_id(""); }},
      {"event.imposing_country",
       [](v1::TariffEvent& e) { e.set_imposing_country("XX"); }},
      {"event.target_countries[1]",
       [](v1::TariffEvent& e) { e.add_target_countries("QQ"); }},
      {"event.new_rate_pct",
       [](v1::TariffEvent& e) { e.set_new_rate_pct(std::nan("")); }},
      {"event.new_rate_pct",
       [](v1::TariffEvent& e) { e.set_new_rate_pct(-10); }},
      {"event.probability", [](v1::TariffEvent& e) { e.set_probability(1.5); }},
      {"event.probability",
       [](v1::TariffEvent& e) { e.set_probability(-0.1); }},
  };
  for (const Case& c : cases) {
    v1::TariffEvent e = Event("bad", "CN", 30);
    c.mutate(e);
    v1::PublishEventResponse response;
    grpc::Status s = Publish(e, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), ::testing::StartsWith(c.field));
  }
  v1::PublishEventRequest empty;
  grpc::ClientContext context;
  v1::PublishEventResponse response;
  EXPECT_EQ(publisher_->PublishEvent(&context, empty, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing was logged: the next good event's alerts start at 1, and the
  // stream saw nothing before them.
  v1::PublishEventResponse good;
  ASSERT_TRUE(Publish(Event("bad", "CN", 30), &good).ok());
  EXPECT_EQ(good.first_sequence(), 1u);
  ASSERT_TRUE(client->WaitForSequence(good.last_sequence()));
  EXPECT_EQ(client->alerts().front().sequence(), 1u);
  EXPECT_EQ(client->alerts().front().event_id(), "bad");
}

TEST_F(ServerE2eTest, ABadFilterIsRejectedNamingTheField) {
  StartServer();
  v1::SubscribeAlertsRequest request;
  request.mutable_filter()->add_countries("Narnia");
  StreamClient client(channel_, request);
  ASSERT_TRUE(client.WaitForEnd());
  EXPECT_EQ(client.status().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(client.status().error_message(),
              HasSubstr("filter.countries[0]"));
}

TEST_F(ServerE2eTest, ANewExposureVersionIsServedWithoutRestart) {
  StartServer();
  const std::string first = server_->exposure().Current()->version();
  v1::PublishEventResponse before;
  ASSERT_TRUE(Publish(Event("before", "CN", 30), &before).ok());
  EXPECT_EQ(before.exposure_version(), first);

  const std::string with_target =
      std::string(kCompanies) +
      "TGT,Target,Consumer Staples,US,60000000000,0.7,0.05\n";
  const LoadResult second = Load(with_target);
  ASSERT_NE(second.version, first);
  for (int i = 0;
       i < 200 && server_->exposure().Current()->version() != second.version;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  auto client = Subscribe();
  v1::PublishEventResponse after;
  ASSERT_TRUE(Publish(Event("after", "CN", 60), &after).ok());
  EXPECT_EQ(after.exposure_version(), second.version);
  ASSERT_TRUE(client->WaitForSequence(after.last_sequence()));
  for (const auto& a : client->alerts())
    EXPECT_EQ(a.exposure_version(), second.version);
}

TEST_F(ServerE2eTest, AResumingSubscriberGetsTheMissedAlertsThenLiveOnes) {
  StartServer();
  v1::PublishEventResponse a, b, c;
  ASSERT_TRUE(Publish(Event("a", "CN", 30), &a).ok());
  ASSERT_TRUE(Publish(Event("b", "MX", 25), &b).ok());
  v1::SubscribeAlertsRequest request;
  request.set_resume_after_sequence(a.last_sequence());
  auto client = Subscribe(request);  // the heartbeat comes after the replay
  ASSERT_TRUE(Publish(Event("c", "CN", 60), &c).ok());
  ASSERT_TRUE(client->WaitForSequence(c.last_sequence()));
  const auto alerts = client->alerts();
  ASSERT_EQ(alerts.size(), b.alert_count() + c.alert_count());
  for (size_t i = 0; i < alerts.size(); ++i) {
    EXPECT_EQ(alerts[i].sequence(), a.last_sequence() + 1 + i);
  }
  EXPECT_EQ(client->heartbeats().front(), b.last_sequence());
}

TEST_F(ServerE2eTest, ASubscriberThatFallsBehindIsCutOffWithItsLastSequence) {
  options_.queue.max_alerts = 3;  // one event's alerts overflow it at once
  StartServer();
  auto client = Subscribe();
  v1::PublishEventResponse r;
  ASSERT_TRUE(Publish(Event("big", "CN", 145), &r).ok());
  ASSERT_GT(r.alert_count(), 3u);
  ASSERT_TRUE(client->WaitForEnd());
  EXPECT_EQ(client->status().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  const std::string last = client->Trailer(std::string(kLastSequenceTrailer));
  ASSERT_FALSE(last.empty());
  EXPECT_THAT(client->status().error_message(),
              HasSubstr(absl::StrCat("(", last, ")")));
  // It resumes from there and loses nothing: the replay goes out in chunks
  // that fit the same bound.
  v1::SubscribeAlertsRequest resume;
  resume.set_resume_after_sequence(std::stoull(last));
  auto again = Subscribe(resume);
  ASSERT_TRUE(again->WaitForSequence(r.last_sequence()));
  const auto alerts = again->alerts();
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alerts.front().sequence(), std::stoull(last) + 1);
  EXPECT_EQ(alerts.back().sequence(), r.last_sequence());
}

TEST_F(ServerE2eTest, HeartbeatsCarryTheNewestSequence) {
  options_.hub.heartbeat_interval = absl::Milliseconds(50);
  StartServer();
  v1::SubscribeAlertsRequest request;
  request.mutable_filter()->add_tickers("NONE");  // matches nothing
  auto client = Subscribe(request);
  v1::PublishEventResponse r;
  ASSERT_TRUE(Publish(Event("e", "CN", 30), &r).ok());
  // A filtered subscriber learns it missed nothing: a heartbeat at the newest.
  ASSERT_TRUE(client->WaitForSequence(r.last_sequence()));
  EXPECT_TRUE(client->alerts().empty());
  EXPECT_EQ(client->heartbeats().back(), r.last_sequence());
}

TEST_F(ServerE2eTest, ShutdownEndsStreamsWithUnavailable) {
  StartServer();
  auto client = Subscribe();
  server_->Shutdown(absl::Seconds(2));
  ASSERT_TRUE(client->WaitForEnd());
  EXPECT_EQ(client->status().error_code(), grpc::StatusCode::UNAVAILABLE);
}

v1::Holding* AddHolding(v1::SubscribeAlertsRequest& r,
                        const std::string& ticker, double value) {
  v1::Holding* h = r.add_holdings();
  h->set_ticker(ticker);
  h->set_position_value(value);
  return h;
}

TEST_F(ServerE2eTest, AStreamWithHoldingsGetsItsPortfolioAlertAfterTheEvent) {
  StartServer();
  auto everything = Subscribe();
  // Filtered to Nucor: the portfolio line comes anyway.
  v1::SubscribeAlertsRequest request;
  request.mutable_filter()->add_tickers("NUE");
  AddHolding(request, "AAPL", 1000000);
  AddHolding(request, "BBY", 500000);
  AddHolding(request, "JPM", 200000);  // in the table, not hit
  AddHolding(request, "ZZZZ", 100);    // not in the table
  auto mine = Subscribe(request);

  v1::PublishEventResponse r;
  ASSERT_TRUE(Publish(Event("us-cn", "CN", 145), &r).ok());
  ASSERT_TRUE(everything->WaitForSequence(r.last_sequence()));
  // Bounded wait for the portfolio alert, the last thing the event sends.
  v1::Alert portfolio;
  for (int i = 0; i < 500; ++i) {
    const auto alerts = mine->alerts();
    if (!alerts.empty() &&
        alerts.back().subject_kind() == v1::SUBJECT_KIND_PORTFOLIO) {
      portfolio = alerts.back();
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(portfolio.subject_kind(), v1::SUBJECT_KIND_PORTFOLIO);

  // The impact, from the tickers' own alerts: value x op. profit change.
  double aapl_pct = 0, bby_pct = 0;
  for (const auto& a : everything->alerts()) {
    if (a.subject() == "AAPL") aapl_pct = a.operating_profit_change_pct();
    if (a.subject() == "BBY") bby_pct = a.operating_profit_change_pct();
    EXPECT_NE(a.subject_kind(), v1::SUBJECT_KIND_PORTFOLIO);
  }
  ASSERT_LT(aapl_pct, 0);
  ASSERT_LT(bby_pct, 0);
  const double impact = 1000000 * aapl_pct / 100 + 500000 * bby_pct / 100;
  const double gross = 1000000 + 500000 + 200000 + 100;
  EXPECT_NEAR(portfolio.portfolio().impact_value(), impact, 1e-6);
  EXPECT_NEAR(portfolio.portfolio().position_value(), gross, 1e-9);
  EXPECT_NEAR(portfolio.score_bps(), impact / gross * 10000, 1e-9);
  EXPECT_THAT(portfolio.portfolio().unknown_tickers(),
              ::testing::ElementsAre("ZZZZ"));
  EXPECT_EQ(portfolio.sequence(), r.last_sequence());
  EXPECT_EQ(portfolio.alert_id(), "us-cn/P/portfolio");
  EXPECT_EQ(portfolio.event_id(), "us-cn");
  EXPECT_EQ(portfolio.exposure_version(), r.exposure_version());
  EXPECT_THAT(portfolio.explanation(), ::testing::StartsWith("Portfolio -"));
  // Nucor's alerts, then the portfolio line; nothing else.
  for (const auto& a : mine->alerts()) {
    if (a.subject_kind() != v1::SUBJECT_KIND_PORTFOLIO) {
      EXPECT_EQ(a.subject(), "NUE");
    }
  }
  EXPECT_EQ(mine->alerts().back().sequence(), r.last_sequence());
}

TEST_F(ServerE2eTest, BadHoldingsAreRejectedNamingTheField) {
  StartServer();
  struct Case {
    const char* field;
    void (*add)(v1::SubscribeAlertsRequest&);
  } cases[] = {
      {"holdings[1].ticker",
       [](v1::SubscribeAlertsRequest& r) {
         AddHolding(r, "AAPL", 1);
         AddHolding(r, "AAPL", 2);
       }},
      {"holdings[0].position_value",
       [](v1::SubscribeAlertsRequest& r) { AddHolding(r, "AAPL", 0); }},
      {"holdings[0].position_value",
       [](v1::SubscribeAlertsRequest& r) {
         AddHolding(r, "AAPL", std::nan(""));
       }},
  };
  for (const Case& c : cases) {
    v1::SubscribeAlertsRequest request;
    c.add(request);
    StreamClient client(channel_, request);
    ASSERT_TRUE(client.WaitForEnd());
    EXPECT_EQ(client.status().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(client.status().error_message(),
                ::testing::StartsWith(c.field));
  }
}

TEST_F(ServerE2eTest, ListAlertsPagesThroughTheLogWithoutGapsOrDuplicates) {
  StartServer();
  auto everything = Subscribe();
  v1::PublishEventResponse china, mexico;
  ASSERT_TRUE(Publish(Event("us-cn", "CN", 145), &china).ok());
  ASSERT_TRUE(Publish(Event("us-mx", "MX", 25), &mexico).ok());
  ASSERT_TRUE(everything->WaitForSequence(mexico.last_sequence()));
  std::vector<uint64_t> expected;
  for (const auto& a : everything->alerts()) {
    if (a.subject_kind() == v1::SUBJECT_KIND_TICKER) {
      expected.push_back(a.sequence());
    }
  }
  ASSERT_GE(expected.size(), 3u);

  auto stub = v1::AlertService::NewStub(channel_);
  v1::ListAlertsRequest request;
  request.mutable_filter()->add_subject_kinds(v1::SUBJECT_KIND_TICKER);
  request.set_page_size(2);
  std::vector<uint64_t> listed;
  std::set<std::string> event_ids;
  int pages = 0;
  std::string first_token;
  do {
    grpc::ClientContext context;
    v1::ListAlertsResponse response;
    grpc::Status s = stub->ListAlerts(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.oldest_sequence(), 1u);
    EXPECT_LE(response.alerts_size(), 2);
    for (const auto& a : response.alerts()) {
      listed.push_back(a.sequence());
      event_ids.insert(a.event_id());
      EXPECT_EQ(a.subject_kind(), v1::SUBJECT_KIND_TICKER);
    }
    if (first_token.empty()) first_token = response.next_page_token();
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 100);
  EXPECT_EQ(listed, expected);  // in order, no gap, no duplicate
  EXPECT_GE(pages, 2);
  EXPECT_EQ(event_ids, (std::set<std::string>{"us-cn", "us-mx"}));

  // A token with another filter, or a made-up one, is refused.
  ASSERT_FALSE(first_token.empty());
  for (const std::string& token : {first_token, std::string("bogus")}) {
    v1::ListAlertsRequest bad;
    bad.set_page_token(token);
    grpc::ClientContext context;
    v1::ListAlertsResponse response;
    grpc::Status s = stub->ListAlerts(&context, bad, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), ::testing::StartsWith("page_token: "));
  }
}

TEST_F(ServerE2eTest, StartFailsClearlyWhenRedisIsUnreachable) {
  options_.redis.port = 1;
  options_.redis.connect_timeout = absl::Milliseconds(200);
  auto server = TariffAlertServer::Start(options_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("127.0.0.1:1"));
}

}  // namespace
}  // namespace tariffalert
