#ifndef TARIFF_ALERT_CLIENTS_CLI_COMMANDS_H_
#define TARIFF_ALERT_CLIENTS_CLI_COMMANDS_H_

// The subcommands of the tariff-alert CLI. Each adds itself to the app and
// returns the options it will run with; Run() returns the process exit code.

#include <CLI/CLI.hpp>
#include <memory>

namespace tariffalert::cli {

class Command {
 public:
  virtual ~Command() = default;
  virtual int Run() = 0;
};

std::unique_ptr<Command> AddLoadCommand(CLI::App& app, CLI::App** sub);
std::unique_ptr<Command> AddPublishCommand(CLI::App& app, CLI::App** sub);
std::unique_ptr<Command> AddWatchCommand(CLI::App& app, CLI::App** sub);
std::unique_ptr<Command> AddReplayCommand(CLI::App& app, CLI::App** sub);
std::unique_ptr<Command> AddBacktestCommand(CLI::App& app, CLI::App** sub);
std::unique_ptr<Command> AddTokenCommand(CLI::App& app, CLI::App** sub);
std::unique_ptr<Command> AddConsoleCommand(CLI::App& app, CLI::App** sub);

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the server or Redis said no
inline constexpr int kExitUsage = 2;   // bad flags or input files

}  // namespace tariffalert::cli

#endif  // TARIFF_ALERT_CLIENTS_CLI_COMMANDS_H_
