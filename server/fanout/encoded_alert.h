#ifndef TARIFF_ALERT_SERVER_FANOUT_ENCODED_ALERT_H_
#define TARIFF_ALERT_SERVER_FANOUT_ENCODED_ALERT_H_

// An alert serialized once, as the bytes of a SubscribeAlertsResponse holding
// just that alert, in a reference-counted slice: every matching stream writes
// the same bytes. Because `alerts` is a repeated field, the bytes of several
// such responses concatenated are one valid response carrying them all, which
// is how a stream sends what queued up during a write as one message.

#include <grpcpp/support/slice.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/common/country.h"

namespace tariffalert::v1 {
class Alert;
}  // namespace tariffalert::v1

namespace tariffalert {

// What a filter looks at, taken from the alert once.
struct AlertKeys {
  int subject_kind = 0;  // tariffalert.v1.SubjectKind
  std::string subject;
  std::string sector;
  Country company_country;  // invalid for a sector alert
  Country importer;
  std::vector<Country> targets;  // empty: all partners
  double abs_score_bps = 0;
  int severity = 0;  // tariffalert.v1.Severity
};

struct EncodedAlert {
  uint64_t sequence = 0;
  AlertKeys keys;
  grpc::Slice bytes;
};

using EncodedAlertPtr = std::shared_ptr<const EncodedAlert>;

EncodedAlertPtr EncodeAlert(const tariffalert::v1::Alert& alert);

// A heartbeat message's bytes.
grpc::Slice EncodeHeartbeat(uint64_t newest_sequence, int64_t unix_micros);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_FANOUT_ENCODED_ALERT_H_
