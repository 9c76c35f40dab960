#ifndef TARIFF_ALERT_SERVER_SECURITY_TRANSPORT_H_
#define TARIFF_ALERT_SERVER_SECURITY_TRANSPORT_H_

// The gRPC port's transport security (docs/security.md): TLS from PEM files
// that gRPC re-reads as they change (FileWatcherCertificateProvider), mutual
// TLS with a client CA, or plaintext only when asked for (`insecure`) and
// then only on a loopback address unless `insecure_any_address`.

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tariffalert {

struct SecurityOptions {
  // PEM files: the server's certificate chain and key; with a client CA the
  // server requires and verifies client certificates (mutual TLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // How often gRPC re-reads the three files; a new certificate is served to
  // new connections, live ones go on.
  int tls_reload_seconds = 5;
  // Plaintext, on a loopback address only (unless insecure_any_address).
  bool insecure = false;
  bool insecure_any_address = false;
  // Bearer tokens with roles (tokens.h). Required with TLS; optional with
  // `insecure` (no file: every caller may do everything).
  std::string tokens_file;
  absl::Duration tokens_reload_interval = absl::Seconds(1);
  // Reflection without a token; by default it needs the admin role.
  bool reflection_open = false;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackAddress(absl::string_view listen_address);

// Checks the combination of options and the PEM files (each parses, the key
// matches the certificate, the certificate is in its validity period).
// Errors name the option and the file.
absl::Status CheckSecurityOptions(const SecurityOptions& options,
                                  absl::string_view listen_address);

// The credentials for the listening port, with `processor` (may be null)
// checking every call. CheckSecurityOptions first.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& options, absl::string_view listen_address,
    std::shared_ptr<grpc::AuthMetadataProcessor> processor);

// One line for the start-up log: what the port accepts.
std::string DescribeSecurity(const SecurityOptions& options,
                             size_t token_count);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SECURITY_TRANSPORT_H_
