#ifndef TARIFF_ALERT_SERVER_METRICS_METRICS_EXPOSER_H_
#define TARIFF_ALERT_SERVER_METRICS_METRICS_EXPOSER_H_

// Serves the process's metrics registry (server/metrics/registry.h) at
// http://host:port/metrics with prometheus-cpp's pull exposer (civetweb): the
// text exposition format, nothing else. Plain HTTP with no authentication,
// so by default only on a loopback address; a non-loopback address needs
// `any_address` (tariff-alertd --metrics-any-address), for a network where
// the scraper is trusted (docs/operations.md, "Metrics"). Destroying it
// waits for civetweb's threads, up to 2 s (its poll quantum).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace tariffalert {

struct MetricsOptions {
  // host:port of /metrics: an IPv4 address or localhost (Debian's civetweb
  // has no IPv6); port 0 picks a free port. Empty: no metrics endpoint.
  std::string listen_address;
  // Allow a non-loopback address.
  bool any_address = false;
};

// INVALID_ARGUMENT naming the flag: not host:port, not an IP address, or not
// loopback without any_address. Checks only; binds nothing.
absl::Status CheckMetricsOptions(const MetricsOptions& options);

class MetricsExposer {
 public:
  // CheckMetricsOptions, then binds; UNAVAILABLE if the address cannot be
  // bound (in use, not this host's).
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      const MetricsOptions& options);
  ~MetricsExposer();
  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;

  // The bound port (the one picked for port 0).
  int port() const { return port_; }

 private:
  MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_METRICS_METRICS_EXPOSER_H_
