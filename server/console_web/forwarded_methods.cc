#include "server/console_web/forwarded_methods.h"

#include <google/protobuf/util/json_util.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/console_service.grpc.pb.h"
#include "tariffalert/v1/tariff_book_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"

namespace tariffalert {
namespace {

// One entry, typed by the generated stub's blocking method, so the compiler
// checks that the request and response types belong to the method.
template <typename Service, typename Request, typename Response>
ForwardedMethod Method(const char* service, const char* method, bool read_only,
                       grpc::Status (Service::Stub::*call)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*)) {
  ForwardedMethod m;
  m.service = service;
  m.method = method;
  m.read_only = read_only;
  m.request_prototype = &Request::default_instance();
  m.response_prototype = &Response::default_instance();
  m.call = [call](const std::shared_ptr<grpc::Channel>& channel,
                  grpc::ClientContext* context,
                  const google::protobuf::Message& request,
                  google::protobuf::Message* response) {
    auto stub = Service::NewStub(channel);
    return ((*stub).*call)(context, static_cast<const Request&>(request),
                           static_cast<Response*>(response));
  };
  return m;
}

const std::vector<ForwardedMethod>& Methods() {
  using v1::AlertService;
  using v1::ConsoleService;
  using v1::TariffBookService;
  using v1::TariffEventService;
  static const auto* methods = new std::vector<ForwardedMethod>{
      Method<ConsoleService>("ConsoleService", "GetSession", true,
                             &ConsoleService::Stub::GetSession),
      Method<ConsoleService>("ConsoleService", "GetConsoleState", true,
                             &ConsoleService::Stub::GetConsoleState),
      Method<ConsoleService>("ConsoleService", "GetServerStatus", true,
                             &ConsoleService::Stub::GetServerStatus),
      Method<ConsoleService>("ConsoleService", "AcknowledgeAlert", false,
                             &ConsoleService::Stub::AcknowledgeAlert),
      Method<ConsoleService>("ConsoleService", "AcknowledgeEvent", false,
                             &ConsoleService::Stub::AcknowledgeEvent),
      Method<ConsoleService>("ConsoleService", "DeleteAcknowledgement", false,
                             &ConsoleService::Stub::DeleteAcknowledgement),
      Method<ConsoleService>("ConsoleService", "CreateSilence", false,
                             &ConsoleService::Stub::CreateSilence),
      Method<ConsoleService>("ConsoleService", "ExpireSilence", false,
                             &ConsoleService::Stub::ExpireSilence),
      Method<AlertService>("AlertService", "ListAlerts", true,
                           &AlertService::Stub::ListAlerts),
      Method<TariffEventService>("TariffEventService", "GetEvent", true,
                                 &TariffEventService::Stub::GetEvent),
      Method<TariffBookService>("TariffBookService", "GetTariff", true,
                                &TariffBookService::Stub::GetTariff),
      // A what-if changes nothing: a read.
      Method<TariffBookService>("TariffBookService", "ScoreScenario", true,
                                &TariffBookService::Stub::ScoreScenario),
  };
  return *methods;
}

}  // namespace

const ForwardedMethod* FindForwardedMethod(absl::string_view service,
                                           absl::string_view method) {
  for (const ForwardedMethod& m : Methods()) {
    if (m.service == service && m.method == method) return &m;
  }
  return nullptr;
}

absl::Status JsonToMessage(absl::string_view json,
                           google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message,
      options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(message->GetDescriptor()->full_name(),
                     " (JSON): ", std::string(status.message())));
  }
  return absl::OkStatus();
}

std::string MessageToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a valid message fails only for a broken Any, which these
  // messages do not hold.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    default:
      return "UNKNOWN";
  }
}

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 412;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

std::string ErrorJson(grpc::StatusCode code, absl::string_view message) {
  return absl::StrCat("{\"code\":", JsonStringLiteral(GrpcCodeName(code)),
                      ",\"message\":", JsonStringLiteral(message), "}");
}

}  // namespace tariffalert
