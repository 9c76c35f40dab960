#include "server/security/access_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tariffalert {
namespace {

constexpr absl::string_view kHealthPrefix = "/grpc.health.v1.Health/";
constexpr absl::string_view kReflectionPrefix =
    "/grpc.reflection.v1alpha.ServerReflection/";

constexpr struct {
  const char* method;
  Role role;
} kMethodRoles[] = {
    {"/tariffalert.v1.TariffEventService/PublishEvent", kRolePublisher},
    {"/tariffalert.v1.TariffEventService/GetEvent", kRoleSubscriber},
    {"/tariffalert.v1.AlertService/SubscribeAlerts", kRoleSubscriber},
    {"/tariffalert.v1.AlertService/ListAlerts", kRoleSubscriber},
    {"/tariffalert.v1.TariffBookService/GetTariff", kRoleSubscriber},
    {"/tariffalert.v1.TariffBookService/ScoreScenario", kRoleSubscriber},
    {"/tariffalert.v1.ConsoleService/GetSession", kRoleAny},
    {"/tariffalert.v1.ConsoleService/GetConsoleState", kRoleSubscriber},
    {"/tariffalert.v1.ConsoleService/WatchConsoleState", kRoleSubscriber},
    {"/tariffalert.v1.ConsoleService/GetServerStatus", kRoleSubscriber},
    {"/tariffalert.v1.ConsoleService/AcknowledgeAlert", kRoleAnalyst},
    {"/tariffalert.v1.ConsoleService/AcknowledgeEvent", kRoleAnalyst},
    {"/tariffalert.v1.ConsoleService/DeleteAcknowledgement", kRoleAnalyst},
    {"/tariffalert.v1.ConsoleService/CreateSilence", kRoleAnalyst},
    {"/tariffalert.v1.ConsoleService/ExpireSilence", kRoleAnalyst},
};

// A short, escaped prefix of client input for an error message.
std::string Quoted(absl::string_view text) {
  constexpr size_t kMax = 80;
  std::string out = absl::CHexEscape(text.substr(0, kMax));
  if (text.size() > kMax) absl::StrAppend(&out, "...");
  return out;
}

}  // namespace

std::optional<absl::string_view> BearerToken(absl::string_view header) {
  absl::string_view value = absl::StripAsciiWhitespace(header);
  constexpr absl::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size() ||
      !absl::StartsWithIgnoreCase(value, kBearer)) {
    return std::nullopt;
  }
  value.remove_prefix(kBearer.size());
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  return value;
}

std::optional<Role> RequiredRole(absl::string_view method,
                                 bool reflection_open) {
  if (absl::StartsWith(method, kHealthPrefix)) return std::nullopt;
  if (absl::StartsWith(method, kReflectionPrefix)) {
    if (reflection_open) return std::nullopt;
    return kRoleAdmin;
  }
  for (const auto& m : kMethodRoles) {
    if (method == m.method) return m.role;
  }
  return kRoleAdmin;
}

absl::StatusOr<CallIdentity> Authorize(
    absl::string_view method, std::optional<absl::string_view> authorization,
    absl::string_view cert_subject, const TokenStore& tokens,
    bool reflection_open) {
  const std::optional<Role> needed = RequiredRole(method, reflection_open);
  if (!needed.has_value()) return CallIdentity{};
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "no token: send the metadata 'authorization: Bearer <token>' (",
        RoleName(*needed), " role needed for ", Quoted(method), ")"));
  }
  const std::optional<absl::string_view> token = BearerToken(*authorization);
  if (!token.has_value()) {
    return absl::UnauthenticatedError(
        "authorization metadata is not 'Bearer <token>'");
  }
  const std::shared_ptr<const TokenEntry> entry = tokens.Find(*token);
  if (entry == nullptr) {
    return absl::UnauthenticatedError(
        "unknown token (revoked, mistyped or from another deployment)");
  }
  if (!entry->cert_subject.empty() && entry->cert_subject != cert_subject) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token '", entry->name,
        "' is bound to a client certificate, and this connection's "
        "certificate subject is ",
        cert_subject.empty() ? std::string("absent")
                             : absl::StrCat("'", Quoted(cert_subject), "'")));
  }
  // An analyst reads what a subscriber reads: the console it changes is
  // the one it watches.
  const uint32_t accepted =
      *needed | kRoleAdmin | (*needed == kRoleSubscriber ? kRoleAnalyst : 0u);
  if ((entry->roles & accepted) == 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "token '", entry->name, "' has role(s) '", RolesText(entry->roles),
        "'; ", Quoted(method), " needs the role '", RoleName(*needed), "'"));
  }
  return CallIdentity{entry->name, entry->roles};
}

}  // namespace tariffalert
