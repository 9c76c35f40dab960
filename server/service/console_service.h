#ifndef TARIFF_ALERT_SERVER_SERVICE_CONSOLE_SERVICE_H_
#define TARIFF_ALERT_SERVER_SERVICE_CONSOLE_SERVICE_H_

// ConsoleService (docs/console.md): the risk console's shared state.
//
// ConsoleKeeper holds this replica's copy of the state: it follows the audit
// stream in Redis on a thread of its own (every replica's changes, within
// the read's block time of 500 ms), recomputes the inhibitions from the
// tariff book and writes this replica's status every second. Reads and the
// silence check of streams that respect silences (AlertMuter) are served
// from memory; a change is written to Redis and answered once this
// replica's copy has it, so a read after one's own change sees it.

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/common/work_pool.h"
#include "server/console/console_rules.h"
#include "server/fanout/alert_filter.h"
#include "server/redis/redis_console_store.h"
#include "tariffalert/config/v1/console_config.pb.h"
#include "tariffalert/v1/console_service.grpc.pb.h"
#include "tariffalert/v1/tariff_book.pb.h"

namespace tariffalert {

class TokenStore;

// What the keeper asks the rest of the server once a second.
struct ReplicaProbe {
  std::function<std::string()> exposure_version;
  // The book as stored (for the revision and the inhibitions).
  std::function<absl::StatusOr<v1::BookState>()> book;
  // The newest alert sequence this replica holds, and the log's newest.
  std::function<uint64_t()> newest_sequence;
  std::function<absl::StatusOr<uint64_t>()> log_newest_sequence;
};

class ConsoleKeeper final : public AlertMuter {
 public:
  ConsoleKeeper(std::unique_ptr<RedisConsoleStore> store,
                config::v1::ConsoleConfig config, ReplicaProbe probe);
  ~ConsoleKeeper() override;

  // Reads the state from Redis and starts following it. UNAVAILABLE when
  // Redis does not answer.
  absl::Status Start();
  // Ends every WatchConsoleState call (within a second) and tells the
  // thread to stop, without waiting for it: a shutdown calls it first.
  void BeginStop() ABSL_LOCKS_EXCLUDED(mu_);
  // BeginStop, then waits for the thread (up to one Redis read's block).
  // Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  bool stopping() const { return stop_.HasBeenNotified(); }

  RedisConsoleStore& store() { return *store_; }

  // The state now: acknowledgements, silences not ended or ended in the last
  // expired_silence_hours, inhibitions.
  v1::ConsoleState State(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t audit_sequence() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until the copy holds `sequence` (false after `timeout`).
  bool WaitApplied(uint64_t sequence, absl::Duration timeout) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The records after `after` (at most `max`), from memory or else Redis;
  // FAILED_PRECONDITION when Redis no longer holds them.
  absl::StatusOr<std::vector<v1::AuditRecord>> RecordsAfter(uint64_t after,
                                                            size_t max);
  // Inhibitions with a version that changes when they do.
  std::vector<v1::Inhibition> Inhibitions(uint64_t* version) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for a record after `after` or an inhibitions
  // version other than `version`, or Stop.
  void WaitForChange(uint64_t after, uint64_t version,
                     absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

  // This replica's status as last written.
  v1::ReplicaStatus OwnStatus() const ABSL_LOCKS_EXCLUDED(mu_);
  // The id this replica's status is written under ("host:port"), once the
  // port is bound; no status is written before.
  void set_replica_id(std::string id) ABSL_LOCKS_EXCLUDED(mu_);
  std::string replica_id() const ABSL_LOCKS_EXCLUDED(mu_);
  const config::v1::ConsoleConfig& config() const { return config_; }

  bool Muted(const AlertKeys& keys) const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // Reads a whole snapshot into the copy.
  absl::Status Resync() ABSL_LOCKS_EXCLUDED(mu_);
  void Probe(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  const std::unique_ptr<RedisConsoleStore> store_;
  const config::v1::ConsoleConfig config_;
  const ReplicaProbe probe_;
  absl::Notification stop_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  console::StateView view_ ABSL_GUARDED_BY(mu_);
  // The latest records, for watchers that resume.
  std::deque<v1::AuditRecord> recent_ ABSL_GUARDED_BY(mu_);
  uint64_t inhibitions_version_ ABSL_GUARDED_BY(mu_) = 0;
  v1::ReplicaStatus own_status_ ABSL_GUARDED_BY(mu_);
  std::string replica_id_ ABSL_GUARDED_BY(mu_);
};

// The gRPC service. Unary methods are registered raw and parse their
// requests themselves (server/service/request_parser.h), so that bad bytes
// get INVALID_ARGUMENT naming the field; WatchConsoleState is a synchronous
// stream.
class ConsoleServiceImpl final : public v1::ConsoleService::Service {
 public:
  // `tokens` (null without a tokens file) names the caller of each change.
  // The unary methods run on `calls`' threads (server/service/unary_call.h):
  // a change is a write to Redis and a wait for this replica to apply it.
  ConsoleServiceImpl(ConsoleKeeper* keeper, const TokenStore* tokens,
                     WorkPool* calls);

  grpc::Status WatchConsoleState(
      grpc::ServerContext* context, const v1::WatchConsoleStateRequest* request,
      grpc::ServerWriter<v1::WatchConsoleStateResponse>* writer) override;

 private:
  template <typename Request, typename Response>
  void Unary(int index,
             absl::StatusOr<Response> (ConsoleServiceImpl::*method)(
                 const grpc::CallbackServerContext&, const Request&));

  absl::StatusOr<v1::Session> GetSessionImpl(
      const grpc::CallbackServerContext& context,
      const v1::GetSessionRequest& request);
  absl::StatusOr<v1::AuditRecord> AcknowledgeAlertImpl(
      const grpc::CallbackServerContext& context,
      const v1::AcknowledgeAlertRequest& request);
  absl::StatusOr<v1::AuditRecord> AcknowledgeEventImpl(
      const grpc::CallbackServerContext& context,
      const v1::AcknowledgeEventRequest& request);
  absl::StatusOr<v1::AuditRecord> DeleteAcknowledgementImpl(
      const grpc::CallbackServerContext& context,
      const v1::DeleteAcknowledgementRequest& request);
  absl::StatusOr<v1::AuditRecord> CreateSilenceImpl(
      const grpc::CallbackServerContext& context,
      const v1::CreateSilenceRequest& request);
  absl::StatusOr<v1::AuditRecord> ExpireSilenceImpl(
      const grpc::CallbackServerContext& context,
      const v1::ExpireSilenceRequest& request);
  absl::StatusOr<v1::ConsoleState> GetConsoleStateImpl(
      const grpc::CallbackServerContext& context,
      const v1::GetConsoleStateRequest& request);
  absl::StatusOr<v1::ServerStatus> GetServerStatusImpl(
      const grpc::CallbackServerContext& context,
      const v1::GetServerStatusRequest& request);

  // The token name that makes a change ("anonymous <peer>" without tokens).
  std::string ActorOf(const grpc::ServerContextBase& context) const;
  // A written record, once this replica's copy holds it.
  absl::StatusOr<v1::AuditRecord> Applied(
      absl::StatusOr<v1::AuditRecord> record);

  // WatchConsoleState calls hold a thread each: at most kMaxWatchers open,
  // kMaxWatchersPerClient per token (or host without tokens).
  absl::Status AdmitWatcher(const std::string& client)
      ABSL_LOCKS_EXCLUDED(watchers_mu_);
  void ReleaseWatcher(const std::string& client)
      ABSL_LOCKS_EXCLUDED(watchers_mu_);

  ConsoleKeeper* const keeper_;
  const TokenStore* const tokens_;
  WorkPool* const calls_;
  absl::Mutex watchers_mu_;
  int watchers_ ABSL_GUARDED_BY(watchers_mu_) = 0;
  absl::flat_hash_map<std::string, int> watchers_by_client_
      ABSL_GUARDED_BY(watchers_mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_CONSOLE_SERVICE_H_
