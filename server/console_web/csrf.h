#ifndef TARIFF_ALERT_SERVER_CONSOLE_WEB_CSRF_H_
#define TARIFF_ALERT_SERVER_CONSOLE_WEB_CSRF_H_

// The web console's CSRF token (docs/console.md): hex HMAC-SHA256 of the
// session token under a key of the gateway's. It is derived, not stored, so
// the gateway keeps no state and several gateways that share the key
// (--csrf-key-file) accept each other's pages. A page on another origin can
// make the browser send the cookie but cannot read the CSRF token, which
// only a same-origin response carries. The key and the session token are
// never logged.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tariffalert {

// Equal length and equal bytes, in time that depends on the length only.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

class CsrfKey {
 public:
  // At least this many bytes of key.
  static constexpr size_t kMinKeyBytes = 32;

  // A fresh random key: pages of this gateway only, until it restarts.
  static absl::StatusOr<CsrfKey> Random();
  // The key in `path` (its first line, surrounding whitespace stripped; for
  // instance `openssl rand -hex 32`). Errors name the file, never the key.
  static absl::StatusOr<CsrfKey> FromFile(const std::string& path);
  static absl::StatusOr<CsrfKey> FromBytes(std::string key);

  // The CSRF token of a session token: 64 lowercase hex digits.
  std::string TokenFor(absl::string_view session_token) const;
  // Whether `csrf_token` is TokenFor(session_token), in constant time.
  bool Matches(absl::string_view session_token,
               absl::string_view csrf_token) const;

 private:
  explicit CsrfKey(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_CONSOLE_WEB_CSRF_H_
