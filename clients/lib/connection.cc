#include "clients/lib/connection.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace tariffalert {
namespace {

absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read the file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": not a PEM file"));
  }
  return text.str();
}

absl::string_view HostOf(absl::string_view address) {
  if (absl::StartsWith(address, "dns:///")) address.remove_prefix(7);
  if (absl::StartsWith(address, "ipv4:")) address.remove_prefix(5);
  if (absl::StartsWith(address, "ipv6:")) address.remove_prefix(5);
  if (absl::StartsWith(address, "[")) {
    const size_t end = address.find(']');
    return end == absl::string_view::npos ? address
                                          : address.substr(1, end - 1);
  }
  const size_t colon = address.rfind(':');
  return colon == absl::string_view::npos ? address : address.substr(0, colon);
}

bool IsLoopback(absl::string_view address) {
  const std::string host = absl::AsciiStrToLower(HostOf(address));
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> LoadToken(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token-file ", token_file, ": cannot read the file"));
    }
    std::getline(in, token);
  } else if (const char* env = std::getenv(kTokenEnv); env != nullptr) {
    token = env;
  }
  token = std::string(absl::StripAsciiWhitespace(token));
  for (char c : token) {
    // A token travels as an HTTP/2 header value.
    if (static_cast<unsigned char>(c) < 0x21 ||
        static_cast<unsigned char>(c) > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          token_file.empty() ? std::string(kTokenEnv)
                             : absl::StrCat("--token-file ", token_file),
          ": the token holds a character that is not printable ASCII"));
    }
  }
  return token;
}

bool UsesTls(const ConnectionOptions& o) {
  return o.tls || !o.tls_ca_file.empty() || !o.tls_cert_file.empty() ||
         !o.tls_key_file.empty() || !o.tls_server_name.empty();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ConnectionOptions& o) {
  if (!UsesTls(o)) {
    std::string not_loopback;
    for (const std::string& a : ServerAddresses(o.server_address)) {
      if (!IsLoopback(a) && not_loopback.empty()) not_loopback = a;
    }
    if (!o.insecure && !not_loopback.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plaintext to ", not_loopback,
          " is not a loopback address: use --tls-ca (or --tls for the "
          "system's roots), or --insecure to send in clear text"));
    }
    return grpc::InsecureChannelCredentials();
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both --tls-cert and --tls-key");
  }
  grpc::SslCredentialsOptions ssl;
  if (!o.tls_ca_file.empty()) {
    auto ca = ReadPem("--tls-ca", o.tls_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!o.tls_cert_file.empty()) {
    auto cert = ReadPem("--tls-cert", o.tls_cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadPem("--tls-key", o.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

void AddChannelArguments(const ConnectionOptions& o,
                         grpc::ChannelArguments* args) {
  if (!o.tls_server_name.empty()) {
    args->SetSslTargetNameOverride(o.tls_server_name);
  }
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(
    const ConnectionOptions& o, grpc::ChannelArguments args) {
  auto credentials = MakeChannelCredentials(o);
  if (!credentials.ok()) return credentials.status();
  AddChannelArguments(o, &args);
  const std::vector<std::string> addresses = ServerAddresses(o.server_address);
  return grpc::CreateCustomChannel(
      addresses.empty() ? o.server_address : addresses.front(), *credentials,
      args);
}

std::vector<std::string> ServerAddresses(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view a : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    a = absl::StripAsciiWhitespace(a);
    if (!a.empty()) out.emplace_back(a);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> TokenMetadata(
    const ConnectionOptions& o) {
  if (o.token.empty()) return {};
  return {{"authorization", absl::StrCat("Bearer ", o.token)}};
}

void AddTokenMetadata(const ConnectionOptions& o,
                      grpc::ClientContext* context) {
  for (const auto& [key, value] : TokenMetadata(o)) {
    context->AddMetadata(key, value);
  }
}

std::string ConnectionHint(const ConnectionOptions& o,
                           const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (!UsesTls(o)) {
        return " (plaintext: if the server serves TLS, pass --tls-ca)";
      }
      if (o.tls_cert_file.empty()) {
        return " (if the server requires client certificates, pass "
               "--tls-cert and --tls-key)";
      }
      return " (check that --tls-ca signed the server's certificate and the "
             "server's CA signed --tls-cert)";
    case grpc::StatusCode::UNAUTHENTICATED:
      if (o.token.empty()) {
        return absl::StrCat(" (no token given: --token-file or ", kTokenEnv,
                            ")");
      }
      return "";
    default:
      return "";
  }
}

}  // namespace tariffalert
