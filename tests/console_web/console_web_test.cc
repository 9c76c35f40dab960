// The gateway's pure parts without a server: the CSRF token, the SSE framing,
// the resume point, the allow-list, the JSON mapping and the status table.

#include <gtest/gtest.h>

#include "server/console_web/csrf.h"
#include "server/console_web/event_streams.h"
#include "server/console_web/forwarded_methods.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert {
namespace {

TEST(CsrfKeyTest, TokenIsTheHexHmacSha256OfTheSessionToken) {
  auto key = CsrfKey::FromBytes(std::string(32, 'k'));
  ASSERT_TRUE(key.ok());
  const std::string token = key->TokenFor("session-token");
  // openssl dgst -sha256 -hmac kkkk...k (32 k) of "session-token".
  EXPECT_EQ(token,
            "182e882d4260020be11dc7083473da1ec407173ecb5df1baa5c53fa4ecabb77a");
  EXPECT_EQ(token, key->TokenFor("session-token"));
  EXPECT_NE(token, key->TokenFor("session-tokem"));
  EXPECT_TRUE(key->Matches("session-token", token));
  EXPECT_FALSE(key->Matches("session-token", token.substr(1)));
  EXPECT_FALSE(key->Matches("session-token", ""));
  EXPECT_FALSE(key->Matches("other", token));
}

TEST(CsrfKeyTest, ShortKeysAreRefusedWithoutShowingThem) {
  auto key = CsrfKey::FromBytes("secret-but-short");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().message().find("secret"), std::string::npos);
}

TEST(CsrfKeyTest, RandomKeysDiffer) {
  auto a = CsrfKey::Random();
  auto b = CsrfKey::Random();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->TokenFor("t"), b->TokenFor("t"));
}

TEST(ConstantTimeEqualsTest, ComparesLengthAndBytes) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(SseEventTest, HasAnIdLineOnlyWhenGiven) {
  EXPECT_EQ(SseEvent("alert", "{}", 7), "event: alert\nid: 7\ndata: {}\n\n");
  EXPECT_EQ(SseEvent("heartbeat", "{}"), "event: heartbeat\ndata: {}\n\n");
}

TEST(SseEventTest, EndCarriesTheCodeNameAndAnEscapedMessage) {
  EXPECT_EQ(
      EndEventData(grpc::Status(grpc::StatusCode::UNAVAILABLE, "a \"b\"\nc")),
      "{\"code\":\"UNAVAILABLE\",\"message\":\"a \\\"b\\\"\\nc\"}");
}

TEST(ParseResumePointTest, LastEventIdWinsOverAfter) {
  auto r = ParseResumePoint("12", true, "5", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::optional<uint64_t>(12));
  r = ParseResumePoint("", false, "5", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::optional<uint64_t>(5));
  r = ParseResumePoint("", false, "", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
}

TEST(ParseResumePointTest, NonDigitsAreInvalidAndNamed) {
  for (const char* bad : {"-1", "1e3", " 1", "x", "99999999999999999999999"}) {
    auto r = ParseResumePoint(bad, true, "", false);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("Last-Event-ID"), std::string::npos);
  }
  auto r = ParseResumePoint("", false, "x", true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("after"), std::string::npos);
}

TEST(ForwardedMethodsTest, OnlyTheContractsMethods) {
  EXPECT_NE(FindForwardedMethod("ConsoleService", "GetSession"), nullptr);
  EXPECT_NE(FindForwardedMethod("AlertService", "ListAlerts"), nullptr);
  EXPECT_NE(FindForwardedMethod("TariffBookService", "ScoreScenario"), nullptr);
  EXPECT_EQ(FindForwardedMethod("TariffEventService", "PublishEvent"), nullptr);
  EXPECT_EQ(FindForwardedMethod("AlertService", "SubscribeAlerts"), nullptr);
  EXPECT_EQ(FindForwardedMethod("ConsoleService", "WatchConsoleState"),
            nullptr);
  EXPECT_FALSE(
      FindForwardedMethod("ConsoleService", "CreateSilence")->read_only);
  EXPECT_TRUE(
      FindForwardedMethod("ConsoleService", "GetConsoleState")->read_only);
}

TEST(JsonTest, UnknownFieldsAreErrorsNamingThem) {
  v1::ListAlertsRequest request;
  const absl::Status s = JsonToMessage("{\"pagesize\": 3}", &request);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pagesize"), std::string::npos);
  ASSERT_TRUE(
      JsonToMessage("{\"page_size\": 3, \"filter\": {\"tickers\": [\"AAPL\"]}}",
                    &request)
          .ok());
  EXPECT_EQ(request.page_size(), 3u);
}

TEST(JsonTest, PrintsProtoNamesAndEveryFieldOnOneLine) {
  v1::ListAlertsResponse response;
  response.set_oldest_sequence(5);
  const std::string json = MessageToJson(response);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(json.find("\"next_page_token\":\"\""), std::string::npos);
  EXPECT_NE(json.find("\"alerts\":[]"), std::string::npos);
  EXPECT_NE(json.find("\"oldest_sequence\":\"5\""), std::string::npos);
}

TEST(HttpStatusForTest, FollowsTheContract) {
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::OUT_OF_RANGE), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::ABORTED), 409);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::FAILED_PRECONDITION), 412);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INTERNAL), 500);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNIMPLEMENTED), 500);
}

}  // namespace
}  // namespace tariffalert
