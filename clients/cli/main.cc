// tariff-alert: the command-line client. Subcommands: load, publish, watch,
// replay, backtest, token, console.

#include <cstdio>
#include <memory>
#include <vector>

#include "clients/cli/commands.h"

int main(int argc, char** argv) {
  using namespace tariffalert::cli;
  CLI::App app{
      "tariff-alert: load exposure tables, publish tariff events and "
      "watch the alerts of a tariff-alert server; replay a timeline offline "
      "and backtest it against market returns."};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::unique_ptr<Command>>> commands;
  CLI::App* sub = nullptr;
  auto load = AddLoadCommand(app, &sub);
  commands.emplace_back(sub, std::move(load));
  auto publish = AddPublishCommand(app, &sub);
  commands.emplace_back(sub, std::move(publish));
  auto watch = AddWatchCommand(app, &sub);
  commands.emplace_back(sub, std::move(watch));
  auto replay = AddReplayCommand(app, &sub);
  commands.emplace_back(sub, std::move(replay));
  auto backtest = AddBacktestCommand(app, &sub);
  commands.emplace_back(sub, std::move(backtest));
  auto token = AddTokenCommand(app, &sub);
  commands.emplace_back(sub, std::move(token));
  auto console = AddConsoleCommand(app, &sub);
  commands.emplace_back(sub, std::move(console));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (auto& [subcommand, command] : commands) {
    if (subcommand->parsed()) return command->Run();
  }
  return kExitUsage;
}
