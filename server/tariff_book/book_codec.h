#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_CODEC_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_CODEC_H_

// The tariff book as tariffalert.v1.BookState: how it is stored in Redis and
// how GetTariff shows its measures. Decoding checks everything (a stored book
// is input like any other).

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "absl/strings/string_view.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_book.pb.h"

namespace tariffalert {

v1::Measure MeasureToProto(const Measure& m);
v1::BookState BookToProto(const TariffBook& book);

// INVALID_ARGUMENT naming `where` and the field for a state that is not a
// valid book.
absl::StatusOr<TariffBook> BookFromProto(const v1::BookState& state,
                                         absl::string_view where);

v1::Stage StageToProto(Stage stage);
// nullopt for STAGE_UNSPECIFIED and unknown values.
std::optional<Stage> StageFromProto(v1::Stage stage);

v1::Authority AuthorityToProto(Authority a);
// nullopt for unknown values; AUTHORITY_UNSPECIFIED is kUnspecified.
std::optional<Authority> AuthorityFromProto(int a);
v1::Combination CombinationToProto(Combination c);
// nullopt for COMBINATION_UNSPECIFIED and unknown values.
std::optional<Combination> CombinationFromProto(int c);
v1::ShipmentChannel ChannelToProto(Channel c);
// nullopt for CHANNEL_UNSPECIFIED and unknown values.
std::optional<Channel> ChannelFromProto(int c);
// A channel bit set <-> the repeated field (empty: all channels).
template <typename Repeated>
void ChannelsToProto(uint8_t channels, Repeated* out) {
  if (channels == kAllChannels) return;
  for (Channel c : {Channel::kGeneral, Channel::kUsmca, Channel::kLowValue}) {
    if (channels & static_cast<uint8_t>(c)) out->Add(ChannelToProto(c));
  }
}

// Timestamps <-> absl::Time, to the nanosecond.
absl::Time TimeFromProto(const google::protobuf::Timestamp& t);
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_BOOK_CODEC_H_
