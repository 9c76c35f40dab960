#ifndef TARIFF_ALERT_SERVER_FANOUT_ALERT_HISTORY_H_
#define TARIFF_ALERT_SERVER_FANOUT_ALERT_HISTORY_H_

// ListAlerts over the hub's in-memory log (issue 4 moves the log to Redis):
// request validation, opaque page tokens, and the response bytes, made of
// the logged alerts' own bytes without decoding them.
//
// A page token holds the sequence the next page starts after and a
// fingerprint of the request's filter and time range, so a token used with
// another filter or range is refused instead of silently skipping alerts.
// Portfolio alerts are never logged, so never listed. If the log's retention
// passes a token's sequence between two pages, the next page starts at the
// oldest alert still held (oldest_sequence says where that is).

#include <grpcpp/support/slice.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/fanout/alert_hub.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert {

inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 1000;

struct AlertHistoryPage {
  std::vector<EncodedAlertPtr> alerts;
  std::string next_page_token;  // empty on the last page
  uint64_t oldest_sequence = 0;
};

// INVALID_ARGUMENT naming the field for a bad filter, time range or token.
// page_size 0 means kDefaultPageSize; larger than kMaxPageSize means
// kMaxPageSize.
absl::StatusOr<AlertHistoryPage> ListLoggedAlerts(
    const AlertHub& hub, const v1::ListAlertsRequest& request);

// The serialized ListAlertsResponse, as slices to concatenate.
std::vector<grpc::Slice> EncodeListAlertsResponse(const AlertHistoryPage& page);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_ALERT_HISTORY_H_
