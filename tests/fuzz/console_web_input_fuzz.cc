// Fuzzes what the web console's gateway (server/console_web/) reads from a
// browser through the functions it exposes, and what it writes back to one:
// the first byte picks the part, by value % 6, the rest is its input:
//   0  resume point: 1 byte of flags (bit 0: a Last-Event-ID header, bit 1:
//      an ?after= parameter), then the header's value, '\n', the parameter's
//      (ParseResumePoint, event_streams.h)
//   1  a POST /api/rpc body: 1 byte picks one of the forwarded methods (or
//      the login body, a google.protobuf.Struct), the rest is its JSON
//      (FindForwardedMethod, JsonToMessage, MessageToJson; forwarded_methods.h)
//   2  CSRF: the gateway's key, '\n', a session token, '\n', an X-CSRF-Token
//      header (CsrfKey::FromBytes, TokenFor, Matches, ConstantTimeEquals;
//      csrf.h)
//   3  "Service/Method" of a POST /api/rpc path (FindForwardedMethod)
//   4  an error message from a server: 1 byte of gRPC code (% 17), then the
//      text
//      (ErrorJson, EndEventData, JsonStringLiteral, HttpStatusFor)
//   5  what a server streams to the page: 1 byte picks the message type, the
//      rest is its bytes (MessageToJson into SseEvent)
//
// Checks: a resume point is Last-Event-ID when given and not empty, else
// `after`, each a decimal uint64 of at most 20 digits exactly; a refusal
// names which. A body is
// accepted only for an allow-listed method, and its request prints as one
// line of JSON that parses back to the same request. The CSRF token is 64
// lowercase hex digits and only it matches. A path not on the list is not
// found. Every JSON the page gets is one line (an SSE data: line), and
// parses back.
//
// Not reached (inside gateway.cc, not exposed): the ta_session cookie's
// parsing (SessionToken, IsCarriableToken), the Origin check, the login
// body's token rules, and httplib's own request parsing.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/common/log.h"
#include "server/console_web/csrf.h"
#include "server/console_web/event_streams.h"
#include "server/console_web/forwarded_methods.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tariffalert/v1/console_service.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

namespace v1 = ::tariffalert::v1;
using google::protobuf::Message;

// The allow-list as docs/console.md gives it.
constexpr const char* kMethods[][2] = {
    {"ConsoleService", "GetSession"},
    {"ConsoleService", "GetConsoleState"},
    {"ConsoleService", "GetServerStatus"},
    {"ConsoleService", "AcknowledgeAlert"},
    {"ConsoleService", "AcknowledgeEvent"},
    {"ConsoleService", "DeleteAcknowledgement"},
    {"ConsoleService", "CreateSilence"},
    {"ConsoleService", "ExpireSilence"},
    {"AlertService", "ListAlerts"},
    {"TariffEventService", "GetEvent"},
    {"TariffBookService", "GetTariff"},
    {"TariffBookService", "ScoreScenario"},
};
constexpr size_t kMethodCount = sizeof(kMethods) / sizeof(kMethods[0]);

bool OneLine(absl::string_view text) {
  return text.find('\n') == absl::string_view::npos &&
         text.find('\r') == absl::string_view::npos;
}

// `message` as the page gets it: one line of JSON that parses back to it.
void CheckPrintsBack(const Message& message) {
  const std::string json = tariffalert::MessageToJson(message);
  TA_FUZZ_CHECK(OneLine(json), "JSON for the page is one line");
  std::unique_ptr<Message> back(message.New());
  const absl::Status parsed = tariffalert::JsonToMessage(json, back.get());
  TA_FUZZ_CHECK(parsed.ok(), "the JSON the page gets parses back");
  std::unique_ptr<Message> known(message.New());
  known->CopyFrom(message);
  known->DiscardUnknownFields();
  // Equal, a NaN to any NaN: JSON's "NaN" keeps no payload bits.
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  TA_FUZZ_CHECK(differencer.Compare(*back, *known),
                "the JSON parses back to the same message");
}

void ResumePoint(absl::string_view in) {
  if (in.empty()) return;
  const bool has_header = in[0] & 1;
  const bool has_after = in[0] & 2;
  in.remove_prefix(1);
  const size_t nl = in.find('\n');
  const absl::string_view header = in.substr(0, nl);
  const absl::string_view after =
      nl == absl::string_view::npos ? absl::string_view() : in.substr(nl + 1);
  auto point =
      tariffalert::ParseResumePoint(header, has_header, after, has_after);
  const bool from_header = has_header && !header.empty();
  const absl::string_view used = from_header ? header : after;
  if (!from_header && !has_after) {
    TA_FUZZ_CHECK(point.ok() && !point->has_value(), "neither: no point");
    return;
  }
  // The reference: 1 to 20 decimal digits whose value fits uint64 (more,
  // even leading zeros, are refused: the gateway writes ids without them).
  bool digits = !used.empty() && used.size() <= 20;
  uint64_t value = 0;
  for (char c : used) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits = false;
      break;
    }
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      digits = false;
      break;
    }
    value = value * 10 + d;
  }
  if (digits) {
    TA_FUZZ_CHECK(point.ok() && point->has_value() && **point == value,
                  "a decimal sequence is the resume point");
  } else {
    TA_FUZZ_CHECK(!point.ok() && absl::IsInvalidArgument(point.status()),
                  "anything else is INVALID_ARGUMENT");
    TA_FUZZ_CHECK(absl::StartsWith(point.status().message(),
                                   from_header ? "Last-Event-ID:" : "after:"),
                  "a refusal names the header or the parameter");
    TA_FUZZ_CHECK(point.status().message().size() < 100,
                  "a refusal does not echo the input");
  }
}

void RpcBody(absl::string_view in) {
  if (in.empty()) return;
  const size_t pick = static_cast<uint8_t>(in[0]) % (kMethodCount + 1);
  in.remove_prefix(1);
  std::unique_ptr<Message> request;
  if (pick == kMethodCount) {
    request = std::make_unique<google::protobuf::Struct>();  // the login body
  } else {
    const tariffalert::ForwardedMethod* method =
        tariffalert::FindForwardedMethod(kMethods[pick][0], kMethods[pick][1]);
    TA_FUZZ_CHECK(method != nullptr, "the allow-list is there");
    request.reset(method->request_prototype->New());
  }
  // gateway.cc: an empty body is "{}".
  const absl::Status s =
      tariffalert::JsonToMessage(in.empty() ? "{}" : in, request.get());
  if (!s.ok()) {
    TA_FUZZ_CHECK(absl::IsInvalidArgument(s), "a bad body is INVALID_ARGUMENT");
    TA_FUZZ_CHECK(
        absl::StartsWith(s.message(), request->GetDescriptor()->full_name()),
        "a refusal names the request type");
    const std::string error =
        tariffalert::ErrorJson(grpc::StatusCode::INVALID_ARGUMENT, s.message());
    TA_FUZZ_CHECK(OneLine(error), "an error body is one line");
    return;
  }
  CheckPrintsBack(*request);
}

void Csrf(absl::string_view in) {
  const size_t a = in.find('\n');
  if (a == absl::string_view::npos) return;
  const size_t b = in.find('\n', a + 1);
  if (b == absl::string_view::npos) return;
  const std::string key(in.substr(0, a));
  const absl::string_view session = in.substr(a + 1, b - a - 1);
  const absl::string_view header = in.substr(b + 1);
  TA_FUZZ_CHECK(
      tariffalert::ConstantTimeEquals(session, header) == (session == header),
      "ConstantTimeEquals is equality");
  auto csrf = tariffalert::CsrfKey::FromBytes(key);
  if (!csrf.ok()) {
    TA_FUZZ_CHECK(key.size() < tariffalert::CsrfKey::kMinKeyBytes,
                  "a long enough key is taken");
    TA_FUZZ_CHECK(
        key.size() < 24 || !absl::StrContains(csrf.status().message(), key),
        "a refusal never holds the key");
    return;
  }
  const std::string token = csrf->TokenFor(session);
  TA_FUZZ_CHECK(token.size() == 64, "a CSRF token is 64 hex digits");
  for (char c : token) {
    TA_FUZZ_CHECK(absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                      (c >= 'a' && c <= 'f'),
                  "lowercase hex");
  }
  TA_FUZZ_CHECK(csrf->TokenFor(session) == token, "derived, so the same");
  TA_FUZZ_CHECK(csrf->Matches(session, token), "a page's own token matches");
  TA_FUZZ_CHECK(csrf->Matches(session, header) == (header == token),
                "only the session's token matches");
  TA_FUZZ_CHECK(!csrf->Matches(absl::StrCat(session, "x"), token),
                "another session's token does not");
}

void MethodPath(absl::string_view in) {
  const size_t slash = in.find('/');
  const absl::string_view service = in.substr(0, slash);
  const absl::string_view name = slash == absl::string_view::npos
                                     ? absl::string_view()
                                     : in.substr(slash + 1);
  const tariffalert::ForwardedMethod* m =
      tariffalert::FindForwardedMethod(service, name);
  bool listed = false;
  for (const auto& entry : kMethods) {
    if (service == entry[0] && name == entry[1]) listed = true;
  }
  TA_FUZZ_CHECK((m != nullptr) == listed, "only allow-listed methods");
  if (m != nullptr) {
    TA_FUZZ_CHECK(m->service == service && m->method == name,
                  "the method asked for");
    TA_FUZZ_CHECK(m->request_prototype != nullptr &&
                      m->response_prototype != nullptr && m->call,
                  "a forwarded method is whole");
  }
}

void ServerError(absl::string_view in) {
  if (in.empty()) return;
  // 0 (OK) to 16 (UNAUTHENTICATED); another value is no grpc::StatusCode.
  const auto code =
      static_cast<grpc::StatusCode>(static_cast<uint8_t>(in[0]) % 17);
  in.remove_prefix(1);
  const std::string message(in);
  const int http = tariffalert::HttpStatusFor(code);
  TA_FUZZ_CHECK(http >= 200 && http < 600, "an HTTP status");
  TA_FUZZ_CHECK((http == 200) == (code == grpc::StatusCode::OK),
                "200 only for OK");
  const std::string quoted = tariffalert::JsonStringLiteral(message);
  TA_FUZZ_CHECK(
      quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"',
      "a JSON string");
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(quoted[i]);
    TA_FUZZ_CHECK(c >= 0x20 && c != 0x7f, "no control byte in a JSON string");
    if (c == '"') {
      TA_FUZZ_CHECK(quoted[i - 1] == '\\', "a quote is escaped");
    }
  }
  const std::string end =
      tariffalert::EndEventData(grpc::Status(code, message));
  TA_FUZZ_CHECK(OneLine(end), "an end event's data is one line");
  const std::string event = tariffalert::SseEvent("end", end);
  TA_FUZZ_CHECK(event.find("\n\n") == event.size() - 2,
                "one SSE event, ended by its blank line");
  // The page parses it (when the text is UTF-8: an ASCII one here).
  bool ascii = true;
  for (unsigned char c : message) {
    if (c >= 0x80) ascii = false;
  }
  if (ascii) {
    google::protobuf::Struct body;
    TA_FUZZ_CHECK(tariffalert::JsonToMessage(end, &body).ok(),
                  "an error body is JSON");
    const auto it = body.fields().find("message");
    TA_FUZZ_CHECK(
        it != body.fields().end() && it->second.string_value() == message,
        "the message comes through unchanged");
  }
}

void Streamed(absl::string_view in) {
  if (in.empty()) return;
  std::unique_ptr<Message> message;
  std::optional<uint64_t> id;
  switch (static_cast<uint8_t>(in[0]) % 4) {
    case 0:
      message = std::make_unique<v1::Alert>();
      break;
    case 1:
      message = std::make_unique<v1::WatchConsoleStateResponse>();
      break;
    case 2:
      message = std::make_unique<v1::SubscribeAlertsResponse>();
      break;
    default:
      message = std::make_unique<v1::ListAlertsResponse>();
      break;
  }
  in.remove_prefix(1);
  if (!message->ParseFromArray(in.data(), static_cast<int>(in.size()))) return;
  if (auto* alert = dynamic_cast<v1::Alert*>(message.get())) {
    id = alert->sequence();
  }
  CheckPrintsBack(*message);
  const std::string event =
      tariffalert::SseEvent("alert", tariffalert::MessageToJson(*message), id);
  TA_FUZZ_CHECK(event.find("\n\n") == event.size() - 2,
                "one SSE event, ended by its blank line");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size == 0 || size > (1 << 16)) return 0;
  const absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      ResumePoint(in);
      break;
    case 1:
      RpcBody(in);
      break;
    case 2:
      Csrf(in);
      break;
    case 3:
      MethodPath(in);
      break;
    case 4:
      ServerError(in);
      break;
    default:
      Streamed(in);
      break;
  }
  return 0;
}
