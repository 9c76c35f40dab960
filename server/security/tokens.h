#ifndef TARIFF_ALERT_SERVER_SECURITY_TOKENS_H_
#define TARIFF_ALERT_SERVER_SECURITY_TOKENS_H_

// Bearer tokens with roles (docs/security.md). The tokens file holds, one per
// line, a token's name, its roles and the SHA-256 of the token, never the
// token itself:
//
//   # name   roles                 sha256 of the token            [subject]
//   desk1    subscriber            4f1b...e2 (64 hex digits)
//   feed     publisher,subscriber  9c0a...77
//   ops      admin                 d2e4...01  subject=CN=ops,O=Desk
//
// A line may end with `subject=<x509 subject>` (the rest of the line): under
// mutual TLS the token is then accepted only on a connection whose client
// certificate has that subject. Lookups hash the presented token and compare
// it with every entry in constant time; a token is never logged, returned or
// put in an error message, and names are what the logs show instead.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tariffalert {

// Roles as bits; a token holds one or more.
enum Role : uint32_t {
  kRolePublisher = 1u << 0,   // PublishEvent
  kRoleSubscriber = 1u << 1,  // streams, history, the book, what-if
  kRoleAdmin = 1u << 2,       // everything
  // Changes the risk console's shared state (acknowledgements, silences),
  // and reads all a subscriber reads.
  kRoleAnalyst = 1u << 3,
  // Not a role a token holds: what a method needs that every valid token
  // may call (ConsoleService.GetSession).
  kRoleAny = kRolePublisher | kRoleSubscriber | kRoleAdmin | kRoleAnalyst,
};

// "publisher", "subscriber", "admin", "analyst" ("any" for kRoleAny).
const char* RoleName(Role role);
// "publisher,subscriber" → bits; INVALID_ARGUMENT naming an unknown role.
absl::StatusOr<uint32_t> ParseRoles(absl::string_view text);
std::string RolesText(uint32_t roles);

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest Sha256(absl::string_view data);
std::string HexDigest(const Sha256Digest& digest);

struct TokenEntry {
  std::string name;
  uint32_t roles = 0;
  Sha256Digest sha256{};
  // Empty: any connection; else the client certificate's x509 subject.
  std::string cert_subject;
};

// Parses a tokens file's text; errors name `path`:line. Names and hashes
// must be unique.
absl::StatusOr<std::vector<TokenEntry>> ParseTokensFile(absl::string_view text,
                                                        absl::string_view path);

// A new random token (32 bytes from the OS's CSPRNG, base64url, "ta_"
// prefix): what `tariff-alert token new` prints once.
absl::StatusOr<std::string> NewToken();
// The tokens-file line for `token` (its hash, never the token).
std::string TokensFileLine(absl::string_view name, uint32_t roles,
                           absl::string_view token,
                           absl::string_view cert_subject = "");

// The tokens file, re-read when it changes. Thread-safe.
class TokenStore {
 public:
  // Reads `path`; fails naming path:line on a bad line.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(std::string path);

  // Re-reads the file if its modification time, size or inode changed (or
  // `force`). A bad file keeps the previous tokens and returns the error.
  // Returns true in *changed when new tokens were taken.
  absl::Status Reload(bool force, bool* changed = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The entry whose hash matches `token`, comparing with every entry in
  // constant time; null for an unknown token. It shares the tokens read
  // with the file (no copy per call), and stays valid across a reload.
  std::shared_ptr<const TokenEntry> Find(absl::string_view token) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // True if a token with this hash is in the file now (a stream checks
  // that its token was not revoked).
  bool Contains(const Sha256Digest& digest) const ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& path() const { return path_; }

 private:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}

  struct FileStamp {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
  };

  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<TokenEntry>> entries_ ABSL_GUARDED_BY(mu_);
  FileStamp stamp_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SECURITY_TOKENS_H_
