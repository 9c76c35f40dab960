#ifndef TARIFF_ALERT_CLIENTS_CLI_CONNECTION_FLAGS_H_
#define TARIFF_ALERT_CLIENTS_CLI_CONNECTION_FLAGS_H_

// The flags every subcommand that talks to a server takes: --server, TLS
// (--tls-ca, --tls, --tls-cert/--tls-key, --tls-server-name), --insecure, and
// the token (--token-file, else TARIFF_ALERT_TOKEN). A token is never a
// flag's value, so it never shows in `ps` or a shell history.

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "clients/lib/connection.h"

namespace tariffalert::cli {

// The TLS flags and --insecure alone, into `options`: for a program that
// takes its servers and its tokens its own way (tariff-console takes several
// --server replicas and each browser's token).
void AddTransportFlags(CLI::App* command, ConnectionOptions* options);

class ConnectionFlags {
 public:
  void Add(CLI::App* command);
  // The options with the token read; errors name the flag or file.
  absl::StatusOr<ConnectionOptions> Resolve() const;

 private:
  ConnectionOptions options_;
  std::string token_file_;
};

}  // namespace tariffalert::cli

#endif  // TARIFF_ALERT_CLIENTS_CLI_CONNECTION_FLAGS_H_
