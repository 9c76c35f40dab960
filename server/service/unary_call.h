#ifndef TARIFF_ALERT_SERVER_SERVICE_UNARY_CALL_H_
#define TARIFF_ALERT_SERVER_SERVICE_UNARY_CALL_H_

// The shape every unary method that may block takes: on gRPC's callback
// thread only the deadline check and the parse; the work itself (a round
// trip to Redis, a publish waiting for its commit, a long scenario) on a
// WorkPool's thread, which finishes the call. gRPC's threads, which drive
// every other call, never wait on I/O. A call that waited in the pool's
// queue past its deadline is not started; when the queue is full the call
// is answered UNAVAILABLE at once, with nothing done.

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/common/work_pool.h"
#include "server/service/grpc_status.h"
#include "server/service/request_parser.h"

namespace tariffalert {

// Parses `request` into a Request and finishes the call with `work(parsed)`
// (absl::StatusOr<Response>, run on `pool`), its response serialized into
// `response`.
template <typename Request, typename Work>
grpc::ServerUnaryReactor* ServeOnPool(WorkPool* pool,
                                      grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Request parsed;
  absl::Status status = CheckDeadline(*context);
  if (status.ok()) status = ParseMessage(*request, &parsed);
  if (!status.ok()) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  const bool posted =
      pool->Post([context, reactor, response, parsed = std::move(parsed),
                  work = std::move(work)]() mutable {
        absl::Status status = CheckDeadline(*context);
        if (status.ok()) {
          auto result = work(parsed);
          status = result.status();
          if (result.ok()) SerializeResponse(*result, response);
        }
        reactor->Finish(ToGrpcStatus(status));
      });
  if (!posted) {
    reactor->Finish(ToGrpcStatus(absl::UnavailableError(absl::StrCat(
        "the server is busy (", pool->queued(), " calls wait for its ",
        pool->name(), " threads) or shutting down; nothing was done: retry"))));
  }
  return reactor;
}

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_UNARY_CALL_H_
