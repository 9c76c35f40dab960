// Fuzzes alerts as read back from the shared alert log in Redis
// (RedisEventLog::ReadEntries, then LogTailer::Poll): each stream entry
// holds one event's alerts, packed (UnpackLoggedEntry,
// server/redis/redis_event_log.h, puts their sequences back from the entry
// id with AlertBytesWithSequence), or, in the older layout, one alert.
// DecodeLoggedAlerts (server/service/log_tailer.h) parses the alerts of one
// read and encodes each once for every stream (EncodeAlert,
// server/fanout/encoded_alert.h). What it accepts goes into an AlertHub as
// the tailer hands it over, with a live stream holding a portfolio (so
// portfolio alerts are made of it) and a history query over it; what a
// stream sends must decode (DecodeAlert).
//
// Input: 8 bytes, little-endian, the id before the first entry; then
// entries, each 1 byte of layout and id step from the entry before (high
// bit: packed; low 7 bits: the step, 0 counts as 1), 2 bytes little-endian
// of value length and the value.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/encoded_alert.h"
#include "server/fanout/portfolio_alert.h"
#include "server/redis/redis_event_log.h"
#include "server/service/log_tailer.h"
#include "server/tariff_book/event_log.h"
#include "tariffalert/v1/alert.pb.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

// A live stream with holdings: gets every alert and a portfolio alert per
// event, and parses what it is sent as its client would.
class HoldingSubscriber : public tariffalert::Subscriber {
 public:
  HoldingSubscriber()
      : watch_(std::make_shared<const tariffalert::PortfolioWatch>(
            std::vector<tariffalert::Holding>{
                {"AAPL", 1e6}, {"DELL", -2.5e5}, {"SAP", 3e5}},
            tariffalert::PortfolioContext{})) {}
  const tariffalert::AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const tariffalert::EncodedAlertPtr> alerts,
               bool) override {
    for (const auto& a : alerts) {
      tariffalert::v1::SubscribeAlertsResponse r;
      TA_FUZZ_CHECK(
          r.ParseFromArray(a->bytes.begin(), static_cast<int>(a->bytes.size())),
          "a stream's message parses");
    }
    return true;
  }
  tariffalert::QueueRoom Room() override {
    return tariffalert::QueueRoom{1u << 20, 1u << 30};
  }
  tariffalert::QueueSize Queued() override { return {}; }
  void DeliverHeartbeat(const grpc::Slice&, uint64_t) override {}
  void End(const absl::Status&) override {}
  std::shared_ptr<const tariffalert::PortfolioWatch> portfolio()
      const override {
    return watch_;
  }

 private:
  tariffalert::AlertFilter filter_;
  std::shared_ptr<const tariffalert::PortfolioWatch> watch_;
};

class FixedClock : public tariffalert::Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixSeconds(1752000000); }
};

// Checks of one decoded alert against the bytes it came from.
void CheckAlert(const tariffalert::EncodedAlert& encoded,
                const tariffalert::LoggedAlert& logged) {
  tariffalert::v1::Alert alert;
  TA_FUZZ_CHECK(alert.ParseFromString(logged.alert),
                "an accepted entry parses");
  TA_FUZZ_CHECK(encoded.sequence == alert.sequence(),
                "the encoded alert keeps its sequence");
  auto decoded = tariffalert::DecodeAlert(encoded);
  TA_FUZZ_CHECK(decoded.ok(), "the bytes a stream sends decode");
  TA_FUZZ_CHECK(decoded->sequence() == alert.sequence(),
                "the decoded alert has the logged sequence");
  // The key history queries range over is the created time to the
  // microsecond, saturated where int64 microseconds end (an overflow here
  // once wrapped it into the range of ordinary dates).
  const absl::Time created =
      absl::FromUnixSeconds(alert.created_time().seconds()) +
      absl::Nanoseconds(alert.created_time().nanos());
  const absl::Time expected = std::clamp(
      created, absl::FromUnixMicros(std::numeric_limits<int64_t>::min()),
      absl::FromUnixMicros(std::numeric_limits<int64_t>::max()));
  TA_FUZZ_CHECK(
      absl::AbsDuration(absl::FromUnixMicros(encoded.keys.created_unix_micros) -
                        expected) < absl::Microseconds(1),
      "created_unix_micros is the created time");
  // The same alert encoded from the message, not from the logged bytes.
  const tariffalert::EncodedAlertPtr fresh = tariffalert::EncodeAlert(alert);
  TA_FUZZ_CHECK(
      fresh->keys.created_unix_micros == encoded.keys.created_unix_micros,
      "both encodings see the same keys");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size < 8 || size > (1 << 20)) return 0;
  uint64_t id = 0;
  for (int i = 7; i >= 0; --i) id = (id << 8) | data[i];
  const uint64_t before_first = id;
  std::vector<tariffalert::LoggedAlert> read;
  size_t at = 8;
  while (at + 3 <= size) {
    // XREAD gives ids above the one asked after, in increasing order.
    const bool packed = (data[at] & 0x80) != 0;
    const uint64_t step = std::max<uint64_t>(data[at] & 0x7f, 1);
    if (id > std::numeric_limits<uint64_t>::max() - step) break;
    id += step;
    const size_t length = data[at + 1] | (size_t{data[at + 2]} << 8);
    at += 3;
    const absl::string_view value(reinterpret_cast<const char*>(data) + at,
                                  std::min(length, size - at));
    at += value.size();
    tariffalert::LoggedEntry entry;
    entry.last_sequence = id;
    entry.value = std::string(value);
    entry.packed = packed;
    auto alerts = tariffalert::UnpackLoggedEntry(entry);
    if (!alerts.ok()) return 0;  // DATA_LOSS naming the entry
    TA_FUZZ_CHECK(!alerts->empty() && alerts->back().sequence == id &&
                      alerts->front().sequence == id - alerts->size() + 1,
                  "an entry's alerts end at its id");
    for (tariffalert::LoggedAlert& a : *alerts) read.push_back(std::move(a));
  }
  if (read.empty()) return 0;

  auto encoded = tariffalert::DecodeLoggedAlerts(read);
  if (!encoded.ok()) return 0;  // DATA_LOSS: the tailer retries, serves on
  TA_FUZZ_CHECK(encoded->size() == read.size(), "every entry is decoded");
  for (size_t i = 0; i < read.size(); ++i) CheckAlert(*(*encoded)[i], read[i]);

  // As LogTailer::Poll hands a read to a hub that has everything before it.
  static const FixedClock clock;
  tariffalert::HubOptions options;
  options.heartbeat_interval = absl::ZeroDuration();
  tariffalert::AlertHub hub(options, clock);
  hub.StartAfter(before_first);
  HoldingSubscriber stream;
  TA_FUZZ_CHECK(hub.Subscribe(&stream, std::nullopt).ok(), "a stream joins");
  if (hub.Append(*encoded)) {
    TA_FUZZ_CHECK(hub.newest_sequence() == encoded->back()->sequence,
                  "the hub holds the read");
    // ListAlerts over what was logged, in a range of ordinary dates.
    (void)hub.Query(tariffalert::AlertFilter(), absl::FromUnixSeconds(0),
                    absl::FromUnixSeconds(4102444800), before_first, 1000);
  }
  hub.Unsubscribe(&stream);
  return 0;
}
