#include "server/service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/console/console_rules.h"
#include "server/metrics/metrics.h"
#include "server/redis/redis_event_log.h"
#include "server/redis/redis_exposure_store.h"
#include "server/security/auth_processor.h"
#include "server/security/tokens.h"
#include "server/service/access_log.h"
#include "server/service/book_service.h"
#include "server/service/console_service.h"
#include "server/service/log_tailer.h"
#include "server/service/services.h"
#include "server/tariff_book/book_codec.h"

namespace tariffalert {
namespace {

// The health statuses of the gRPC port and of the --health-listen port,
// kept alike.
struct HealthStatuses {
  grpc::HealthCheckServiceInterface* main;
  grpc::HealthCheckServiceInterface* extra;  // null without --health-listen
  void Set(const char* service, bool serving) const {
    main->SetServingStatus(service, serving);
    if (extra != nullptr) extra->SetServingStatus(service, serving);
  }
};

// Clients may ping every 10 s or more; the default minimum of 5 minutes
// would answer a client's 20 s keepalive with GOAWAY too_many_pings.
constexpr int kMinClientPingIntervalMs = 10000;

// Publishes run on their own threads (TariffEventServiceImpl): each waits
// for its commit's round trip while the next ones are planned and joined to
// the same commit, so a few more threads than cores. The queue bound is what
// a burst may hold waiting (about 1 KiB a request) before UNAVAILABLE.
constexpr size_t kPublishThreads = 8;
constexpr size_t kPublishesQueued = 10000;
// The other unary calls that may block: GetEvent, GetTariff, ScoreScenario,
// the console's changes; and the hub's look-up of the log's newest sequence
// for a stream resuming ahead of it.
constexpr size_t kCallThreads = 4;
constexpr size_t kCallsQueued = 1000;

// 64 random bits in hex: a process's tag on the alert log's entries.
std::string WriterTag() {
  std::random_device random;
  const uint64_t tag = (static_cast<uint64_t>(random()) << 32) ^ random();
  return absl::StrCat(absl::Hex(tag, absl::kZeroPad16));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TariffAlertServer>> TariffAlertServer::Start(
    ServerOptions options, const Clock& clock) {
  std::unique_ptr<TariffAlertServer> s(
      new TariffAlertServer(std::move(options)));
  const ServerOptions& o = s->options_;
  // Credentials first: a bad certificate or tokens file is a start-up
  // error before anything touches Redis.
  TA_RETURN_IF_ERROR(CheckSecurityOptions(o.security, o.listen_address));
  if (!o.metrics.listen_address.empty()) {
    TA_ASSIGN_OR_RETURN(s->metrics_, MetricsExposer::Start(o.metrics));
    TA_LOG(INFO) << "metrics on http://"
                 << o.metrics.listen_address.substr(
                        0, o.metrics.listen_address.rfind(':'))
                 << ":" << s->metrics_->port() << "/metrics";
  }
  if (!o.security.tokens_file.empty()) {
    TA_ASSIGN_OR_RETURN(s->tokens_, TokenStore::Open(o.security.tokens_file));
    s->auth_processor_ = std::make_shared<TokenAuthProcessor>(
        s->tokens_.get(), o.security.reflection_open);
  }
  TA_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      MakeServerCredentials(o.security, o.listen_address, s->auth_processor_));

  s->store_ = std::make_unique<RedisExposureStore>(
      std::make_unique<RedisConnection>(o.redis));
  s->watcher_ = std::make_unique<ExposureWatcher>(s->store_.get(),
                                                  o.exposure_poll_interval);
  absl::Status loaded = s->watcher_->Refresh();
  if (absl::IsUnavailable(loaded) || absl::IsPermissionDenied(loaded)) {
    return loaded;
  }
  if (s->watcher_->Current()->version().empty()) {
    TA_LOG(WARNING) << "no exposure table loaded yet (tariff-alert load); "
                       "events will produce no alerts until one is";
  }
  s->watcher_->Start();

  // This process's tag on the log entries it writes (its tailer skips
  // them): drawn at each start, so a restarted server reads its old
  // entries back like any other replica's.
  AlertLogOptions alert_log = o.alert_log;
  if (alert_log.writer.empty()) alert_log.writer = WriterTag();
  s->event_log_ = std::make_unique<RedisEventLog>(o.redis, alert_log);
  s->publishes_ =
      std::make_unique<WorkPool>("publish", kPublishThreads, kPublishesQueued);
  s->calls_ = std::make_unique<WorkPool>("call", kCallThreads, kCallsQueued);
  HubOptions hub_options = o.hub;
  RedisEventLog* log = s->event_log_.get();
  hub_options.log_horizon = [log] { return log->LastSequence(); };
  hub_options.blocking = s->calls_.get();
  s->hub_ = std::make_unique<AlertHub>(hub_options, clock);
  s->queue_depth_source_ = metrics::AddQueueDepthSource([hub = s->hub_.get()] {
    const AlertHub::QueueUse use = hub->QueuesNow();
    return metrics::QueueDepth{use.fullest.alerts, use.fullest.bytes,
                               use.total.alerts, use.total.bytes};
  });
  ExposureWatcher* watcher = s->watcher_.get();
  s->publisher_ = std::make_unique<Publisher>(
      o.publisher, [watcher] { return watcher->Current(); },
      s->options_.scoring, s->hub_.get(), clock, s->event_log_.get());
  TA_RETURN_IF_ERROR(s->publisher_->Init());
  // Every replica's alerts, from the shared log, before serving any stream.
  s->tailer_ = std::make_unique<LogTailer>(o.redis, alert_log, s->hub_.get(),
                                           o.hub.log_capacity, clock);
  TA_RETURN_IF_ERROR(s->tailer_->Load(absl::Seconds(30)));
  s->book_service_ = std::make_unique<TariffBookServiceImpl>(
      s->publisher_.get(), s->calls_.get(), o.limits);
  s->event_service_ = std::make_unique<TariffEventServiceImpl>(
      s->publisher_.get(), s->hub_.get(), s->publishes_.get(), s->calls_.get());
  s->alert_service_ = std::make_unique<AlertServiceImpl>(
      s->hub_.get(), o.queue,
      PortfolioContext{&s->options_.scoring,
                       [watcher] { return watcher->Current(); }},
      o.write_threads, o.limits);
  s->alert_service_->set_token_store(s->tokens_.get());

  // The console's shared state, before serving: a stream that respects
  // silences must see them from its first alert.
  {
    ReplicaProbe probe;
    Publisher* publisher = s->publisher_.get();
    AlertHub* hub = s->hub_.get();
    RedisEventLog* log_store = s->event_log_.get();
    probe.exposure_version = [watcher] {
      return watcher->Current()->version();
    };
    probe.book = [publisher]() -> absl::StatusOr<v1::BookState> {
      auto book = publisher->CurrentBook();
      if (!book.ok()) return book.status();
      return BookToProto(*book);
    };
    probe.newest_sequence = [hub] { return hub->newest_sequence(); };
    probe.log_newest_sequence = [log_store] {
      return log_store->LastSequence();
    };
    const config::v1::ConsoleConfig& config =
        o.console.has_value() ? *o.console : console::DefaultConsoleConfig();
    s->console_ = std::make_shared<ConsoleKeeper>(
        std::make_unique<RedisConsoleStore>(o.redis, config.audit_retention()),
        config, std::move(probe));
    TA_RETURN_IF_ERROR(s->console_->Start());
    s->alert_service_->set_alert_muter(s->console_);
  }

  // Reflection clients can list the health service only if its descriptor is
  // linked in; referencing it keeps the linker from dropping it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen_address, credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(o.limits.max_receive_message_bytes);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      kMinClientPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(s->event_service_.get());
  s->alert_service_->AddTo(&builder);
  builder.RegisterService(s->book_service_.get());
  s->console_service_ = std::make_unique<ConsoleServiceImpl>(
      s->console_.get(), s->tokens_.get(), s->calls_.get());
  builder.RegisterService(s->console_service_.get());
  if (o.access_log_level >= MinLogLevel()) {
    builder.experimental().SetInterceptorCreators(
        AccessLogInterceptors(o.access_log_level));
  }
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", o.listen_address));
  }
  s->alert_service_->Start();
  {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    s->console_->set_replica_id(
        absl::StrCat(host[0] != '\0' ? host : "localhost", ":", s->port_));
  }
  if (!o.health_listen_address.empty()) {
    // Health only, in plaintext: nothing else is registered on it.
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(o.health_listen_address,
                                    grpc::InsecureServerCredentials(),
                                    &s->health_port_);
    s->health_server_ = health_builder.BuildAndStart();
    if (s->health_server_ == nullptr || s->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat(
          "--health-listen: cannot listen on ", o.health_listen_address));
    }
    TA_LOG(INFO) << "health (plaintext, grpc.health.v1.Health only) on port "
                 << s->health_port_;
  }
  HealthStatuses health{s->server_->GetHealthCheckService(),
                        s->health_server_ == nullptr
                            ? nullptr
                            : s->health_server_->GetHealthCheckService()};
  health.Set(kEventServiceName, true);
  health.Set(kAlertServiceName, true);
  health.Set(kBookServiceName, true);
  health.Set(kConsoleServiceName, true);
  // While Redis does not answer, publishing and the book cannot be served;
  // live streams go on from the hub.
  // The publisher fails fast meanwhile rather than wait out Redis timeouts.
  s->tailer_->Follow([health, p = s->publisher_.get()](bool reachable) {
    p->SetStoreReachable(reachable);
    health.Set(kEventServiceName, reachable);
    health.Set(kBookServiceName, reachable);
  });
  if (o.publisher.book_clock == BookClock::kWall) {
    Publisher* publisher = s->publisher_.get();
    absl::Notification* stop = &s->background_stop_;
    const absl::Duration interval = o.pause_check_interval;
    s->pause_clock_ = std::thread([publisher, stop, interval] {
      while (!stop->WaitForNotificationWithTimeout(interval)) {
        auto published = publisher->PublishDue();
        if (!published.ok()) {
          TA_LOG(WARNING) << "lapsed pauses not published yet: "
                          << published.status().message();
        }
      }
    });
  }
  if (s->tokens_ != nullptr) {
    TokenStore* tokens = s->tokens_.get();
    absl::Notification* stop = &s->background_stop_;
    const absl::Duration interval = o.security.tokens_reload_interval;
    AlertServiceImpl* alerts = s->alert_service_.get();
    s->tokens_watcher_ = std::thread([tokens, alerts, stop, interval] {
      while (!stop->WaitForNotificationWithTimeout(interval)) {
        bool changed = false;
        absl::Status reloaded = tokens->Reload(/*force=*/false, &changed);
        if (!reloaded.ok()) {
          TA_LOG(ERROR) << "tokens file not taken, the previous tokens stay: "
                        << reloaded.message();
        } else if (changed) {
          TA_LOG(INFO) << "tokens file re-read: " << tokens->size()
                       << " token(s); ended " << alerts->EndRevokedStreams()
                       << " stream(s) of revoked tokens";
        }
      }
    });
  }
  TA_LOG(INFO) << "gRPC port " << s->port_ << ": "
               << DescribeSecurity(o.security, s->tokens_ == nullptr
                                                   ? 0
                                                   : s->tokens_->size());
  TA_LOG(INFO) << "tariff-alert serving on port " << s->port_
               << ", exposure version '" << s->watcher_->Current()->version()
               << "', model " << o.scoring.model_version();
  return s;
}

TariffAlertServer::TariffAlertServer(ServerOptions options)
    : options_(std::move(options)) {}

TariffAlertServer::~TariffAlertServer() { Shutdown(absl::Seconds(1)); }

void TariffAlertServer::StopFollowingLog() {
  if (tailer_ != nullptr) tailer_->Stop();
}

absl::Status TariffAlertServer::ReloadCredentials() {
  if (tokens_ == nullptr) return absl::OkStatus();
  absl::Status reloaded = tokens_->Reload(/*force=*/true);
  if (reloaded.ok()) {
    TA_LOG(INFO) << "tokens file re-read: " << tokens_->size()
                 << " token(s); ended " << alert_service_->EndRevokedStreams()
                 << " stream(s) of revoked tokens";
  }
  return reloaded;
}

void TariffAlertServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (queue_depth_source_ != 0) {
    metrics::RemoveQueueDepthSource(queue_depth_source_);
    queue_depth_source_ = 0;
  }
  if (!background_stop_.HasBeenNotified()) background_stop_.Notify();
  if (pause_clock_.joinable()) pause_clock_.join();
  if (tokens_watcher_.joinable()) tokens_watcher_.join();
  if (tailer_ != nullptr) tailer_->Stop();
  // Ends the WatchConsoleState calls, which would hold the shutdown's grace;
  // the keeper's thread is joined after the server stopped.
  if (console_ != nullptr) console_->BeginStop();
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    if (health_server_ != nullptr) {
      health_server_->GetHealthCheckService()->SetServingStatus(false);
    }
    hub_->EndAll(absl::UnavailableError(
        "server shutting down; resume on another replica"));
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  // No call is left to post work; what the hub posted runs out.
  if (publishes_ != nullptr) publishes_->Stop();
  if (calls_ != nullptr) calls_->Stop();
  // Then SubscribeAlerts' completion queues, once every stream is gone.
  if (alert_service_ != nullptr) alert_service_->Stop();
  if (console_ != nullptr) console_->Stop();
}

}  // namespace tariffalert
