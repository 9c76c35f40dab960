#ifndef TARIFF_ALERT_SERVER_SERVICE_GRPC_STATUS_H_
#define TARIFF_ALERT_SERVER_SERVICE_GRPC_STATUS_H_

// The one place absl::Status becomes grpc::Status.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace tariffalert {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_GRPC_STATUS_H_
