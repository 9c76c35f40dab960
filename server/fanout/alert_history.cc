#include "server/fanout/alert_history.h"

#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/hash.h"

namespace tariffalert {
namespace {

// The token's format version: a token names where the next page starts, and
// a later log (issue 4: Redis) may need another form.
constexpr absl::string_view kTokenVersion = "ta1";

// Timestamp's documented range: 0001-01-01 to 9999-12-31.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

absl::StatusOr<absl::Time> ToTime(const google::protobuf::Timestamp& t,
                                  absl::string_view field) {
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a valid timestamp"));
  }
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Of everything that decides which alerts a listing holds: filter and range.
uint64_t QueryFingerprint(const v1::ListAlertsRequest& request) {
  v1::ListAlertsRequest query;
  *query.mutable_filter() = request.filter();
  if (request.has_start_time()) {
    *query.mutable_start_time() = request.start_time();
  }
  if (request.has_end_time()) *query.mutable_end_time() = request.end_time();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    query.SerializeToCodedStream(&out);
  }
  return Fnv1a64(bytes);
}

std::string EncodeToken(uint64_t after_sequence, uint64_t fingerprint) {
  return absl::WebSafeBase64Escape(absl::StrCat(
      kTokenVersion, ":", after_sequence, ":", absl::Hex(fingerprint)));
}

absl::StatusOr<uint64_t> DecodeToken(absl::string_view token,
                                     uint64_t fingerprint) {
  const absl::Status bad = absl::InvalidArgumentError(
      "page_token: not a token from a previous ListAlerts response");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad;
  std::vector<absl::string_view> parts = absl::StrSplit(raw, ':');
  uint64_t after = 0;
  uint64_t fp = 0;
  if (parts.size() != 3 || parts[0] != kTokenVersion ||
      !absl::SimpleAtoi(parts[1], &after) ||
      !absl::SimpleHexAtoi(parts[2], &fp) ||
      after == std::numeric_limits<uint64_t>::max()) {
    return bad;
  }
  if (fp != fingerprint) {
    return absl::InvalidArgumentError(
        "page_token: was issued for another filter or time range; send the "
        "same filter, start_time and end_time as for the first page");
  }
  return after;
}

}  // namespace

absl::StatusOr<AlertHistoryPage> ListLoggedAlerts(
    const AlertHub& hub, const v1::ListAlertsRequest& request) {
  auto filter = AlertFilter::FromProto(request.filter());
  if (!filter.ok()) return filter.status();
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  if (request.has_start_time()) {
    auto t = ToTime(request.start_time(), "start_time");
    if (!t.ok()) return t.status();
    from = *t;
  }
  if (request.has_end_time()) {
    auto t = ToTime(request.end_time(), "end_time");
    if (!t.ok()) return t.status();
    to = *t;
  }
  if (request.has_start_time() && request.has_end_time() && to <= from) {
    return absl::InvalidArgumentError(
        "end_time: must be after start_time (the range is [start, end))");
  }
  const uint64_t fingerprint = QueryFingerprint(request);
  uint64_t after = 0;
  if (!request.page_token().empty()) {
    auto decoded = DecodeToken(request.page_token(), fingerprint);
    if (!decoded.ok()) return decoded.status();
    after = *decoded;
  }
  uint32_t size = request.page_size();
  if (size == 0) size = kDefaultPageSize;
  if (size > kMaxPageSize) size = kMaxPageSize;

  AlertPage found = hub.Query(*filter, from, to, after, size);
  AlertHistoryPage page;
  page.alerts = std::move(found.alerts);
  page.oldest_sequence = found.oldest_sequence;
  if (found.more) {
    page.next_page_token = EncodeToken(found.last_sequence, fingerprint);
  }
  return page;
}

std::vector<grpc::Slice> EncodeListAlertsResponse(
    const AlertHistoryPage& page) {
  std::vector<grpc::Slice> slices;
  slices.reserve(page.alerts.size() + 1);
  // Each EncodedAlert is field 1 (alerts) with one alert: the same field
  // number as ListAlertsResponse.alerts.
  for (const EncodedAlertPtr& a : page.alerts) slices.push_back(a->bytes);
  v1::ListAlertsResponse tail;
  tail.set_next_page_token(page.next_page_token);
  tail.set_oldest_sequence(page.oldest_sequence);
  const std::string bytes = tail.SerializeAsString();
  // An empty response is an empty message, still one slice.
  if (!bytes.empty() || slices.empty()) {
    slices.emplace_back(bytes.data(), bytes.size());
  }
  return slices;
}

}  // namespace tariffalert
