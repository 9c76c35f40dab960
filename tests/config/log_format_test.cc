// The logger's two formats, structured fields and JSON string escaping.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/log.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class LogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSinkForTesting(&lines_); }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    SetLogFormat(LogFormat::kText);
    SetMinLogLevel(LogLevel::kInfo);
  }
  std::string lines_;
};

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonStringLiteral("plain"), "\"plain\"");
  EXPECT_EQ(JsonStringLiteral("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonStringLiteral("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonStringLiteral(std::string("\x01\x1f\x7f", 3)),
            "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(JsonStringLiteral(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonQuoteTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonStringLiteral("Zoll \xC3\xBC \xE2\x82\xAC \xF0\x9F\x9A\xA2"),
            "\"Zoll \xC3\xBC \xE2\x82\xAC \xF0\x9F\x9A\xA2\"");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(JsonStringLiteral("a\xFF"
                              "b"),
            "\"a" + fffd + "b\"");
  // A truncated sequence, an overlong '/', a surrogate, above U+10FFFF.
  EXPECT_EQ(JsonStringLiteral("\xE2\x82"), "\"" + fffd + fffd + "\"");
  EXPECT_EQ(JsonStringLiteral("\xC0\xAF"), "\"" + fffd + fffd + "\"");
  EXPECT_EQ(JsonStringLiteral("\xED\xA0\x80"),
            "\"" + fffd + fffd + fffd + "\"");
  EXPECT_EQ(JsonStringLiteral("\xF4\x90\x80\x80"),
            "\"" + fffd + fffd + fffd + fffd + "\"");
}

TEST_F(LogFormatTest, ApplyLogFlagsSetsBothOrNamesTheBadLevel) {
  ASSERT_TRUE(ApplyLogFlags("warning", "json").ok());
  EXPECT_EQ(MinLogLevel(), LogLevel::kWarning);
  EXPECT_EQ(GetLogFormat(), LogFormat::kJson);
  TA_LOG(INFO) << "below the level";
  EXPECT_EQ(lines_, "");

  const absl::Status bad =
      ApplyLogFlags("loud", "text", "tariff-alertd.yaml:3: ");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "tariff-alertd.yaml:3: --log-level: 'loud' is not debug, info, "
            "warning or error");
  // Nothing changed by the refused flags.
  EXPECT_EQ(MinLogLevel(), LogLevel::kWarning);
  EXPECT_EQ(GetLogFormat(), LogFormat::kJson);
}

TEST_F(LogFormatTest, TextIsUnchangedAndAppendsFields) {
  TA_LOG(INFO) << "loaded exposure version " << 7;
  EXPECT_THAT(lines_,
              MatchesRegex("I [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z "
                           "log_format_test\\.cc:[0-9]+\\] loaded exposure "
                           "version 7\n"));
  lines_.clear();
  TA_LOG(WARNING).With("event_id", "ev 1").With("sequence", 42) << "published";
  EXPECT_THAT(lines_, HasSubstr("] published event_id=\"ev 1\" sequence=42\n"));
}

TEST_F(LogFormatTest, JsonIsOneObjectPerLine) {
  SetLogFormat(LogFormat::kJson);
  TA_LOG(INFO)
          .With("event_id", "ev-1")
          .With("sequence", uint64_t{42})
          .With("token", "ingest-bot")
          .With("duration_ms", 1.5)
          .With("ok", true)
      << "published \"x\"\n";
  EXPECT_THAT(
      lines_,
      MatchesRegex("\\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]"
                   "{3}Z\",\"level\":\"info\",\"message\":\"published "
                   "\\\\\"x\\\\\"\\\\n\",\"source\":\"log_format_test\\.cc:"
                   "[0-9]+\",\"event_id\":\"ev-1\",\"sequence\":42,\"token\":"
                   "\"ingest-bot\",\"duration_ms\":1\\.5,\"ok\":true\\}\n"));
}

TEST_F(LogFormatTest, LevelsBelowTheMinimumAreDropped) {
  SetLogFormat(LogFormat::kJson);
  TA_LOG(DEBUG) << "hidden";
  EXPECT_EQ(lines_, "");
  TA_LOG_AT(LogLevel::kDebug) << "hidden too";
  EXPECT_EQ(lines_, "");
  TA_LOG_AT(LogLevel::kError) << "shown";
  EXPECT_THAT(lines_, HasSubstr("\"level\":\"error\""));
}

TEST(ParseLogFormatTest, TextOrJson) {
  LogFormat f;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

}  // namespace
}  // namespace tariffalert
