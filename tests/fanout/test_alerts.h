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

// A ticker alert of event `event_id`, created at `created_seconds`.
inline v1::Alert MakeEventAlert(uint64_t sequence, const std::string& event_id,
                                const std::string& ticker, double score_bps,
                                double operating_profit_change_pct,
                                int64_t created_seconds = 1000) {
  v1::Alert a = MakeAlert(sequence, ticker, score_bps);
  a.set_event_id(event_id);
  a.set_alert_id(event_id + "/T/" + ticker);
  a.set_operating_profit_change_pct(operating_profit_change_pct);
  a.mutable_created_time()->set_seconds(created_seconds);
  a.set_headline("headline of " + event_id);
  a.set_exposure_version("v7");
  a.set_book_revision(3);
  a.set_model_version("test-model+0");
  return a;
}

inline EncodedAlertPtr EventAlert(uint64_t sequence,
                                  const std::string& event_id,
                                  const std::string& ticker, double score_bps,
                                  double operating_profit_change_pct,
                                  int64_t created_seconds = 1000) {
  return EncodeAlert(MakeEventAlert(sequence, event_id, ticker, score_bps,
                                    operating_profit_change_pct,
                                    created_seconds));
}

// A sector alert of event `event_id`.
inline EncodedAlertPtr SectorAlert(uint64_t sequence,
                                   const std::string& event_id,
                                   const std::string& sector, double score_bps,
                                   int64_t created_seconds = 1000) {
  v1::Alert a = MakeEventAlert(sequence, event_id, sector, score_bps, 0,
                               created_seconds);
  a.set_subject_kind(v1::SUBJECT_KIND_SECTOR);
  a.set_alert_id(event_id + "/S/" + sector);
  a.set_sector(sector);
  a.set_name(sector);
  a.set_country("");
  return EncodeAlert(a);
}

inline EncodedAlertPtr Encoded(uint64_t sequence, const std::string& ticker,
                               double score_bps = -100,
                               const std::string& target = "CN") {
  return EncodeAlert(MakeAlert(sequence, ticker, score_bps, target));
}

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_FANOUT_TEST_ALERTS_H_
