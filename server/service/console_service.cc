#include "server/service/console_service.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/common/log.h"
#include "server/common/quote.h"
#include "server/metrics/metrics.h"
#include "server/security/access_policy.h"
#include "server/security/tokens.h"
#include "server/service/grpc_status.h"
#include "server/service/request_parser.h"
#include "server/service/services.h"
#include "server/service/unary_call.h"
#include "server/tariff_book/book_codec.h"

namespace tariffalert {
namespace {

constexpr size_t kRecentRecords = 10000;
constexpr size_t kMaxIdBytes = 512;
constexpr size_t kMaxCommentBytes = 500;
constexpr absl::Duration kReadBlock = absl::Milliseconds(500);
constexpr absl::Duration kProbeInterval = absl::Seconds(1);
constexpr absl::Duration kApplyWait = absl::Seconds(3);
constexpr absl::Duration kHeartbeat = absl::Seconds(5);
// A replica that has not written its status for this long is not answering;
// after an hour it is forgotten.
constexpr absl::Duration kAnswering = absl::Seconds(5);
constexpr absl::Duration kForget = absl::Hours(1);
constexpr int kMaxWatchers = 256;
constexpr int kMaxWatchersPerClient = 16;

// ConsoleService's methods in proto order (the generated code's indices).
enum MethodIndex {
  kGetSession = 0,
  kAcknowledgeAlert,
  kAcknowledgeEvent,
  kDeleteAcknowledgement,
  kCreateSilence,
  kExpireSilence,
  kGetConsoleState,
  kWatchConsoleState,
  kGetServerStatus,
};

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

console::AlertFields FieldsOfKeys(const AlertKeys& k) {
  console::AlertFields f;
  f.subject_kind = k.subject_kind;
  f.subject = k.subject;
  f.sector = k.sector;
  if (k.company_country.valid()) {
    f.company_country = k.company_country.ToString();
  }
  if (k.importer.valid()) f.imposing_country = k.importer.ToString();
  for (Country t : k.targets) f.target_countries.push_back(t.ToString());
  f.event_id = k.event_id;
  f.alert_id = k.alert_id;
  f.severity = k.severity;
  f.measure_id = k.measure_id;
  f.stage = k.stage;
  f.escalation = k.escalation;
  return f;
}

absl::Status CheckId(absl::string_view field, const std::string& id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be set"));
  }
  if (id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", id.size(), " bytes, longer than ", kMaxIdBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckComment(const std::string& comment) {
  if (comment.size() > kMaxCommentBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "comment: ", comment.size(), " bytes, at most ", kMaxCommentBytes));
  }
  return absl::OkStatus();
}

std::string NewSilenceId() {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64* rng = nullptr;
  absl::MutexLock lock(&mu);
  if (rng == nullptr) rng = new std::mt19937_64(std::random_device{}());
  return absl::StrFormat("s-%016x", (*rng)());
}

}  // namespace

// ---------------------------------------------------------------------------
// ConsoleKeeper

ConsoleKeeper::ConsoleKeeper(std::unique_ptr<RedisConsoleStore> store,
                             config::v1::ConsoleConfig config,
                             ReplicaProbe probe)
    : store_(std::move(store)),
      config_(std::move(config)),
      probe_(std::move(probe)) {}

ConsoleKeeper::~ConsoleKeeper() { Stop(); }

absl::Status ConsoleKeeper::Start() {
  if (absl::Status s = Resync(); !s.ok()) return s;
  Probe(absl::Now());
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void ConsoleKeeper::BeginStop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  // Wake the watchers so that they see stopping().
  absl::MutexLock lock(&mu_);
  ++inhibitions_version_;
}

void ConsoleKeeper::Stop() {
  BeginStop();
  if (thread_.joinable()) thread_.join();
}

absl::Status ConsoleKeeper::Resync() {
  auto snapshot = store_->Snapshot();
  if (!snapshot.ok()) return snapshot.status();
  absl::MutexLock lock(&mu_);
  std::vector<v1::Inhibition> inhibitions(view_.state().inhibitions().begin(),
                                          view_.state().inhibitions().end());
  view_.Reset(*snapshot);
  view_.SetInhibitions(std::move(inhibitions));
  // Records before the snapshot are no longer known to follow each other
  // in memory: watchers that resume read them from Redis.
  recent_.clear();
  return absl::OkStatus();
}

void ConsoleKeeper::Run() {
  absl::Time next_probe = absl::Now() + kProbeInterval;
  bool failing = false;
  while (!stop_.HasBeenNotified()) {
    const uint64_t after = audit_sequence();
    auto records = store_->ReadAfter(after, 200, kReadBlock);
    if (!records.ok()) {
      if (!failing) {
        TA_LOG(WARNING) << "console state: cannot read the audit stream: "
                        << records.status().message();
        failing = true;
      }
      stop_.WaitForNotificationWithTimeout(kReadBlock);
    } else {
      if (failing) {
        TA_LOG(INFO) << "console state: audit stream read again";
      }
      failing = false;
      bool gap = false;
      {
        absl::MutexLock lock(&mu_);
        for (const v1::AuditRecord& r : *records) {
          if (r.sequence() <= view_.audit_sequence()) continue;
          if (!view_.Apply(r)) {
            gap = true;  // trimmed past us, or a change we cannot order
            break;
          }
          recent_.push_back(r);
          if (recent_.size() > kRecentRecords) recent_.pop_front();
        }
      }
      if (gap) {
        TA_LOG(WARNING) << "console state: audit records missing after "
                        << after << "; reading the whole state again";
        if (absl::Status s = Resync(); !s.ok()) {
          TA_LOG(WARNING) << "console state: " << s.message();
        }
      }
    }
    if (absl::Now() >= next_probe) {
      Probe(absl::Now());
      next_probe = absl::Now() + kProbeInterval;
    }
  }
}

void ConsoleKeeper::Probe(absl::Time now) {
  v1::ReplicaStatus status;
  status.set_replica_id(replica_id());
  TimeToProto(now, status.mutable_seen_time());
  if (probe_.exposure_version) {
    status.set_exposure_version(probe_.exposure_version());
  }
  std::vector<v1::Inhibition> inhibitions;
  bool have_book = false;
  if (probe_.book) {
    auto book = probe_.book();
    if (book.ok()) {
      status.set_book_revision(book->revision());
      inhibitions = console::InhibitionsInForce(config_, *book);
      have_book = true;
    }
  }
  if (probe_.newest_sequence) {
    status.set_newest_sequence(probe_.newest_sequence());
  }
  if (probe_.log_newest_sequence) {
    auto newest = probe_.log_newest_sequence();
    if (newest.ok() && *newest > status.newest_sequence()) {
      status.set_lag_sequences(*newest - status.newest_sequence());
    }
  }
  status.set_answering(true);
  {
    absl::MutexLock lock(&mu_);
    if (have_book) {
      const auto& old = view_.state().inhibitions();
      bool same = static_cast<size_t>(old.size()) == inhibitions.size();
      for (size_t i = 0; same && i < inhibitions.size(); ++i) {
        same = old[static_cast<int>(i)].SerializeAsString() ==
               inhibitions[i].SerializeAsString();
      }
      if (!same) {
        view_.SetInhibitions(std::move(inhibitions));
        ++inhibitions_version_;
      }
    }
    own_status_ = status;
  }
  if (status.replica_id().empty()) return;
  if (absl::Status s = store_->PutReplicaStatus(status); !s.ok()) {
    TA_LOG(DEBUG) << "console state: replica status not written: "
                  << s.message();
  }
}

v1::ConsoleState ConsoleKeeper::State(absl::Time now) const {
  const absl::Duration keep = absl::Hours(
      config_.expired_silence_hours() == 0 ? 24
                                           : config_.expired_silence_hours());
  v1::ConsoleState state;
  {
    absl::ReaderMutexLock lock(&mu_);
    state = view_.state();
  }
  auto* silences = state.mutable_silences();
  for (int i = silences->size() - 1; i >= 0; --i) {
    if (ToTime(silences->Get(i).end_time()) < now - keep) {
      silences->DeleteSubrange(i, 1);
    }
  }
  TimeToProto(now, state.mutable_server_time());
  return state;
}

uint64_t ConsoleKeeper::audit_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return view_.audit_sequence();
}

bool ConsoleKeeper::WaitApplied(uint64_t sequence,
                                absl::Duration timeout) const {
  absl::ReaderMutexLock lock(&mu_);
  auto applied = [this, sequence]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return view_.audit_sequence() >= sequence;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&applied), timeout);
}

absl::StatusOr<std::vector<v1::AuditRecord>> ConsoleKeeper::RecordsAfter(
    uint64_t after, size_t max) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (after >= view_.audit_sequence()) return std::vector<v1::AuditRecord>{};
    if (!recent_.empty() && recent_.front().sequence() <= after + 1) {
      std::vector<v1::AuditRecord> out;
      for (const v1::AuditRecord& r : recent_) {
        if (r.sequence() <= after) continue;
        out.push_back(r);
        if (out.size() >= max) break;
      }
      return out;
    }
  }
  auto records = store_->ReadAfter(after, max, absl::ZeroDuration());
  if (!records.ok()) return records.status();
  if (records->empty() || records->front().sequence() != after + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit records after ", after,
        " are no longer kept; start again without resume_after_sequence "
        "for a snapshot"));
  }
  return records;
}

std::vector<v1::Inhibition> ConsoleKeeper::Inhibitions(
    uint64_t* version) const {
  absl::ReaderMutexLock lock(&mu_);
  *version = inhibitions_version_;
  return {view_.state().inhibitions().begin(),
          view_.state().inhibitions().end()};
}

void ConsoleKeeper::WaitForChange(uint64_t after, uint64_t version,
                                  absl::Duration timeout) const {
  absl::ReaderMutexLock lock(&mu_);
  auto changed = [this, after, version]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return view_.audit_sequence() > after || inhibitions_version_ != version;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
}

void ConsoleKeeper::set_replica_id(std::string id) {
  {
    absl::MutexLock lock(&mu_);
    replica_id_ = std::move(id);
  }
  Probe(absl::Now());
}

std::string ConsoleKeeper::replica_id() const {
  absl::ReaderMutexLock lock(&mu_);
  return replica_id_;
}

v1::ReplicaStatus ConsoleKeeper::OwnStatus() const {
  absl::ReaderMutexLock lock(&mu_);
  return own_status_;
}

bool ConsoleKeeper::Muted(const AlertKeys& keys) const {
  const console::AlertFields fields = FieldsOfKeys(keys);
  const absl::Time now = absl::Now();
  absl::ReaderMutexLock lock(&mu_);
  return view_.SilencedBy(fields, now) != nullptr;
}

// ---------------------------------------------------------------------------
// ConsoleServiceImpl

template <typename Request, typename Response>
void ConsoleServiceImpl::Unary(
    int index, absl::StatusOr<Response> (ConsoleServiceImpl::*method)(
                   const grpc::CallbackServerContext&, const Request&)) {
  MarkMethodRawCallback(
      index, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                      grpc::ByteBuffer>(
                 [this, method](grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) {
                   return ServeOnPool<Request>(
                       calls_, context, request, response,
                       [this, method, context](const Request& parsed) {
                         return (this->*method)(*context, parsed);
                       });
                 }));
}

ConsoleServiceImpl::ConsoleServiceImpl(ConsoleKeeper* keeper,
                                       const TokenStore* tokens,
                                       WorkPool* calls)
    : keeper_(keeper), tokens_(tokens), calls_(calls) {
  Unary(kGetSession, &ConsoleServiceImpl::GetSessionImpl);
  Unary(kAcknowledgeAlert, &ConsoleServiceImpl::AcknowledgeAlertImpl);
  Unary(kAcknowledgeEvent, &ConsoleServiceImpl::AcknowledgeEventImpl);
  Unary(kDeleteAcknowledgement, &ConsoleServiceImpl::DeleteAcknowledgementImpl);
  Unary(kCreateSilence, &ConsoleServiceImpl::CreateSilenceImpl);
  Unary(kExpireSilence, &ConsoleServiceImpl::ExpireSilenceImpl);
  Unary(kGetConsoleState, &ConsoleServiceImpl::GetConsoleStateImpl);
  Unary(kGetServerStatus, &ConsoleServiceImpl::GetServerStatusImpl);
}

std::string ConsoleServiceImpl::ActorOf(
    const grpc::ServerContextBase& context) const {
  if (tokens_ != nullptr) {
    auto header = context.client_metadata().find("authorization");
    if (header != context.client_metadata().end()) {
      auto token = BearerToken(
          absl::string_view(header->second.data(), header->second.size()));
      if (token.has_value()) {
        if (auto entry = tokens_->Find(*token); entry != nullptr) {
          return entry->name;
        }
      }
    }
  }
  return absl::StrCat("anonymous ", context.peer());
}

absl::StatusOr<v1::AuditRecord> ConsoleServiceImpl::Applied(
    absl::StatusOr<v1::AuditRecord> record) {
  if (!record.ok()) return record;
  if (!keeper_->WaitApplied(record->sequence(), kApplyWait)) {
    // Stored and audited: other replicas will show it; this one is behind.
    TA_LOG(WARNING) << "console state: audit record " << record->sequence()
                    << " stored but not yet read back";
  }
  return record;
}

absl::StatusOr<v1::Session> ConsoleServiceImpl::GetSessionImpl(
    const grpc::CallbackServerContext& context, const v1::GetSessionRequest&) {
  v1::Session session;
  if (tokens_ == nullptr) {
    // No tokens file: every call is let in (loopback, --insecure).
    session.set_can_change_state(true);
    return session;
  }
  auto header = context.client_metadata().find("authorization");
  std::shared_ptr<const TokenEntry> entry;
  if (header != context.client_metadata().end()) {
    auto token = BearerToken(
        absl::string_view(header->second.data(), header->second.size()));
    if (token.has_value()) entry = tokens_->Find(*token);
  }
  if (entry == nullptr) {
    return absl::UnauthenticatedError("unknown token");
  }
  session.set_token_name(entry->name);
  for (absl::string_view role :
       absl::StrSplit(RolesText(entry->roles), ',', absl::SkipEmpty())) {
    session.add_roles(std::string(role));
  }
  session.set_can_change_state((entry->roles & (kRoleAnalyst | kRoleAdmin)) !=
                               0);
  return session;
}

absl::StatusOr<v1::AuditRecord> ConsoleServiceImpl::AcknowledgeAlertImpl(
    const grpc::CallbackServerContext& context,
    const v1::AcknowledgeAlertRequest& request) {
  if (absl::Status s = CheckId("alert_id", request.alert_id()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckComment(request.comment()); !s.ok()) return s;
  v1::AuditRecord record;
  const absl::Time now = absl::Now();
  TimeToProto(now, record.mutable_time());
  record.set_actor(ActorOf(context));
  record.set_action(v1::AUDIT_ACTION_ACKNOWLEDGED);
  v1::Acknowledgement* ack = record.mutable_acknowledgement();
  ack->set_alert_id(request.alert_id());
  ack->set_actor(record.actor());
  *ack->mutable_time() = record.time();
  ack->set_comment(request.comment());
  return Applied(keeper_->store().Acknowledge(std::move(record)));
}

absl::StatusOr<v1::AuditRecord> ConsoleServiceImpl::AcknowledgeEventImpl(
    const grpc::CallbackServerContext& context,
    const v1::AcknowledgeEventRequest& request) {
  if (absl::Status s = CheckId("event_id", request.event_id()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckComment(request.comment()); !s.ok()) return s;
  v1::AuditRecord record;
  TimeToProto(absl::Now(), record.mutable_time());
  record.set_actor(ActorOf(context));
  record.set_action(v1::AUDIT_ACTION_ACKNOWLEDGED);
  v1::Acknowledgement* ack = record.mutable_acknowledgement();
  ack->set_event_id(request.event_id());
  ack->set_actor(record.actor());
  *ack->mutable_time() = record.time();
  ack->set_comment(request.comment());
  return Applied(keeper_->store().Acknowledge(std::move(record)));
}

absl::StatusOr<v1::AuditRecord> ConsoleServiceImpl::DeleteAcknowledgementImpl(
    const grpc::CallbackServerContext& context,
    const v1::DeleteAcknowledgementRequest& request) {
  if (request.alert_id().empty() == request.event_id().empty()) {
    return absl::InvalidArgumentError(
        "alert_id, event_id: set exactly one of the two");
  }
  if (!request.alert_id().empty()) {
    if (absl::Status s = CheckId("alert_id", request.alert_id()); !s.ok()) {
      return s;
    }
  } else if (absl::Status s = CheckId("event_id", request.event_id());
             !s.ok()) {
    return s;
  }
  v1::AuditRecord record;
  TimeToProto(absl::Now(), record.mutable_time());
  record.set_actor(ActorOf(context));
  record.set_action(v1::AUDIT_ACTION_ACKNOWLEDGEMENT_DELETED);
  v1::Acknowledgement* ack = record.mutable_acknowledgement();
  ack->set_alert_id(request.alert_id());
  ack->set_event_id(request.event_id());
  return Applied(keeper_->store().DeleteAcknowledgement(std::move(record)));
}

absl::StatusOr<v1::AuditRecord> ConsoleServiceImpl::CreateSilenceImpl(
    const grpc::CallbackServerContext& context,
    const v1::CreateSilenceRequest& request) {
  const absl::Time now = absl::Now();
  if (!request.has_silence()) {
    return absl::InvalidArgumentError("silence: not set");
  }
  if (absl::Status s = console::ValidateSilence(request.silence(), now);
      !s.ok()) {
    return s;
  }
  v1::AuditRecord record;
  TimeToProto(now, record.mutable_time());
  record.set_actor(ActorOf(context));
  record.set_action(v1::AUDIT_ACTION_SILENCE_CREATED);
  v1::Silence* silence = record.mutable_silence();
  *silence = request.silence();
  silence->set_id(NewSilenceId());
  silence->set_created_by(record.actor());
  silence->clear_expired_by();
  *silence->mutable_create_time() = record.time();
  if (!silence->has_start_time() || ToTime(silence->start_time()) < now) {
    *silence->mutable_start_time() = record.time();
  }
  for (v1::Matcher& m : *silence->mutable_matchers()) {
    if (m.field() == v1::MATCHER_FIELD_TICKER ||
        m.field() == v1::MATCHER_FIELD_COUNTRY) {
      m.set_value(absl::AsciiStrToUpper(m.value()));
    } else if (m.field() == v1::MATCHER_FIELD_SEVERITY) {
      m.set_value(
          console::SeverityShortName(console::ParseSeverityName(m.value())));
    }
  }
  return Applied(keeper_->store().CreateSilence(std::move(record)));
}

absl::StatusOr<v1::AuditRecord> ConsoleServiceImpl::ExpireSilenceImpl(
    const grpc::CallbackServerContext& context,
    const v1::ExpireSilenceRequest& request) {
  if (absl::Status s = CheckId("silence_id", request.silence_id()); !s.ok()) {
    return s;
  }
  v1::AuditRecord record;
  TimeToProto(absl::Now(), record.mutable_time());
  record.set_actor(ActorOf(context));
  record.set_action(v1::AUDIT_ACTION_SILENCE_EXPIRED);
  return Applied(
      keeper_->store().ExpireSilence(request.silence_id(), std::move(record)));
}

absl::StatusOr<v1::ConsoleState> ConsoleServiceImpl::GetConsoleStateImpl(
    const grpc::CallbackServerContext&, const v1::GetConsoleStateRequest&) {
  return keeper_->State(absl::Now());
}

absl::StatusOr<v1::ServerStatus> ConsoleServiceImpl::GetServerStatusImpl(
    const grpc::CallbackServerContext&, const v1::GetServerStatusRequest&) {
  const absl::Time now = absl::Now();
  v1::ServerStatus out;
  TimeToProto(now, out.mutable_server_time());
  auto replicas = keeper_->store().ReplicaStatuses(now, kForget);
  out.set_redis_reachable(replicas.ok());
  bool have_self = false;
  if (replicas.ok()) {
    for (v1::ReplicaStatus& r : *replicas) {
      r.set_answering(now - ToTime(r.seen_time()) < kAnswering);
      r.set_this_replica(r.replica_id() == keeper_->replica_id());
      have_self = have_self || r.this_replica();
      out.set_log_newest_sequence(std::max(
          out.log_newest_sequence(), r.newest_sequence() + r.lag_sequences()));
      *out.add_replicas() = std::move(r);
    }
  }
  if (!have_self) {
    v1::ReplicaStatus self = keeper_->OwnStatus();
    self.set_this_replica(true);
    self.set_answering(true);
    *out.add_replicas() = std::move(self);
  }
  std::sort(out.mutable_replicas()->begin(), out.mutable_replicas()->end(),
            [](const v1::ReplicaStatus& a, const v1::ReplicaStatus& b) {
              return a.replica_id() < b.replica_id();
            });
  return out;
}

absl::Status ConsoleServiceImpl::AdmitWatcher(const std::string& client) {
  absl::MutexLock lock(&watchers_mu_);
  if (watchers_ >= kMaxWatchers) {
    return absl::ResourceExhaustedError(
        absl::StrCat(kMaxWatchers,
                     " WatchConsoleState streams are open on "
                     "this replica, the most it serves"));
  }
  int& mine = watchers_by_client_[client];
  if (mine >= kMaxWatchersPerClient) {
    return absl::ResourceExhaustedError(
        absl::StrCat(client, " has ", mine,
                     " WatchConsoleState streams open, the most "
                     "one client may (",
                     kMaxWatchersPerClient, ")"));
  }
  ++mine;
  ++watchers_;
  metrics::ConsoleWatcherOpened();
  return absl::OkStatus();
}

void ConsoleServiceImpl::ReleaseWatcher(const std::string& client) {
  absl::MutexLock lock(&watchers_mu_);
  --watchers_;
  metrics::ConsoleWatcherClosed();
  if (auto it = watchers_by_client_.find(client);
      it != watchers_by_client_.end() && --it->second <= 0) {
    watchers_by_client_.erase(it);
  }
}

grpc::Status ConsoleServiceImpl::WatchConsoleState(
    grpc::ServerContext* context, const v1::WatchConsoleStateRequest* request,
    grpc::ServerWriter<v1::WatchConsoleStateResponse>* writer) {
  const std::string client = StreamClientOf(*context, tokens_).key;
  if (absl::Status admitted = AdmitWatcher(client); !admitted.ok()) {
    return ToGrpcStatus(admitted);
  }
  struct Release {
    ConsoleServiceImpl* self;
    const std::string& client;
    ~Release() { self->ReleaseWatcher(client); }
  } release{this, client};
  uint64_t position = 0;
  uint64_t inhibitions_version = 0;
  auto send = [&](v1::WatchConsoleStateResponse& message) {
    message.set_audit_sequence(position);
    TimeToProto(absl::Now(), message.mutable_server_time());
    return writer->Write(message);
  };
  if (request->has_resume_after_sequence()) {
    position = request->resume_after_sequence();
    if (position > keeper_->audit_sequence()) {
      return ToGrpcStatus(absl::OutOfRangeError(absl::StrCat(
          "resume_after_sequence: ", position,
          " is ahead of the newest audit record ", keeper_->audit_sequence())));
    }
    // The inhibitions are not in the records: send them first.
    v1::WatchConsoleStateResponse first;
    for (v1::Inhibition& in : keeper_->Inhibitions(&inhibitions_version)) {
      *first.mutable_inhibitions()->add_inhibitions() = std::move(in);
    }
    if (!send(first)) return grpc::Status::CANCELLED;
  } else {
    v1::WatchConsoleStateResponse first;
    keeper_->Inhibitions(&inhibitions_version);
    *first.mutable_snapshot() = keeper_->State(absl::Now());
    position = first.snapshot().audit_sequence();
    if (!send(first)) return grpc::Status::CANCELLED;
  }
  absl::Time last_sent = absl::Now();
  while (!context->IsCancelled()) {
    if (keeper_->stopping()) {
      return ToGrpcStatus(absl::UnavailableError(
          "server shutting down; watch again on another replica"));
    }
    auto records = keeper_->RecordsAfter(position, 500);
    if (!records.ok()) return ToGrpcStatus(records.status());
    for (const v1::AuditRecord& r : *records) {
      v1::WatchConsoleStateResponse message;
      *message.mutable_record() = r;
      position = r.sequence();
      if (!send(message)) return grpc::Status::CANCELLED;
      last_sent = absl::Now();
    }
    uint64_t version = 0;
    std::vector<v1::Inhibition> inhibitions = keeper_->Inhibitions(&version);
    if (version != inhibitions_version) {
      inhibitions_version = version;
      v1::WatchConsoleStateResponse message;
      for (v1::Inhibition& in : inhibitions) {
        *message.mutable_inhibitions()->add_inhibitions() = std::move(in);
      }
      if (!send(message)) return grpc::Status::CANCELLED;
      last_sent = absl::Now();
    }
    if (absl::Now() - last_sent >= kHeartbeat) {
      v1::WatchConsoleStateResponse heartbeat;
      if (!send(heartbeat)) return grpc::Status::CANCELLED;
      last_sent = absl::Now();
    }
    if (records->size() < 500) {
      keeper_->WaitForChange(position, inhibitions_version, absl::Seconds(1));
    }
  }
  return grpc::Status::CANCELLED;
}

}  // namespace tariffalert
