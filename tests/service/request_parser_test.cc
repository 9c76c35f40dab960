// The request parser apart from gRPC's transport: which field a bad request
// names, and what counts as UTF-8.

#include "server/service/request_parser.h"

#include <string>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "server/common/quote.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tariffalert/v1/tariff_book_service.pb.h"
#include "tariffalert/v1/tariff_event_service.pb.h"

namespace tariffalert {
namespace {

// Same length as kBad, so that no length prefix changes.
constexpr char kMarker[] = "@MK@";
constexpr char kBad[] = "a\xC0\x80z";  // an overlong NUL

std::string Spoiled(const google::protobuf::Message& m) {
  return absl::StrReplaceAll(m.SerializeAsString(), {{kMarker, kBad}});
}

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

TEST(IsValidUtf8Test, AcceptsTextAndRefusesWhatProtobufRefuses) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII"));
  EXPECT_TRUE(IsValidUtf8("Zölle \xE2\x82\xAC \xF0\x9F\x93\x88"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("bad \xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // cut short
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a lone continuation
}

TEST(FindInvalidUtf8FieldTest, NamesTheFieldPathWithIndexes) {
  v1::ScoreScenarioRequest r;
  r.add_events()->set_event_id("a");
  v1::TariffEvent* e = r.add_events();
  e->add_target_countries("CN");
  e->add_target_countries("MX");
  e->add_target_countries(kMarker);
  EXPECT_EQ(FindInvalidUtf8Field(Spoiled(r), *r.GetDescriptor()),
            "events[1].target_countries[2]");
  r.mutable_events(1)->clear_target_countries();
  r.add_holdings()->set_ticker("AAPL");
  r.add_holdings()->set_ticker(kMarker);
  EXPECT_EQ(FindInvalidUtf8Field(Spoiled(r), *r.GetDescriptor()),
            "holdings[1].ticker");
  r.mutable_holdings(1)->set_ticker("NVDA");
  EXPECT_EQ(FindInvalidUtf8Field(r.SerializeAsString(), *r.GetDescriptor()),
            "");
}

TEST(ParseMessageTest, ParsesGoodBytesAndNamesTheBadField) {
  v1::PublishEventRequest r;
  r.mutable_event()->set_event_id("e1");
  v1::PublishEventRequest out;
  EXPECT_TRUE(ParseMessage(Buffer(r.SerializeAsString()), &out).ok());
  EXPECT_EQ(out.event().event_id(), "e1");

  r.mutable_event()->set_headline(kMarker);
  absl::Status s = ParseMessage(Buffer(Spoiled(r)), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "event.headline: not valid UTF-8 (a string field must be; send "
            "text, not raw bytes)");

  s = ParseMessage(Buffer("\x0a\xff\xff\xff"), &out);  // a length past the end
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "request: not a valid tariffalert.v1.PublishEventRequest");
}

TEST(QuoteForErrorTest, EscapesAndCutsLongInput) {
  EXPECT_EQ(QuoteForError("QQ"), "'QQ'");
  EXPECT_EQ(QuoteForError("a'b\n\xff"), "'a\\'b\\n\\xff'");
  EXPECT_EQ(QuoteForError(std::string(100, 'x'), 4),
            "'xxxx\xE2\x80\xA6' (100 bytes)");
  EXPECT_LT(QuoteForError(std::string(1 << 20, '\xff')).size(), 300u);
}

}  // namespace
}  // namespace tariffalert
