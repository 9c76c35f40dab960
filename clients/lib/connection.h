#ifndef TARIFF_ALERT_CLIENTS_LIB_CONNECTION_H_
#define TARIFF_ALERT_CLIENTS_LIB_CONNECTION_H_

// How a client reaches a tariff-alert server (docs/client.md,
// docs/security.md): TLS verified against a CA file (or the system's roots),
// a client certificate for mutual TLS, and a bearer token sent as the
// "authorization" metadata of every call. Plaintext only to a loopback
// address unless `insecure`. A token is never logged, printed or put in an
// error message.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tariffalert {

// The environment variable a token is read from when no file is given.
inline constexpr char kTokenEnv[] = "TARIFF_ALERT_TOKEN";

struct ConnectionOptions {
  // host:port, or replicas as "host:port,host:port": streams (watch,
  // console, AlertSubscriber) move to the next one when one goes away;
  // single calls use the first.
  std::string server_address = "127.0.0.1:50051";
  // TLS: on when any of these is set, or `tls`. The CA bundle the server's
  // certificate must chain to; empty: the system's roots.
  bool tls = false;
  std::string tls_ca_file;
  // A client certificate and key, for a server that requires mutual TLS.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The name the server's certificate must carry, when it differs from the
  // host in server_address.
  std::string tls_server_name;
  // Plaintext to a non-loopback address (never needed on loopback).
  bool insecure = false;
  // Bearer token; empty: none is sent.
  std::string token;
};

// The token from `token_file` (its first line) or, with no file, from
// TARIFF_ALERT_TOKEN; empty if neither is set. Errors name the file.
absl::StatusOr<std::string> LoadToken(const std::string& token_file);

bool UsesTls(const ConnectionOptions& options);

// Channel credentials for `options`: TLS from the PEM files, or plaintext
// where that is allowed. Errors name the option and the file.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ConnectionOptions& options);

// Adds the channel arguments `options` needs (the TLS name override) to
// `args`.
void AddChannelArguments(const ConnectionOptions& options,
                         grpc::ChannelArguments* args);

// A channel to options.server_address with `args` (plus what options
// needs).
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(
    const ConnectionOptions& options,
    grpc::ChannelArguments args = grpc::ChannelArguments());

// The metadata that carries the token: {"authorization", "Bearer <token>"},
// or nothing without a token.
std::vector<std::pair<std::string, std::string>> TokenMetadata(
    const ConnectionOptions& options);
void AddTokenMetadata(const ConnectionOptions& options,
                      grpc::ClientContext* context);

// A hint for a person reading `status` from a call made with `options`
// (" (...)", or empty): a plaintext client at a TLS port, a missing client
// certificate or token.
std::string ConnectionHint(const ConnectionOptions& options,
                           const grpc::Status& status);

// The addresses of a "host:port,host:port" list, in order (empty ones
// dropped).
std::vector<std::string> ServerAddresses(absl::string_view list);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_CLIENTS_LIB_CONNECTION_H_
