#include "server/console_web/csrf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tariffalert {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<CsrfKey> CsrfKey::Random() {
  std::string key(kMinKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 1) {
    return absl::InternalError("CSRF key: OpenSSL's RAND_bytes failed");
  }
  return CsrfKey(std::move(key));
}

absl::StatusOr<CsrfKey> CsrfKey::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--csrf-key-file ", path, ": cannot read the file"));
  }
  std::string line;
  std::getline(in, line);
  auto key = FromBytes(std::string(absl::StripAsciiWhitespace(line)));
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--csrf-key-file ", path, ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<CsrfKey> CsrfKey::FromBytes(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key is ", key.size(), " bytes; at least ",
                     kMinKeyBytes, " are needed (openssl rand -hex 32)"));
  }
  return CsrfKey(std::move(key));
}

std::string CsrfKey::TokenFor(absl::string_view session_token) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(session_token.data()),
       session_token.size(), mac, &mac_len);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

bool CsrfKey::Matches(absl::string_view session_token,
                      absl::string_view csrf_token) const {
  return ConstantTimeEquals(TokenFor(session_token), csrf_token);
}

}  // namespace tariffalert
