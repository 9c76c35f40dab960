#include "server/security/tokens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHashOfAbc[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Sha256Test, MatchesTheStandardTestVector) {
  EXPECT_EQ(HexDigest(Sha256("abc")), kHashOfAbc);
}

TEST(ParseRolesTest, TakesAListAndNamesAnUnknownRole) {
  auto roles = ParseRoles("publisher,subscriber");
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(*roles, kRolePublisher | kRoleSubscriber);
  EXPECT_EQ(RolesText(*roles), "publisher,subscriber");
  auto bad = ParseRoles("subscriber,root");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown role 'root'"));
}

TEST(ParseTokensFileTest, ReadsNamesRolesHashesAndSubjects) {
  const std::string text =
      absl::StrCat("# a comment\n\n", "desk1 subscriber ", kHashOfAbc, "\r\n",
                   "ops admin sha256:", std::string(64, 'a'),
                   " subject=CN=ops, O=Trading Desk\n");
  auto entries = ParseTokensFile(text, "tokens.txt");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "desk1");
  EXPECT_EQ((*entries)[0].roles, kRoleSubscriber);
  EXPECT_EQ(HexDigest((*entries)[0].sha256), kHashOfAbc);
  EXPECT_EQ((*entries)[0].cert_subject, "");
  EXPECT_EQ((*entries)[1].roles, kRoleAdmin);
  EXPECT_EQ((*entries)[1].cert_subject, "CN=ops, O=Trading Desk");
}

TEST(ParseTokensFileTest, ErrorsNameFileAndLine) {
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"desk1 subscriber\n", "tokens.txt:1: expected 'name roles"},
      {absl::StrCat("\ndesk1 reader ", kHashOfAbc, "\n"),
       "tokens.txt:2: roles: unknown role 'reader'"},
      {"desk1 subscriber abc\n", "tokens.txt:1: sha256: expected the 64 hex"},
      {absl::StrCat("desk1 subscriber ", std::string(63, 'a'), "g\n"),
       "tokens.txt:1: sha256"},
      {absl::StrCat("desk/1 subscriber ", kHashOfAbc, "\n"),
       "tokens.txt:1: name:"},
      {absl::StrCat("a subscriber ", kHashOfAbc, "\na admin ",
                    std::string(64, 'b'), "\n"),
       "tokens.txt:2: name 'a' appears twice"},
      {absl::StrCat("a subscriber ", kHashOfAbc, "\nb admin ", kHashOfAbc,
                    "\n"),
       "tokens.txt:2: token of 'b' has the same hash"},
      {absl::StrCat("a subscriber ", kHashOfAbc, " subject=\n"),
       "tokens.txt:1: subject= is empty"},
  };
  for (const Case& c : cases) {
    auto entries = ParseTokensFile(c.text, "tokens.txt");
    ASSERT_FALSE(entries.ok()) << c.text;
    EXPECT_THAT(entries.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(NewTokenTest, IsRandomPrintableAndHashesToItsLine) {
  auto a = NewToken();
  auto b = NewToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("ta_", 0), 0u);
  EXPECT_GE(a->size(), 40u);
  for (char c : *a) EXPECT_TRUE(c > 0x20 && c < 0x7f) << *a;
  const std::string line = TokensFileLine("desk1", kRoleSubscriber, *a);
  EXPECT_THAT(line, Not(HasSubstr(*a)));
  auto parsed = ParseTokensFile(line, "line");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)[0].sha256, Sha256(*a));
}

class TokenStoreTest : public ::testing::Test {
 protected:
  void Write(const std::string& text) {
    std::ofstream(path_, std::ios::trunc) << text;
  }
  std::string path_ = absl::StrCat(
      ::testing::TempDir(), "/tokens-",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".txt");
};

TEST_F(TokenStoreTest, FindsKnownTokensOnlyAndKeepsOldTokensOnABadFile) {
  Write(TokensFileLine("desk1", kRoleSubscriber, "secret-1") + "\n" +
        TokensFileLine("feed", kRolePublisher, "secret-2") + "\n");
  auto store = TokenStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NE((*store)->Find("secret-1"), nullptr);
  EXPECT_EQ((*store)->Find("secret-1")->name, "desk1");
  EXPECT_EQ((*store)->Find("secret-2")->name, "feed");
  EXPECT_EQ((*store)->Find("secret-3"), nullptr);
  EXPECT_EQ((*store)->Find(""), nullptr);

  EXPECT_TRUE((*store)->Contains(Sha256("secret-2")));

  // Revoke feed.
  Write(TokensFileLine("desk1", kRoleSubscriber, "secret-1") + "\n");
  bool changed = false;
  ASSERT_TRUE((*store)->Reload(/*force=*/true, &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ((*store)->Find("secret-2"), nullptr);
  EXPECT_FALSE((*store)->Contains(Sha256("secret-2")));
  EXPECT_TRUE((*store)->Contains(Sha256("secret-1")));

  // A broken file is refused naming its line, and desk1 still works.
  Write("desk1 subscriber\n");
  absl::Status bad = (*store)->Reload(/*force=*/true, &changed);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr(path_ + ":1:"));
  EXPECT_FALSE(changed);
  EXPECT_NE((*store)->Find("secret-1"), nullptr);
}

TEST_F(TokenStoreTest, OpenFailsNamingAMissingFile) {
  auto store = TokenStore::Open(path_ + ".missing");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(".missing"));
}

}  // namespace
}  // namespace tariffalert
