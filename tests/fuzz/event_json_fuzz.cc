// Fuzzes the JSON lines of `tariff-alert publish --file`
// (clients/cli/publish_command.cc): each line, unless blank or a '#' comment,
// goes through JsonStringToMessage into a TariffEvent with the CLI's
// JsonParseOptions, then through the server's gate, ValidateEvent
// (server/ingest/event_validator.h), and a valid event is planned against an
// empty tariff book and a sample one (sample_book.h), as the publisher would.
//
// The CLI's line loop is inside PublishCommand::Run and not callable, so its
// few lines are repeated here; keep them in step.

#include <google/protobuf/util/json_util.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "server/ingest/event_validator.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_event.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"
#include "tests/fuzz/sample_book.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string line;
  while (std::getline(in, line)) {
    const absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    tariffalert::v1::TariffEvent event;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;  // as the CLI
    auto parsed =
        google::protobuf::util::JsonStringToMessage(line, &event, options);
    if (!parsed.ok()) continue;
    auto action = tariffalert::ValidateEvent(
        event, tariffalert::ScoringParams::Default());
    if (!action.ok()) {
      TA_FUZZ_CHECK(absl::IsInvalidArgument(action.status()),
                    "the validator rejects with INVALID_ARGUMENT only");
      continue;
    }
    (void)tariffalert::TariffBook().Plan(*action);
    (void)tariffalert::fuzz::SampleBook().Plan(*action);
  }
  return 0;
}
