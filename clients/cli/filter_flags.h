#ifndef TARIFF_ALERT_CLIENTS_CLI_FILTER_FLAGS_H_
#define TARIFF_ALERT_CLIENTS_CLI_FILTER_FLAGS_H_

// The flags of the subcommands that subscribe to alerts (watch, console):
// the filter (--tickers, --sectors, --countries, --min-score-bps,
// --min-severity) and the syntax of --holdings, so that both name and read
// them the same.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert::cli {

class AlertFilterFlags {
 public:
  void Add(CLI::App* command);
  // The filter the flags ask for; errors name the flag.
  absl::StatusOr<v1::AlertFilter> Resolve() const;

 private:
  std::vector<std::string> tickers_, sectors_, countries_;
  std::optional<double> min_score_bps_;
  std::string min_severity_;
};

// The positions of --holdings, TICKER=VALUE each. Checks the syntax only;
// the server checks the rest (and names the field).
absl::StatusOr<std::vector<v1::Holding>> ParseHoldings(
    const std::vector<std::string>& values);

}  // namespace tariffalert::cli

#endif  // TARIFF_ALERT_CLIENTS_CLI_FILTER_FLAGS_H_
