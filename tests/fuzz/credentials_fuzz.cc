// Fuzzes what a server reads of credentials (server/security/): the tokens
// file (ParseTokensFile, from an operator, re-read while serving) and, from
// any client, the ":path" and "authorization" metadata and a certificate
// subject, decided by Authorize against a fixed tokens file. The input is
// the tokens file text, then a line "%%", then lines of
// "method<TAB>authorization<TAB>subject". Checks: an accepted file's entries
// are whole; a decision never puts the presented token in its message, nor a
// message longer than a short bound, and only a known token or an open
// method is let in.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "server/security/access_policy.h"
#include "server/security/tokens.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr char kKnownToken[] = "ta_fuzz-known-token";

const tariffalert::TokenStore& Store() {
  static const tariffalert::TokenStore* store = [] {
    const std::string path = "/tmp/ta-credentials-fuzz-tokens.txt";
    std::FILE* f = std::fopen(path.c_str(), "w");
    const std::string line = tariffalert::TokensFileLine(
        "fuzz", tariffalert::kRoleSubscriber, kKnownToken);
    std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
    auto opened = tariffalert::TokenStore::Open(path);
    TA_FUZZ_CHECK(opened.ok(), "the fixed tokens file opens");
    return opened->release();
  }();
  return *store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n%%\n");
  const absl::string_view file = input.substr(0, split);
  auto entries = tariffalert::ParseTokensFile(file, "tokens.txt");
  if (entries.ok()) {
    for (const tariffalert::TokenEntry& e : *entries) {
      TA_FUZZ_CHECK(!e.name.empty() && e.name.size() <= 64, "a named entry");
      TA_FUZZ_CHECK(e.roles != 0, "an entry has a role");
    }
  } else {
    TA_FUZZ_CHECK(absl::StartsWith(entries.status().message(), "tokens.txt:"),
                  "a refusal names file:line");
  }
  if (split == absl::string_view::npos) return 0;
  for (absl::string_view line : absl::StrSplit(input.substr(split + 4), '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    f.resize(3);
    std::optional<absl::string_view> header;
    if (!f[1].empty()) header = f[1];
    auto decision = tariffalert::Authorize(f[0], header, f[2], Store(),
                                           /*reflection_open=*/false);
    const std::optional<absl::string_view> token =
        header.has_value() ? tariffalert::BearerToken(*header) : std::nullopt;
    const bool open = !tariffalert::RequiredRole(f[0], false).has_value();
    if (decision.ok()) {
      TA_FUZZ_CHECK(open || (token.has_value() && *token == kKnownToken),
                    "only a known token or an open method is let in");
    } else {
      const absl::string_view message = decision.status().message();
      TA_FUZZ_CHECK(message.size() < 600, "a short message");
      // Tokens look like `token new`'s ("ta_" and random text): a short
      // string could be a word of the message itself. (And unless the client
      // put its token in the method or subject.)
      if (token.has_value() && token->size() >= 8 &&
          absl::StartsWith(*token, "ta_") && !absl::StrContains(f[0], *token) &&
          !absl::StrContains(f[2], *token)) {
        TA_FUZZ_CHECK(!absl::StrContains(message, *token),
                      "the message never holds the token");
      }
    }
  }
  return 0;
}
