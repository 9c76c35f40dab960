#include "server/service/access_log.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/interceptor.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/security/auth_processor.h"

namespace tariffalert {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Created per call (for the async streaming service also per call slot
// posted, which shutdown cancels unused): logs only calls whose client
// metadata arrived.
class AccessLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  AccessLogInterceptor(grpc::experimental::ServerRpcInfo* info, LogLevel level)
      : info_(info),
        level_(level),
        method_(info->method() ? info->method() : ""),
        stream_(info->type() !=
                grpc::experimental::ServerRpcInfo::Type::UNARY) {}

  ~AccessLogInterceptor() override {
    if (!started_) return;
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
    TA_LOG_AT(level_)
            .With("method", method_)
            .With("code", code_)
            .With("duration_ms", ms)
            .With("peer", peer_)
            .With("token", token_)
        << (stream_ ? "stream ended" : "rpc");
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA) &&
        !started_) {
      started_ = true;
      start_ = absl::Now();
      if (grpc::ServerContextBase* context = info_->server_context()) {
        peer_ = context->peer();
        token_ = CallTokenName(*context);
      }
      if (stream_) {
        TA_LOG_AT(level_)
                .With("method", method_)
                .With("peer", peer_)
                .With("token", token_)
            << "stream started";
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      code_ = absl::StatusCodeToString(
          static_cast<absl::StatusCode>(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const LogLevel level_;
  const std::string method_;
  const bool stream_;
  bool started_ = false;
  absl::Time start_;
  std::string peer_;
  std::string token_;
  // Until a status is sent: a call the client dropped first.
  std::string code_ = "CANCELLED";
};

class AccessLogFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AccessLogFactory(LogLevel level) : level_(level) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AccessLogInterceptor(info, level_);
  }

 private:
  const LogLevel level_;
};

}  // namespace

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
AccessLogInterceptors(LogLevel level) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      out;
  out.push_back(std::make_unique<AccessLogFactory>(level));
  return out;
}

}  // namespace tariffalert
