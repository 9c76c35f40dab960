// tariff-alert token new: makes a bearer token and the tokens-file line for
// it (docs/security.md). The token is printed once, to stdout, and is kept
// nowhere; the server's tokens file holds only its SHA-256.

#include <cstdio>
#include <string>

#include "clients/cli/commands.h"
#include "server/security/tokens.h"

namespace tariffalert::cli {
namespace {

class TokenCommand : public Command {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "token", "Make bearer tokens for a server's --tokens-file.");
    c->require_subcommand(1);
    new_ = c->add_subcommand(
        "new",
        "Print a new random token (once: store it where the client reads "
        "it, e.g. a mode-600 file for --token-file) and, on stderr, the line "
        "to append to the server's tokens file.");
    new_->add_option("--name", name_,
                     "the token's name, as logs and errors show it")
        ->required();
    new_->add_option("--roles", roles_,
                     "comma-separated: publisher, subscriber, analyst, admin")
        ->required();
    new_->add_option("--cert-subject", subject_,
                     "accept the token only with a client certificate of "
                     "this subject (RFC 2253, as `openssl x509 -noout "
                     "-subject -nameopt RFC2253` prints it)");
    new_->add_option("--line-file", line_file_,
                     "append the tokens-file line to this file instead of "
                     "printing it on stderr");
    *sub = c;
  }

  int Run() override {
    auto roles = ParseRoles(roles_);
    if (!roles.ok()) {
      std::fprintf(stderr, "token new: --roles: %s\n",
                   std::string(roles.status().message()).c_str());
      return kExitUsage;
    }
    const std::string line = TokensFileLine(name_, *roles, "x", subject_);
    // Validate the name and subject as the server will.
    if (auto parsed = ParseTokensFile(line, "--name/--cert-subject");
        !parsed.ok()) {
      std::fprintf(stderr, "token new: %s\n",
                   std::string(parsed.status().message()).c_str());
      return kExitUsage;
    }
    auto token = NewToken();
    if (!token.ok()) {
      std::fprintf(stderr, "token new: %s\n",
                   std::string(token.status().message()).c_str());
      return kExitFailed;
    }
    const std::string entry = TokensFileLine(name_, *roles, *token, subject_);
    if (!line_file_.empty()) {
      std::FILE* f = std::fopen(line_file_.c_str(), "a");
      if (f == nullptr || std::fprintf(f, "%s\n", entry.c_str()) < 0 ||
          std::fclose(f) != 0) {
        std::fprintf(stderr, "token new: cannot append to %s\n",
                     line_file_.c_str());
        return kExitFailed;
      }
    } else {
      std::fprintf(stderr, "tokens-file line:\n%s\n", entry.c_str());
    }
    std::printf("%s\n", token->c_str());
    return kExitOk;
  }

 private:
  CLI::App* new_ = nullptr;
  std::string name_, roles_, subject_, line_file_;
};

}  // namespace

std::unique_ptr<Command> AddTokenCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<TokenCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
