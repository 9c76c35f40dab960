// Fuzzes the risk console's config (server/console/console_rules.h): a
// text-format ConsoleConfig as `tariff-alertd --console-config` reads it,
// parsed and validated by ParseConsoleConfig. A refusal is INVALID_ARGUMENT
// naming the file, then a line and column or a field; an accepted config
// passes ValidateConsoleConfig, prints and parses back to itself, and puts in
// force one inhibition per paused rule and paused measure of a fixed book.

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "server/console/console_rules.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

namespace v1 = ::tariffalert::v1;
namespace cfg = ::tariffalert::config::v1;
constexpr char kFile[] = "console.textproto";

// Two measures paused (one open-ended), one paused but not in force, one
// without a pause.
const v1::BookState& Book() {
  static const v1::BookState* book = [] {
    auto* b = new v1::BookState();
    b->set_revision(7);
    v1::Measure* m = b->add_measures();
    m->set_measure_id("us-cn-34");
    m->set_in_force(true);
    m->set_rate_pct(10);
    m->mutable_pause()->set_event_id("2025-05-12-us-cn-geneva-pause");
    m->mutable_pause()->mutable_expires_time()->set_seconds(1755000000);
    m = b->add_measures();
    m->set_measure_id("cn-us-34");
    m->set_in_force(true);
    m->set_rate_pct(10);
    m->mutable_pause()->set_event_id("2025-05-12-cn-us-geneva-pause");
    m = b->add_measures();
    m->set_measure_id("us-eu-30");
    m->set_in_force(false);
    m->mutable_pause()->set_event_id("e");
    m = b->add_measures();
    m->set_measure_id("us-all-10");
    m->set_in_force(true);
    m->set_rate_pct(10);
    return b;
  }();
  return *book;
}

// "console.textproto:3:7: ..." or "console.textproto: inhibition_rules[0]...".
bool NamesFileAndPlace(absl::string_view message) {
  if (!absl::ConsumePrefix(&message, kFile)) return false;
  if (absl::ConsumePrefix(&message, ": ")) {
    return !message.empty() &&
           (absl::ascii_isalpha(static_cast<unsigned char>(message[0])) ||
            message[0] == '_');
  }
  if (!absl::ConsumePrefix(&message, ":")) return false;
  for (int part = 0; part < 2; ++part) {
    size_t digits = 0;
    while (digits < message.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(message[digits]))) {
      ++digits;
    }
    if (digits == 0 || digits >= message.size() || message[digits] != ':') {
      return false;
    }
    message.remove_prefix(digits + 1);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  QuietProtobufLogs();
  if (size > (1 << 16)) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = tariffalert::console::ParseConsoleConfig(text, kFile);
  if (!parsed.ok()) {
    TA_FUZZ_CHECK(absl::IsInvalidArgument(parsed.status()),
                  "a refusal is INVALID_ARGUMENT");
    TA_FUZZ_CHECK(NamesFileAndPlace(parsed.status().message()),
                  "a refusal names file:line:column or file: field");
    return 0;
  }
  const cfg::ConsoleConfig& config = *parsed;
  TA_FUZZ_CHECK(tariffalert::console::ValidateConsoleConfig(config).ok(),
                "an accepted config passes ValidateConsoleConfig");

  std::string printed;
  TA_FUZZ_CHECK(google::protobuf::TextFormat::PrintToString(config, &printed),
                "an accepted config prints");
  auto reparsed = tariffalert::console::ParseConsoleConfig(printed, kFile);
  TA_FUZZ_CHECK(reparsed.ok(), "a printed config parses");
  TA_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(config, *reparsed),
      "a printed config parses back to itself");

  const std::vector<v1::Inhibition> in_force =
      tariffalert::console::InhibitionsInForce(config, Book());
  size_t paused_rules = 0;
  for (const cfg::InhibitionRule& r : config.inhibition_rules()) {
    if (r.source_state() == cfg::MEASURE_STATE_PAUSED) ++paused_rules;
  }
  // us-cn-34 and cn-us-34: in force and paused.
  TA_FUZZ_CHECK(in_force.size() == paused_rules * 2,
                "one inhibition per paused rule and paused measure");
  for (const v1::Inhibition& in : in_force) {
    const auto rule = std::find_if(
        config.inhibition_rules().begin(), config.inhibition_rules().end(),
        [&](const cfg::InhibitionRule& r) { return r.name() == in.rule(); });
    TA_FUZZ_CHECK(rule != config.inhibition_rules().end(),
                  "an inhibition names its rule");
    TA_FUZZ_CHECK(in.target_stages_size() == rule->target_stages_size() &&
                      in.escalations_only() == rule->escalations_only(),
                  "an inhibition targets what its rule does");
    TA_FUZZ_CHECK(
        in.measure_id() == "us-cn-34" || in.measure_id() == "cn-us-34",
        "only a paused measure in force inhibits");
    TA_FUZZ_CHECK(in.has_until_time() == (in.measure_id() == "us-cn-34"),
                  "until the pause's expiry, open-ended without one");
    TA_FUZZ_CHECK(!in.reason().empty(), "an inhibition says why");
  }
  return 0;
}
