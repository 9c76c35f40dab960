#include "server/security/auth_processor.h"

#include <grpc/grpc_security_constants.h>

#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "server/common/log.h"
#include "server/security/access_policy.h"

namespace tariffalert {
namespace {

constexpr int kLogBurst = 20;

absl::string_view View(const grpc::string_ref& ref) {
  return absl::string_view(ref.data(), ref.size());
}

}  // namespace

grpc::Status TokenAuthProcessor::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* context,
                                         OutputMetadata* consumed_auth_metadata,
                                         OutputMetadata* response_metadata) {
  absl::string_view method;
  std::optional<absl::string_view> authorization;
  for (const auto& [key, value] : auth_metadata) {
    const absl::string_view k = View(key);
    if (k == ":path") {
      method = View(value);
    } else if (k == "authorization") {
      authorization = View(value);
    }
  }
  std::string subject;
  for (const grpc::string_ref& s :
       context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
    subject = std::string(View(s));
  }
  absl::StatusOr<CallIdentity> identity =
      Authorize(method, authorization, subject, *tokens_, reflection_open_);
  if (!identity.ok()) {
    refused_.fetch_add(1);
    if (ShouldLog()) {
      TA_LOG(WARNING)
              .With("method", absl::CHexEscape(method.substr(0, 100)))
              .With("code", absl::StatusCodeToString(identity.status().code()))
          << "refused a call to " << absl::CHexEscape(method.substr(0, 100))
          << ": " << identity.status().message();
    }
    return grpc::Status(static_cast<grpc::StatusCode>(identity.status().code()),
                        std::string(identity.status().message()));
  }
  if (!identity->token_name.empty()) {
    context->AddProperty(kTokenNameProperty, identity->token_name);
  }
  return grpc::Status::OK;
}

std::string CallTokenName(const grpc::ServerContextBase& context) {
  std::string name;
  if (auto auth = context.auth_context(); auth != nullptr) {
    for (const grpc::string_ref& v :
         auth->FindPropertyValues(kTokenNameProperty)) {
      name.assign(v.data(), v.size());
    }
  }
  return name;
}

bool TokenAuthProcessor::ShouldLog() {
  absl::MutexLock lock(&log_mu_);
  const absl::Time now = absl::Now();
  if (now - log_window_ >= absl::Seconds(1)) {
    if (unlogged_ > 0) {
      TA_LOG(WARNING) << unlogged_
                      << " more refused calls were not logged (at most "
                      << kLogBurst << " a second)";
    }
    log_window_ = now;
    logged_in_window_ = 0;
    unlogged_ = 0;
  }
  if (logged_in_window_ < kLogBurst) {
    ++logged_in_window_;
    return true;
  }
  ++unlogged_;
  return false;
}

}  // namespace tariffalert
