// tariff-alert watch: subscribe with a filter and print alerts as they stream,
// as a table or as JSON lines. With --holdings or --holdings-file every event
// also ends with a portfolio line: the event's impact on those positions.
// The stream survives cut-offs, server shutdowns and silent connections: the
// client library (clients/lib) reconnects and resumes after the last sequence
// seen, and says so on stderr.

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cli/commands.h"
#include "clients/cli/connection_flags.h"
#include "clients/cli/filter_flags.h"
#include "clients/lib/alert_subscriber.h"
#include "clients/lib/connection.h"
#include "server/common/csv.h"
#include "server/exposure/loader.h"
#include "server/scoring/portfolio.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"

namespace tariffalert::cli {
namespace {

namespace v1 = ::tariffalert::v1;

std::string Clip(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 1) + "~";
}

// "HIGH" for SEVERITY_HIGH.
std::string SeverityText(v1::Severity s) {
  const std::string& name = v1::Severity_Name(s);
  return name.size() > 9 ? name.substr(9) : name;
}

// Streams through the client library (clients/lib), which reconnects and
// resumes by itself: a cut-off, a server shutdown or a silent connection
// shows as a "# reconnecting ..." line on stderr, never as a gap or a repeat
// on stdout.
class WatchCommand : public Command, public AlertHandler {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "watch", "Subscribe to alerts and print them as they stream.");
    connection_flags_.Add(c);
    filter_flags_.Add(c);
    c->add_option("--kinds", kinds_, "ticker, sector and/or portfolio")
        ->delimiter(',');
    c->add_option("--holdings", holdings_,
                  "your positions, TICKER=VALUE,...: each event also yields a "
                  "portfolio line (negative VALUE: a short position)")
        ->delimiter(',');
    c->add_option("--holdings-file", holdings_file_,
                  "positions from a CSV file with columns "
                  "ticker,position_value");
    c->add_option("--resume-after", resume_after_,
                  "replay retained alerts after this sequence first (later "
                  "reconnects resume after the last sequence seen)");
    c->add_flag("--respect-silences", respect_silences_,
                "leave out alerts an active console silence matches "
                "(docs/console.md); they stay in the log");
    c->add_flag("--json", json_, "JSON lines instead of a table");
    c->add_flag("--explain", explain_,
                "print each alert's explanation under it");
    c->add_flag("--show-heartbeats", show_heartbeats_, "print heartbeats too");
    c->add_option("--top-per-event", top_per_event_,
                  "print only the first N alerts of each event (alerts come "
                  "largest |score| first)");
    c->add_option("--max-alerts", max_alerts_, "exit after this many alerts");
    c->add_option("--until-sequence", until_sequence_,
                  "exit once everything up to this sequence has been received");
    c->add_option("--duration-seconds", duration_seconds_,
                  "exit after this long");
    c->add_option("--heartbeat-timeout-seconds", heartbeat_timeout_seconds_,
                  "reconnect when nothing (not even a heartbeat) came for "
                  "this long (default 15)")
        ->check(CLI::PositiveNumber);
    c->add_option("--receive-window-bytes", receive_window_bytes_,
                  "fixed HTTP/2 receive window: how much may wait unread "
                  "before the server cuts a stalled watch off (and it "
                  "resumes); default: gRPC's, which grows to megabytes")
        ->check(CLI::Range(1024, 1 << 30));
    *sub = c;
  }

  int Run() override {
    v1::SubscribeAlertsRequest request;
    auto filter = filter_flags_.Resolve();
    if (!filter.ok()) {
      std::fprintf(stderr, "watch: %s\n",
                   std::string(filter.status().message()).c_str());
      return kExitUsage;
    }
    v1::AlertFilter* f = request.mutable_filter();
    *f = *std::move(filter);
    f->set_respect_silences(respect_silences_);
    for (const auto& k : kinds_) {
      v1::SubjectKind kind;
      if (!v1::SubjectKind_Parse(
              absl::StrCat("SUBJECT_KIND_", absl::AsciiStrToUpper(k)), &kind)) {
        std::fprintf(stderr,
                     "watch: --kinds: '%s' is not ticker, sector or "
                     "portfolio\n",
                     k.c_str());
        return kExitUsage;
      }
      f->add_subject_kinds(kind);
    }
    if (!AddHoldings(request)) return kExitUsage;

    auto connection = connection_flags_.Resolve();
    if (!connection.ok()) {
      std::fprintf(stderr, "watch: %s\n",
                   std::string(connection.status().message()).c_str());
      return kExitUsage;
    }
    connection_ = *connection;
    auto credentials = MakeChannelCredentials(*connection);
    if (!credentials.ok()) {
      std::fprintf(stderr, "watch: %s\n",
                   std::string(credentials.status().message()).c_str());
      return kExitUsage;
    }
    SubscriberOptions options;
    options.server_address = connection->server_address;
    options.credentials = *std::move(credentials);
    options.tls_server_name = connection->tls_server_name;
    options.metadata = TokenMetadata(*connection);
    options.filter = request.filter();
    options.holdings.assign(request.holdings().begin(),
                            request.holdings().end());
    options.resume_after_sequence = resume_after_;
    if (heartbeat_timeout_seconds_) {
      options.heartbeat_timeout = absl::Seconds(*heartbeat_timeout_seconds_);
    }
    if (receive_window_bytes_) {
      options.receive_window_bytes = *receive_window_bytes_;
    }
    if (duration_seconds_) {
      options.deadline = absl::Now() + absl::Seconds(*duration_seconds_);
    }
    has_holdings_ = !options.holdings.empty();
    AlertSubscriber subscriber(std::move(options), this);
    subscriber_ = &subscriber;
    if (absl::Status started = subscriber.Start(); !started.ok()) {
      std::fprintf(stderr, "watch: %s\n",
                   std::string(started.message()).c_str());
      return kExitUsage;
    }
    // Bounded by --duration-seconds when given; otherwise a watch runs until
    // it is told to stop or the server refuses it.
    const grpc::Status status = *subscriber.Wait(absl::InfiniteDuration());
    if (done_ || (duration_seconds_ &&
                  status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
      return kExitOk;
    }
    std::fprintf(stderr, "watch: stream ended: %s: %s%s\n",
                 absl::StatusCodeToString(
                     static_cast<absl::StatusCode>(status.error_code()))
                     .c_str(),
                 status.error_message().c_str(),
                 ConnectionHint(connection_, status).c_str());
    return kExitFailed;
  }

  // AlertHandler: on the subscriber's thread.
  void OnAlerts(absl::Span<const v1::Alert> alerts) override {
    for (const v1::Alert& alert : alerts) {
      ++received_;
      Print(alert);
      // With holdings, an event ends with its portfolio line, which
      // carries the sequence of the event's last alert.
      const bool event_done =
          !has_holdings_ || alert.subject_kind() == v1::SUBJECT_KIND_PORTFOLIO;
      if ((max_alerts_ && received_ >= *max_alerts_) ||
          (until_sequence_ && alert.sequence() >= *until_sequence_ &&
           event_done)) {
        Done();
        break;
      }
    }
    std::fflush(stdout);
  }

  void OnHeartbeat(const v1::Heartbeat& heartbeat) override {
    if (show_heartbeats_) PrintHeartbeat(heartbeat);
    if (until_sequence_ && heartbeat.newest_sequence() >= *until_sequence_) {
      Done();
    }
    std::fflush(stdout);
  }

  void OnStateChange(const StateChange& change) override {
    if (change.state == SubscriberState::kLive && !live_reported_) {
      std::fprintf(stderr, "# live: newest sequence %llu\n",
                   static_cast<unsigned long long>(change.newest_sequence));
      live_reported_ = true;
    }
    if (change.state == SubscriberState::kReconnecting) {
      std::string cut;
      if (change.server_last_sequence) {
        cut = absl::StrCat(" (server's last sequence ",
                           *change.server_last_sequence, ")");
      }
      std::fprintf(
          stderr, "# reconnecting in %s after %s: %s%s%s; resuming %s\n",
          absl::FormatDuration(absl::Trunc(change.delay, absl::Milliseconds(1)))
              .c_str(),
          absl::StatusCodeToString(
              static_cast<absl::StatusCode>(change.status.error_code()))
              .c_str(),
          change.status.error_message().c_str(), cut.c_str(),
          ConnectionHint(connection_, change.status).c_str(),
          change.resume_after
              ? absl::StrCat("after ", *change.resume_after).c_str()
              : "live");
    }
    std::fflush(stderr);
  }

  void OnGap(const Gap& gap) override {
    std::fprintf(stderr,
                 "# gap: alerts after %llu are no longer retained; "
                 "continuing from the oldest retained, %llu\n",
                 static_cast<unsigned long long>(gap.resume_after),
                 static_cast<unsigned long long>(gap.oldest_retained));
    std::fflush(stderr);
  }

 private:
  // The positions of --holdings and --holdings-file, into the request.
  // Checks the syntax only; the server checks the rest (and names the
  // field).
  bool AddHoldings(v1::SubscribeAlertsRequest& request) {
    auto holdings = ParseHoldings(holdings_);
    if (!holdings.ok()) {
      std::fprintf(stderr, "watch: %s\n",
                   std::string(holdings.status().message()).c_str());
      return false;
    }
    for (v1::Holding& holding : *holdings) {
      *request.add_holdings() = std::move(holding);
    }
    if (holdings_file_.empty()) return true;
    auto text = ReadFileToString(holdings_file_);
    if (!text.ok()) {
      std::fprintf(stderr, "watch: --holdings-file: %s\n",
                   std::string(text.status().message()).c_str());
      return false;
    }
    const absl::string_view columns[] = {"ticker", "position_value"};
    auto table = CsvTable::Parse(*text, holdings_file_, columns);
    if (!table.ok()) {
      std::fprintf(stderr, "watch: --holdings-file: %s\n",
                   std::string(table.status().message()).c_str());
      return false;
    }
    const int ticker = table->Column("ticker");
    const int value = table->Column("position_value");
    for (const CsvRow& row : table->rows()) {
      double v = 0;
      if (!absl::SimpleAtod(table->Field(row, value), &v)) {
        std::fprintf(
            stderr, "watch: %s:%d: position_value: '%s' is not a number\n",
            holdings_file_.c_str(), row.line, table->Field(row, value).c_str());
        return false;
      }
      v1::Holding* holding = request.add_holdings();
      holding->set_ticker(table->Field(row, ticker));
      holding->set_position_value(v);
    }
    return true;
  }

  void PrintPortfolio(const v1::Alert& a) {
    const v1::PortfolioImpact& p = a.portfolio();
    std::vector<std::string> top;
    for (const v1::HoldingImpact& h : p.top_holdings()) {
      top.push_back(
          absl::StrCat(h.ticker(), " ", FormatMoney(h.impact_value())));
    }
    std::string gross = FormatMoney(p.position_value());
    if (!gross.empty() && gross[0] == '+') gross.erase(0, 1);
    std::string text =
        top.empty() ? absl::StrCat("0 of ", gross, ": no holding affected")
                    : absl::StrCat(FormatMoney(p.impact_value()), " of ", gross,
                                   ": ", absl::StrJoin(top, ", "));
    if (p.unknown_tickers_size() > 0) {
      absl::StrAppend(&text, " (", p.unknown_tickers_size(), " unknown)");
    }
    std::printf("%7llu  %-11s %-55s %+11.1f  %-8s\n",
                static_cast<unsigned long long>(a.sequence()), "PORTFOLIO",
                Clip(text, 55).c_str(), a.score_bps(),
                SeverityText(a.severity()).c_str());
    if (explain_) std::printf("           %s\n", a.explanation().c_str());
  }

  void PrintHeartbeat(const v1::Heartbeat& hb) {
    if (json_) {
      std::string out;
      (void)google::protobuf::util::MessageToJsonString(hb, &out);
      std::printf("{\"heartbeat\":%s}\n", out.c_str());
    } else {
      std::printf("   -- heartbeat: newest sequence %llu\n",
                  static_cast<unsigned long long>(hb.newest_sequence()));
    }
  }

  void Print(const v1::Alert& a) {
    if (a.event_id() != current_event_) {
      current_event_ = a.event_id();
      shown_in_event_ = 0;
      if (!json_) {
        std::printf("\n== %s: %s\n", a.event_id().c_str(),
                    a.headline().c_str());
        std::printf("%7s  %-11s %-30s %-24s %11s  %-8s %9s\n", "SEQ", "SUBJECT",
                    "NAME", "SECTOR", "SCORE bps", "SEVERITY", "OP.PROFIT");
      }
    }
    const bool portfolio = a.subject_kind() == v1::SUBJECT_KIND_PORTFOLIO;
    // The portfolio line closes its event whatever --top-per-event says.
    if (!portfolio && top_per_event_ && shown_in_event_ >= *top_per_event_) {
      return;
    }
    if (!portfolio) ++shown_in_event_;
    if (json_) {
      std::string out;
      google::protobuf::util::JsonPrintOptions options;
      (void)google::protobuf::util::MessageToJsonString(a, &out, options);
      std::printf("%s\n", out.c_str());
      return;
    }
    if (portfolio) {
      PrintPortfolio(a);
      return;
    }
    const bool sector = a.subject_kind() == v1::SUBJECT_KIND_SECTOR;
    std::printf(
        "%7llu  %-11s %-30s %-24s %+11.1f  %-8s %9s\n",
        static_cast<unsigned long long>(a.sequence()),
        Clip(sector ? "[sector]" : a.subject(), 11).c_str(),
        Clip(a.name(), 30).c_str(), Clip(a.sector(), 24).c_str(), a.score_bps(),
        SeverityText(a.severity()).c_str(),
        sector || a.operating_profit_change_pct() == 0
            ? ""
            : absl::StrFormat("%+.1f%%", a.operating_profit_change_pct())
                  .c_str());
    if (explain_) std::printf("           %s\n", a.explanation().c_str());
  }

  void Done() {
    done_ = true;
    subscriber_->Stop();  // on the subscriber's thread: only asks
  }

  ConnectionFlags connection_flags_;
  ConnectionOptions connection_;
  AlertFilterFlags filter_flags_;
  bool respect_silences_ = false;
  std::vector<std::string> kinds_, holdings_;
  std::string holdings_file_;
  std::optional<uint64_t> resume_after_;
  bool json_ = false, explain_ = false, show_heartbeats_ = false;
  std::optional<int> top_per_event_;
  std::optional<uint64_t> max_alerts_, until_sequence_;
  std::optional<double> duration_seconds_;
  std::optional<double> heartbeat_timeout_seconds_;
  std::optional<int> receive_window_bytes_;

  AlertSubscriber* subscriber_ = nullptr;
  bool has_holdings_ = false;
  // Set on the subscriber's thread, read after Wait() joined it.
  bool done_ = false;
  bool live_reported_ = false;
  uint64_t received_ = 0;
  std::string current_event_;
  int shown_in_event_ = 0;
};

}  // namespace

std::unique_ptr<Command> AddWatchCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<WatchCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
