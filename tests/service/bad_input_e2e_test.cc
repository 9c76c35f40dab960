// End to end: a catalogue of hostile and malformed requests against a real
// server (127.0.0.1:0, the test redis-server). Each gets the right code and a
// message that names the field and echoes no more than a short prefix of what
// was sent; none of them leaves a trace (no alert on an open stream, nothing
// in ListAlerts, the book's revision unchanged, GetEvent NOT_FOUND), and the
// server then still publishes and streams a good event.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/service/server.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_book_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"
#include "tests/service/delivery_harness.h"
#include "tests/service/stream_client.h"
#include "tests/testing/redis_env.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::StreamClient;

constexpr char kCompanies[] =
    "ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin\n"
    "AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31\n"
    "BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04\n";
constexpr char kExposures[] =
    "ticker,kind,country,product,share\n"
    "AAPL,revenue,US,*,0.43\n"
    "AAPL,sourcing,CN,*,0.7\n"
    "BBY,revenue,US,*,0.92\n"
    "BBY,sourcing,CN,*,0.55\n";

// A field value replaced by invalid UTF-8 of the same length in the
// serialized request, so that no length prefix changes.
constexpr char kMarker[] = "@MARK7@";
constexpr char kInvalidUtf8[] = "bad \xff\xfe!";
static_assert(sizeof(kMarker) == sizeof(kInvalidUtf8));

// Longest message a case may get back: a short quoted prefix, not the input.
constexpr size_t kMaxMessageBytes = 400;

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

v1::TariffEvent GoodEvent(const std::string& id) {
  v1::TariffEvent e;
  e.set_event_id(id);
  e.set_imposing_country("US");
  e.add_target_countries("CN");
  e.set_measure_id("us-cn");
  e.set_new_rate_pct(34);
  e.set_stage(v1::STAGE_EFFECTIVE);
  e.set_headline("US puts 34% on Chinese goods");
  e.set_source_url("https://example.com/news");
  return e;
}

// One row of the catalogue.
struct Row {
  std::string name;
  grpc::StatusCode code;
  std::string message;
};

class BadInputE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.redis = testing::TestRedisOptions();
    auto loaded =
        testing::LoadTestExposure(options_.redis, kCompanies, kExposures);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    options_.listen_address = "127.0.0.1:0";
    // Plaintext on loopback; tests/security covers TLS and tokens.
    options_.security.insecure = true;
    options_.exposure_poll_interval = absl::Milliseconds(20);
    options_.hub.heartbeat_interval = absl::Seconds(30);
    testing::Replica replica = testing::StartReplica(options_);
    ASSERT_NE(replica.server, nullptr);
    server_ = std::move(replica.server);
    channel_ = std::move(replica.channel);
    events_ = std::move(replica.events);
    alerts_ = v1::AlertService::NewStub(channel_);
    book_ = v1::TariffBookService::NewStub(channel_);
  }

  void TearDown() override {
    std::printf("| case | code | message |\n|---|---|---|\n");
    for (const Row& r : rows_) {
      std::printf("| %s | %d | %s |\n", r.name.c_str(),
                  static_cast<int>(r.code),
                  absl::StrReplaceAll(r.message, {{"|", "\\|"}}).c_str());
    }
  }

  // Checks a refused call: its code, that the message starts with (or, when
  // `prefix` is false, contains) `field`, and that it is short.
  void Expect(const std::string& name, const grpc::Status& s,
              grpc::StatusCode code, const std::string& field,
              bool prefix = true) {
    rows_.push_back(Row{name, s.error_code(), s.error_message()});
    EXPECT_EQ(s.error_code(), code) << name << ": " << s.error_message();
    if (prefix) {
      EXPECT_THAT(s.error_message(), StartsWith(field)) << name;
    } else {
      EXPECT_THAT(s.error_message(), HasSubstr(field)) << name;
    }
    EXPECT_LE(s.error_message().size(), kMaxMessageBytes) << name;
  }

  grpc::Status Publish(const v1::TariffEvent& event,
                       v1::PublishEventResponse* response = nullptr) {
    v1::PublishEventRequest request;
    *request.mutable_event() = event;
    v1::PublishEventResponse ignored;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return events_->PublishEvent(&context, request,
                                 response ? response : &ignored);
  }

  // `request` serialized, every kMarker replaced by kInvalidUtf8, sent raw to
  // `method`.
  grpc::Status CallRaw(const std::string& method,
                       const google::protobuf::Message& request) {
    std::string bytes = request.SerializeAsString();
    EXPECT_NE(bytes.find(kMarker), std::string::npos) << method;
    bytes = absl::StrReplaceAll(bytes, {{kMarker, kInvalidUtf8}});
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::GenericStub stub(channel_);
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &buffer, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  }

  grpc::Status GetEvent(const std::string& id) {
    v1::GetEventRequest request;
    request.set_event_id(id);
    v1::GetEventResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return events_->GetEvent(&context, request, &response);
  }

  uint64_t BookRevision() {
    v1::GetTariffRequest request;
    request.set_imposing_country("US");
    request.set_exporting_country("CN");
    v1::GetTariffResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::Status s = book_->GetTariff(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.book_revision();
  }

  ServerOptions options_;
  std::unique_ptr<TariffAlertServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TariffEventService::Stub> events_;
  std::unique_ptr<v1::AlertService::Stub> alerts_;
  std::unique_ptr<v1::TariffBookService::Stub> book_;
  std::vector<Row> rows_;
};

TEST_F(BadInputE2eTest, EveryBadInputIsRefusedNamingTheFieldAndLeavesNoTrace) {
  // A live stream on the same channel: it must see no alert from any of
  // these, and must survive them all.
  StreamClient stream(channel_, v1::SubscribeAlertsRequest());
  ASSERT_TRUE(stream.WaitForHeartbeat());
  const uint64_t revision = BookRevision();
  std::vector<std::string> refused_ids;
  const auto invalid = grpc::StatusCode::INVALID_ARGUMENT;

  // Numbers.
  struct RateCase {
    const char* name;
    double rate;
    const char* message;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const RateCase& c : {
           RateCase{"NaN rate", std::nan(""), "must be a finite number"},
           RateCase{"+Inf rate", inf, "must be a finite number"},
           RateCase{"-Inf rate", -inf, "must be a finite number"},
           RateCase{"negative rate", -5, "-5 is negative"},
           RateCase{"rate 10,000%", 10000, "10000 is above 1000"},
       }) {
    v1::TariffEvent e =
        GoodEvent(absl::StrCat("bad-rate-", refused_ids.size()));
    e.set_new_rate_pct(c.rate);
    refused_ids.push_back(e.event_id());
    grpc::Status s = Publish(e);
    Expect(c.name, s, invalid, "event.new_rate_pct: ");
    EXPECT_THAT(s.error_message(), HasSubstr(c.message));
  }
  {
    v1::TariffEvent e = GoodEvent("bad-probability");
    e.set_probability(1.5);
    Expect("probability 1.5", Publish(e), invalid, "event.probability: ");
  }
  {
    v1::TariffEvent e = GoodEvent("bad-previous-nan");
    e.set_previous_rate_pct(std::nan(""));
    Expect("previous_rate_pct NaN", Publish(e), invalid,
           "event.previous_rate_pct: ");
  }

  // Countries and HS codes.
  {
    v1::TariffEvent e = GoodEvent("bad-country");
    e.set_target_countries(0, "QQ");
    Expect("unknown target country QQ", Publish(e), invalid,
           "event.target_countries[0]: 'QQ' is not");
    e.set_target_countries(0, "CN");
    e.add_target_countries("CN");
    Expect("duplicate target country CN, CN", Publish(e), invalid,
           "event.target_countries[1]: CN repeats");
    e.clear_target_countries();
    e.add_target_countries("DE");
    e.add_target_countries("EU");
    Expect("overlapping target countries DE, EU", Publish(e), invalid,
           "event.target_countries[1]: EU repeats or overlaps");
    e = GoodEvent("bad-importer");
    e.set_imposing_country("XX");
    Expect("unknown imposing country XX", Publish(e), invalid,
           "event.imposing_country: 'XX' is not");
    e.set_imposing_country(std::string(5000, 'Z'));
    grpc::Status s = Publish(e);
    Expect("5,000-byte imposing country", s, invalid,
           "event.imposing_country: 'ZZZZ");
    EXPECT_THAT(s.error_message(), HasSubstr("(5000 bytes)"));
    e = GoodEvent("bad-self");
    e.set_target_countries(0, "US");
    Expect("target is the importer", Publish(e), invalid,
           "event.target_countries[0]: US is in the imposing country's own");
  }
  for (const char* code : {"8", "ABCD", "123456", "98", "00", "87.03"}) {
    v1::TariffEvent e = GoodEvent(absl::StrCat("bad-hs-", code));
    e.add_product_codes(code);
    Expect(absl::StrCat("HS code '", code, "'"), Publish(e), invalid,
           absl::StrCat("event.product_codes[0]: '", code, "' is not"));
  }
  {
    v1::TariffEvent e = GoodEvent("bad-hs-overlap");
    e.add_product_codes("87");
    e.add_product_codes("8703");
    Expect("HS codes 87, 8703 overlap", Publish(e), invalid,
           "event.product_codes[1]: 8703 repeats or overlaps");
  }

  // Invalid UTF-8 in every string field of the event, sent as raw bytes;
  // protobuf's complaint about each goes to the debug log, not stderr.
  ::testing::internal::CaptureStderr();
  struct Utf8Case {
    const char* field;
    std::function<void(v1::TariffEvent&)> set;
  };
  for (const Utf8Case& c : std::vector<Utf8Case>{
           {"event_id", [](v1::TariffEvent& e) { e.set_event_id(kMarker); }},
           {"imposing_country",
            [](v1::TariffEvent& e) { e.set_imposing_country(kMarker); }},
           {"target_countries[1]",
            [](v1::TariffEvent& e) { e.add_target_countries(kMarker); }},
           {"product_codes[0]",
            [](v1::TariffEvent& e) { e.add_product_codes(kMarker); }},
           {"measure_id",
            [](v1::TariffEvent& e) { e.set_measure_id(kMarker); }},
           {"headline", [](v1::TariffEvent& e) { e.set_headline(kMarker); }},
           {"source_url",
            [](v1::TariffEvent& e) { e.set_source_url(kMarker); }},
           {"excluded_product_codes[0]",
            [](v1::TariffEvent& e) { e.add_excluded_product_codes(kMarker); }},
           {"excluded_target_countries[0]",
            [](v1::TariffEvent& e) {
              e.clear_target_countries();
              e.add_excluded_target_countries(kMarker);
            }},
       }) {
    v1::PublishEventRequest request;
    *request.mutable_event() = GoodEvent(absl::StrCat("bad-utf8-", c.field));
    c.set(*request.mutable_event());
    refused_ids.push_back(request.event().event_id());
    Expect(absl::StrCat("invalid UTF-8 in event.", c.field),
           CallRaw("/tariffalert.v1.TariffEventService/PublishEvent", request),
           invalid, absl::StrCat("event.", c.field, ": not valid UTF-8"));
  }
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              ::testing::Not(HasSubstr("libprotobuf")));
  {
    v1::GetEventRequest request;
    request.set_event_id(kMarker);
    Expect("GetEvent: invalid UTF-8 event_id",
           CallRaw("/tariffalert.v1.TariffEventService/GetEvent", request),
           invalid, "event_id: not valid UTF-8");
    v1::GetTariffRequest tariff;
    tariff.set_imposing_country("US");
    tariff.set_exporting_country(kMarker);
    Expect("GetTariff: invalid UTF-8 exporting_country",
           CallRaw("/tariffalert.v1.TariffBookService/GetTariff", tariff),
           invalid, "exporting_country: not valid UTF-8");
    v1::ScoreScenarioRequest scenario;
    *scenario.add_events() = GoodEvent("s-1");
    *scenario.add_events() = GoodEvent("s-2");
    scenario.mutable_events(1)->set_headline(kMarker);
    Expect("ScoreScenario: invalid UTF-8 events[1].headline",
           CallRaw("/tariffalert.v1.TariffBookService/ScoreScenario", scenario),
           invalid, "events[1].headline: not valid UTF-8");
    v1::ListAlertsRequest list;
    list.mutable_filter()->add_tickers("AAPL");
    list.mutable_filter()->add_tickers(kMarker);
    Expect("ListAlerts: invalid UTF-8 filter.tickers[1]",
           CallRaw("/tariffalert.v1.AlertService/ListAlerts", list), invalid,
           "filter.tickers[1]: not valid UTF-8");
    v1::SubscribeAlertsRequest subscribe;
    subscribe.mutable_filter()->add_sectors(kMarker);
    // A server stream, sent raw: its first message is the status.
    std::string bytes = absl::StrReplaceAll(subscribe.SerializeAsString(),
                                            {{kMarker, kInvalidUtf8}});
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::GenericStub stub(channel_);
    grpc::CompletionQueue cq;
    auto call = stub.PrepareUnaryCall(
        &context, "/tariffalert.v1.AlertService/SubscribeAlerts", buffer, &cq);
    call->StartCall();
    grpc::ByteBuffer response;
    grpc::Status status;
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    Expect("SubscribeAlerts: invalid UTF-8 filter.sectors[0]", status, invalid,
           "filter.sectors[0]: not valid UTF-8");
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }

  // Ids.
  {
    v1::TariffEvent e = GoodEvent("");
    Expect("empty event_id", Publish(e), invalid,
           "event.event_id: must not be empty");
    e.set_event_id(std::string(10000, 'x'));
    Expect("10,000-byte event_id", Publish(e), invalid,
           "event.event_id: 10000 bytes, longer than 128");
    e.set_event_id("has space");
    Expect("event_id with a space", Publish(e), invalid, "event.event_id: ");
    e = GoodEvent("bad-measure-long");
    e.set_measure_id(std::string(300, 'm'));
    Expect("300-byte measure_id", Publish(e), invalid,
           "event.measure_id: 300 bytes, longer than 64");
    e.set_measure_id("us cn/x");
    Expect("measure_id with '/'", Publish(e), invalid, "event.measure_id: ");
    Expect("GetEvent: empty event_id", GetEvent(""), invalid,
           "event_id: must not be empty");
    // Echoed whole, this id made trailers past the client's metadata limit
    // (RESOURCE_EXHAUSTED, and the channel's other streams died with it).
    Expect("GetEvent: 10,000-byte event_id", GetEvent(std::string(10000, 'y')),
           invalid, "event_id: 10000 bytes, longer than 128");
    grpc::Status s = GetEvent(std::string(128, 'z'));
    Expect("GetEvent: unknown 128-byte event_id", s,
           grpc::StatusCode::NOT_FOUND, "event_id: 'zzzz");
    EXPECT_THAT(s.error_message(), HasSubstr("(128 bytes)"));
  }

  // Dates.
  {
    v1::TariffEvent e = GoodEvent("bad-date-1900");
    e.mutable_effective_time()->set_seconds(-2208988800);  // 1900-01-01
    Expect("effective_time 1900", Publish(e), invalid,
           "event.effective_time: 1900-01-01T00:00:00Z is outside the years "
           "1930-2100");
    e = GoodEvent("bad-date-9999");
    e.mutable_effective_time()->set_seconds(253402214400);  // 9999-12-31
    Expect("effective_time 9999", Publish(e), invalid,
           "event.effective_time: 9999-12-31T00:00:00Z is outside");
    e = GoodEvent("bad-date-announced-9999");
    e.set_stage(v1::STAGE_ANNOUNCED);
    e.mutable_announced_time()->set_seconds(253402214400);
    Expect("announced_time 9999 (ANNOUNCED)", Publish(e), invalid,
           "event.announced_time: 9999-12-31T00:00:00Z is outside");
    e = GoodEvent("bad-date-next-year");
    e.mutable_effective_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 365)));
    grpc::Status s = Publish(e);
    Expect("EFFECTIVE dated a year ahead", s,
           grpc::StatusCode::FAILED_PRECONDITION, "event.effective_time: ");
    EXPECT_THAT(s.error_message(), HasSubstr("publish it as STAGE_ANNOUNCED"));
    e = GoodEvent("bad-date-expiry-2090");
    e.set_stage(v1::STAGE_PAUSED);
    e.set_new_rate_pct(10);
    e.set_snap_back_rate_pct(34);
    e.mutable_expires_time()->set_seconds(3786912000);  // 2090-01-01
    Expect("pause expiring in 2090", Publish(e), invalid,
           "event.expires_time: 2090-01-01T00:00:00Z is more than");
    e.mutable_expires_time()->set_seconds(-1);
    e.mutable_expires_time()->set_nanos(-5);
    Expect("expires_time with negative nanos", Publish(e), invalid,
           "event.expires_time: is not a valid timestamp");
    for (const char* id : {"bad-date-1900", "bad-date-9999",
                           "bad-date-next-year", "bad-date-expiry-2090"}) {
      refused_ids.push_back(id);
    }
  }

  // Sizes.
  {
    v1::SubscribeAlertsRequest subscribe;
    for (int i = 0; i < 100000; ++i) {
      subscribe.mutable_filter()->add_tickers(absl::StrCat("T", i));
    }
    StreamClient big(channel_, subscribe);
    ASSERT_TRUE(big.WaitForEnd());
    Expect("SubscribeAlerts: 100,000-ticker filter", big.status(), invalid,
           "filter.tickers: 100000 entries, the limit is 5000 "
           "(--max-filter-entries)");
    v1::SubscribeAlertsRequest held;
    for (int i = 0; i < 6000; ++i) {
      v1::Holding* h = held.add_holdings();
      h->set_ticker(absl::StrCat("T", i));
      h->set_position_value(1000);
    }
    StreamClient portfolio(channel_, held);
    ASSERT_TRUE(portfolio.WaitForEnd());
    Expect("SubscribeAlerts: 6,000 holdings", portfolio.status(), invalid,
           "holdings: 6000 entries, the limit is 5000 (--max-holdings)");
    v1::ListAlertsRequest list;
    *list.mutable_filter() = subscribe.filter();
    v1::ListAlertsResponse page;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    Expect("ListAlerts: 100,000-ticker filter",
           alerts_->ListAlerts(&context, list, &page), invalid,
           "filter.tickers: 100000 entries, the limit is 5000");
    v1::ScoreScenarioRequest scenario;
    *scenario.add_events() = GoodEvent("s-1");
    for (int i = 0; i < 6000; ++i) {
      v1::Holding* h = scenario.add_holdings();
      h->set_ticker(absl::StrCat("T", i));
      h->set_position_value(1000);
    }
    v1::ScoreScenarioResponse scored;
    grpc::ClientContext scenario_context;
    scenario_context.set_deadline(Deadline());
    Expect("ScoreScenario: 6,000 holdings",
           book_->ScoreScenario(&scenario_context, scenario, &scored), invalid,
           "holdings: 6000 entries, the limit is 5000 (--max-holdings)");
    v1::TariffEvent e = GoodEvent("bad-2mib");
    e.set_headline(std::string(2 << 20, 'h'));
    Expect("2 MiB PublishEvent", Publish(e),
           grpc::StatusCode::RESOURCE_EXHAUSTED, "", /*prefix=*/false);
    e.set_headline(std::string(600, 'h'));
    Expect("600-byte headline", Publish(e), invalid,
           "event.headline: 600 bytes, longer than 512");
  }

  // Nothing of any of it: no alert, nothing logged, the book unchanged, no
  // event found; the stream is still up.
  EXPECT_EQ(BookRevision(), revision);
  for (const std::string& id : refused_ids) {
    if (id.empty() || id.size() > 128) continue;
    if (id.find(' ') != std::string::npos) continue;
    EXPECT_EQ(GetEvent(id).error_code(), grpc::StatusCode::NOT_FOUND) << id;
  }
  {
    v1::ListAlertsRequest list;
    v1::ListAlertsResponse page;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    ASSERT_TRUE(alerts_->ListAlerts(&context, list, &page).ok());
    EXPECT_EQ(page.alerts_size(), 0);
  }
  EXPECT_TRUE(stream.alerts().empty());

  // And the server still serves: a good event publishes and is streamed.
  v1::PublishEventResponse published;
  grpc::Status s = Publish(GoodEvent("good-after-bad"), &published);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(published.alert_count(), 0u);
  EXPECT_EQ(published.book_revision(), revision + 1);
  ASSERT_TRUE(stream.WaitForAlertCount(published.alert_count()));
  for (const v1::Alert& a : stream.alerts()) {
    EXPECT_EQ(a.event_id(), "good-after-bad");
  }
  EXPECT_TRUE(GetEvent("good-after-bad").ok());
}

}  // namespace
}  // namespace tariffalert
