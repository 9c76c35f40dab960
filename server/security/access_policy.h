#ifndef TARIFF_ALERT_SERVER_SECURITY_ACCESS_POLICY_H_
#define TARIFF_ALERT_SERVER_SECURITY_ACCESS_POLICY_H_

// Who may call what: the role each gRPC method needs, and the decision for
// one call from its bearer token and client certificate. Pure: the gRPC
// AuthMetadataProcessor (auth_processor.h) is a thin layer around it.
//
// Errors: no or unknown token UNAUTHENTICATED; a token without the role
// PERMISSION_DENIED naming the role needed and the token's name. A message
// never holds the token, nor more than a short escaped prefix of anything
// the client sent.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/security/tokens.h"

namespace tariffalert {

// The token in an "authorization" header value ("Bearer <token>", the
// scheme in any case); nullopt if it is not of that form.
std::optional<absl::string_view> BearerToken(absl::string_view header);

// The role `method` (":path", "/package.Service/Method") needs; nullopt for
// a method open to all (health). A method the table does not know needs
// admin, so a new RPC is never open by accident.
std::optional<Role> RequiredRole(absl::string_view method,
                                 bool reflection_open);

struct CallIdentity {
  std::string token_name;  // empty for an open method called without token
  uint32_t roles = 0;
};

// `authorization`: the "authorization" header if sent ("Bearer <token>").
// `cert_subject`: the verified client certificate's subject, empty without
// one.
absl::StatusOr<CallIdentity> Authorize(
    absl::string_view method, std::optional<absl::string_view> authorization,
    absl::string_view cert_subject, const TokenStore& tokens,
    bool reflection_open);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SECURITY_ACCESS_POLICY_H_
