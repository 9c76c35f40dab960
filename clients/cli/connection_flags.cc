#include "clients/cli/connection_flags.h"

namespace tariffalert::cli {

void AddTransportFlags(CLI::App* c, ConnectionOptions* options) {
  c->add_option("--tls-ca", options->tls_ca_file,
                "PEM CA bundle the server's certificate must chain to (TLS)");
  c->add_flag("--tls", options->tls,
              "TLS verified against the system's root certificates");
  c->add_option("--tls-cert", options->tls_cert_file,
                "PEM client certificate, for a server that requires mutual "
                "TLS");
  c->add_option("--tls-key", options->tls_key_file,
                "PEM private key of --tls-cert");
  c->add_option("--tls-server-name", options->tls_server_name,
                "name the server's certificate must carry, if not the host "
                "of --server");
  c->add_flag("--insecure", options->insecure,
              "allow plaintext to a non-loopback server");
}

void ConnectionFlags::Add(CLI::App* c) {
  c->add_option("--server", options_.server_address, "server host:port")
      ->capture_default_str();
  AddTransportFlags(c, &options_);
  c->add_option("--token-file", token_file_,
                "file whose first line is the bearer token; default: the "
                "environment variable TARIFF_ALERT_TOKEN");
}

absl::StatusOr<ConnectionOptions> ConnectionFlags::Resolve() const {
  ConnectionOptions options = options_;
  auto token = LoadToken(token_file_);
  if (!token.ok()) return token.status();
  options.token = *std::move(token);
  return options;
}

}  // namespace tariffalert::cli
