#ifndef TARIFF_ALERT_SERVER_SERVICE_ACCESS_LOG_H_
#define TARIFF_ALERT_SERVER_SERVICE_ACCESS_LOG_H_

// The access log of RPCs: a gRPC server interceptor writing one line per
// finished unary call ("rpc") and one per stream at its start ("stream
// started") and end ("stream ended"), with the fields method, code,
// duration_ms, peer and token (the token's name, never the token). At
// `level` (tariff-alertd: debug, info with --access-log). Calls refused by
// the token check never reach it: the auth processor logs those.

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

#include "server/common/log.h"

namespace tariffalert {

// For ServerBuilder::experimental().SetInterceptorCreators.
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
AccessLogInterceptors(LogLevel level);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_ACCESS_LOG_H_
