#ifndef TARIFF_ALERT_SERVER_CONFIG_CONFIG_FILE_H_
#define TARIFF_ALERT_SERVER_CONFIG_CONFIG_FILE_H_

// A YAML configuration file for a CLI11 program (tariff-alertd --config):
// the keys are the long flag names without dashes, every option of the app
// (iterated, so a flag added later is covered with no change here):
//   listen: 0.0.0.0:50051
//   insecure: true          # flags: true or false
//   redis-sentinels: [a:26379, b:26379]   # a sequence: repeated, or joined
//                                          # with ',' for a single-value flag
// Command-line flags override the file (an option given on the command line
// drops the file's value). An unknown key or a bad value is an error naming
// file:line.
// The app is parsed more than once (the command line, the file, then both):
// option callbacks must not accumulate across parses.

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tariffalert {

class ConfigFile {
 public:
  // Parses `argc/argv` with `app`, and if `config_option` (e.g. "--config")
  // names a file, reads it and parses again with the file's options first
  // and the command line after. On success the app holds the effective
  // options. Errors: absl::InvalidArgumentError, the message naming
  // file:line for the file's errors; CLI::ParseError from the command line
  // itself (--help included) is rethrown for app.exit().
  absl::Status Parse(CLI::App& app, int argc, const char* const* argv,
                     absl::string_view config_option);

  // Only the file: `text` as if read from `path` (tests).
  absl::Status ParseText(CLI::App& app, absl::string_view text,
                         absl::string_view path,
                         const std::vector<std::string>& command_line);

  // "file:line: " of the key that set `option_name` ("redis"), "" when the
  // command line (or nothing) set it; for errors found after parsing.
  std::string Where(absl::string_view option_name) const;

  // The app's effective options as YAML that Parse accepts again: each
  // option's description as a comment, unset options commented out,
  // secrets (a name holding "password", "token" or "secret" that is not a
  // "-file" path) as "set" or "unset" in a comment, never their value.
  // Options named in `skip` (e.g. "config", "print-config") are left out.
  static std::string Print(CLI::App& app, const std::vector<std::string>& skip);

  static bool IsSecret(absl::string_view option_name);

 private:
  std::string path_;
  std::map<std::string, int> lines_;  // option name -> line in path_
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_CONFIG_CONFIG_FILE_H_
