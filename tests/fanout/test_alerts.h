#ifndef TARIFF_ALERT_TESTS_FANOUT_TEST_ALERTS_H_
#define TARIFF_ALERT_TESTS_FANOUT_TEST_ALERTS_H_

#include <string>
#include <vector>

#include "server/fanout/encoded_alert.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert::testing {

// A ticker alert on a US tariff on `target` goods.
inline v1::Alert MakeAlert(
    uint64_t sequence, const std::string& ticker, double score_bps,
    const std::string& target = "CN",
    const std::string& sector = "Information Technology") {
  v1::Alert a;
  a.set_sequence(sequence);
  a.set_event_id("e");
  a.set_alert_id("e/T/" + ticker);
  a.set_subject_kind(v1::SUBJECT_KIND_TICKER);
  a.set_subject(ticker);
  a.set_name(ticker + " Inc.");
  a.set_sector(sector);
  a.set_country("US");
  a.set_score_bps(score_bps);
  const double m = score_bps < 0 ? -score_bps : score_bps;
  a.set_severity(m >= 500   ? v1::SEVERITY_CRITICAL
                 : m >= 200 ? v1::SEVERITY_HIGH
                 : m >= 50  ? v1::SEVERITY_MEDIUM
                 : m >= 10  ? v1::SEVERITY_LOW
                            : v1::SEVERITY_INFO);
  a.set_imposing_country("US");
  if (!target.empty()) a.add_target_countries(target);
  a.set_explanation("test alert");
  return a;
}

inline EncodedAlertPtr Encoded(uint64_t sequence, const std::string& ticker,
                               double score_bps = -100,
                               const std::string& target = "CN") {
  return EncodeAlert(MakeAlert(sequence, ticker, score_bps, target));
}

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_FANOUT_TEST_ALERTS_H_
