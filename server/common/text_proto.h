#ifndef TARIFF_ALERT_SERVER_COMMON_TEXT_PROTO_H_
#define TARIFF_ALERT_SERVER_COMMON_TEXT_PROTO_H_

// Text-format configuration files (config/*.textproto).

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace tariffalert {

// Parses `text` into `out`; INVALID_ARGUMENT "file:line:column: message" for
// the first error (an unknown field, a bad value).
absl::Status ParseTextProto(absl::string_view text, absl::string_view file,
                            google::protobuf::Message* out);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_TEXT_PROTO_H_
