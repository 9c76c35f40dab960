#ifndef TARIFF_ALERT_SERVER_METRICS_REGISTRY_H_
#define TARIFF_ALERT_SERVER_METRICS_REGISTRY_H_

// The one prometheus-cpp registry behind server/metrics/metrics.h, for what
// reads it: the exposer and tests. The rest of the server never includes
// this.

#include <memory>
#include <string>

#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace tariffalert {
namespace metrics {

// Made on first use with every family and label child; never destroyed
// (threads may still count while the process exits).
std::shared_ptr<prometheus::Registry> Registry();

// What /metrics serves: the registry, with the gauges read at scrape time
// (the queue depths) brought up to date on each Collect.
std::shared_ptr<prometheus::Collectable> Exposed();

// Exposed() in the text exposition format, as /metrics serves it.
std::string TextExposition();

}  // namespace metrics
}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_METRICS_REGISTRY_H_
