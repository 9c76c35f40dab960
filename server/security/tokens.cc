#include "server/security/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tariffalert {
namespace {

constexpr struct {
  Role role;
  const char* name;
} kRoles[] = {{kRolePublisher, "publisher"},
              {kRoleSubscriber, "subscriber"},
              {kRoleAdmin, "admin"},
              {kRoleAnalyst, "analyst"}};

constexpr absl::string_view kSubjectKey = "subject=";
constexpr size_t kMaxNameBytes = 64;

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

bool ParseHexDigest(absl::string_view hex, Sha256Digest* out) {
  if (absl::StartsWith(hex, "sha256:")) hex.remove_prefix(7);
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int value = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = absl::ascii_tolower(hex[2 * i + k]);
      int nibble;
      if (c >= '0' && c <= '9') {
        nibble = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        nibble = c - 'a' + 10;
      } else {
        return false;
      }
      value = value * 16 + nibble;
    }
    (*out)[i] = static_cast<uint8_t>(value);
  }
  return true;
}

}  // namespace

const char* RoleName(Role role) {
  if (role == kRoleAny) return "any";
  for (const auto& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return "?";
}

absl::StatusOr<uint32_t> ParseRoles(absl::string_view text) {
  uint32_t roles = 0;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    part = absl::StripAsciiWhitespace(part);
    bool known = false;
    for (const auto& r : kRoles) {
      if (part == r.name) {
        roles |= r.role;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown role '", absl::CEscape(part.substr(0, 32)),
                       "' (publisher, subscriber or admin)"));
    }
  }
  return roles;
}

std::string RolesText(uint32_t roles) {
  std::vector<std::string> names;
  for (const auto& r : kRoles) {
    if (roles & r.role) names.push_back(r.name);
  }
  return absl::StrJoin(names, ",");
}

Sha256Digest Sha256(absl::string_view data) {
  Sha256Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest.data());
  return digest;
}

std::string HexDigest(const Sha256Digest& digest) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

absl::StatusOr<std::vector<TokenEntry>> ParseTokensFile(
    absl::string_view text, absl::string_view path) {
  std::vector<TokenEntry> entries;
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> hashes;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    auto fail = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", what));
    };
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    TokenEntry entry;
    // The subject, if any, is the rest of the line: subjects hold spaces.
    if (size_t at = line.find(kSubjectKey); at != absl::string_view::npos) {
      entry.cert_subject = std::string(
          absl::StripAsciiWhitespace(line.substr(at + kSubjectKey.size())));
      if (entry.cert_subject.empty()) return fail("subject= is empty");
      line = absl::StripAsciiWhitespace(line.substr(0, at));
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return fail("expected 'name roles sha256-of-token [subject=...]', got " +
                  std::to_string(fields.size()) + " fields");
    }
    if (!ValidName(fields[0])) {
      return fail(
          "name: 1-64 characters of letters, digits, '-', '_', '.', '@'");
    }
    entry.name = std::string(fields[0]);
    auto roles = ParseRoles(fields[1]);
    if (!roles.ok())
      return fail(absl::StrCat("roles: ", roles.status().message()));
    entry.roles = *roles;
    if (!ParseHexDigest(fields[2], &entry.sha256)) {
      return fail(
          "sha256: expected the 64 hex digits of the token's SHA-256 (the "
          "file never holds a token itself; see tariff-alert token new)");
    }
    if (!names.insert(entry.name).second) {
      return fail(absl::StrCat("name '", entry.name, "' appears twice"));
    }
    if (!hashes.insert(HexDigest(entry.sha256)).second) {
      return fail(absl::StrCat("token of '", entry.name,
                               "' has the same hash as an earlier line"));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<std::string> NewToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("no random bytes from the OS");
  }
  std::string encoded;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes),
      &encoded);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return absl::StrCat("ta_", encoded);
}

std::string TokensFileLine(absl::string_view name, uint32_t roles,
                           absl::string_view token,
                           absl::string_view cert_subject) {
  std::string line =
      absl::StrCat(name, " ", RolesText(roles), " ", HexDigest(Sha256(token)));
  if (!cert_subject.empty()) absl::StrAppend(&line, " subject=", cert_subject);
  return line;
}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(std::string path) {
  std::unique_ptr<TokenStore> store(new TokenStore(std::move(path)));
  absl::Status loaded = store->Reload(/*force=*/true);
  if (!loaded.ok()) return loaded;
  return store;
}

absl::Status TokenStore::Reload(bool force, bool* changed) {
  if (changed != nullptr) *changed = false;
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(path_, ": cannot read the tokens file"));
  }
  FileStamp stamp;
  stamp.mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  stamp.size = st.st_size;
  stamp.inode = st.st_ino;
  {
    absl::MutexLock lock(&mu_);
    if (!force && stamp == stamp_) return absl::OkStatus();
  }
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::NotFoundError(
        absl::StrCat(path_, ": cannot read the tokens file"));
  }
  auto entries = ParseTokensFile(text.str(), path_);
  absl::MutexLock lock(&mu_);
  // Remember the stamp even for a bad file: it is reported once, not on
  // every poll, and the previous tokens stay in force.
  stamp_ = stamp;
  if (!entries.ok()) return entries.status();
  entries_ =
      std::make_shared<const std::vector<TokenEntry>>(*std::move(entries));
  if (changed != nullptr) *changed = true;
  return absl::OkStatus();
}

std::shared_ptr<const TokenEntry> TokenStore::Find(
    absl::string_view token) const {
  std::shared_ptr<const std::vector<TokenEntry>> entries;
  {
    absl::MutexLock lock(&mu_);
    entries = entries_;
  }
  if (entries == nullptr) return nullptr;
  const Sha256Digest digest = Sha256(token);
  const TokenEntry* found = nullptr;
  // Every entry is compared, whatever matched: the time taken does not
  // depend on which entry (if any) the token is.
  for (const TokenEntry& entry : *entries) {
    const bool match =
        CRYPTO_memcmp(entry.sha256.data(), digest.data(), digest.size()) == 0;
    if (match) found = &entry;
  }
  if (found == nullptr) return nullptr;
  // Aliasing: owns the whole list, points at the entry.
  return std::shared_ptr<const TokenEntry>(entries, found);
}

bool TokenStore::Contains(const Sha256Digest& digest) const {
  absl::MutexLock lock(&mu_);
  if (entries_ == nullptr) return false;
  for (const TokenEntry& entry : *entries_) {
    if (entry.sha256 == digest) return true;
  }
  return false;
}

size_t TokenStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_ == nullptr ? 0 : entries_->size();
}

}  // namespace tariffalert
