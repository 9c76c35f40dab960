// tariff-alertd: parses flags, starts the server, waits for SIGTERM/SIGINT
// (and re-reads the tokens file on SIGHUP).

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/synchronization/mutex.h"
#include "server/common/log.h"
#include "server/common/stop_signals.h"
#include "server/config/config_file.h"
#include "server/console/console_rules.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_credentials.h"
#include "server/redis/redis_ha_flags.h"
#include "server/service/server.h"

int main(int argc, char** argv) {
  using namespace tariffalert;
  // Before any thread (gRPC's included) starts; the main thread takes them
  // with sigwait.
  const sigset_t stop_signals = BlockStopSignals({SIGHUP});

  ServerOptions options;
  std::string redis_address = "127.0.0.1:6379";
  std::string scoring_config;
  std::string port_file;
  std::string log_level = "info";
  int poll_ms = 200;
  std::string book_clock = "wall";
  int pause_check_ms = 1000;
  double dedupe_window_hours = 24 * 7;
  double retention_hours = 24 * 7;
  double heartbeat_seconds = 5;
  size_t log_capacity = options.hub.log_capacity;

  CLI::App app{
      "tariff-alertd: scores tariff events against the exposure table in Redis "
      "and streams alerts over gRPC.\nThe Redis password, if any, is read from "
      "--redis-password-file or the environment variable "
      "TARIFF_ALERT_REDIS_PASSWORD; never from a flag."};
  app.add_option("--listen", options.listen_address,
                 "host:port to serve gRPC on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--health-listen", options.health_listen_address,
                 "host:port of a plaintext port serving only the gRPC health "
                 "service (for probes without a client certificate, e.g. "
                 "Kubernetes' grpc probes); default: none");
  double drain_seconds = 5;
  app.add_option("--drain-seconds", drain_seconds,
                 "on SIGTERM: health NOT_SERVING, no new calls, streams told "
                 "to resume on another replica, calls in flight given this "
                 "long (docs/operations.md)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--redis", redis_address, "Redis host:port")
      ->capture_default_str();
  app.add_option("--redis-prefix", options.redis.key_prefix,
                 "prefix of every Redis key (docs/redis.md)")
      ->capture_default_str();
  app.add_option("--redis-db", options.redis.db, "Redis database number")
      ->capture_default_str();
  std::string redis_password_file;
  app.add_option("--redis-user", options.redis.user,
                 "Redis ACL user (AUTH user password); default: "
                 "TARIFF_ALERT_REDIS_USER, else the default user");
  app.add_option("--redis-password-file", redis_password_file,
                 "file whose first line is the Redis password (mode 600); "
                 "default: TARIFF_ALERT_REDIS_PASSWORD");
  RedisHaFlags redis_ha;
  AddRedisHaFlags(app, &redis_ha);
  app.add_option("--scoring-config", scoring_config,
                 "text-format ScoringConfig; default: the built-in "
                 "config/scoring.textproto");
  std::string console_config;
  app.add_option("--console-config", console_config,
                 "text-format ConsoleConfig (inhibition rules, audit "
                 "retention); default: the built-in config/console.textproto");
  app.add_option("--exposure-poll-ms", poll_ms,
                 "how often to check Redis for a new exposure version")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  app.add_option("--book-clock", book_clock,
                 "when pauses lapse: 'wall' (the real time) or 'events' (the "
                 "newest event time published, for replaying history into a "
                 "live server)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "events"}));
  app.add_option("--pause-check-ms", pause_check_ms,
                 "how often to look for lapsed pauses (--book-clock wall)")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  app.add_option("--log-retention", options.alert_log.retention,
                 "alerts the shared log in Redis keeps (about)")
      ->capture_default_str()
      ->check(CLI::Range(1000, 1000000000));
  app.add_option("--log-retention-hours", retention_hours,
                 "and no alert older than this (checked every minute)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 24.0 * 3660));
  app.add_option("--dedupe-window-hours", dedupe_window_hours,
                 "how long a published event_id is remembered (idempotent "
                 "publish across replicas and restarts)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 24.0 * 366));
  app.add_option("--heartbeat-seconds", heartbeat_seconds,
                 "interval of stream heartbeats")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--queue-max-alerts", options.queue.max_alerts,
                 "alerts a subscriber may have queued before it is cut off")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--queue-max-bytes", options.queue.max_bytes,
                 "bytes a subscriber may have queued before it is cut off")
      ->capture_default_str()
      ->check(CLI::Range(1024, 1 << 30));
  app.add_option("--log-capacity", log_capacity,
                 "alerts kept in memory for resume")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  app.add_option("--write-threads", options.write_threads,
                 "threads that run the alert streams, a completion queue "
                 "each (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--max-filter-entries", options.limits.max_filter_entries,
                 "entries a stream's or ListAlerts' filter may list in "
                 "tickers, sectors and countries each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-holdings", options.limits.max_holdings,
                 "holdings a stream or ScoreScenario may carry (at most "
                 "10000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  // Transport security and credentials (docs/security.md).
  SecurityOptions& security = options.security;
  app.add_option("--tls-cert", security.tls_cert_file,
                 "PEM certificate chain of the gRPC port");
  app.add_option("--tls-key", security.tls_key_file,
                 "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", security.tls_client_ca_file,
                 "PEM CA bundle: clients must present a certificate it "
                 "signed (mutual TLS)");
  app.add_option("--tls-reload-seconds", security.tls_reload_seconds,
                 "how often the three PEM files are re-read")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_flag("--insecure", security.insecure,
               "serve plaintext (only on a loopback address)");
  app.add_flag("--insecure-any-address", security.insecure_any_address,
               "with --insecure: allow plaintext on a non-loopback address");
  app.add_option("--tokens-file", security.tokens_file,
                 "bearer tokens with roles: 'name roles sha256' per line "
                 "(tariff-alert token new); re-read on change and on SIGHUP");
  std::string reflection = "admin";
  app.add_option("--reflection", reflection,
                 "'admin': reflection needs an admin token; 'open': anyone")
      ->capture_default_str()
      ->check(CLI::IsMember({"admin", "open"}));
  app.add_option("--max-message-bytes",
                 options.limits.max_receive_message_bytes,
                 "largest request accepted (RESOURCE_EXHAUSTED above)")
      ->capture_default_str()
      ->check(CLI::Range(4096, 64 << 20));
  app.add_option("--max-streams", options.limits.max_streams,
                 "open SubscribeAlerts streams in all")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-streams-per-token",
                 options.limits.max_streams_per_token,
                 "open SubscribeAlerts streams per token (per client host "
                 "without tokens)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--port-file", port_file,
                 "write the bound port to this file once serving");
  // Prometheus (docs/operations.md, "Metrics").
  app.add_option("--metrics-listen", options.metrics.listen_address,
                 "IPv4 host:port to serve Prometheus /metrics on (plain "
                 "HTTP, a loopback address unless --metrics-any-address; "
                 "port 0 picks a free port); default: no metrics endpoint");
  app.add_flag("--metrics-any-address", options.metrics.any_address,
               "allow --metrics-listen on a non-loopback address");
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->capture_default_str();
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "stderr lines: 'text' or 'json' (one object per line: time, "
                 "level, message, source and fields; docs/operations.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  std::string config_path;
  app.add_option("--config", config_path,
                 "YAML file of these flags, the long names without dashes as "
                 "keys (deploy/config/tariff-alertd.yaml); flags on the "
                 "command line win");
  bool print_config = false;
  app.add_flag("--print-config", print_config,
               "print the effective configuration as YAML (secrets as "
               "set/unset) and exit");
  bool access_log = false;
  app.add_flag("--access-log", access_log,
               "log every finished RPC and stream (method, code, duration, "
               "peer, token name) at info rather than debug");
  ConfigFile config_file;
  try {
    if (absl::Status s = config_file.Parse(app, argc, argv, "--config");
        !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 2;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (print_config) {
    std::fputs(ConfigFile::Print(app, {"config", "print-config"}).c_str(),
               stdout);
    return 0;
  }
  security.reflection_open = reflection == "open";
#ifdef NDEBUG
  // Abseil's lock-order graph costs every Lock on the fan-out path; debug
  // builds and the tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif

  if (absl::Status s =
          ApplyLogFlags(log_level, log_format, config_file.Where("log-level"));
      !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (access_log) options.access_log_level = LogLevel::kInfo;
  if (absl::Status s = ParseRedisAddress(redis_address, &options.redis);
      !s.ok()) {
    std::fprintf(stderr, "%s--redis: %s\n", config_file.Where("redis").c_str(),
                 std::string(s.message()).c_str());
    return 2;
  }
  if (absl::Status s =
          LoadRedisCredentials(redis_password_file, &options.redis);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (absl::Status s = ApplyRedisHaFlags(redis_ha, &options.redis); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 2;
  }
  // A config file given by `flag`: read, parsed with `parse`, stored with
  // `take`; false (and the error printed, naming the file) otherwise.
  auto load_config = [](const char* flag, const std::string& path, auto parse,
                        auto take) {
    auto text = ReadFileToString(path);
    if (!text.ok()) {
      std::fprintf(stderr, "%s: %s\n", flag,
                   std::string(text.status().message()).c_str());
      return false;
    }
    auto parsed = parse(*text, path);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(parsed.status().message()).c_str());
      return false;
    }
    take(*std::move(parsed));
    return true;
  };
  if (!scoring_config.empty() &&
      !load_config("--scoring-config", scoring_config, ScoringParams::Parse,
                   [&](ScoringParams p) { options.scoring = std::move(p); })) {
    return 2;
  }
  if (!console_config.empty() &&
      !load_config("--console-config", console_config,
                   console::ParseConsoleConfig,
                   [&](config::v1::ConsoleConfig c) {
                     options.console = std::move(c);
                   })) {
    return 2;
  }
  options.exposure_poll_interval = absl::Milliseconds(poll_ms);
  options.publisher.book_clock =
      book_clock == "events" ? BookClock::kEvents : BookClock::kWall;
  options.pause_check_interval = absl::Milliseconds(pause_check_ms);
  options.alert_log.dedupe_window = absl::Hours(dedupe_window_hours);
  options.alert_log.retention_age = absl::Hours(retention_hours);
  options.hub.heartbeat_interval = absl::Seconds(heartbeat_seconds);
  options.hub.log_capacity = log_capacity;

  auto server = TariffAlertServer::Start(std::move(options));
  if (!server.ok()) {
    TA_LOG(ERROR) << "cannot start: " << server.status();
    return 1;
  }
  if (!port_file.empty()) {
    // Write then rename, so a reader never sees a half-written port.
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    if (std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      TA_LOG(ERROR) << "cannot write --port-file " << port_file;
      return 1;
    }
  }
  int signal = 0;
  while (sigwait(&stop_signals, &signal) == 0 && signal == SIGHUP) {
    // SIGHUP: re-read the tokens file now (certificates are re-read by
    // gRPC every --tls-reload-seconds).
    if (absl::Status s = (*server)->ReloadCredentials(); !s.ok()) {
      TA_LOG(ERROR) << "SIGHUP: tokens file not taken, the previous tokens "
                       "stay: "
                    << s.message();
    }
  }
  TA_LOG(INFO) << "signal " << signal << ": shutting down, draining for at "
               << "most " << drain_seconds << " s";
  (*server)->Shutdown(absl::Seconds(drain_seconds));
  return 0;
}
