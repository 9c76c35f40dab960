#ifndef TARIFF_ALERT_SERVER_SERVICE_SERVER_H_
#define TARIFF_ALERT_SERVER_SERVICE_SERVER_H_

// Wires the parts into a running gRPC server: Redis-backed exposure watcher,
// publisher, fan-out hub, the two services, health and reflection. main.cc
// only turns flags into ServerOptions; tests construct the server directly on
// 127.0.0.1:0.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/common/work_pool.h"
#include "server/exposure/exposure_watcher.h"
#include "server/fanout/alert_hub.h"
#include "server/fanout/subscriber_queue.h"
#include "server/ingest/publisher.h"
#include "server/metrics/metrics_exposer.h"
#include "server/redis/redis_connection.h"
#include "server/redis/redis_event_log.h"
#include "server/scoring/scoring_params.h"
#include "server/security/transport.h"
#include "tariffalert/config/v1/console_config.pb.h"

namespace tariffalert {

class TariffEventServiceImpl;
class AlertServiceImpl;
class RedisExposureStore;
class RedisEventLog;
class TariffBookServiceImpl;
class LogTailer;
class TokenStore;
class TokenAuthProcessor;
class ConsoleKeeper;
class ConsoleServiceImpl;

// Limits that keep one client from hurting the others (docs/security.md).
// A call over a limit gets RESOURCE_EXHAUSTED or INVALID_ARGUMENT naming it.
struct ServerLimits {
  // Largest request message the server reads; larger ones are refused with
  // RESOURCE_EXHAUSTED before they are parsed.
  int max_receive_message_bytes = 1 << 20;
  // Open SubscribeAlerts streams, in all and per token (per peer address
  // when the server runs without tokens).
  int max_streams = 10000;
  int max_streams_per_token = 200;
  // Entries in a stream's or ListAlerts' filter (tickers, sectors,
  // countries each) and holdings on a stream or in ScoreScenario.
  int max_filter_entries = 5000;
  int max_holdings = 5000;
};

struct ServerOptions {
  // host:port; port 0 picks a free one (see port()).
  std::string listen_address = "127.0.0.1:50051";
  // A second, plaintext port serving only grpc.health.v1.Health, with the
  // same statuses: for probes that cannot present a client certificate
  // (Kubernetes' native gRPC probes). Empty: none.
  std::string health_listen_address;
  RedisOptions redis;
  absl::Duration exposure_poll_interval = absl::Milliseconds(200);
  HubOptions hub;
  QueueLimits queue;
  // Threads that run the SubscribeAlerts streams, a completion queue each;
  // 0: one per core.
  size_t write_threads = 0;
  PublisherOptions publisher;
  // The shared alert log in Redis: retention, dedupe window.
  AlertLogOptions alert_log;
  // How often lapsed pauses are looked for (BookClock::kWall).
  absl::Duration pause_check_interval = absl::Seconds(1);
  ScoringParams scoring = ScoringParams::Default();
  ServerLimits limits;
  // TLS, tokens, reflection. Start refuses to serve plaintext unless
  // security.insecure is set (and then only on loopback).
  SecurityOptions security;
  // The risk console's rules (inhibitions) and retention
  // (config/console.textproto when not set).
  std::optional<config::v1::ConsoleConfig> console;
  // Prometheus /metrics (plain HTTP; loopback unless metrics.any_address).
  // No endpoint when metrics.listen_address is empty.
  MetricsOptions metrics;
  // The access log (access_log.h): a line per finished call and per stream
  // start and end at this level (no interceptor when the level is hidden).
  LogLevel access_log_level = LogLevel::kDebug;
};

// The health service names whose status the server sets.
inline constexpr char kEventServiceName[] = "tariffalert.v1.TariffEventService";
inline constexpr char kAlertServiceName[] = "tariffalert.v1.AlertService";
inline constexpr char kBookServiceName[] = "tariffalert.v1.TariffBookService";
inline constexpr char kConsoleServiceName[] = "tariffalert.v1.ConsoleService";

class TariffAlertServer {
 public:
  // Fails if Redis cannot be reached or the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<TariffAlertServer>> Start(
      ServerOptions options, const Clock& clock = RealClock());
  ~TariffAlertServer();

  int port() const { return port_; }
  // The --health-listen port; 0 without one.
  int health_port() const { return health_port_; }
  // The /metrics port; 0 without options.metrics.listen_address.
  int metrics_port() const {
    return metrics_ == nullptr ? 0 : metrics_->port();
  }
  // Health NOT_SERVING, streams end with UNAVAILABLE (clients resume
  // elsewhere), in-flight calls get until `grace`. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

  ExposureWatcher& exposure() { return *watcher_; }
  AlertHub& hub() { return *hub_; }
  // Stops reading the shared alert log, as Shutdown does first: the hub then
  // stays behind the other replicas' alerts. For tests of a lagging replica.
  void StopFollowingLog();
  // Re-reads the tokens file now (SIGHUP); it is also re-read within
  // security.tokens_reload_interval of a change. A bad file keeps the
  // previous tokens. Certificates are re-read by gRPC every
  // security.tls_reload_seconds.
  absl::Status ReloadCredentials();

 private:
  explicit TariffAlertServer(ServerOptions options);

  ServerOptions options_;
  // First made, last gone: /metrics answers while the rest starts and stops.
  std::unique_ptr<MetricsExposer> metrics_;
  std::unique_ptr<RedisExposureStore> store_;
  std::unique_ptr<ExposureWatcher> watcher_;
  std::unique_ptr<AlertHub> hub_;
  // The hub's queues as /metrics reads them; removed before the hub goes.
  int queue_depth_source_ = 0;
  std::unique_ptr<RedisEventLog> event_log_;
  std::unique_ptr<LogTailer> tailer_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<TariffBookServiceImpl> book_service_;
  // Stops the pause clock and the tokens watcher.
  absl::Notification background_stop_;
  std::thread pause_clock_;
  std::unique_ptr<TokenStore> tokens_;
  std::shared_ptr<TokenAuthProcessor> auth_processor_;
  std::thread tokens_watcher_;
  std::unique_ptr<TariffEventServiceImpl> event_service_;
  std::unique_ptr<AlertServiceImpl> alert_service_;
  // Shared with the streams' filters that respect silences.
  std::shared_ptr<ConsoleKeeper> console_;
  std::unique_ptr<ConsoleServiceImpl> console_service_;
  // The threads that publish, and those that serve the other unary calls
  // that may block (server/service/unary_call.h): stopped once server_ has
  // no call left, before what their tasks use goes.
  std::unique_ptr<WorkPool> publishes_;
  std::unique_ptr<WorkPool> calls_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_SERVER_H_
