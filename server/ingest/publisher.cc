#include "server/ingest/publisher.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/hash.h"
#include "server/common/log.h"
#include "server/ingest/event_validator.h"
#include "server/scoring/scorer.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {
namespace {

uint64_t Fingerprint(const v1::TariffEvent& event) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&out);
  }
  return Fnv1a64(bytes);
}

v1::Channel ToProto(ScoreChannel c) {
  switch (c) {
    case ScoreChannel::kImportCost:
      return v1::CHANNEL_IMPORT_COST;
    case ScoreChannel::kExport:
      return v1::CHANNEL_EXPORT;
    case ScoreChannel::kProtection:
      return v1::CHANNEL_PROTECTION;
  }
  return v1::CHANNEL_UNSPECIFIED;
}

void FillAlert(const SubjectScore& s, const v1::TariffEvent& event,
               v1::Alert& alert) {
  alert.set_event_id(event.event_id());
  const bool ticker = s.kind == ScoreSubjectKind::kTicker;
  alert.set_subject_kind(ticker ? v1::SUBJECT_KIND_TICKER
                                : v1::SUBJECT_KIND_SECTOR);
  alert.set_alert_id(
      absl::StrCat(event.event_id(), ticker ? "/T/" : "/S/", s.subject));
  alert.set_subject(s.subject);
  alert.set_name(s.name);
  alert.set_sector(s.sector);
  alert.set_country(s.country);
  alert.set_score_bps(s.score_bps);
  alert.set_severity(static_cast<v1::Severity>(static_cast<int>(s.severity)));
  alert.set_operating_profit_change_pct(s.operating_profit_change_pct);
  for (const Contribution& k : s.contributions) {
    v1::Contribution* c = alert.add_contributions();
    c->set_channel(ToProto(k.channel));
    c->set_country(k.country);
    c->set_product_code(k.product.ToString());
    c->set_delta_pct(k.delta_pct);
    c->set_exposure_share(k.exposure_share);
    c->set_revenue_share(k.revenue_share);
    c->set_market_factor(k.market_factor);
    c->set_cogs_ratio(k.cogs_ratio);
    c->set_sector_factor(k.sector_factor);
    c->set_partner_weight(k.partner_weight);
    c->set_probability(k.probability);
    c->set_bps(k.bps);
  }
  alert.set_explanation(s.explanation);
  alert.set_imposing_country(event.imposing_country());
  *alert.mutable_target_countries() = event.target_countries();
  *alert.mutable_product_codes() = event.product_codes();
  alert.set_stage(event.stage());
  alert.set_headline(event.headline());
}

bool ChangesBook(Stage stage) {
  return stage == Stage::kEffective || stage == Stage::kPaused ||
         stage == Stage::kRevoked;
}

}  // namespace

Publisher::Publisher(PublisherOptions options, ExposureSource exposure,
                     const ScoringParams& params, AlertHub* hub,
                     const Clock& clock)
    : options_(options),
      exposure_(std::move(exposure)),
      params_(params),
      hub_(hub),
      clock_(clock) {}

uint64_t Publisher::book_revision() const {
  absl::MutexLock lock(&mu_);
  return book_.revision();
}

absl::StatusOr<v1::PublishEventResponse> Publisher::Publish(
    const v1::TariffEvent& event) {
  auto action = ValidateEvent(event, params_);
  if (!action.ok()) return action.status();
  const uint64_t fingerprint = Fingerprint(event);

  absl::MutexLock lock(&mu_);
  if (auto it = published_.find(event.event_id()); it != published_.end()) {
    if (it->second.fingerprint != fingerprint) {
      return absl::AlreadyExistsError(
          absl::StrCat("event.event_id: '", event.event_id(),
                       "' was already published with different content; use a "
                       "new event_id"));
    }
    v1::PublishEventResponse repeat = it->second.response;
    repeat.set_duplicate(true);
    return repeat;
  }

  const std::shared_ptr<const ExposureTable> table = exposure_();
  TariffBook after = book_.After(*action);
  const ScoreResult scores =
      ScoreAction(*action, book_, after, *table, params_);

  v1::PublishEventResponse response;
  response.set_event_id(event.event_id());
  response.set_exposure_version(table->version());
  for (const BookRateChange& c : scores.changes) {
    v1::RateChange* rc = response.add_rate_changes();
    rc->set_target_country(c.target);
    rc->set_product_code(c.product.ToString());
    rc->set_previous_rate_pct(c.previous_rate_pct);
    rc->set_new_rate_pct(c.new_rate_pct);
    if (action->previous_rate_pct &&
        std::abs(*action->previous_rate_pct - c.previous_rate_pct) > 1e-9) {
      std::string warning = absl::StrFormat(
          "previous_rate_pct %g differs from the book's %g%% for %s goods (%s) "
          "into %s; the change was computed from the book",
          *action->previous_rate_pct, c.previous_rate_pct, c.target,
          c.product.ToString(), event.imposing_country());
      TA_LOG(WARNING) << "event " << event.event_id() << ": " << warning;
      response.add_warnings(std::move(warning));
    }
  }
  if (table->companies().empty()) {
    response.add_warnings("no exposure table is loaded: no company was scored");
  }
  if (ChangesBook(action->stage)) book_ = std::move(after);
  response.set_book_revision(book_.revision());

  const int64_t micros = absl::ToUnixMicros(clock_.Now());
  std::vector<EncodedAlertPtr> encoded;
  encoded.reserve(scores.subjects.size());
  v1::Alert alert;
  for (const SubjectScore& s : scores.subjects) {
    alert.Clear();
    alert.set_sequence(next_sequence_++);
    FillAlert(s, event, alert);
    alert.set_exposure_version(table->version());
    alert.set_book_revision(book_.revision());
    alert.set_model_version(params_.model_version());
    alert.mutable_created_time()->set_seconds(micros / 1000000);
    alert.mutable_created_time()->set_nanos(
        static_cast<int32_t>(micros % 1000000) * 1000);
    encoded.push_back(EncodeAlert(alert));
  }
  if (!encoded.empty()) {
    response.set_alert_count(static_cast<uint32_t>(encoded.size()));
    response.set_first_sequence(encoded.front()->sequence);
    response.set_last_sequence(encoded.back()->sequence);
    hub_->Publish(encoded);
  }

  published_.emplace(event.event_id(), Published{fingerprint, response});
  published_order_.push_back(event.event_id());
  while (published_order_.size() > options_.dedupe_capacity) {
    published_.erase(published_order_.front());
    published_order_.pop_front();
  }
  TA_LOG(INFO) << "published " << event.event_id() << ": " << encoded.size()
               << " alerts, book revision " << book_.revision();
  return response;
}

}  // namespace tariffalert
