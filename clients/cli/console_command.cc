// tariff-alert console: the risk console in a terminal (ncurses), for an
// analyst on a jump host (docs/console.md). The live list of alerts grouped
// by event (newest first) and by sector within an event, coloured by
// severity and marked acknowledged, silenced or inhibited as the server's
// console state says (server/console/console_rules.h, the same rules the
// server and the web console apply); a detail pane for the selected alert;
// keys to acknowledge, silence, filter and search.
//
// Threads: the alert stream (the client library's AlertSubscriber, which
// resumes after disconnects), the console state stream (WatchConsoleState,
// resumed after the last audit sequence, a new snapshot when the server no
// longer has the records) and a worker for the unary calls each push what
// they get into a queue and wake the UI thread through a pipe; only the UI
// thread touches ncurses.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <clocale>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cli/commands.h"
#include "clients/cli/connection_flags.h"
#include "clients/cli/filter_flags.h"
#include "clients/lib/alert_subscriber.h"
#include "clients/lib/backoff.h"
#include "clients/lib/connection.h"
#include "server/console/console_rules.h"
#include "server/scoring/portfolio.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/console_service.grpc.pb.h"

// Last, and without its macros (move, erase, ...): curses.h defines OK and
// ERR, which would break grpc::StatusCode::OK in the headers above.
#define NCURSES_NOMACROS
#include <curses.h>
#undef OK

namespace tariffalert::cli {
namespace {

namespace v1 = ::tariffalert::v1;
namespace rules = ::tariffalert::console;

constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// The console state stream is taken for dead after this long without a
// message (the server sends heartbeats in between).
constexpr absl::Duration kStateSilence = absl::Seconds(15);
// Alerts kept in memory; the oldest go first.
constexpr size_t kMaxAlerts = 20000;

// ---------------------------------------------------------------------------
// Signals and the wake-up pipe.

int g_wake_write_fd = -1;
volatile sig_atomic_t g_quit_signal = 0;

void OnQuitSignal(int signal_number) {
  g_quit_signal = signal_number;
  if (g_wake_write_fd >= 0) {
    const char c = 'q';
    (void)!write(g_wake_write_fd, &c, 1);
  }
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string StatusText(const grpc::Status& status) {
  std::string text = CodeName(status.error_code());
  if (!status.error_message().empty()) {
    absl::StrAppend(&text, ": ", status.error_message());
  }
  return text;
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
}

std::string ShortTime(absl::Time t) {
  if (t == absl::InfinitePast() || absl::ToUnixSeconds(t) == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", t, absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------
// What the network threads tell the UI thread.

struct UiEvent {
  enum Kind {
    kAlerts,         // alerts
    kAlertStream,    // alert_state
    kHeartbeat,      // newest_sequence
    kGap,            // text
    kStateSnapshot,  // snapshot
    kStateRecord,    // record
    kInhibitions,    // inhibitions
    kStateStream,    // text (empty: live), error
    kStatus,         // text, error
    kSession,        // session
    kStartAlerts,    // resume_after
  };
  Kind kind = kStatus;
  std::vector<v1::Alert> alerts;
  StateChange alert_state;
  uint64_t newest_sequence = 0;
  v1::ConsoleState snapshot;
  v1::AuditRecord record;
  std::vector<v1::Inhibition> inhibitions;
  v1::Session session;
  std::optional<uint64_t> resume_after;
  std::string text;
  bool error = false;
  bool stopped = false;  // kStateStream: for good (a permanent error)
};

class EventQueue {
 public:
  explicit EventQueue(int wake_fd) : wake_fd_(wake_fd) {}

  void Push(UiEvent event) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      events_.push_back(std::move(event));
    }
    const char c = 'e';
    (void)!write(wake_fd_, &c, 1);  // non-blocking: a full pipe wakes anyway
  }

  std::deque<UiEvent> Take() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    std::deque<UiEvent> out;
    out.swap(events_);
    return out;
  }

 private:
  const int wake_fd_;
  absl::Mutex mu_;
  std::deque<UiEvent> events_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<grpc::Channel> NewChannel(const ConnectionOptions& connection,
                                          std::string* error) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = CreateClientChannel(connection, args);
  if (!channel.ok()) {
    *error = std::string(channel.status().message());
    return nullptr;
  }
  return *channel;
}

// ---------------------------------------------------------------------------
// The console state stream: WatchConsoleState, resumed after the newest
// audit sequence seen; a snapshot first, again when the server no longer
// keeps the records after it (FAILED_PRECONDITION) or the UI saw a gap.

class StateWatcher {
 public:
  StateWatcher(std::shared_ptr<grpc::Channel> channel,
               const ConnectionOptions& connection, EventQueue* queue)
      : stub_(v1::ConsoleService::NewStub(channel)),
        connection_(connection),
        queue_(queue) {}
  ~StateWatcher() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      if (call_ != nullptr) call_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

  // The next stream starts with a snapshot; the one in flight is ended.
  void RequestSnapshot() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    want_snapshot_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }

  // From the UI thread's tick: ends a stream that has gone silent.
  void CheckSilence(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (call_ != nullptr && !silenced_ && now - last_message_ > kStateSilence) {
      silenced_ = true;
      call_->TryCancel();
    }
  }

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_) {
    Backoff backoff(absl::Milliseconds(100), absl::Seconds(3), 0.2);
    std::mt19937_64 random(std::random_device{}());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    // Where the next stream resumes (without: a snapshot).
    bool resume = false;
    uint64_t resume_after = 0;
    while (true) {
      grpc::ClientContext context;
      AddTokenMetadata(connection_, &context);
      v1::WatchConsoleStateRequest request;
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        if (want_snapshot_) resume = false;
        want_snapshot_ = false;
        if (resume) request.set_resume_after_sequence(resume_after);
        call_ = &context;
        silenced_ = false;
        last_message_ = absl::Now();
      }
      std::unique_ptr<grpc::ClientReader<v1::WatchConsoleStateResponse>>
          reader = stub_->WatchConsoleState(&context, request);
      v1::WatchConsoleStateResponse response;
      bool delivered = false;
      while (reader->Read(&response)) {
        {
          absl::MutexLock lock(&mu_);
          last_message_ = absl::Now();
        }
        if (!delivered) {
          delivered = true;
          backoff.Reset();
          UiEvent live;
          live.kind = UiEvent::kStateStream;
          queue_->Push(std::move(live));
        }
        if (response.has_snapshot()) {
          UiEvent e;
          e.kind = UiEvent::kStateSnapshot;
          e.snapshot = std::move(*response.mutable_snapshot());
          resume = true;
          resume_after = e.snapshot.audit_sequence();
          queue_->Push(std::move(e));
        }
        if (response.has_record()) {
          UiEvent e;
          e.kind = UiEvent::kStateRecord;
          e.record = std::move(*response.mutable_record());
          resume = true;
          resume_after = std::max(resume_after, e.record.sequence());
          queue_->Push(std::move(e));
        }
        if (response.has_inhibitions()) {
          UiEvent e;
          e.kind = UiEvent::kInhibitions;
          e.inhibitions.assign(response.inhibitions().inhibitions().begin(),
                               response.inhibitions().inhibitions().end());
          queue_->Push(std::move(e));
        }
      }
      const grpc::Status status = reader->Finish();
      bool silenced;
      {
        absl::MutexLock lock(&mu_);
        call_ = nullptr;
        if (stop_) return;
        // Ended by RequestSnapshot: the next stream, at once.
        if (want_snapshot_) continue;
        silenced = silenced_;
      }
      const grpc::StatusCode code = status.error_code();
      UiEvent e;
      e.kind = UiEvent::kStateStream;
      e.error = true;
      if (code == grpc::StatusCode::FAILED_PRECONDITION) {
        // The records after resume_after are gone: a snapshot, at once.
        resume = false;
        e.text = "console state: asking for a new snapshot";
        queue_->Push(std::move(e));
        continue;
      }
      const bool permanent = code == grpc::StatusCode::UNAUTHENTICATED ||
                             code == grpc::StatusCode::PERMISSION_DENIED ||
                             code == grpc::StatusCode::INVALID_ARGUMENT;
      e.text = absl::StrCat(
          "console state: ",
          silenced ? "no message for 15 s" : StatusText(status),
          ConnectionHint(connection_, status), permanent ? "" : "; retrying");
      e.stopped = permanent;
      queue_->Push(std::move(e));
      if (permanent) return;
      const absl::Duration delay = backoff.Next(unit(random));
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), delay);
      if (stop_) return;
    }
  }

  std::unique_ptr<v1::ConsoleService::Stub> stub_;
  const ConnectionOptions connection_;
  EventQueue* const queue_;
  std::thread thread_;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool want_snapshot_ ABSL_GUARDED_BY(mu_) = false;
  bool silenced_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// ---------------------------------------------------------------------------
// The unary calls, one at a time on a thread of their own so that the UI
// never waits for the network. Each gets a context with the token and a
// deadline; Stop() cancels the one in flight.

class Worker {
 public:
  using Task = std::function<void(grpc::ClientContext&)>;

  explicit Worker(const ConnectionOptions& connection)
      : connection_(connection) {}
  ~Worker() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Submit(Task task) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (!stop_) tasks_.push_back(std::move(task));
  }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      tasks_.clear();
      if (call_ != nullptr) call_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || !tasks_.empty();
  }

  void Run() ABSL_LOCKS_EXCLUDED(mu_) {
    while (true) {
      Task task;
      grpc::ClientContext context;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Worker::Ready));
        if (stop_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
        call_ = &context;
      }
      AddTokenMetadata(connection_, &context);
      context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
      task(context);
      absl::MutexLock lock(&mu_);
      call_ = nullptr;
    }
  }

  const ConnectionOptions connection_;
  std::thread thread_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// The alert stream's callbacks, into the queue.
class QueueingHandler : public AlertHandler {
 public:
  explicit QueueingHandler(EventQueue* queue) : queue_(queue) {}

  void OnAlerts(absl::Span<const v1::Alert> alerts) override {
    UiEvent e;
    e.kind = UiEvent::kAlerts;
    e.alerts.assign(alerts.begin(), alerts.end());
    queue_->Push(std::move(e));
  }
  void OnHeartbeat(const v1::Heartbeat& heartbeat) override {
    UiEvent e;
    e.kind = UiEvent::kHeartbeat;
    e.newest_sequence = heartbeat.newest_sequence();
    queue_->Push(std::move(e));
  }
  void OnStateChange(const StateChange& change) override {
    UiEvent e;
    e.kind = UiEvent::kAlertStream;
    e.alert_state = change;
    queue_->Push(std::move(e));
  }
  void OnGap(const Gap& gap) override {
    UiEvent e;
    e.kind = UiEvent::kGap;
    e.text = absl::StrCat("alerts after ", gap.resume_after,
                          " are no longer retained; continuing from ",
                          gap.oldest_retained);
    queue_->Push(std::move(e));
  }

 private:
  EventQueue* const queue_;
};

// ---------------------------------------------------------------------------
// Text helpers: UTF-8 aware clipping and padding by code points (names such
// as "Nestlé" are UTF-8; the terminal shows one column per code point).

size_t CodePoints(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// At most `width` code points; a clipped string ends with "~".
std::string Clip(absl::string_view s, size_t width) {
  if (CodePoints(s) <= width) return std::string(s);
  if (width == 0) return "";
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if ((c & 0xC0) != 0x80) {
      if (n == width - 1) break;
      ++n;
    }
    out.push_back(s[i]);
  }
  out.push_back('~');
  return out;
}

std::string Pad(absl::string_view s, size_t width) {
  std::string out = Clip(s, width);
  const size_t n = CodePoints(out);
  if (n < width) out.append(width - n, ' ');
  return out;
}

std::string PadLeft(absl::string_view s, size_t width) {
  std::string out = Clip(s, width);
  const size_t n = CodePoints(out);
  if (n < width) out.insert(0, width - n, ' ');
  return out;
}

// Words of `text` in lines of at most `width` code points.
std::vector<std::string> Wrap(absl::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  for (absl::string_view word :
       absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    if (!line.empty() && CodePoints(line) + 1 + CodePoints(word) > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line.push_back(' ');
    absl::StrAppend(&line, word);
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// "import cost" for CHANNEL_IMPORT_COST.
std::string ChannelText(v1::Channel channel) {
  std::string name = absl::AsciiStrToLower(
      absl::StripPrefix(v1::Channel_Name(channel), "CHANNEL_"));
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

// "HH:MM" (UTC, the next such time), an RFC 3339 time, or a duration
// ("90m", "2h"): the end of a silence.
std::optional<absl::Time> ParseUntil(absl::string_view text, absl::Time now,
                                     std::string* error) {
  const std::string in(absl::StripAsciiWhitespace(text));
  int hh = 0, mm = 0;
  char extra = 0;
  if (std::sscanf(in.c_str(), "%2d:%2d%c", &hh, &mm, &extra) == 2 && hh >= 0 &&
      hh < 24 && mm >= 0 && mm < 60) {
    const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
    absl::Time t = absl::FromCivil(
        absl::CivilMinute(today.year(), today.month(), today.day(), hh, mm),
        absl::UTCTimeZone());
    if (t <= now) t += absl::Hours(24);
    return t;
  }
  absl::Time t;
  std::string parse_error;
  if (absl::ParseTime(absl::RFC3339_full, in, &t, &parse_error)) return t;
  absl::Duration d;
  if (absl::ParseDuration(in, &d) && d > absl::ZeroDuration()) return now + d;
  *error = absl::StrCat("'", in,
                        "' is not HH:MM (UTC), an RFC 3339 time "
                        "(2025-08-01T14:00:00Z) or a duration (90m)");
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The filter of the `f` key, applied here to what the stream brought
// ("ticker=AAPL,BBY sector=Materials country=CN severity=high").

struct LocalFilter {
  absl::flat_hash_set<std::string> tickers;    // upper case
  absl::flat_hash_set<std::string> sectors;    // lower case
  absl::flat_hash_set<std::string> countries;  // upper case
  int min_severity = 0;
  std::string text;

  bool empty() const {
    return tickers.empty() && sectors.empty() && countries.empty() &&
           min_severity == 0;
  }

  bool Matches(const v1::Alert& alert, const rules::AlertFields& f) const {
    if (!tickers.empty() &&
        (alert.subject_kind() != v1::SUBJECT_KIND_TICKER ||
         !tickers.contains(absl::AsciiStrToUpper(alert.subject())))) {
      return false;
    }
    if (!sectors.empty() &&
        !sectors.contains(absl::AsciiStrToLower(alert.sector()))) {
      return false;
    }
    if (!countries.empty()) {
      bool any = countries.contains(absl::AsciiStrToUpper(f.company_country)) ||
                 countries.contains(absl::AsciiStrToUpper(f.imposing_country));
      for (const std::string& c : f.target_countries) {
        any = any || countries.contains(absl::AsciiStrToUpper(c));
      }
      if (!any) return false;
    }
    return alert.severity() >= min_severity;
  }

  static std::optional<LocalFilter> Parse(absl::string_view text,
                                          std::string* error) {
    LocalFilter filter;
    filter.text = std::string(absl::StripAsciiWhitespace(text));
    for (absl::string_view term :
         absl::StrSplit(filter.text, ' ', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(term, absl::MaxSplits(absl::ByAnyChar("=:"), 1));
      const std::string key = absl::AsciiStrToLower(kv.first);
      std::vector<std::string> values =
          absl::StrSplit(kv.second, ',', absl::SkipEmpty());
      if (values.empty()) {
        *error = absl::StrCat("filter: '", term, "' has no value");
        return std::nullopt;
      }
      if (key == "ticker" || key == "tickers") {
        for (auto& v : values) filter.tickers.insert(absl::AsciiStrToUpper(v));
      } else if (key == "sector" || key == "sectors") {
        // Sector names have spaces: '_' stands for one.
        for (auto& v : values) {
          std::replace(v.begin(), v.end(), '_', ' ');
          filter.sectors.insert(absl::AsciiStrToLower(v));
        }
      } else if (key == "country" || key == "countries") {
        for (auto& v : values) {
          filter.countries.insert(absl::AsciiStrToUpper(v));
        }
      } else if (key == "severity" || key == "min-severity" || key == "sev") {
        filter.min_severity = rules::ParseSeverityName(values[0]);
        if (filter.min_severity == 0) {
          *error = absl::StrCat("filter: '", values[0],
                                "' is not info, low, medium, high or critical");
          return std::nullopt;
        }
      } else {
        *error =
            absl::StrCat("filter: '", kv.first,
                         "' is not ticker=, sector=, country= or severity=");
        return std::nullopt;
      }
    }
    return filter;
  }
};

// ---------------------------------------------------------------------------
// The screen.

enum ColorPair : short {
  kPairCritical = 1,
  kPairHigh,
  kPairMedium,
  kPairLow,
  kPairInfo,
  kPairGood,
  kPairWarn,
  kPairError,
  kPairTitle,
  kPairEvent,
  kPairSector,
  kPairMark,
};

short SeverityPair(int severity) {
  switch (severity) {
    case v1::SEVERITY_CRITICAL:
      return kPairCritical;
    case v1::SEVERITY_HIGH:
      return kPairHigh;
    case v1::SEVERITY_MEDIUM:
      return kPairMedium;
    case v1::SEVERITY_LOW:
      return kPairLow;
    default:
      return kPairInfo;
  }
}

struct Entry {
  v1::Alert alert;
  rules::AlertFields fields;
  bool held = false;  // a ticker of --holdings
};

struct Row {
  enum Type { kEvent, kSector, kAlert } type = kAlert;
  const rules::EventGroup* event = nullptr;
  const rules::SectorGroup* sector = nullptr;
  const Entry* entry = nullptr;
  rules::AlertMarks marks;
};

struct ConsoleOptions {
  ConnectionOptions connection;
  v1::AlertFilter filter;
  std::vector<v1::Holding> holdings;
  uint64_t history = 2000;
  std::optional<double> heartbeat_timeout_seconds;
};

class Console {
 public:
  explicit Console(ConsoleOptions options)
      : options_(std::move(options)), worker_(options_.connection) {
    for (const v1::Holding& h : options_.holdings) {
      held_.insert(absl::AsciiStrToUpper(h.ticker()));
    }
  }

  int Run() {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      std::perror("console: pipe");
      return kExitFailed;
    }
    wake_read_fd_ = fds[0];
    g_wake_write_fd = fds[1];
    queue_ = std::make_unique<EventQueue>(fds[1]);
    handler_ = std::make_unique<QueueingHandler>(queue_.get());

    std::string error;
    channel_ = NewChannel(options_.connection, &error);
    if (channel_ == nullptr) {
      std::fprintf(stderr, "console: %s\n", error.c_str());
      return kExitUsage;
    }
    console_stub_ = v1::ConsoleService::NewStub(channel_);

    // Ours before initscr, which then leaves SIGINT and SIGTERM alone.
    struct sigaction action = {};
    action.sa_handler = OnQuitSignal;
    sigemptyset(&action.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &action, nullptr);

    std::setlocale(LC_ALL, "");
    initscr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
      start_color();
      use_default_colors();
      init_pair(kPairCritical, COLOR_WHITE, COLOR_RED);
      init_pair(kPairHigh, COLOR_RED, -1);
      init_pair(kPairMedium, COLOR_YELLOW, -1);
      init_pair(kPairLow, COLOR_CYAN, -1);
      init_pair(kPairInfo, -1, -1);
      init_pair(kPairGood, COLOR_GREEN, -1);
      init_pair(kPairWarn, COLOR_YELLOW, -1);
      init_pair(kPairError, COLOR_WHITE, COLOR_RED);
      init_pair(kPairTitle, COLOR_BLACK, COLOR_CYAN);
      init_pair(kPairEvent, COLOR_BLUE, -1);
      init_pair(kPairSector, COLOR_MAGENTA, -1);
      init_pair(kPairMark, COLOR_GREEN, -1);
    }

    worker_.Start();
    StartStartupCalls();
    watcher_ = std::make_unique<StateWatcher>(channel_, options_.connection,
                                              queue_.get());
    watcher_->Start();

    Loop();

    // Every thread stopped, each within one call's cancellation.
    if (subscriber_ != nullptr) subscriber_->Stop();
    watcher_->Stop();
    worker_.Stop();
    endwin();
    g_wake_write_fd = -1;
    close(fds[0]);
    close(fds[1]);
    if (g_quit_signal != 0) {
      std::fprintf(stderr, "console: stopped by signal %d\n",
                   static_cast<int>(g_quit_signal));
    }
    return kExitOk;
  }

 private:
  // GetSession (who am I, may I change state) and GetServerStatus (the
  // log's newest sequence, so the list starts with the recent history).
  void StartStartupCalls() {
    worker_.Submit([this](grpc::ClientContext& context) {
      v1::Session session;
      grpc::Status status = console_stub_->GetSession(
          &context, v1::GetSessionRequest(), &session);
      UiEvent e;
      if (status.ok()) {
        e.kind = UiEvent::kSession;
        e.session = std::move(session);
      } else {
        e.kind = UiEvent::kStatus;
        e.error = true;
        e.text = absl::StrCat("session: ", StatusText(status),
                              ConnectionHint(options_.connection, status));
      }
      queue_->Push(std::move(e));
    });
    worker_.Submit([this](grpc::ClientContext& context) {
      v1::ServerStatus server_status;
      grpc::Status status = console_stub_->GetServerStatus(
          &context, v1::GetServerStatusRequest(), &server_status);
      UiEvent e;
      e.kind = UiEvent::kStartAlerts;
      if (status.ok()) {
        const uint64_t newest = server_status.log_newest_sequence();
        e.resume_after =
            newest > options_.history ? newest - options_.history : 0;
      } else {
        // No status (an older server, or none yet): everything retained.
        e.resume_after = 0;
      }
      queue_->Push(std::move(e));
    });
  }

  void StartAlerts(std::optional<uint64_t> resume_after) {
    if (subscriber_ != nullptr) return;
    SubscriberOptions options;
    options.server_address = options_.connection.server_address;
    std::string error;
    auto credentials = MakeChannelCredentials(options_.connection);
    if (!credentials.ok()) {
      SetStatus(std::string(credentials.status().message()), true);
      return;
    }
    options.credentials = *credentials;
    options.tls_server_name = options_.connection.tls_server_name;
    options.metadata = TokenMetadata(options_.connection);
    options.filter = options_.filter;
    options.holdings = options_.holdings;
    options.resume_after_sequence = resume_after;
    if (options_.heartbeat_timeout_seconds) {
      options.heartbeat_timeout =
          absl::Seconds(*options_.heartbeat_timeout_seconds);
    }
    subscriber_ =
        std::make_unique<AlertSubscriber>(std::move(options), handler_.get());
    if (absl::Status started = subscriber_->Start(); !started.ok()) {
      SetStatus(absl::StrCat("alerts: ", started.message()), true);
    }
  }

  void Loop() {
    absl::Time last_draw = absl::InfinitePast();
    dirty_ = true;
    while (!quit_ && g_quit_signal == 0) {
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
      (void)poll(fds, 2, 250);
      if (g_quit_signal != 0) break;
      char buffer[256];
      while (read(wake_read_fd_, buffer, sizeof(buffer)) > 0) {
      }
      // The rows point into the alerts and the state: rebuilt after every
      // change, before a key acts on the selection.
      absl::Time now = absl::Now();
      for (UiEvent& e : queue_->Take()) Handle(e);
      if (dirty_) Rebuild(now);
      // Keys, and KEY_RESIZE after a SIGWINCH.
      for (int ch = getch(); ch != ERR && !quit_; ch = getch()) {
        Key(ch);
        Rebuild(now);
        dirty_ = true;
      }
      now = absl::Now();
      watcher_->CheckSilence(now);
      // Once a second anyway: the clock, silences that begin or end.
      if (dirty_ || now - last_draw >= absl::Seconds(1)) {
        Rebuild(now);
        Draw(now);
        last_draw = now;
        dirty_ = false;
      }
    }
  }

  // ----- Events from the network threads.

  void Handle(UiEvent& e) {
    dirty_ = true;
    switch (e.kind) {
      case UiEvent::kAlerts:
        AddAlerts(e.alerts);
        break;
      case UiEvent::kAlertStream:
        OnAlertStream(e.alert_state);
        break;
      case UiEvent::kHeartbeat:
        newest_sequence_ = std::max(newest_sequence_, e.newest_sequence);
        break;
      case UiEvent::kGap:
        SetStatus(e.text, true);
        break;
      case UiEvent::kStateSnapshot:
        view_.Reset(e.snapshot);
        have_state_ = true;
        break;
      case UiEvent::kStateRecord:
        ApplyRecord(e.record);
        break;
      case UiEvent::kInhibitions:
        view_.SetInhibitions(std::move(e.inhibitions));
        break;
      case UiEvent::kStateStream:
        if (!e.error && !state_stream_error_.empty()) {
          SetStatus("console state: live again", false);
        }
        state_stream_error_ = e.error ? e.text : "";
        state_stream_stopped_ = e.stopped;
        if (e.error) SetStatus(e.text, true);
        break;
      case UiEvent::kStatus:
        SetStatus(e.text, e.error);
        break;
      case UiEvent::kSession:
        session_ = std::move(e.session);
        break;
      case UiEvent::kStartAlerts:
        StartAlerts(e.resume_after);
        break;
    }
  }

  void ApplyRecord(const v1::AuditRecord& record) {
    // A record we have (the reply to our own call arrives first): skip.
    if (record.sequence() <= view_.audit_sequence()) return;
    if (!view_.Apply(record)) watcher_->RequestSnapshot();
  }

  void AddAlerts(const std::vector<v1::Alert>& alerts) {
    for (const v1::Alert& alert : alerts) {
      newest_sequence_ = std::max(newest_sequence_, alert.sequence());
      if (alert.subject_kind() == v1::SUBJECT_KIND_PORTFOLIO) {
        portfolio_[alert.event_id()] = alert;
        continue;
      }
      auto entry = std::make_unique<Entry>();
      entry->alert = alert;
      entry->fields = rules::FieldsOf(alert);
      entry->held = alert.subject_kind() == v1::SUBJECT_KIND_TICKER &&
                    held_.contains(absl::AsciiStrToUpper(alert.subject()));
      entries_.push_back(std::move(entry));
    }
    if (entries_.size() > kMaxAlerts + kMaxAlerts / 10) {
      entries_.erase(entries_.begin(),
                     entries_.begin() + (entries_.size() - kMaxAlerts));
    }
  }

  void OnAlertStream(const StateChange& change) {
    alert_state_was_ = alert_state_ == SubscriberState::kConnecting
                           ? alert_state_was_
                           : alert_state_;
    alert_state_ = change.state;
    switch (change.state) {
      case SubscriberState::kConnecting:
        break;
      case SubscriberState::kLive:
        if (alert_state_was_ == SubscriberState::kReconnecting) {
          SetStatus("alerts: live again (resumed without a gap)", false);
        }
        alert_stream_text_.clear();
        newest_sequence_ = std::max(newest_sequence_, change.newest_sequence);
        break;
      case SubscriberState::kReconnecting:
        // Short in the header, in full in the status line.
        alert_stream_text_ =
            absl::StrCat("in ",
                         absl::FormatDuration(absl::Trunc(
                             change.delay, absl::Milliseconds(100))),
                         " (", CodeName(change.status.error_code()), ")");
        SetStatus(
            absl::StrCat("alerts: ", StatusText(change.status),
                         ConnectionHint(options_.connection, change.status),
                         "; reconnecting"),
            true);
        break;
      case SubscriberState::kStopped:
        alert_stream_text_ = CodeName(change.status.error_code());
        if (!change.status.ok()) {
          SetStatus(
              absl::StrCat("alerts: ", StatusText(change.status),
                           ConnectionHint(options_.connection, change.status)),
              true);
        }
        break;
    }
  }

  void SetStatus(std::string text, bool error) {
    status_ = std::move(text);
    status_error_ = error;
    status_time_ = absl::Now();
  }

  // ----- The list.

  bool Searched(const Entry& e) const {
    if (search_.empty()) return true;
    const std::string needle = absl::AsciiStrToLower(search_);
    for (const std::string* field :
         {&e.alert.subject(), &e.alert.name(), &e.alert.sector()}) {
      if (absl::StrContains(absl::AsciiStrToLower(*field), needle)) {
        return true;
      }
    }
    return false;
  }

  // Rows from the alerts, the state, the filter and the search; the
  // selection kept on the same alert where it is still shown.
  void Rebuild(absl::Time now) {
    std::vector<const v1::Alert*> shown;
    absl::flat_hash_map<const v1::Alert*, const Entry*> entry_of;
    absl::flat_hash_map<const v1::Alert*, rules::AlertMarks> marks_of;
    unacknowledged_ = 0;
    hidden_silenced_ = 0;
    for (const auto& entry : entries_) {
      if (!filter_.Matches(entry->alert, entry->fields) || !Searched(*entry)) {
        continue;
      }
      rules::AlertMarks marks = view_.Mark(entry->fields, now);
      const bool silenced = !marks.silenced_by.empty();
      if (silenced && !show_silenced_) {
        ++hidden_silenced_;
        continue;
      }
      if (marks.acknowledgement == nullptr && !silenced) ++unacknowledged_;
      shown.push_back(&entry->alert);
      entry_of[&entry->alert] = entry.get();
      marks_of[&entry->alert] = std::move(marks);
    }
    groups_ = rules::GroupAlerts(shown);
    rows_.clear();
    for (const rules::EventGroup& event : groups_) {
      Row header;
      header.type = Row::kEvent;
      header.event = &event;
      rows_.push_back(header);
      for (const rules::SectorGroup& sector : event.sectors) {
        Row sector_row;
        sector_row.type = Row::kSector;
        sector_row.event = &event;
        sector_row.sector = &sector;
        rows_.push_back(sector_row);
        for (const v1::Alert* alert : sector.alerts) {
          Row row;
          row.type = Row::kAlert;
          row.event = &event;
          row.sector = &sector;
          row.entry = entry_of[alert];
          row.marks = marks_of[alert];
          rows_.push_back(std::move(row));
        }
      }
    }
    // The selection: the first alert when following the newest, else the
    // same alert, else the nearest alert row.
    int selected = follow_newest_ && !prompt_ ? NearestAlertRow(0, +1) : -1;
    for (size_t i = 0; selected < 0 && i < rows_.size(); ++i) {
      if (rows_[i].type == Row::kAlert &&
          rows_[i].entry->alert.alert_id() == selected_id_) {
        selected = static_cast<int>(i);
        break;
      }
    }
    if (selected < 0) {
      selected =
          std::min<int>(selected_row_, static_cast<int>(rows_.size()) - 1);
      selected = NearestAlertRow(selected, +1);
      if (selected < 0) selected = NearestAlertRow(selected_row_, -1);
    }
    selected_row_ = std::max(selected, 0);
    selected_id_ = selected >= 0 && selected < static_cast<int>(rows_.size())
                       ? rows_[selected].entry->alert.alert_id()
                       : "";
  }

  // The first alert row at or after (step +1) or before (-1) `from`.
  int NearestAlertRow(int from, int step) const {
    const int n = static_cast<int>(rows_.size());
    for (int i = std::clamp(from, 0, std::max(n - 1, 0)); i >= 0 && i < n;
         i += step) {
      if (rows_[i].type == Row::kAlert) return i;
    }
    return -1;
  }

  const Row* SelectedRow() const {
    if (selected_row_ < 0 || selected_row_ >= static_cast<int>(rows_.size()) ||
        rows_[selected_row_].type != Row::kAlert) {
      return nullptr;
    }
    return &rows_[selected_row_];
  }

  void Move(int delta) {
    if (rows_.empty()) return;
    int target = selected_row_;
    const int step = delta > 0 ? 1 : -1;
    for (int moved = 0; moved < std::abs(delta);) {
      const int next = NearestAlertRow(target + step, step);
      if (next < 0) break;
      target = next;
      ++moved;
    }
    if (target != selected_row_ && rows_[target].type == Row::kAlert) {
      selected_row_ = target;
      selected_id_ = rows_[target].entry->alert.alert_id();
    }
    // On the first alert the selection follows the newest event.
    follow_newest_ = selected_row_ == NearestAlertRow(0, +1);
  }

  // ----- Keys.

  void Key(int ch) {
    if (ch == KEY_RESIZE) {
      // ncurses has the new size already; the next Draw uses it.
      clearok(stdscr, TRUE);
      return;
    }
    if (prompt_) {
      PromptKey(ch);
      return;
    }
    if (help_) {
      help_ = false;
      if (ch != 'q') return;
    }
    switch (ch) {
      case 'q':
        quit_ = true;
        break;
      case KEY_DOWN:
      case 'j':
        Move(1);
        break;
      case KEY_UP:
      case 'k':
        Move(-1);
        break;
      case KEY_NPAGE:
      case ' ':
        Move(std::max(1, list_height_ - 1));
        break;
      case KEY_PPAGE:
        Move(-std::max(1, list_height_ - 1));
        break;
      case KEY_HOME:
      case 'g':
        Move(-static_cast<int>(rows_.size()));
        break;
      case KEY_END:
      case 'G':
        Move(static_cast<int>(rows_.size()));
        break;
      case 'a':
        AcknowledgeSelected();
        break;
      case 'A':
        AcknowledgeSelectedEvent();
        break;
      case 'u':
        DeleteSelectedAcknowledgement();
        break;
      case 's':
        if (const Row* row = SelectedRow()) {
          Silence(row->entry->alert, std::nullopt);
        } else {
          SetStatus("no alert selected", true);
        }
        break;
      case 'S':
        AskSilenceUntil();
        break;
      case '/':
        Ask("search (ticker, name or sector; empty: all): ", search_,
            [this](const std::string& text) {
              search_ = std::string(absl::StripAsciiWhitespace(text));
              SetStatus(search_.empty() ? "search cleared"
                                        : absl::StrCat("search: ", search_),
                        false);
            });
        break;
      case 'f':
        Ask("filter (ticker=AAPL,BBY sector=Materials country=CN "
            "severity=high; empty: none): ",
            filter_.text, [this](const std::string& text) {
              std::string error;
              std::optional<LocalFilter> filter =
                  LocalFilter::Parse(text, &error);
              if (!filter) {
                SetStatus(error, true);
                return;
              }
              filter_ = *std::move(filter);
              SetStatus(filter_.empty()
                            ? "filter cleared"
                            : absl::StrCat("filter: ", filter_.text),
                        false);
            });
        break;
      case 'x':
        show_silenced_ = !show_silenced_;
        SetStatus(show_silenced_ ? "showing silenced alerts"
                                 : "hiding silenced alerts",
                  false);
        break;
      case '?':
      case 'h':
        help_ = true;
        break;
      case 12:  // ^L
        clearok(stdscr, TRUE);
        break;
      default:
        break;
    }
  }

  struct Prompt {
    std::string label;
    std::string text;
    std::function<void(const std::string&)> done;
  };

  void Ask(std::string label, std::string initial,
           std::function<void(const std::string&)> done) {
    prompt_ = Prompt{std::move(label), std::move(initial), std::move(done)};
  }

  void PromptKey(int ch) {
    if (ch == 27) {  // Esc
      prompt_.reset();
      SetStatus("cancelled", false);
      return;
    }
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
      Prompt prompt = std::move(*prompt_);
      prompt_.reset();
      prompt.done(prompt.text);  // may open the next prompt
      return;
    }
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
      std::string& t = prompt_->text;
      while (!t.empty() &&
             (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) {
        t.pop_back();
      }
      if (!t.empty()) t.pop_back();
      return;
    }
    if (ch == 21) {  // ^U
      prompt_->text.clear();
      return;
    }
    if (ch >= 32 && ch < 256 && ch != 127 && prompt_->text.size() < 500) {
      prompt_->text.push_back(static_cast<char>(ch));
    }
  }

  std::string Describe(const v1::Alert& a) const {
    return a.subject_kind() == v1::SUBJECT_KIND_SECTOR
               ? absl::StrCat("sector ", a.subject(), " (", a.event_id(), ")")
               : absl::StrCat(a.subject(), " (", a.event_id(), ")");
  }

  // A unary call's result into the status line: `done` on success.
  void Report(const std::string& what, const grpc::Status& status,
              const v1::AuditRecord& record) {
    UiEvent e;
    if (status.ok()) {
      UiEvent applied;
      applied.kind = UiEvent::kStateRecord;
      applied.record = record;
      queue_->Push(std::move(applied));
      e.text = absl::StrCat(what, ": done (audit ", record.sequence(), ")");
    } else {
      e.error = true;
      e.text = absl::StrCat(what, ": ", StatusText(status),
                            ConnectionHint(options_.connection, status));
    }
    e.kind = UiEvent::kStatus;
    queue_->Push(std::move(e));
  }

  void AcknowledgeSelected() {
    const Row* row = SelectedRow();
    if (row == nullptr) {
      SetStatus("no alert selected", true);
      return;
    }
    v1::AcknowledgeAlertRequest request;
    request.set_alert_id(row->entry->alert.alert_id());
    const std::string what =
        absl::StrCat("acknowledge ", Describe(row->entry->alert));
    SetStatus(absl::StrCat(what, " ..."), false);
    worker_.Submit([this, request, what](grpc::ClientContext& context) {
      v1::AuditRecord record;
      grpc::Status status =
          console_stub_->AcknowledgeAlert(&context, request, &record);
      Report(what, status, record);
    });
  }

  void AcknowledgeSelectedEvent() {
    const Row* row = SelectedRow();
    if (row == nullptr) {
      SetStatus("no alert selected", true);
      return;
    }
    v1::AcknowledgeEventRequest request;
    request.set_event_id(row->entry->alert.event_id());
    const std::string what =
        absl::StrCat("acknowledge event ", request.event_id());
    SetStatus(absl::StrCat(what, " ..."), false);
    worker_.Submit([this, request, what](grpc::ClientContext& context) {
      v1::AuditRecord record;
      grpc::Status status =
          console_stub_->AcknowledgeEvent(&context, request, &record);
      Report(what, status, record);
    });
  }

  void DeleteSelectedAcknowledgement() {
    const Row* row = SelectedRow();
    if (row == nullptr || row->marks.acknowledgement == nullptr) {
      SetStatus("the selected alert is not acknowledged", true);
      return;
    }
    v1::DeleteAcknowledgementRequest request;
    const v1::Acknowledgement& ack = *row->marks.acknowledgement;
    std::string what;
    if (!ack.alert_id().empty()) {
      request.set_alert_id(ack.alert_id());
      what = absl::StrCat("take back the acknowledgement of ",
                          Describe(row->entry->alert));
    } else {
      request.set_event_id(ack.event_id());
      what = absl::StrCat("take back the acknowledgement of event ",
                          ack.event_id());
    }
    worker_.Submit([this, request, what](grpc::ClientContext& context) {
      v1::AuditRecord record;
      grpc::Status status =
          console_stub_->DeleteAcknowledgement(&context, request, &record);
      Report(what, status, record);
    });
  }

  void AskSilenceUntil() {
    const Row* row = SelectedRow();
    if (row == nullptr) {
      SetStatus("no alert selected", true);
      return;
    }
    Ask("silence until (HH:MM UTC, RFC 3339 or a duration like 90m): ", "",
        [this, alert = row->entry->alert](const std::string& text) {
          std::string error;
          std::optional<absl::Time> until =
              ParseUntil(text, absl::Now(), &error);
          if (!until) {
            SetStatus(error, true);
            return;
          }
          Silence(alert, *until);
        });
  }

  // Silences alerts like the selected one: its ticker, or its sector for a
  // sector alert; for an hour or until `until`. Asks for the comment first.
  void Silence(const v1::Alert& alert, std::optional<absl::Time> until) {
    v1::Matcher matcher;
    if (alert.subject_kind() == v1::SUBJECT_KIND_SECTOR) {
      matcher.set_field(v1::MATCHER_FIELD_SECTOR);
      matcher.set_value(alert.subject());
    } else {
      matcher.set_field(v1::MATCHER_FIELD_TICKER);
      matcher.set_value(alert.subject());
    }
    const std::string what = absl::StrCat(
        "silence ",
        matcher.field() == v1::MATCHER_FIELD_SECTOR ? "sector " : "ticker ",
        matcher.value(), " until ",
        until ? ShortTime(*until) : std::string("now + 1 h"));
    Ask(absl::StrCat(what, ": comment (Esc cancels): "), "",
        [this, matcher, until, what](const std::string& text) {
          std::string comment(absl::StripAsciiWhitespace(text));
          if (comment.empty()) comment = "silenced from the terminal console";
          v1::CreateSilenceRequest request;
          v1::Silence* silence = request.mutable_silence();
          *silence->add_matchers() = matcher;
          const absl::Time now = absl::Now();
          ToProto(until.value_or(now + absl::Hours(1)),
                  silence->mutable_end_time());
          silence->set_comment(comment);
          SetStatus(absl::StrCat(what, " ..."), false);
          worker_.Submit([this, request, what](grpc::ClientContext& context) {
            v1::AuditRecord record;
            grpc::Status status =
                console_stub_->CreateSilence(&context, request, &record);
            Report(what, status, record);
          });
        });
  }

  // ----- Drawing.

  void Put(int y, int x, absl::string_view text, int width, attr_t attr = 0) {
    if (y < 0 || y >= LINES || x >= COLS || width <= 0) return;
    width = std::min(width, COLS - x);
    // Not the bottom-right cell: writing there would scroll.
    if (y == LINES - 1 && x + width >= COLS) width = COLS - x - 1;
    if (width <= 0) return;
    attron(attr);
    mvaddstr(y, x, Pad(text, width).c_str());
    attroff(attr);
  }

  void Draw(absl::Time now) {
    erase();
    if (LINES < 10 || COLS < 60) {
      Put(0, 0,
          "tariff-alert console: the terminal is too small (60x10 at "
          "least)",
          COLS);
      refresh();
      return;
    }
    DrawHeader(now);
    const int status_y = LINES - 1;
    // The detail pane as tall as the selected alert needs, within 2/5 of
    // the screen; the list has the rest.
    const Lines detail = DetailLines(now);
    const int detail_height =
        std::clamp(static_cast<int>(detail.size()) + 1,
                   std::min(8, LINES * 2 / 5), std::max(LINES * 2 / 5, 4));
    const int list_top = 2;
    list_height_ = std::max(3, LINES - list_top - detail_height - 1);
    const int detail_top = list_top + list_height_;
    DrawList(list_top, list_height_);
    DrawDetail(detail_top, status_y - detail_top, detail);
    DrawStatus(status_y, now);
    if (help_) DrawHelp();
    if (prompt_) {
      const int x = static_cast<int>(
          CodePoints(absl::StrCat(prompt_->label, prompt_->text)));
      curs_set(1);
      move(status_y, std::min(x, COLS - 2));
    } else {
      curs_set(0);
    }
    refresh();
  }

  void DrawHeader(absl::Time now) {
    const attr_t title = COLOR_PAIR(kPairTitle);
    std::string who;
    if (session_) {
      who =
          absl::StrCat("as ",
                       session_->token_name().empty() ? "(no token)"
                                                      : session_->token_name(),
                       " [", absl::StrJoin(session_->roles(), ","), "]",
                       session_->can_change_state() ? "" : " read-only");
    }
    Put(0, 0,
        absl::StrCat(" tariff-alert console  ",
                     options_.connection.server_address, "  ", who),
        COLS, title | A_BOLD);
    const std::string clock =
        absl::FormatTime(" %H:%M:%S UTC ", now, absl::UTCTimeZone());
    Put(0, COLS - static_cast<int>(clock.size()), clock,
        static_cast<int>(clock.size()), title | A_BOLD);

    int x = 0;
    auto piece = [&](const std::string& text, attr_t attr) {
      Put(1, x, text, COLS - x, attr);
      x += static_cast<int>(CodePoints(text));
    };
    piece(" alerts ", 0);
    switch (alert_state_) {
      case SubscriberState::kLive:
        piece("LIVE", COLOR_PAIR(kPairGood) | A_BOLD);
        break;
      case SubscriberState::kConnecting:
        piece("CONNECTING", COLOR_PAIR(kPairWarn) | A_BOLD);
        break;
      case SubscriberState::kReconnecting:
        piece(absl::StrCat("RECONNECTING ", alert_stream_text_),
              COLOR_PAIR(kPairWarn) | A_BOLD);
        break;
      case SubscriberState::kStopped:
        piece(absl::StrCat("STOPPED ", alert_stream_text_),
              COLOR_PAIR(kPairError) | A_BOLD);
        break;
    }
    piece("  state ", 0);
    if (state_stream_stopped_) {
      piece("STOPPED", COLOR_PAIR(kPairError) | A_BOLD);
    } else if (!state_stream_error_.empty()) {
      piece("RECONNECTING", COLOR_PAIR(kPairWarn) | A_BOLD);
    } else if (have_state_) {
      piece("LIVE", COLOR_PAIR(kPairGood) | A_BOLD);
    } else {
      piece("CONNECTING", COLOR_PAIR(kPairWarn) | A_BOLD);
    }
    piece(" | ", 0);
    piece(absl::StrCat("unacknowledged ", unacknowledged_),
          unacknowledged_ > 0 ? A_BOLD : 0);
    std::string rest = absl::StrCat(
        " | alerts ", entries_.size(), " to #", newest_sequence_, " | audit #",
        view_.audit_sequence(), " | silences ", ActiveSilences(now),
        show_silenced_ ? " (shown)"
                       : absl::StrCat(" (", hidden_silenced_, " hidden)"),
        " | inhibitions ", view_.state().inhibitions_size());
    if (!filter_.empty()) absl::StrAppend(&rest, " | filter: ", filter_.text);
    if (!search_.empty()) absl::StrAppend(&rest, " | search: ", search_);
    piece(rest, 0);
  }

  int ActiveSilences(absl::Time now) const {
    int n = 0;
    for (const v1::Silence& s : view_.state().silences()) {
      n += rules::SilenceActive(s, now);
    }
    return n;
  }

  std::string AlertLine(const Row& row, int width, bool selected) const {
    const v1::Alert& a = row.entry->alert;
    std::string mark;
    if (row.marks.acknowledgement != nullptr) mark += "ACK";
    if (!row.marks.silenced_by.empty()) {
      absl::StrAppend(&mark, mark.empty() ? "" : ",", "SIL");
    }
    if (!row.marks.inhibited_by.empty()) {
      absl::StrAppend(&mark, mark.empty() ? "" : ",", "INH");
    }
    const bool sector = a.subject_kind() == v1::SUBJECT_KIND_SECTOR;
    const std::string profit =
        sector || a.operating_profit_change_pct() == 0
            ? ""
            : absl::StrFormat("%+.1f%%", a.operating_profit_change_pct());
    const int name_width = std::clamp(width - 102, 12, 40);
    return absl::StrCat(
        selected ? "  > " : "    ", Pad(row.entry->held ? "*" : "", 1), " ",
        Pad(sector ? "[sector]" : a.subject(), 13), " ",
        Pad(rules::SeverityShortName(a.severity()), 8), " ",
        PadLeft(absl::StrFormat("%+.1f", a.score_bps()), 9), " bps ",
        PadLeft(profit, 7), "  ", Pad(mark, 11), " ", Pad(a.name(), name_width),
        " ", Pad(a.sector(), 24), " ", Pad(a.country(), 3), " ",
        PadLeft(absl::StrCat("#", a.sequence()), 8));
  }

  void DrawList(int top, int height) {
    if (rows_.empty()) {
      std::string text = entries_.empty()
                             ? "  waiting for alerts ..."
                             : "  no alert matches (f: filter, /: search, "
                               "x: show silenced)";
      Put(top + 1, 0, text, COLS, A_DIM);
      return;
    }
    // Scroll so the selection is in view, with the event header above it
    // when there is room.
    if (selected_row_ < scroll_) scroll_ = std::max(0, selected_row_ - 2);
    if (selected_row_ >= scroll_ + height) scroll_ = selected_row_ - height + 1;
    scroll_ = std::clamp(scroll_, 0,
                         std::max(0, static_cast<int>(rows_.size()) - height));
    for (int i = 0; i < height; ++i) {
      const int r = scroll_ + i;
      if (r >= static_cast<int>(rows_.size())) break;
      const Row& row = rows_[r];
      const int y = top + i;
      switch (row.type) {
        case Row::kEvent: {
          int unack = 0, total = 0;
          for (int j = r + 1; j < static_cast<int>(rows_.size()) &&
                              rows_[j].type != Row::kEvent;
               ++j) {
            if (rows_[j].type != Row::kAlert) continue;
            ++total;
            unack += rows_[j].marks.acknowledgement == nullptr &&
                     rows_[j].marks.silenced_by.empty();
          }
          std::string text = absl::StrCat(
              "== ", row.event->event_id, "  ", row.event->headline, "  (",
              total, " alerts, ", unack, " unacknowledged)");
          auto p = portfolio_.find(row.event->event_id);
          if (p != portfolio_.end()) {
            absl::StrAppend(
                &text, "  portfolio ",
                FormatMoney(p->second.portfolio().impact_value()), " (",
                absl::StrFormat("%+.1f", p->second.score_bps()), " bps)");
          }
          Put(y, 0, text, COLS,
              COLOR_PAIR(kPairEvent) | A_BOLD | (unack == 0 ? A_DIM : 0));
          break;
        }
        case Row::kSector:
          Put(y, 0,
              absl::StrCat("  -- ", row.sector->sector, "  (",
                           row.sector->alerts.size(), ", sum |score| ",
                           absl::StrFormat("%.1f", row.sector->abs_score_bps),
                           " bps)"),
              COLS, COLOR_PAIR(kPairSector));
          break;
        case Row::kAlert: {
          attr_t attr = COLOR_PAIR(SeverityPair(row.entry->alert.severity()));
          if (row.entry->alert.severity() == v1::SEVERITY_CRITICAL) {
            attr |= A_BOLD;
          }
          const bool quiet = row.marks.acknowledgement != nullptr ||
                             !row.marks.silenced_by.empty();
          if (quiet) attr = A_DIM;
          if (r == selected_row_) attr = A_REVERSE | A_BOLD;
          Put(y, 0, AlertLine(row, COLS, r == selected_row_), COLS, attr);
          break;
        }
      }
    }
    if (rows_.size() > static_cast<size_t>(height)) {
      const std::string more =
          absl::StrCat(" ", scroll_ + 1, "-",
                       std::min<size_t>(scroll_ + height, rows_.size()), "/",
                       rows_.size(), " ");
      Put(top + height - 1, COLS - static_cast<int>(more.size()), more,
          static_cast<int>(more.size()), A_DIM);
    }
  }

  using Lines = std::vector<std::pair<std::string, attr_t>>;

  void DrawDetail(int top, int height, const Lines& lines) {
    if (height <= 1) return;
    mvhline(top, 0, ACS_HLINE, COLS);
    for (int i = 0; i + 1 < height && i < static_cast<int>(lines.size()); ++i) {
      Put(top + 1 + i, 1, lines[i].first, COLS - 2, lines[i].second);
    }
  }

  // The selected alert: what it is, its marks, the explanation, the
  // contributions with their inputs, the stamps.
  Lines DetailLines(absl::Time now) const {
    Lines lines;
    const Row* row = SelectedRow();
    if (row == nullptr) {
      lines.push_back({"no alert selected", A_DIM});
      return lines;
    }
    const v1::Alert& a = row->entry->alert;
    const bool sector = a.subject_kind() == v1::SUBJECT_KIND_SECTOR;
    lines.push_back(
        {absl::StrCat(sector ? absl::StrCat("sector ", a.subject())
                             : absl::StrCat(a.subject(), "  ", a.name()),
                      "  ", a.sector(), a.country().empty() ? "" : "  ",
                      a.country(), "   ",
                      absl::StrFormat("%+.1f bps", a.score_bps()), "  ",
                      rules::SeverityShortName(a.severity()),
                      sector || a.operating_profit_change_pct() == 0
                          ? ""
                          : absl::StrFormat("   operating profit %+.1f%%",
                                            a.operating_profit_change_pct())),
         COLOR_PAIR(SeverityPair(a.severity())) | A_BOLD});
    // Marks.
    if (const v1::Acknowledgement* ack = row->marks.acknowledgement) {
      lines.push_back(
          {absl::StrCat("acknowledged",
                        ack->alert_id().empty() ? " (event)" : "", " by ",
                        ack->actor(), " at ", ShortTime(FromProto(ack->time())),
                        ack->comment().empty() ? "" : ": ", ack->comment()),
           COLOR_PAIR(kPairMark)});
    }
    if (!row->marks.silenced_by.empty()) {
      std::string text = absl::StrCat("silenced by ", row->marks.silenced_by);
      if (const v1::Silence* s = view_.SilencedBy(row->entry->fields, now)) {
        absl::StrAppend(&text, " until ", ShortTime(FromProto(s->end_time())),
                        " (", s->created_by(), ": ", s->comment(), ")");
      }
      lines.push_back({text, COLOR_PAIR(kPairSector)});
    }
    if (!row->marks.inhibited_by.empty()) {
      std::string text =
          absl::StrCat("inhibited by rule ", row->marks.inhibited_by);
      for (const v1::Inhibition& i : view_.state().inhibitions()) {
        if (i.rule() == row->marks.inhibited_by &&
            (i.measure_id().empty() || i.measure_id() == a.measure_id())) {
          absl::StrAppend(&text, ": ", i.reason());
          break;
        }
      }
      lines.push_back({text, COLOR_PAIR(kPairWarn)});
    }
    for (std::string& l : Wrap(a.explanation(), COLS - 4)) {
      lines.push_back({std::move(l), 0});
    }
    if (a.contributions_size() > 0) {
      lines.push_back({"contributions:", A_BOLD});
    }
    for (const v1::Contribution& c : a.contributions()) {
      std::string inputs;
      auto input = [&inputs](absl::string_view name, double v,
                             const std::string& text) {
        if (v != 0) absl::StrAppend(&inputs, "  ", name, " ", text);
      };
      input("rate change", c.delta_pct(),
            absl::StrFormat("%+.1fpp", c.delta_pct()));
      input("exposure", c.exposure_share(),
            absl::StrFormat("%.2f", c.exposure_share()));
      input("revenue", c.revenue_share(),
            absl::StrFormat("%.2f", c.revenue_share()));
      input("cogs", c.cogs_ratio(), absl::StrFormat("%.2f", c.cogs_ratio()));
      input("sector factor", c.sector_factor(),
            absl::StrFormat("%.2f", c.sector_factor()));
      input("partner weight", c.partner_weight(),
            absl::StrFormat("%.2f", c.partner_weight()));
      input("market factor", c.market_factor(),
            absl::StrFormat("%.2f", c.market_factor()));
      input("probability", c.probability(),
            absl::StrFormat("%.2f", c.probability()));
      if (!c.customer().empty()) {
        absl::StrAppend(
            &inputs, "  customer ", c.customer(),
            absl::StrFormat(" (%+.1f bps)", c.customer_score_bps()));
      }
      lines.push_back(
          {absl::StrCat(
               "  ", Pad(ChannelText(c.channel()), 12), " ",
               PadLeft(absl::StrFormat("%+.1f bps", c.bps()), 12), "  ",
               Pad(c.country(), 3), " ",
               Pad(c.product_code().empty() ? "*" : c.product_code(), 8),
               inputs),
           0});
    }
    lines.push_back(
        {absl::StrCat("model ", a.model_version(), "   exposure version ",
                      a.exposure_version(), "   book revision ",
                      a.book_revision(), "   sequence ", a.sequence(),
                      "   created ", ShortTime(FromProto(a.created_time())),
                      "   ", a.alert_id()),
         A_DIM});
    return lines;
  }

  void DrawStatus(int y, absl::Time now) {
    if (prompt_) {
      const std::string text = absl::StrCat(prompt_->label, prompt_->text);
      Put(y, 0, text, COLS, A_BOLD);
      return;
    }
    if (!status_.empty() &&
        (status_error_ || now - status_time_ < absl::Seconds(10))) {
      Put(y, 0, absl::StrCat(" ", status_), COLS,
          status_error_ ? COLOR_PAIR(kPairError) | A_BOLD
                        : COLOR_PAIR(kPairGood));
      return;
    }
    Put(y, 0,
        " j/k move  a ack  A ack event  u un-ack  s silence 1h  S silence "
        "until  / search  f filter  x show silenced  ? help  q quit",
        COLS, A_DIM);
  }

  void DrawHelp() {
    static const char* const kLines[] = {
        "tariff-alert console: keys",
        "",
        "  up/down, j/k     select an alert",
        "  PgUp/PgDn, space page; g/G first/last (Home/End)",
        "  a                acknowledge the selected alert",
        "  A                acknowledge every alert of its event",
        "  u                take the acknowledgement back",
        "  s                silence alerts like it for 1 h (its ticker, or its",
        "                   sector for a sector alert); asks for a comment",
        "  S                silence until a time: HH:MM (UTC), RFC 3339 or 90m",
        "  /                search ticker, name or sector (empty: all)",
        "  f                filter: ticker=AAPL,BBY sector=Materials",
        "                   country=CN severity=high; _ for a space in a",
        "                   sector (Information_Technology); empty: none",
        "  x                show or hide silenced alerts",
        "  ^L               redraw;  q  quit",
        "",
        "  marks: ACK acknowledged, SIL silenced, INH inhibited; * held",
        "  (--holdings); dim: acknowledged or silenced",
        "",
        "  any key closes this help",
    };
    const int h = static_cast<int>(std::size(kLines)) + 2;
    const int w = 76;
    const int y0 = std::max(0, (LINES - h) / 2);
    const int x0 = std::max(0, (COLS - w) / 2);
    for (int i = 0; i < h; ++i) {
      const std::string text =
          i == 0 || i == h - 1 ? std::string() : std::string(kLines[i - 1]);
      Put(y0 + i, x0, absl::StrCat(" ", text), w, A_REVERSE);
    }
  }

  ConsoleOptions options_;
  int wake_read_fd_ = -1;
  std::unique_ptr<EventQueue> queue_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ConsoleService::Stub> console_stub_;
  Worker worker_;
  std::unique_ptr<StateWatcher> watcher_;
  std::unique_ptr<QueueingHandler> handler_;
  std::unique_ptr<AlertSubscriber> subscriber_;

  // UI thread only.
  bool quit_ = false;
  bool dirty_ = true;
  absl::flat_hash_set<std::string> held_;
  std::vector<std::unique_ptr<Entry>> entries_;
  absl::flat_hash_map<std::string, v1::Alert> portfolio_;  // by event
  rules::StateView view_;
  bool have_state_ = false;
  std::optional<v1::Session> session_;
  SubscriberState alert_state_ = SubscriberState::kConnecting;
  // The state before the last kConnecting.
  SubscriberState alert_state_was_ = SubscriberState::kConnecting;
  std::string alert_stream_text_;
  std::string state_stream_error_;
  bool state_stream_stopped_ = false;
  uint64_t newest_sequence_ = 0;
  std::string status_;
  bool status_error_ = false;
  absl::Time status_time_;
  LocalFilter filter_;
  std::string search_;
  bool show_silenced_ = false;
  bool help_ = false;
  std::optional<Prompt> prompt_;

  std::vector<rules::EventGroup> groups_;
  std::vector<Row> rows_;
  int selected_row_ = 0;
  bool follow_newest_ = true;
  std::string selected_id_;
  int scroll_ = 0;
  int list_height_ = 10;
  int unacknowledged_ = 0;
  int hidden_silenced_ = 0;
};

class ConsoleCommand : public Command {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "console",
        "The risk console in the terminal: live alerts grouped by event and "
        "sector, their explanations, acknowledgement and silences.");
    connection_flags_.Add(c);
    filter_flags_.Add(c);
    c->add_option("--holdings", holdings_,
                  "your positions, TICKER=VALUE,...: held tickers are marked "
                  "and each event shows its portfolio impact")
        ->delimiter(',');
    c->add_option("--history", history_,
                  "start with up to this many of the newest logged alerts")
        ->capture_default_str();
    c->add_option("--heartbeat-timeout-seconds", heartbeat_timeout_seconds_,
                  "reconnect when nothing came for this long (default 15)")
        ->check(CLI::PositiveNumber);
    *sub = c;
  }

  int Run() override {
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
      std::fprintf(stderr,
                   "console: needs a terminal (stdin and stdout are not "
                   "both a tty); for a stream of lines use `tariff-alert "
                   "watch`\n");
      return kExitUsage;
    }
    ConsoleOptions options;
    auto filter = filter_flags_.Resolve();
    if (!filter.ok()) {
      std::fprintf(stderr, "console: %s\n",
                   std::string(filter.status().message()).c_str());
      return kExitUsage;
    }
    options.filter = *std::move(filter);
    auto holdings = ParseHoldings(holdings_);
    if (!holdings.ok()) {
      std::fprintf(stderr, "console: %s\n",
                   std::string(holdings.status().message()).c_str());
      return kExitUsage;
    }
    options.holdings = *std::move(holdings);
    auto connection = connection_flags_.Resolve();
    if (!connection.ok()) {
      std::fprintf(stderr, "console: %s\n",
                   std::string(connection.status().message()).c_str());
      return kExitUsage;
    }
    if (auto credentials = MakeChannelCredentials(*connection);
        !credentials.ok()) {
      std::fprintf(stderr, "console: %s\n",
                   std::string(credentials.status().message()).c_str());
      return kExitUsage;
    }
    options.connection = *std::move(connection);
    options.history = history_;
    options.heartbeat_timeout_seconds = heartbeat_timeout_seconds_;
    Console console(std::move(options));
    return console.Run();
  }

 private:
  ConnectionFlags connection_flags_;
  AlertFilterFlags filter_flags_;
  std::vector<std::string> holdings_;
  uint64_t history_ = 2000;
  std::optional<double> heartbeat_timeout_seconds_;
};

}  // namespace

std::unique_ptr<Command> AddConsoleCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<ConsoleCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
