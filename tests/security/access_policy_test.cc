#include "server/security/access_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPublish[] = "/tariffalert.v1.TariffEventService/PublishEvent";
constexpr char kSubscribe[] = "/tariffalert.v1.AlertService/SubscribeAlerts";
constexpr char kReflection[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
constexpr char kHealth[] = "/grpc.health.v1.Health/Check";

TEST(RequiredRoleTest, EveryMethodOfTheApiHasItsRole) {
  EXPECT_EQ(RequiredRole(kPublish, false), kRolePublisher);
  for (const char* m : {"/tariffalert.v1.TariffEventService/GetEvent",
                        kSubscribe, "/tariffalert.v1.AlertService/ListAlerts",
                        "/tariffalert.v1.TariffBookService/GetTariff",
                        "/tariffalert.v1.TariffBookService/ScoreScenario"}) {
    EXPECT_EQ(RequiredRole(m, false), kRoleSubscriber) << m;
  }
  EXPECT_EQ(RequiredRole(kHealth, false), std::nullopt);
  EXPECT_EQ(RequiredRole("/grpc.health.v1.Health/Watch", false), std::nullopt);
  EXPECT_EQ(RequiredRole(kReflection, false), kRoleAdmin);
  EXPECT_EQ(RequiredRole(kReflection, true), std::nullopt);
  // A method nobody listed needs admin: a new RPC is never open by mistake.
  EXPECT_EQ(
      RequiredRole("/tariffalert.v1.AlertService/AcknowledgeAlert", false),
      kRoleAdmin);
  EXPECT_EQ(RequiredRole("", false), kRoleAdmin);
}

class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path =
        absl::StrCat(::testing::TempDir(), "/access-policy-tokens.txt");
    std::ofstream(path, std::ios::trunc)
        << TokensFileLine("feed", kRolePublisher, "pub-token") << "\n"
        << TokensFileLine("desk1", kRoleSubscriber, "sub-token") << "\n"
        << TokensFileLine("ops", kRoleAdmin, "admin-token") << "\n"
        << TokensFileLine("risk1", kRoleAnalyst, "analyst-token") << "\n"
        << TokensFileLine("bound", kRoleSubscriber, "bound-token",
                          "CN=desk1,O=Desk")
        << "\n";
    auto store = TokenStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    tokens_ = *std::move(store);
  }

  absl::StatusOr<CallIdentity> Call(const char* method,
                                    std::optional<std::string> header,
                                    const std::string& subject = "") {
    std::optional<absl::string_view> view;
    if (header.has_value()) view = *header;
    return Authorize(method, view, subject, *tokens_, false);
  }

  std::unique_ptr<TokenStore> tokens_;
};

TEST_F(AuthorizeTest, ARoleGrantsItsMethodsAndAdminGrantsAll) {
  auto pub = Call(kPublish, "Bearer pub-token");
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->token_name, "feed");
  EXPECT_TRUE(Call(kSubscribe, "Bearer sub-token").ok());
  EXPECT_TRUE(Call(kPublish, "Bearer admin-token").ok());
  EXPECT_TRUE(Call(kSubscribe, "bearer admin-token").ok());
  EXPECT_TRUE(Call(kReflection, "Bearer admin-token").ok());
  // Health needs nothing.
  auto health = Call(kHealth, std::nullopt);
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->token_name, "");
}

TEST_F(AuthorizeTest, AnalystsChangeTheConsoleAndReadWhatSubscribersRead) {
  constexpr char kAck[] = "/tariffalert.v1.ConsoleService/AcknowledgeAlert";
  constexpr char kSilence[] = "/tariffalert.v1.ConsoleService/CreateSilence";
  constexpr char kState[] = "/tariffalert.v1.ConsoleService/GetConsoleState";
  constexpr char kSession[] = "/tariffalert.v1.ConsoleService/GetSession";
  for (const char* m : {kAck, kSilence}) {
    EXPECT_TRUE(Call(m, "Bearer analyst-token").ok()) << m;
    EXPECT_TRUE(Call(m, "Bearer admin-token").ok()) << m;
    auto sub = Call(m, "Bearer sub-token");
    EXPECT_EQ(sub.status().code(), absl::StatusCode::kPermissionDenied) << m;
    EXPECT_THAT(std::string(sub.status().message()), HasSubstr("'analyst'"));
  }
  EXPECT_TRUE(Call(kState, "Bearer analyst-token").ok());
  EXPECT_TRUE(Call(kSubscribe, "Bearer analyst-token").ok());
  EXPECT_TRUE(Call(kState, "Bearer sub-token").ok());
  EXPECT_EQ(Call(kState, "Bearer pub-token").status().code(),
            absl::StatusCode::kPermissionDenied);
  // An analyst does not publish.
  EXPECT_EQ(Call(kPublish, "Bearer analyst-token").status().code(),
            absl::StatusCode::kPermissionDenied);
  // Any valid token may ask who it is; an unknown one may not.
  for (const char* t : {"Bearer pub-token", "Bearer sub-token",
                        "Bearer analyst-token", "Bearer admin-token"}) {
    EXPECT_TRUE(Call(kSession, t).ok()) << t;
  }
  EXPECT_EQ(Call(kSession, "Bearer nope").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizeTest, MissingOrUnknownTokensAreUnauthenticated) {
  for (const auto& header : std::vector<std::optional<std::string>>{
           std::nullopt, "Bearer nope", "pub-token", "Basic pub-token",
           "Bearer "}) {
    auto r = Call(kPublish, header);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated)
        << header.value_or("(none)");
    EXPECT_THAT(r.status().message(), Not(HasSubstr("pub-token")));
  }
}

TEST_F(AuthorizeTest, AWrongRoleIsDeniedNamingTheRoleNotTheToken) {
  auto r = Call(kPublish, "Bearer sub-token");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("needs the role 'publisher'"));
  EXPECT_THAT(r.status().message(), HasSubstr("'desk1'"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("sub-token")));
  auto reflection = Call(kReflection, "Bearer sub-token");
  EXPECT_EQ(reflection.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Call(kSubscribe, "Bearer pub-token").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizeTest, ABoundTokenNeedsItsCertificateSubject) {
  EXPECT_TRUE(Call(kSubscribe, "Bearer bound-token", "CN=desk1,O=Desk").ok());
  auto other = Call(kSubscribe, "Bearer bound-token", "CN=desk2,O=Desk");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(other.status().message(), HasSubstr("bound to a client"));
  auto none = Call(kSubscribe, "Bearer bound-token");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizeTest, AHugeMethodNameIsNotEchoedWhole) {
  const std::string method = "/" + std::string(10000, 'x');
  auto r = Authorize(method, std::optional<absl::string_view>(), "", *tokens_,
                     false);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 300u);
}

}  // namespace
}  // namespace tariffalert
