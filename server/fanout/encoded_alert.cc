#include "server/fanout/encoded_alert.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert {
namespace {

// Tag of SubscribeAlertsResponse.alerts: field 1, length-delimited.
constexpr char kAlertsTag = (1 << 3) | 2;

grpc::Slice OwnedSlice(std::string* bytes) {
  return grpc::Slice(
      bytes->data(), bytes->size(),
      [](void* p) { delete static_cast<std::string*>(p); }, bytes);
}

Country ParseOrInvalid(const std::string& code) {
  return Country::Parse(code).value_or(Country());
}

// The keys of `alert`, and the response bytes made of `size` bytes of alert
// that `append` writes.
template <typename Append>
EncodedAlertPtr Encode(const v1::Alert& alert, size_t size, Append append) {
  auto encoded = std::make_shared<EncodedAlert>();
  encoded->sequence = alert.sequence();
  AlertKeys& k = encoded->keys;
  k.subject_kind = alert.subject_kind();
  k.subject = alert.subject();
  k.sector = alert.sector();
  k.company_country = ParseOrInvalid(alert.country());
  k.importer = ParseOrInvalid(alert.imposing_country());
  for (const std::string& t : alert.target_countries()) {
    k.targets.push_back(ParseOrInvalid(t));
  }
  k.abs_score_bps =
      alert.score_bps() < 0 ? -alert.score_bps() : alert.score_bps();
  k.severity = alert.severity();
  k.event_id = alert.event_id();
  k.alert_id = alert.alert_id();
  k.measure_id = alert.measure_id();
  k.stage = alert.stage();
  for (const auto& c : alert.contributions()) {
    if (c.delta_pct() > 0) k.escalation = true;
  }
  k.name = alert.name();
  k.score_bps = alert.score_bps();
  k.operating_profit_change_pct = alert.operating_profit_change_pct();
  // Through absl::Time, which saturates: the timestamp comes from the log
  // in Redis, and seconds * 10^6 overflows int64 for |seconds| > 9.2e12.
  k.created_unix_micros =
      absl::ToUnixMicros(absl::FromUnixSeconds(alert.created_time().seconds()) +
                         absl::Nanoseconds(alert.created_time().nanos()));

  auto* bytes = new std::string();
  bytes->reserve(size + 6);
  bytes->push_back(kAlertsTag);
  uint8_t varint[8];
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(size), varint);
  bytes->append(reinterpret_cast<const char*>(varint),
                static_cast<size_t>(end - varint));
  append(bytes);
  encoded->bytes = OwnedSlice(bytes);
  return encoded;
}

}  // namespace

EncodedAlertPtr EncodeAlert(const v1::Alert& alert) {
  return Encode(alert, alert.ByteSizeLong(),
                [&alert](std::string* out) { alert.AppendToString(out); });
}

EncodedAlertPtr EncodeAlert(const v1::Alert& alert,
                            absl::string_view serialized) {
  return Encode(alert, serialized.size(), [serialized](std::string* out) {
    out->append(serialized.data(), serialized.size());
  });
}

absl::StatusOr<v1::Alert> DecodeAlert(const EncodedAlert& alert) {
  v1::SubscribeAlertsResponse response;
  if (!response.ParseFromArray(alert.bytes.begin(),
                               static_cast<int>(alert.bytes.size())) ||
      response.alerts_size() != 1) {
    return absl::InternalError(absl::StrCat("logged alert ", alert.sequence,
                                            " does not decode as one alert"));
  }
  return std::move(*response.mutable_alerts(0));
}

grpc::Slice EncodeHeartbeat(uint64_t newest_sequence, int64_t unix_micros) {
  v1::SubscribeAlertsResponse response;
  v1::Heartbeat* hb = response.mutable_heartbeat();
  hb->set_newest_sequence(newest_sequence);
  hb->mutable_server_time()->set_seconds(unix_micros / 1000000);
  hb->mutable_server_time()->set_nanos(
      static_cast<int32_t>(unix_micros % 1000000) * 1000);
  return OwnedSlice(new std::string(response.SerializeAsString()));
}

}  // namespace tariffalert
