#include "server/metrics/metrics_exposer.h"

#include <arpa/inet.h>

#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"
#include "server/metrics/registry.h"
#include "server/security/transport.h"

namespace tariffalert {
namespace {

struct Endpoint {
  std::string host;  // an IPv4 literal
  int port = 0;
};

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-listen '", address, "': ", why,
                     " (host:port, e.g. 127.0.0.1:9464)"));
  };
  Endpoint e;
  absl::string_view host;
  absl::string_view port;
  if (!address.empty() && address.front() == '[') {
    const size_t end = address.find("]:");
    if (end == absl::string_view::npos) return bad("no port");
    host = address.substr(1, end - 1);
    port = address.substr(end + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad("no port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(port, &e.port) || e.port < 0 || e.port > 65535) {
    return bad("the port is not a number from 0 to 65535");
  }
  e.host = absl::AsciiStrToLower(host);
  // civetweb takes IP addresses only.
  if (e.host == "localhost") e.host = "127.0.0.1";
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, e.host.c_str(), &v4) == 1) return e;
  if (inet_pton(AF_INET6, e.host.c_str(), &v6) == 1) {
    return bad(
        "IPv6 is not supported (Debian's civetweb is built without it): use "
        "an IPv4 address such as 127.0.0.1");
  }
  return bad("the host must be an IPv4 address or localhost");
}

}  // namespace

absl::Status CheckMetricsOptions(const MetricsOptions& options) {
  auto endpoint = ParseEndpoint(options.listen_address);
  if (!endpoint.ok()) return endpoint.status();
  if (!options.any_address && !IsLoopbackAddress(options.listen_address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-listen '", options.listen_address,
        "': /metrics is plain HTTP without authentication, served on a "
        "loopback address only; add --metrics-any-address to serve it on "
        "another address (where only trusted scrapers can reach it)"));
  }
  return absl::OkStatus();
}

MetricsExposer::MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer,
                               int port)
    : exposer_(std::move(exposer)), port_(port) {}

MetricsExposer::~MetricsExposer() = default;

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const MetricsOptions& options) {
  if (absl::Status s = CheckMetricsOptions(options); !s.ok()) return s;
  auto endpoint = ParseEndpoint(options.listen_address);
  if (!endpoint.ok()) return endpoint.status();
  const std::string bind = absl::StrCat(endpoint->host, ":", endpoint->port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // Two civetweb threads: a scrape is one short request at a time.
    exposer = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", bind, "num_threads", "2"});
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("--metrics-listen ", options.listen_address,
                     ": cannot listen (", e.what(), ")"));
  }
  exposer->RegisterCollectable(metrics::Exposed());
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "--metrics-listen ", options.listen_address, ": no port bound"));
  }
  return std::unique_ptr<MetricsExposer>(
      new MetricsExposer(std::move(exposer), ports.front()));
}

}  // namespace tariffalert
