// Fuzzes a ListAlerts request (server/fanout/alert_history.h): the bytes
// parsed as tariffalert.v1.ListAlertsRequest, validated by ListLoggedAlerts
// (filter, time range, page size, page token) against a hub holding fixed
// alerts, the response encoded from the alerts' own bytes; then paged on with
// each next_page_token as a client would. Every page must parse as a
// ListAlertsResponse, and the pages must list each alert once, in order.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/fanout/alert_history.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/encoded_alert.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

namespace v1 = ::tariffalert::v1;

class FixedClock : public tariffalert::Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixSeconds(1000); }
};

// 40 alerts created at 10, 20, ..., 400 s: tickers and sectors, US, EU and
// CN events, scores from -400 to +380 bps.
const tariffalert::AlertHub& Hub() {
  static const FixedClock clock;
  static const tariffalert::AlertHub* hub = [] {
    tariffalert::HubOptions options;
    options.heartbeat_interval = absl::ZeroDuration();
    auto* h = new tariffalert::AlertHub(options, clock);
    const char* tickers[] = {"AAPL", "SAP", "TSLA", "BMW.DE"};
    const char* importers[] = {"US", "EU", "CN"};
    for (uint64_t seq = 1; seq <= 40; ++seq) {
      v1::Alert a;
      a.set_sequence(seq);
      a.set_event_id("e" + std::to_string((seq + 2) / 3));
      const bool sector = seq % 5 == 0;
      a.set_subject_kind(sector ? v1::SUBJECT_KIND_SECTOR
                                : v1::SUBJECT_KIND_TICKER);
      a.set_subject(sector ? "Materials" : tickers[seq % 4]);
      a.set_sector(sector ? "Materials" : "Information Technology");
      if (!sector) a.set_country(seq % 2 ? "US" : "DE");
      a.set_imposing_country(importers[seq % 3]);
      if (seq % 4 != 0) a.add_target_countries(seq % 2 ? "CN" : "MX");
      a.set_score_bps(static_cast<double>(seq) * 20 - 400);
      a.set_severity(static_cast<v1::Severity>(1 + seq % 5));
      a.mutable_created_time()->set_seconds(static_cast<int64_t>(seq) * 10);
      h->Publish({tariffalert::EncodeAlert(a)});
    }
    return h;
  }();
  return *hub;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size > (1 << 20)) return 0;
  v1::ListAlertsRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  uint64_t last = 0;
  for (int pages = 0; pages < 50; ++pages) {
    auto page = tariffalert::ListLoggedAlerts(Hub(), request);
    if (!page.ok()) {
      TA_FUZZ_CHECK(absl::IsInvalidArgument(page.status()),
                    "a bad request is INVALID_ARGUMENT");
      TA_FUZZ_CHECK(pages == 0, "a token the server made is accepted");
      return 0;
    }
    std::string bytes;
    for (const grpc::Slice& s : tariffalert::EncodeListAlertsResponse(*page)) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    v1::ListAlertsResponse response;
    TA_FUZZ_CHECK(response.ParseFromString(bytes), "a page parses");
    TA_FUZZ_CHECK(
        static_cast<size_t>(response.alerts_size()) == page->alerts.size(),
        "a page holds its alerts");
    TA_FUZZ_CHECK(page->alerts.size() <= tariffalert::kMaxPageSize,
                  "a page is at most kMaxPageSize");
    for (const v1::Alert& a : response.alerts()) {
      TA_FUZZ_CHECK(a.sequence() > last,
                    "pages list each alert once, in order");
      last = a.sequence();
    }
    if (response.next_page_token().empty()) return 0;
    request.set_page_token(response.next_page_token());
  }
  TA_FUZZ_CHECK(false, "40 alerts take at most 40 pages");
  return 0;
}
