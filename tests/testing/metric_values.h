#ifndef TARIFF_ALERT_TESTS_TESTING_METRIC_VALUES_H_
#define TARIFF_ALERT_TESTS_TESTING_METRIC_VALUES_H_

// Reads the process's metrics registry (server/metrics/registry.h) for tests,
// without any HTTP endpoint. The registry is process-wide: a test reads a
// value before and after what it does.

#include <map>
#include <string>
#include <vector>

#include "prometheus/metric_family.h"
#include "server/metrics/registry.h"

namespace tariffalert::testing {

using MetricLabels = std::map<std::string, std::string>;

// The series `name` with exactly `labels`, from a fresh collection, copied
// to *out (and its family's type to *type); false if there is none.
inline bool FindMetric(const std::string& name, const MetricLabels& labels,
                       prometheus::ClientMetric* out,
                       prometheus::MetricType* type = nullptr) {
  for (const prometheus::MetricFamily& f : metrics::Exposed()->Collect()) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      MetricLabels have;
      for (const auto& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      *out = m;
      if (type != nullptr) *type = f.type;
      return true;
    }
  }
  return false;
}

// A counter's or a gauge's value, a histogram's count; -1 if the series
// does not exist.
inline double MetricValue(const std::string& name,
                          const MetricLabels& labels = {}) {
  prometheus::ClientMetric m;
  prometheus::MetricType type;
  if (!FindMetric(name, labels, &m, &type)) return -1;
  switch (type) {
    case prometheus::MetricType::Counter:
      return m.counter.value;
    case prometheus::MetricType::Gauge:
      return m.gauge.value;
    case prometheus::MetricType::Histogram:
      return static_cast<double>(m.histogram.sample_count);
    default:
      return -1;
  }
}

// A histogram's sum; -1 if the series does not exist.
inline double MetricSum(const std::string& name,
                        const MetricLabels& labels = {}) {
  prometheus::ClientMetric m;
  if (!FindMetric(name, labels, &m)) return -1;
  return m.histogram.sample_sum;
}

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_METRIC_VALUES_H_
