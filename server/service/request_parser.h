#ifndef TARIFF_ALERT_SERVER_SERVICE_REQUEST_PARSER_H_
#define TARIFF_ALERT_SERVER_SERVICE_REQUEST_PARSER_H_

// Requests arrive as bytes (every method is registered raw) and are parsed
// here, so that a request gRPC's own parser would answer UNIMPLEMENTED with an
// empty message, after a libprotobuf ERROR line on stderr, gets
// INVALID_ARGUMENT naming the field instead: "event.headline: not valid
// UTF-8". Protobuf's log goes to the project's log at debug level, so hostile
// input cannot flood stderr. Also the one place a call whose deadline has
// already passed is turned away.

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "server/common/utf8.h"

namespace tariffalert {

// Routes libprotobuf's log lines to TA_LOG(DEBUG) (FATAL to ERROR).
// Idempotent; the services call it when they are made.
void InstallProtobufLogHandler();

// Parses `buffer` into `out`. INVALID_ARGUMENT on failure: the first string
// field (by path, "events[2].headline") whose bytes are not valid UTF-8, or
// "request: not a <message type>" for other malformed bytes.
absl::Status ParseMessage(const grpc::ByteBuffer& buffer,
                          google::protobuf::Message* out);

// The field path of the first string field in `bytes` (a serialized
// `descriptor` message) whose value is not valid UTF-8; "" if none.
std::string FindInvalidUtf8Field(
    absl::string_view bytes, const google::protobuf::Descriptor& descriptor);

// `message` serialized into `buffer` as one slice.
void SerializeResponse(const google::protobuf::Message& message,
                       grpc::ByteBuffer* buffer);

// DEADLINE_EXCEEDED if the call's deadline has passed: no work starts for a
// call nobody waits for any more.
absl::Status CheckDeadline(const grpc::CallbackServerContext& context);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_REQUEST_PARSER_H_
