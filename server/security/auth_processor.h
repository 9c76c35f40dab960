#ifndef TARIFF_ALERT_SERVER_SECURITY_AUTH_PROCESSOR_H_
#define TARIFF_ALERT_SERVER_SECURITY_AUTH_PROCESSOR_H_

// The one place every call's credentials are checked: a gRPC
// AuthMetadataProcessor on the server's credentials, run before any method
// (access_policy.h decides). A refused call never reaches a service or an
// interceptor, so refusals are counted and logged here (without the token).
//
// It adds nothing to the AuthContext: gRPC 1.51 gives every call of a
// connection the connection's one AuthContext, so a property added for one
// call would show on (and pile up over) every later call. Code that needs the
// caller's name looks its token up again (TokenStore::Find).

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/server_context.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/security/tokens.h"

namespace tariffalert {

// The auth context property holding the calling token's name (never the
// token) once the processor let the call through; for logs.
inline constexpr char kTokenNameProperty[] = "tariffalert-token-name";

// The calling token's name from `context`'s auth context, "" without one.
std::string CallTokenName(const grpc::ServerContextBase& context);

class TokenAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  // `tokens` must outlive the processor (the server's gRPC server).
  TokenAuthProcessor(const TokenStore* tokens, bool reflection_open)
      : tokens_(tokens), reflection_open_(reflection_open) {}

  // A hash and a few compares: cheap enough for gRPC's own thread.
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

  uint64_t refused() const { return refused_.load(); }

 private:
  // At most kLogBurst refusal lines a second, so a flood of bad calls
  // cannot flood the log.
  bool ShouldLog() ABSL_LOCKS_EXCLUDED(log_mu_);

  const TokenStore* const tokens_;
  const bool reflection_open_;
  std::atomic<uint64_t> refused_{0};
  absl::Mutex log_mu_;
  absl::Time log_window_ ABSL_GUARDED_BY(log_mu_) = absl::InfinitePast();
  int logged_in_window_ ABSL_GUARDED_BY(log_mu_) = 0;
  uint64_t unlogged_ ABSL_GUARDED_BY(log_mu_) = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SECURITY_AUTH_PROCESSOR_H_
