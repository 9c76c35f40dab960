// Fuzzes the server's gate for PublishEvent on arbitrary protos: the bytes
// parsed as tariffalert.v1.PublishEventRequest (as gRPC does), then, as
// TariffEventServiceImpl::PublishEvent and Publisher::Publish do, a missing
// event refused and the event validated (server/ingest/event_validator.h); a
// valid event is planned against an empty tariff book and a sample one
// (sample_book.h).

#include <cstddef>
#include <cstdint>

#include "server/ingest/event_validator.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_event_service.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"
#include "tests/fuzz/sample_book.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size > (1 << 20)) return 0;  // gRPC's default receive limit is 4 MiB
  tariffalert::v1::PublishEventRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (!request.has_event()) return 0;
  auto action = tariffalert::ValidateEvent(
      request.event(), tariffalert::ScoringParams::Default());
  if (!action.ok()) {
    TA_FUZZ_CHECK(absl::IsInvalidArgument(action.status()),
                  "the validator rejects with INVALID_ARGUMENT only");
    return 0;
  }
  (void)tariffalert::TariffBook().Plan(*action);
  (void)tariffalert::fuzz::SampleBook().Plan(*action);
  return 0;
}
