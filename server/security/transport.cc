#include "server/security/transport.h"

#include <arpa/inet.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tariffalert {
namespace {

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Freer {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFreer {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;
using X509Ptr = std::unique_ptr<X509, X509Freer>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFreer>;

absl::string_view HostOf(absl::string_view address) {
  if (absl::StartsWith(address, "[")) {
    const size_t end = address.find(']');
    return end == absl::string_view::npos ? address
                                          : address.substr(1, end - 1);
  }
  const size_t colon = address.rfind(':');
  return colon == absl::string_view::npos ? address : address.substr(0, colon);
}

absl::StatusOr<BioPtr> OpenPem(const std::string& flag,
                               const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read the file"));
  }
  return bio;
}

absl::StatusOr<X509Ptr> ReadCertificate(const std::string& flag,
                                        const std::string& path) {
  auto bio = OpenPem(flag, path);
  if (!bio.ok()) return bio.status();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": no PEM certificate in the file"));
  }
  return cert;
}

absl::Status CheckValidity(const std::string& flag, const std::string& path,
                           X509* cert) {
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " ", path, ": the certificate is not valid yet (notBefore)"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": the certificate has expired"));
  }
  return absl::OkStatus();
}

absl::Status CheckTlsFiles(const SecurityOptions& o) {
  auto cert = ReadCertificate("--tls-cert", o.tls_cert_file);
  if (!cert.ok()) return cert.status();
  if (absl::Status s =
          CheckValidity("--tls-cert", o.tls_cert_file, cert->get());
      !s.ok()) {
    return s;
  }
  auto bio = OpenPem("--tls-key", o.tls_key_file);
  if (!bio.ok()) return bio.status();
  KeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", o.tls_key_file,
                     ": no unencrypted PEM private key in the file"));
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", o.tls_key_file,
        ": the key does not belong to the certificate in ", o.tls_cert_file));
  }
  if (!o.tls_client_ca_file.empty()) {
    auto ca = ReadCertificate("--tls-client-ca", o.tls_client_ca_file);
    if (!ca.ok()) return ca.status();
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(absl::string_view listen_address) {
  const std::string host = absl::AsciiStrToLower(HostOf(listen_address));
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

absl::Status CheckSecurityOptions(const SecurityOptions& o,
                                  absl::string_view listen_address) {
  const bool tls = !o.tls_cert_file.empty() || !o.tls_key_file.empty();
  if (tls && o.insecure) {
    return absl::InvalidArgumentError(
        "--insecure and --tls-cert/--tls-key exclude each other");
  }
  if (!tls) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca needs --tls-cert and --tls-key");
    }
    if (!o.insecure) {
      return absl::InvalidArgumentError(
          "no TLS certificate: pass --tls-cert and --tls-key (and "
          "--tls-client-ca for mutual TLS), or --insecure for plaintext on a "
          "loopback address");
    }
    if (!IsLoopbackAddress(listen_address) && !o.insecure_any_address) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure serves plaintext only on a loopback address, and ",
          listen_address,
          " is not one; use TLS, or add --insecure-any-address to force it"));
    }
    if (!o.tokens_file.empty() && o.insecure_any_address &&
        !IsLoopbackAddress(listen_address)) {
      return absl::InvalidArgumentError(
          "tokens cannot be checked on a plaintext port open beyond "
          "loopback: use TLS");
    }
    return absl::OkStatus();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls-cert and --tls-key");
  }
  if (o.tokens_file.empty()) {
    return absl::InvalidArgumentError(
        "--tokens-file is required with TLS (only --insecure runs without "
        "tokens); see tariff-alert token new");
  }
  if (o.tls_reload_seconds < 1) {
    return absl::InvalidArgumentError("--tls-reload-seconds: at least 1");
  }
  return CheckTlsFiles(o);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& o, absl::string_view listen_address,
    std::shared_ptr<grpc::AuthMetadataProcessor> processor) {
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (o.insecure) {
    if (o.insecure_any_address && !IsLoopbackAddress(listen_address)) {
      return grpc::InsecureServerCredentials();
    }
    // Plaintext that gRPC accepts only from loopback peers, and on which an
    // AuthMetadataProcessor runs (insecure credentials take none).
    creds = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
  } else {
    auto provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            o.tls_key_file, o.tls_cert_file, o.tls_client_ca_file,
            static_cast<unsigned int>(o.tls_reload_seconds));
    grpc::experimental::TlsServerCredentialsOptions tls(provider);
    tls.watch_identity_key_cert_pairs();
    if (!o.tls_client_ca_file.empty()) {
      tls.watch_root_certs();
      tls.set_cert_request_type(
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    } else {
      tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    }
    creds = grpc::experimental::TlsServerCredentials(tls);
  }
  if (creds == nullptr) {
    return absl::InternalError("gRPC made no server credentials");
  }
  if (processor != nullptr) creds->SetAuthMetadataProcessor(processor);
  return creds;
}

std::string DescribeSecurity(const SecurityOptions& o, size_t token_count) {
  std::string out;
  if (o.insecure) {
    out = o.insecure_any_address
              ? "PLAINTEXT on every address (--insecure --insecure-any-address)"
              : "PLAINTEXT, loopback peers only (--insecure)";
  } else if (!o.tls_client_ca_file.empty()) {
    out = absl::StrCat("mutual TLS (client certificates from the CA in ",
                       o.tls_client_ca_file, " required)");
  } else {
    out = "TLS";
  }
  if (o.tokens_file.empty()) {
    absl::StrAppend(&out, "; NO TOKENS: every caller may do everything");
    return out;
  }
  absl::StrAppend(&out, "; ", token_count, " bearer token(s) from ",
                  o.tokens_file);
  absl::StrAppend(&out, o.reflection_open ? "; reflection open"
                                          : "; reflection needs admin");
  return out;
}

}  // namespace tariffalert
