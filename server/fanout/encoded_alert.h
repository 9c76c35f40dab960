#ifndef TARIFF_ALERT_SERVER_FANOUT_ENCODED_ALERT_H_
#define TARIFF_ALERT_SERVER_FANOUT_ENCODED_ALERT_H_

// An alert serialized once, as the bytes of a SubscribeAlertsResponse holding
// just that alert, in a reference-counted slice: every matching stream writes
// the same bytes. Because `alerts` is a repeated field, the bytes of several
// such responses concatenated are one valid response carrying them all, which
// is how a stream sends what queued up during a write as one message.
// ListAlertsResponse.alerts is field 1 too, so the same bytes also make up a
// history page.

#include <grpcpp/support/slice.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/common/country.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {

// What a filter, a history query and a portfolio look at, taken from the
// alert once.
struct AlertKeys {
  int subject_kind = 0;  // tariffalert.v1.SubjectKind
  std::string subject;
  std::string sector;
  Country company_country;  // invalid for a sector alert
  Country importer;
  std::vector<Country> targets;  // empty: all partners
  double abs_score_bps = 0;
  int severity = 0;  // tariffalert.v1.Severity
  // For portfolios and history.
  std::string event_id;
  std::string name;
  double score_bps = 0;
  double operating_profit_change_pct = 0;
  int64_t created_unix_micros = 0;
  // For the console's silences and inhibitions.
  std::string alert_id;
  std::string measure_id;
  int stage = 0;  // tariffalert.v1.Stage
  // Some contribution's rate change raises the rate.
  bool escalation = false;
};

struct EncodedAlert {
  uint64_t sequence = 0;
  AlertKeys keys;
  grpc::Slice bytes;
};

using EncodedAlertPtr = std::shared_ptr<const EncodedAlert>;

EncodedAlertPtr EncodeAlert(const tariffalert::v1::Alert& alert);
// The same from `serialized`, which must be `alert` serialized (sequence
// included): for bytes already made, e.g. read from the shared log.
EncodedAlertPtr EncodeAlert(const tariffalert::v1::Alert& alert,
                            absl::string_view serialized);

// The alert an EncodedAlert's bytes hold. INTERNAL if they do not parse
// (they always should: EncodeAlert wrote them).
absl::StatusOr<tariffalert::v1::Alert> DecodeAlert(const EncodedAlert& alert);

// A heartbeat message's bytes.
grpc::Slice EncodeHeartbeat(uint64_t newest_sequence, int64_t unix_micros);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_ENCODED_ALERT_H_
