// Fuzzes the tariff book as read back from Redis (RedisEventLog::LoadBook): the
// bytes of the "book" key parsed as tariffalert.v1.BookState and decoded by
// BookFromProto (server/tariff_book/book_codec.h), which must check
// everything. A decoded book must encode and decode again to the same book,
// answer the queries the publisher and GetTariff make of it, and take the
// next events (Plan) and the lapse of its pauses (DueSnapBacks).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"
#include "server/tariff_book/book_codec.h"
#include "server/tariff_book/tariff_action.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_book.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

using tariffalert::Country;
using tariffalert::HsCode;
using tariffalert::Stage;
using tariffalert::TariffAction;

TariffAction Action(const char* measure, const char* importer,
                    std::vector<const char*> targets,
                    std::vector<const char*> products, Stage stage,
                    std::optional<double> rate) {
  TariffAction a;
  a.event_id = std::string("fuzz-") + measure;
  a.measure_id = measure;
  a.importer = *Country::Parse(importer);
  for (const char* t : targets) a.targets.push_back(*Country::Parse(t));
  for (const char* p : products) a.products.push_back(*HsCode::Parse(p));
  a.stage = stage;
  a.new_rate_pct = rate;
  a.effective_time = absl::FromUnixSeconds(1752000000);
  return a;
}

// Valid events (as ValidateEvent makes them) naming the measures of the
// seeds and of the sample scenario, one of each stage.
const std::vector<TariffAction>& Actions() {
  static const auto* actions = [] {
    auto* v = new std::vector<TariffAction>;
    v->push_back(
        Action("us-cn-fentanyl", "US", {"CN"}, {}, Stage::kEffective, 25));
    TariffAction pause =
        Action("cn-us-reciprocal", "CN", {"US"}, {}, Stage::kPaused, 10);
    pause.snap_back_rate_pct = 34;
    pause.expires_time = absl::FromUnixSeconds(1762747260);
    v->push_back(pause);
    TariffAction extend =
        Action("cn-us-reciprocal", "CN", {"US"}, {}, Stage::kExtended, {});
    extend.expires_time = absl::FromUnixSeconds(1770000000);
    v->push_back(extend);
    v->push_back(
        Action("us-steel", "US", {}, {"72", "73"}, Stage::kRevoked, {}));
    TariffAction threat =
        Action("eu-us-threat", "EU", {"US"}, {}, Stage::kThreatened, 30);
    threat.probability = 0.4;
    v->push_back(threat);
    TariffAction steel =
        Action("us-steel", "US", {}, {"72", "73"}, Stage::kAnnounced, 50);
    steel.excluded.push_back(*HsCode::Parse("7208"));
    steel.excluded_targets.push_back(*Country::Parse("GB"));
    steel.probability = 0.9;
    v->push_back(steel);
    v->push_back(Action("", "US", {"EU"}, {"8703"}, Stage::kEffective, 15));
    return v;
  }();
  return *actions;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size > (1 << 20)) return 0;
  tariffalert::v1::BookState state;
  if (!state.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto book = tariffalert::BookFromProto(state, "redis key book");
  if (!book.ok()) return 0;

  // What Store() writes must load again, unchanged.
  const tariffalert::v1::BookState encoded = tariffalert::BookToProto(*book);
  auto again = tariffalert::BookFromProto(encoded, "re-encoded book");
  TA_FUZZ_CHECK(again.ok(), "an encoded book decodes");
  std::string a, b;
  TA_FUZZ_CHECK(encoded.SerializeToString(&a) &&
                    tariffalert::BookToProto(*again).SerializeToString(&b),
                "a book serializes");
  TA_FUZZ_CHECK(a == b, "decode(encode(book)) is the same book");

  const Country us = *Country::Parse("US");
  const Country cn = *Country::Parse("CN");
  const Country de = *Country::Parse("DE");
  for (auto [importer, exporter] :
       {std::pair{us, cn}, {Country::Eu(), us}, {de, cn}, {cn, us}}) {
    for (HsCode product :
         {HsCode::All(), *HsCode::Parse("72"), *HsCode::Parse("8703")}) {
      (void)book->Rate(importer, exporter, product);
      (void)book->MeasuresFor(importer, exporter, product);
    }
  }
  // The publisher's use of a loaded book: plan each event against it, and
  // let the clock lapse its pauses.
  for (const TariffAction& action : Actions()) {
    auto step = book->Plan(action);
    if (step.ok()) (void)book->Changes(step->action, *step->next);
  }
  const absl::Time later = absl::FromUnixSeconds(1800000000);
  for (const TariffAction& snap_back : book->DueSnapBacks(later)) {
    (void)book->Plan(snap_back);
  }
  book->AdvanceClock(later);
  return 0;
}
