// tariff-alert publish: one event from flags, or JSON lines (the protobuf JSON
// mapping of TariffEvent) from a file or stdin.

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cli/commands.h"
#include "clients/cli/connection_flags.h"
#include "clients/lib/connection.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"

namespace tariffalert::cli {
namespace {

namespace v1 = ::tariffalert::v1;

bool ParseTimestamp(const std::string& text, google::protobuf::Timestamp* out,
                    std::string* error) {
  absl::Time t;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, error)) return false;
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return true;
}

class PublishCommand : public Command {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "publish",
        "Publish tariff events: one from flags, or one per line from --file "
        "(JSON, the protobuf JSON mapping of tariffalert.v1.TariffEvent).");
    connection_flags_.Add(c);
    c->add_option("--file", file_, "JSON-lines file of events; '-' for stdin");
    c->add_option("--delay-ms", delay_ms_, "pause between events from --file")
        ->capture_default_str()
        ->check(CLI::Range(0, 600000));
    c->add_flag("--json", json_, "print each response as JSON");
    c->add_flag("--keep-going", keep_going_,
                "with --file, go on after an event is rejected");
    c->add_option("--timeout-seconds", timeout_seconds_,
                  "deadline of each call")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    c->add_option("--event-id", event_id_, "unique id of the event");
    c->add_option("--imposing", imposing_, "imposing country (alpha-2 or EU)");
    c->add_option("--targets", targets_,
                  "target countries; none = all partners")
        ->delimiter(',');
    c->add_option("--products", products_,
                  "HS chapters or headings; none = all goods")
        ->delimiter(',');
    c->add_option("--rate", rate_, "new rate in percent");
    c->add_option("--previous-rate", previous_rate_,
                  "previous rate in percent (a cross-check)");
    c->add_option(
         "--stage", stage_,
         "threatened, announced, effective, paused, extended or revoked")
        ->capture_default_str();
    c->add_option("--probability", probability_, "0..1; default by stage");
    c->add_option("--measure-id", measure_id_, "name of the measure");
    c->add_option("--headline", headline_, "headline");
    c->add_option("--source-url", source_url_, "http(s) link to the source");
    c->add_option("--announced-time", announced_time_, "RFC 3339");
    c->add_option("--effective-time", effective_time_, "RFC 3339");
    c->add_option("--expires-time", expires_time_, "RFC 3339, a pause's end");
    *sub = c;
  }

  int Run() override {
    auto connection = connection_flags_.Resolve();
    if (!connection.ok()) {
      std::fprintf(stderr, "publish: %s\n",
                   std::string(connection.status().message()).c_str());
      return kExitUsage;
    }
    connection_ = *std::move(connection);
    auto channel = CreateClientChannel(connection_);
    if (!channel.ok()) {
      std::fprintf(stderr, "publish: %s\n",
                   std::string(channel.status().message()).c_str());
      return kExitUsage;
    }
    stub_ = v1::TariffEventService::NewStub(*channel);
    if (file_.empty()) {
      v1::TariffEvent event;
      std::string error;
      if (!EventFromFlags(&event, &error)) {
        std::fprintf(stderr, "publish: %s\n", error.c_str());
        return kExitUsage;
      }
      return PublishOne(event, "") ? kExitOk : kExitFailed;
    }
    if (!event_id_.empty() || !imposing_.empty()) {
      std::fprintf(stderr, "publish: give --file or event flags, not both\n");
      return kExitUsage;
    }
    std::ifstream file_stream;
    std::istream* in = &std::cin;
    if (file_ != "-") {
      file_stream.open(file_);
      if (!file_stream) {
        std::fprintf(stderr, "publish: cannot open %s\n", file_.c_str());
        return kExitUsage;
      }
      in = &file_stream;
    }
    const std::string name = file_ == "-" ? "<stdin>" : file_;
    std::string line;
    int line_number = 0;
    int failures = 0;
    bool first = true;
    while (std::getline(*in, line)) {
      ++line_number;
      if (absl::StripAsciiWhitespace(line).empty() ||
          absl::StripAsciiWhitespace(line)[0] == '#') {
        continue;
      }
      const std::string where = absl::StrCat(name, ":", line_number);
      v1::TariffEvent event;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = false;
      auto parsed =
          google::protobuf::util::JsonStringToMessage(line, &event, options);
      if (!parsed.ok()) {
        std::fprintf(stderr, "%s: not a TariffEvent in JSON: %s\n",
                     where.c_str(), parsed.ToString().c_str());
        if (!keep_going_) return kExitUsage;
        ++failures;
        continue;
      }
      if (!first && delay_ms_ > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
      }
      first = false;
      if (!PublishOne(event, where)) {
        if (!keep_going_) return kExitFailed;
        ++failures;
      }
    }
    return failures == 0 ? kExitOk : kExitFailed;
  }

 private:
  bool EventFromFlags(v1::TariffEvent* e, std::string* error) {
    if (event_id_.empty() || imposing_.empty()) {
      *error = "need --event-id and --imposing (or --file)";
      return false;
    }
    e->set_event_id(event_id_);
    e->set_imposing_country(imposing_);
    for (const auto& t : targets_) e->add_target_countries(t);
    for (const auto& p : products_) e->add_product_codes(p);
    if (rate_) e->set_new_rate_pct(*rate_);
    if (previous_rate_) e->set_previous_rate_pct(*previous_rate_);
    const std::string stage =
        absl::StrCat("STAGE_", absl::AsciiStrToUpper(stage_));
    v1::Stage parsed;
    if (!v1::Stage_Parse(stage, &parsed) || parsed == v1::STAGE_UNSPECIFIED) {
      *error =
          absl::StrCat("--stage: '", stage_,
                       "' is not threatened, announced, effective, paused, "
                       "extended or revoked");
      return false;
    }
    e->set_stage(parsed);
    if (probability_) e->set_probability(*probability_);
    e->set_measure_id(measure_id_);
    e->set_headline(headline_);
    e->set_source_url(source_url_);
    struct {
      const std::string& text;
      google::protobuf::Timestamp* (v1::TariffEvent::*field)();
      const char* flag;
    } times[] = {{announced_time_, &v1::TariffEvent::mutable_announced_time,
                  "--announced-time"},
                 {effective_time_, &v1::TariffEvent::mutable_effective_time,
                  "--effective-time"},
                 {expires_time_, &v1::TariffEvent::mutable_expires_time,
                  "--expires-time"}};
    for (const auto& t : times) {
      if (t.text.empty()) continue;
      std::string parse_error;
      if (!ParseTimestamp(t.text, (e->*t.field)(), &parse_error)) {
        *error = absl::StrCat(t.flag, ": '", t.text,
                              "' is not RFC 3339: ", parse_error);
        return false;
      }
    }
    return true;
  }

  bool PublishOne(const v1::TariffEvent& event, const std::string& where) {
    v1::PublishEventRequest request;
    *request.mutable_event() = event;
    v1::PublishEventResponse response;
    grpc::ClientContext context;
    AddTokenMetadata(connection_, &context);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(
                             static_cast<int64_t>(timeout_seconds_ * 1000)));
    grpc::Status status = stub_->PublishEvent(&context, request, &response);
    const std::string prefix = where.empty() ? "" : where + ": ";
    if (!status.ok()) {
      std::fprintf(stderr, "%s%s: %s: %s%s\n", prefix.c_str(),
                   event.event_id().c_str(),
                   absl::StatusCodeToString(
                       static_cast<absl::StatusCode>(status.error_code()))
                       .c_str(),
                   status.error_message().c_str(),
                   ConnectionHint(connection_, status).c_str());
      return false;
    }
    if (json_) {
      std::string out;
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = false;
      (void)google::protobuf::util::MessageToJsonString(response, &out,
                                                        options);
      std::printf("%s\n", out.c_str());
      std::fflush(stdout);
      return true;
    }
    std::vector<std::string> changes;
    for (const v1::RateChange& c : response.rate_changes()) {
      changes.push_back(absl::StrFormat(
          "%s<-%s%s %g%% -> %g%%", event.imposing_country(), c.target_country(),
          c.product_code() == "*" ? "" : absl::StrCat(" HS ", c.product_code()),
          c.previous_rate_pct(), c.new_rate_pct()));
    }
    std::printf(
        "%s%s: %s%u alerts%s, book revision %llu; %s\n", prefix.c_str(),
        response.event_id().c_str(), response.duplicate() ? "duplicate, " : "",
        response.alert_count(),
        response.alert_count() > 0
            ? absl::StrFormat(
                  " (sequences %llu-%llu)",
                  static_cast<unsigned long long>(response.first_sequence()),
                  static_cast<unsigned long long>(response.last_sequence()))
                  .c_str()
            : "",
        static_cast<unsigned long long>(response.book_revision()),
        absl::StrJoin(changes, ", ").c_str());
    for (const std::string& w : response.warnings()) {
      std::printf("  warning: %s\n", w.c_str());
    }
    std::fflush(stdout);
    return true;
  }

  ConnectionFlags connection_flags_;
  ConnectionOptions connection_;
  std::string file_;
  int delay_ms_ = 0;
  bool json_ = false;
  bool keep_going_ = false;
  double timeout_seconds_ = 10;
  std::string event_id_, imposing_;
  std::vector<std::string> targets_, products_;
  std::optional<double> rate_, previous_rate_, probability_;
  std::string stage_ = "effective";
  std::string measure_id_, headline_, source_url_;
  std::string announced_time_, effective_time_, expires_time_;
  std::unique_ptr<v1::TariffEventService::Stub> stub_;
};

}  // namespace

std::unique_ptr<Command> AddPublishCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<PublishCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
