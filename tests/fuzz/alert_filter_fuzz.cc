// Fuzzes a SubscribeAlerts request as the stream reads it
// (server/service/alert_stream.cc, ParseRequest): the bytes parsed as
// tariffalert.v1.SubscribeAlertsRequest, its filter validated and compiled by
// AlertFilter::FromProto (server/fanout/alert_filter.h), its holdings checked
// by ValidateHoldings; an accepted filter is matched against fixed alerts.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/fanout/alert_filter.h"
#include "server/fanout/encoded_alert.h"
#include "server/scoring/portfolio.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

namespace v1 = ::tariffalert::v1;

v1::Alert MakeAlert(v1::SubjectKind kind, const char* subject,
                    const char* sector, const char* country,
                    const char* importer, std::vector<const char*> targets,
                    double score_bps, v1::Severity severity) {
  v1::Alert a;
  a.set_sequence(7);
  a.set_event_id("fuzz-event");
  a.set_subject_kind(kind);
  a.set_subject(subject);
  a.set_sector(sector);
  a.set_country(country);
  a.set_imposing_country(importer);
  for (const char* t : targets) a.add_target_countries(t);
  a.set_score_bps(score_bps);
  a.set_severity(severity);
  return a;
}

// A ticker, a sector and a portfolio alert; an EU, an all-partners and a
// one-partner event.
const std::vector<tariffalert::EncodedAlertPtr>& Alerts() {
  static const auto* alerts = new std::vector<tariffalert::EncodedAlertPtr>{
      tariffalert::EncodeAlert(MakeAlert(v1::SUBJECT_KIND_TICKER, "AAPL",
                                         "Information Technology", "US", "US",
                                         {"CN"}, -120, v1::SEVERITY_MEDIUM)),
      tariffalert::EncodeAlert(MakeAlert(v1::SUBJECT_KIND_SECTOR, "Materials",
                                         "Materials", "", "EU", {"US", "CA"},
                                         35, v1::SEVERITY_LOW)),
      tariffalert::EncodeAlert(MakeAlert(v1::SUBJECT_KIND_TICKER, "SAP",
                                         "Information Technology", "DE", "US",
                                         {}, -900, v1::SEVERITY_CRITICAL)),
      tariffalert::EncodeAlert(MakeAlert(v1::SUBJECT_KIND_PORTFOLIO,
                                         "portfolio", "", "", "CN", {"EU"}, 4,
                                         v1::SEVERITY_INFO)),
  };
  return *alerts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size > (1 << 20)) return 0;
  v1::SubscribeAlertsRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto filter = tariffalert::AlertFilter::FromProto(request.filter());
  if (!filter.ok()) {
    TA_FUZZ_CHECK(absl::IsInvalidArgument(filter.status()),
                  "a bad filter is INVALID_ARGUMENT");
    return 0;
  }
  if (request.holdings_size() > 0) {
    auto holdings = tariffalert::ValidateHoldings(request.holdings());
    if (!holdings.ok()) return 0;
    TA_FUZZ_CHECK(
        holdings->size() == static_cast<size_t>(request.holdings_size()),
        "every holding is kept");
  }
  (void)filter->WantsPortfolio();
  for (const tariffalert::EncodedAlertPtr& alert : Alerts()) {
    (void)filter->Matches(alert->keys);
  }
  // The default filter matches everything.
  if (request.filter().ByteSizeLong() == 0) {
    for (const tariffalert::EncodedAlertPtr& alert : Alerts()) {
      TA_FUZZ_CHECK(filter->Matches(alert->keys),
                    "an empty filter matches every alert");
    }
  }
  return 0;
}
