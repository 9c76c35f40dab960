#ifndef TARIFF_ALERT_SERVER_CONSOLE_WEB_FORWARDED_METHODS_H_
#define TARIFF_ALERT_SERVER_CONSOLE_WEB_FORWARDED_METHODS_H_

// The unary methods the web console may call through POST
// /api/rpc/<Service>/<Method> (docs/console.md), and protobuf's JSON mapping
// the page speaks. An allow-list, so the gateway never becomes a way to reach
// a method the page has no business calling (PublishEvent, for one); the
// server still checks every call's token and role.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace tariffalert {

struct ForwardedMethod {
  // "ConsoleService", "GetSession": the path's two parts.
  std::string service;
  std::string method;
  // Reads only: safe to try again on another replica after UNAVAILABLE. A
  // change of state is sent once (a retry might make it twice).
  bool read_only = false;
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
  // The blocking call on `channel`; `response` is a New() of
  // response_prototype.
  std::function<grpc::Status(const std::shared_ptr<grpc::Channel>& channel,
                             grpc::ClientContext* context,
                             const google::protobuf::Message& request,
                             google::protobuf::Message* response)>
      call;
};

// Null when the pair is not on the list.
const ForwardedMethod* FindForwardedMethod(absl::string_view service,
                                           absl::string_view method);

// The page's JSON into `message`: proto or JSON field names, enums by name;
// an unknown field is INVALID_ARGUMENT naming it.
absl::Status JsonToMessage(absl::string_view json,
                           google::protobuf::Message* message);
// One line of JSON (no raw newline, so it fits an SSE data: line), proto
// field names, every field printed (zeros and empty lists too).
std::string MessageToJson(const google::protobuf::Message& message);

// "INVALID_ARGUMENT", ...: the names the page sees in {"code", "message"}.
const char* GrpcCodeName(grpc::StatusCode code);
// The HTTP status of a gRPC error (docs/console.md).
int HttpStatusFor(grpc::StatusCode code);
// {"code": "...", "message": "..."}.
std::string ErrorJson(grpc::StatusCode code, absl::string_view message);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_CONSOLE_WEB_FORWARDED_METHODS_H_
