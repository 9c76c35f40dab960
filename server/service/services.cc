#include "server/service/services.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/log.h"
#include "server/common/quote.h"
#include "server/fanout/alert_filter.h"
#include "server/fanout/alert_history.h"
#include "server/ingest/event_validator.h"
#include "server/security/access_policy.h"
#include "server/security/auth_processor.h"
#include "server/service/alert_stream.h"
#include "server/service/grpc_status.h"
#include "server/service/request_parser.h"
#include "server/service/unary_call.h"

namespace tariffalert {

namespace {

// The event fields an alert repeats, for an event known only by its record.
void FillFromAlert(const v1::Alert& alert, v1::TariffEvent& event) {
  event.set_imposing_country(alert.imposing_country());
  *event.mutable_target_countries() = alert.target_countries();
  *event.mutable_product_codes() = alert.product_codes();
  event.set_stage(alert.stage());
  event.set_headline(alert.headline());
  event.set_measure_id(alert.measure_id());
}

}  // namespace

TariffEventServiceImpl::TariffEventServiceImpl(Publisher* publisher,
                                               const AlertHub* hub,
                                               WorkPool* publishes,
                                               WorkPool* calls)
    : publisher_(publisher), hub_(hub), publishes_(publishes), calls_(calls) {
  InstallProtobufLogHandler();
}

absl::StatusOr<v1::PublishEventResponse> TariffEventServiceImpl::Publish(
    const v1::PublishEventRequest& request, absl::Time deadline) {
  if (!request.has_event()) {
    return absl::InvalidArgumentError("event: missing");
  }
  return publisher_->Publish(request.event(), deadline);
}

grpc::ServerUnaryReactor* TariffEventServiceImpl::PublishEvent(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeOnPool<v1::PublishEventRequest>(
      publishes_, context, request, response,
      [this, context](const v1::PublishEventRequest& parsed)
          -> absl::StatusOr<v1::PublishEventResponse> {
        auto result = Publish(parsed, absl::FromChrono(context->deadline()));
        if (result.ok()) {
          TA_LOG(INFO)
                  .With("event_id", result->event_id())
                  .With("sequence", result->first_sequence())
                  .With("last_sequence", result->last_sequence())
                  .With("alert_count", result->alert_count())
                  .With("duplicate", result->duplicate())
                  .With("token", CallTokenName(*context))
                  .With("peer", context->peer())
              << "published";
        }
        return result;
      });
}

absl::StatusOr<v1::GetEventResponse> TariffEventServiceImpl::Get(
    const v1::GetEventRequest& request) {
  const std::string& id = request.event_id();
  if (id.empty()) {
    return absl::InvalidArgumentError("event_id: must not be empty");
  }
  if (id.size() > kMaxEventIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("event_id: ", id.size(), " bytes, longer than ",
                     kMaxEventIdBytes, " (no event has such an id)"));
  }
  auto found = publisher_->LookUpEvent(id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("event_id: ", QuoteForError(id),
                     " was not published or its record has expired"));
  }
  const PublishedEvent& event = **found;
  v1::GetEventResponse response;
  *response.mutable_event() = event.event;
  *response.mutable_result() = event.response;
  if (event.response.alert_count() > 0) {
    for (const EncodedAlertPtr& a : hub_->Logged(
             event.response.first_sequence(), event.response.last_sequence())) {
      auto alert = DecodeAlert(*a);
      if (!alert.ok()) return alert.status();
      *response.add_alerts() = *std::move(alert);
    }
  }
  if (event.from_record && response.alerts_size() > 0) {
    FillFromAlert(response.alerts(0), *response.mutable_event());
  }
  return response;
}

grpc::ServerUnaryReactor* TariffEventServiceImpl::GetEvent(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeOnPool<v1::GetEventRequest>(
      calls_, context, request, response,
      [this](const v1::GetEventRequest& parsed) { return Get(parsed); });
}

AlertServiceImpl::AlertServiceImpl(AlertHub* hub, QueueLimits limits,
                                   PortfolioContext portfolio,
                                   size_t stream_threads,
                                   ServerLimits request_limits)
    : hub_(hub),
      limits_(limits),
      request_limits_(request_limits),
      portfolio_(std::move(portfolio)),
      thread_count_(
          stream_threads > 0
              ? stream_threads
              : std::max<size_t>(std::thread::hardware_concurrency(), 1)) {
  InstallProtobufLogHandler();
}

AlertServiceImpl::~AlertServiceImpl() {
  // A queue destroyed with a stream still on it would abort in gRPC.
  Stop();
}

void AlertServiceImpl::AddTo(grpc::ServerBuilder* builder) {
  builder->RegisterService(this);
  for (size_t i = 0; i < thread_count_; ++i) {
    cqs_.push_back(builder->AddCompletionQueue());
  }
}

void AlertServiceImpl::Start() {
  for (auto& cq : cqs_) {
    for (size_t i = 0; i < kRequestsPerQueue; ++i) Request(cq.get());
  }
  for (auto& cq : cqs_) {
    grpc::ServerCompletionQueue* q = cq.get();
    threads_.emplace_back([this, q] { Run(q); });
  }
}

void AlertServiceImpl::Request(grpc::ServerCompletionQueue* cq) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  ++streams_;
  (new AlertStream(this, cq))->Request();
}

void AlertServiceImpl::StreamGone() {
  absl::MutexLock lock(&mu_);
  --streams_;
}

StreamClient StreamClientOf(const grpc::ServerContextBase& context,
                            const TokenStore* tokens) {
  if (tokens != nullptr) {
    // The auth processor let the call in, so its token is known (unless
    // revoked in between; then it counts under its host).
    auto header = context.client_metadata().find("authorization");
    if (header != context.client_metadata().end()) {
      auto token = BearerToken(
          absl::string_view(header->second.data(), header->second.size()));
      if (token.has_value()) {
        if (auto entry = tokens->Find(*token); entry != nullptr) {
          return StreamClient{"token " + entry->name, entry->sha256};
        }
      }
    }
  }
  // "ipv4:127.0.0.1:5000" -> "host ipv4:127.0.0.1": one client machine.
  std::string peer = context.peer();
  if (size_t colon = peer.rfind(':');
      colon != std::string::npos && colon > peer.find(':')) {
    peer.resize(colon);
  }
  return StreamClient{"host " + peer, std::nullopt};
}

size_t AlertServiceImpl::EndRevokedStreams() {
  if (tokens_ == nullptr) return 0;
  const TokenStore* tokens = tokens_;
  return hub_->EndIf(
      [tokens](const Subscriber& s) {
        const auto* stream = dynamic_cast<const AlertStream*>(&s);
        return stream != nullptr && stream->token_digest().has_value() &&
               !tokens->Contains(*stream->token_digest());
      },
      absl::UnauthenticatedError(
          "this stream's token was revoked (it is no longer in the server's "
          "tokens file)"));
}

absl::Status AlertServiceImpl::AdmitStream(const std::string& client) {
  absl::MutexLock lock(&mu_);
  if (open_streams_ >= request_limits_.max_streams) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", open_streams_,
                     " streams open, its limit "
                     "(--max-streams ",
                     request_limits_.max_streams,
                     "); retry later or "
                     "on another replica"));
  }
  int& mine = open_by_client_[client];
  if (mine >= request_limits_.max_streams_per_token) {
    if (mine == 0) open_by_client_.erase(client);
    return absl::ResourceExhaustedError(
        absl::StrCat(client, " has ", mine,
                     " streams open, its limit (--max-streams-per-"
                     "token ",
                     request_limits_.max_streams_per_token, ")"));
  }
  ++mine;
  ++open_streams_;
  return absl::OkStatus();
}

void AlertServiceImpl::ReleaseStream(const std::string& client) {
  absl::MutexLock lock(&mu_);
  --open_streams_;
  auto it = open_by_client_.find(client);
  if (it != open_by_client_.end() && --it->second <= 0) {
    open_by_client_.erase(it);
  }
}

void AlertServiceImpl::Run(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<AlertStream::Tag*>(tag);
    t->stream->Proceed(t->op, ok);
  }
}

void AlertServiceImpl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopping_ = true;
    // After the server's Shutdown every call is over or cancelled and every
    // outstanding request fails, so each stream's last tags are on their way.
    auto none_left = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return streams_ == 0;
    };
    while (
        !mu_.AwaitWithTimeout(absl::Condition(&none_left), absl::Seconds(10))) {
      // Shutting the queues down under a live stream would abort in gRPC.
      TA_LOG(ERROR) << streams_
                    << " alert streams not gone 10 s after the server shut "
                       "down; still waiting";
    }
    stopped_ = true;
  }
  for (auto& cq : cqs_) cq->Shutdown();
  if (threads_.empty()) {
    // Never started: nothing was requested, so the queues hold nothing.
    void* tag = nullptr;
    bool ok = false;
    for (auto& cq : cqs_) {
      while (cq->Next(&tag, &ok)) {
      }
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

grpc::ServerUnaryReactor* AlertServiceImpl::ListAlerts(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ListAlertsRequest parsed;
  absl::Status checked = CheckDeadline(*context);
  if (checked.ok()) checked = ParseMessage(*request, &parsed);
  if (checked.ok()) {
    checked = AlertFilter::CheckLimits(parsed.filter(),
                                       request_limits_.max_filter_entries);
  }
  if (!checked.ok()) {
    reactor->Finish(ToGrpcStatus(checked));
    return reactor;
  }
  auto page = ListLoggedAlerts(*hub_, parsed);
  if (!page.ok()) {
    reactor->Finish(ToGrpcStatus(page.status()));
    return reactor;
  }
  std::vector<grpc::Slice> slices = EncodeListAlertsResponse(*page);
  *response = grpc::ByteBuffer(slices.data(), slices.size());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace tariffalert
