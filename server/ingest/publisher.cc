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
#include "server/common/quote.h"
#include "server/common/status_macros.h"
#include "server/ingest/alert_builder.h"
#include "server/ingest/event_validator.h"
#include "server/metrics/metrics.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {
namespace {

// Attempts at a publish when other replicas keep changing the stored book.
constexpr int kMaxAttempts = 8;
// Snap-backs published in one clock move at most (each is one measure).
constexpr int kMaxSnapBacks = 1000;

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

}  // namespace

v1::PublishEventResponse PriorResponse(const PriorEvent& prior) {
  v1::PublishEventResponse r;
  r.ParseFromString(prior.response);
  if (r.alert_count() > 0) {
    r.set_first_sequence(prior.first_sequence);
    r.set_last_sequence(prior.first_sequence + r.alert_count() - 1);
  }
  r.set_duplicate(true);
  return r;
}

namespace {

void FillRateChanges(const ScoredStep& step, v1::PublishEventResponse& r) {
  const TariffAction& action = step.book.action;
  for (const BookRateChange& c : step.book.changes) {
    v1::RateChange* rc = r.add_rate_changes();
    rc->set_target_country(c.target);
    rc->set_product_code(c.product.ToString());
    rc->set_previous_rate_pct(c.previous_rate_pct);
    rc->set_new_rate_pct(c.new_rate_pct);
    // News quotes the rate with or without the base (MFN) rate: "145% on
    // Chinese goods" is the additional duties.
    const double additional = c.previous_rate_pct - c.base_pct;
    if (!action.snap_back && action.previous_rate_pct &&
        std::abs(*action.previous_rate_pct - c.previous_rate_pct) > 1e-9 &&
        std::abs(*action.previous_rate_pct - additional) > 1e-9) {
      std::string warning = absl::StrFormat(
          "previous_rate_pct %g differs from the book's %g%% for %s goods (%s) "
          "into %s (%g%% without the %g%% base rate); the change was computed "
          "from the book",
          *action.previous_rate_pct, c.previous_rate_pct, c.target,
          c.product.ToString(), action.importer.ToString(), additional,
          c.base_pct);
      TA_LOG(WARNING) << "event " << action.event_id << ": " << warning;
      r.add_warnings(std::move(warning));
    }
  }
}

// protobuf serializes a string field that is not UTF-8 as it is, with only a
// log line naming the field, and every reader then refuses the bytes: a
// stream's whole batch, every replica's log tailer, ListAlerts, GetEvent. The
// exposure loader refuses such text (docs/exposure-format.md); this is the
// last check, before anything is stored: the event fails whole rather than
// going out without one company's alert (and with a portfolio total that
// leaves it out).
absl::Status CheckParsesBack(const v1::Alert& alert, const std::string& bytes,
                             const std::string& exposure_version) {
  v1::Alert parsed;
  if (parsed.ParseFromString(bytes)) return absl::OkStatus();
  const std::string message = absl::StrCat(
      "alert ", alert.alert_id(), " of event ", alert.event_id(), " for ",
      alert.subject(),
      " cannot be encoded: a text field is not valid UTF-8 (exposure version ",
      exposure_version,
      "); nothing was published: load a corrected exposure table and retry "
      "with the same event_id");
  TA_LOG(ERROR) << message;
  return absl::InternalError(message);
}

// The book's gauges (revision, pauses still to snap back).
void ReportBook(const TariffBook& book) {
  uint64_t pauses = 0;
  for (const auto& [id, measure] : book.measures()) {
    if (measure.pause.has_value()) ++pauses;
  }
  metrics::SetBook(book.revision(), pauses);
}

// ScoreStep, timed.
absl::StatusOr<ScoredStep> TimedScoreStep(const TariffBook& book,
                                          const TariffAction& action,
                                          const v1::TariffEvent& event,
                                          const ExposureTable& table,
                                          const ScoringParams& params) {
  const metrics::Stopwatch stopwatch;
  absl::StatusOr<ScoredStep> scored =
      ScoreStep(book, action, event, table, params);
  metrics::EventScored(stopwatch.Seconds());
  return scored;
}

}  // namespace

Publisher::Publisher(PublisherOptions options, ExposureSource exposure,
                     const ScoringParams& params, AlertHub* hub,
                     const Clock& clock, EventLog* log)
    : options_(options),
      exposure_(std::move(exposure)),
      params_(params),
      hub_(hub),
      clock_(clock),
      log_(log) {}

absl::Status Publisher::Init() {
  absl::MutexLock lock(&mu_);
  return Reload();
}

absl::Status Publisher::Reload() {
  auto book = log_->LoadBook();
  if (!book.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the tariff book could not be read: ", book.status().message()));
  }
  book_ = *std::move(book);
  book_from_log_ = true;
  stale_ = false;
  ReportBook(book_);
  return absl::OkStatus();
}

void Publisher::Invalidate(const InFlight& failed) {
  if (failed.generation != generation_) return;  // read again since
  ++generation_;
  stale_ = true;
  if (in_flight_ == 0 && book_.revision() == failed.next->revision()) {
    book_ = failed.base;
  }
}

uint64_t Publisher::book_revision() const {
  absl::MutexLock lock(&mu_);
  return book_.revision();
}

absl::StatusOr<TariffBook> Publisher::CurrentBook() {
  if (!store_reachable()) {
    return absl::UnavailableError(
        "Redis is unreachable (the tariff book lives there): retry later");
  }
  absl::MutexLock lock(&mu_);
  // With commits on their way the log is behind book_: show book_, which
  // other replicas' changes reach as the conflicts of those commits.
  if (in_flight_ == 0) TA_RETURN_IF_ERROR(Reload());
  return book_;
}

std::optional<PublishedEvent> Publisher::FindEvent(
    const std::string& event_id) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(event_id);
  if (it == published_.end()) return std::nullopt;
  return it->second.record;
}

absl::Status Publisher::Unreachable() const {
  return absl::UnavailableError(
      "Redis is unreachable (the tariff book and the alert log live there); "
      "nothing was done: retry later with the same event_id");
}

absl::StatusOr<std::optional<PublishedEvent>> Publisher::LookUpEvent(
    const std::string& event_id) {
  if (auto found = FindEvent(event_id)) return found;
  if (!store_reachable()) return Unreachable();
  // Outside mu_: a read of Redis must not hold up publishes.
  auto prior = log_->FindEvent(event_id);
  if (!prior.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the event record could not be read from Redis (",
                     prior.status().message(), "); retry later"));
  }
  if (!prior->has_value()) return std::nullopt;
  PublishedEvent found;
  found.event.set_event_id(event_id);
  found.response = PriorResponse(**prior);
  found.response.set_duplicate(false);
  found.from_record = true;
  return found;
}

absl::Status Publisher::CheckEventTimes(const TariffAction& a) const {
  const absl::Time wall = clock_.Now();
  const std::pair<const char*, const std::optional<absl::Time>*> times[] = {
      {"announced_time", &a.announced_time},
      {"effective_time", &a.effective_time},
      {"expires_time", &a.expires_time}};
  for (const auto& [field, t] : times) {
    if (t->has_value() && **t > wall + options_.max_event_lead) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event.", field, ": ", FormatEventTime(**t), " is more than ",
          absl::ToInt64Hours(options_.max_event_lead) / 24,
          " days ahead of now (", FormatEventTime(wall),
          "): a typo in the year?"));
    }
  }
  if (options_.book_clock != BookClock::kWall) return absl::OkStatus();
  // Stages whose effect on the book is immediate; a threat or announcement
  // is a plan, and may be dated as far ahead as it says.
  if (a.stage == Stage::kThreatened || a.stage == Stage::kAnnounced) {
    return absl::OkStatus();
  }
  const std::optional<absl::Time> t = a.EventTime();
  if (!t || *t <= wall + options_.max_clock_skew) return absl::OkStatus();
  const char* field = a.effective_time ? "effective_time" : "announced_time";
  return absl::FailedPreconditionError(absl::StrCat(
      "event.", field, ": ", FormatEventTime(*t),
      " is ahead of the book's clock (", FormatEventTime(wall),
      ") by more than ", absl::FormatDuration(options_.max_clock_skew),
      ", and a STAGE_", StageName(a.stage),
      " event changes the book when it is published: publish it as "
      "STAGE_ANNOUNCED now and as STAGE_",
      StageName(a.stage), " when it takes effect"));
}

void Publisher::Remember(const std::string& event_id, uint64_t fingerprint,
                         PublishedEvent record) {
  published_.insert_or_assign(event_id,
                              Published{fingerprint, std::move(record)});
  published_order_.push_back(event_id);
  while (published_order_.size() > options_.dedupe_capacity) {
    published_.erase(published_order_.front());
    published_order_.pop_front();
  }
}

absl::StatusOr<std::unique_ptr<Publisher::InFlight>> Publisher::Plan(
    const ScoredStep& step, const ExposureTable& table, uint64_t fingerprint,
    v1::PublishEventResponse& response) {
  auto f = std::make_unique<InFlight>();
  f->next = step.book.next;
  const TariffBook& next = *f->next;
  AlertContext context;
  context.exposure_version = table.version();
  context.book_revision = next.revision();
  context.probability = step.book.probability;
  context.created = clock_.Now();
  f->alerts.resize(step.scores.subjects.size());
  for (v1::Alert*& a : f->alerts) {
    a = google::protobuf::Arena::CreateMessage<v1::Alert>(&f->arena);
  }
  EventCommit& commit = f->commit;
  commit.event_id = step.book.action.event_id;
  commit.fingerprint = fingerprint;
  commit.expected_revision = book_.revision();
  commit.chained = !book_from_log_;
  commit.next_book = f->next.get();
  commit.alerts.reserve(f->alerts.size());
  for (size_t i = 0; i < f->alerts.size(); ++i) {
    BuildAlert(step.scores.subjects[i], step.book.action, step.event, context,
               params_, *f->alerts[i]);
    // The bytes are made once, here, and checked before anything is
    // stored. The text comes from the table and the event (parsed, so
    // UTF-8): a table whose text is all UTF-8 makes alerts that parse back,
    // without parsing each.
    std::string bytes = f->alerts[i]->SerializeAsString();
    if (!table.text_is_utf8()) {
      TA_RETURN_IF_ERROR(
          CheckParsesBack(*f->alerts[i], bytes, table.version()));
    }
    commit.alerts.push_back(std::move(bytes));
  }
  response.set_book_revision(next.revision());
  if (!f->alerts.empty()) {
    response.set_alert_count(static_cast<uint32_t>(f->alerts.size()));
  }
  commit.response = response.SerializeAsString();
  f->generation = generation_;
  // The next plan starts from this one's book.
  f->base = std::move(book_);
  book_ = next;
  book_from_log_ = false;
  ++in_flight_;
  absl::MutexLock lock(&queue_mu_);
  queue_.push_back(f.get());
  return f;
}

void Publisher::CommitBatch(absl::Span<InFlight* const> batch) {
  std::vector<const EventCommit*> commits;
  commits.reserve(batch.size());
  for (InFlight* f : batch) commits.push_back(&f->commit);
  std::vector<absl::StatusOr<CommitOutcome>> outcomes = log_->Commit(commits);
  for (size_t i = 0; i < batch.size(); ++i) {
    InFlight& f = *batch[i];
    f.outcome = std::move(outcomes[i]);
    if (!f.outcome.ok() || f.outcome->kind != CommitOutcome::kCommitted ||
        f.alerts.empty()) {
      continue;
    }
    // Straight to this replica's streams, in sequence order (the batch is
    // in log order); held by the hub if another replica's alerts logged
    // before them are not read yet.
    uint64_t sequence = f.outcome->first_sequence;
    std::vector<EncodedAlertPtr> encoded;
    encoded.reserve(f.alerts.size());
    for (size_t k = 0; k < f.alerts.size(); ++k, ++sequence) {
      f.alerts[k]->set_sequence(sequence);
      encoded.push_back(EncodeAlert(
          *f.alerts[k], AlertBytesWithSequence(sequence, f.commit.alerts[k])));
    }
    hub_->Offer(encoded);
  }
}

void Publisher::Send(InFlight* mine) {
  // Commits per round trip at most.
  constexpr size_t kMaxBatch = 64;
  absl::MutexLock lock(&queue_mu_);
  while (!mine->done) {
    if (sending_) {
      // Another publisher is sending: wait until it sent ours, or stopped.
      struct Args {
        const InFlight* mine;
        const bool* sending;
      } args{mine, &sending_};
      queue_mu_.Await(absl::Condition(
          +[](Args* a) { return a->mine->done || !*a->sending; }, &args));
      continue;
    }
    sending_ = true;
    while (!queue_.empty()) {
      std::vector<InFlight*> batch;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      queue_mu_.Unlock();
      CommitBatch(batch);
      queue_mu_.Lock();
      for (InFlight* f : batch) f->done = true;
    }
    sending_ = false;
  }
}

absl::StatusOr<Publisher::Committed> Publisher::Commit(
    const ScoredStep& step, const ExposureTable& table, uint64_t fingerprint,
    v1::PublishEventResponse& response) {
  auto planned = Plan(step, table, fingerprint, response);
  if (!planned.ok()) return planned.status();
  InFlight& f = **planned;
  // The round trip without mu_: the next publishes plan meanwhile, and
  // their commits go in the round trip after this one (or with it).
  mu_.Unlock();
  Send(&f);
  mu_.Lock();
  --in_flight_;
  const absl::StatusOr<CommitOutcome>& outcome = f.outcome;
  if (!outcome.ok()) {
    Invalidate(f);
    if (absl::IsDeadlineExceeded(outcome.status())) {
      return absl::UnavailableError(absl::StrCat(
          "outcome unknown: retry with the same event_id, which is "
          "idempotent (the event was sent to Redis but not confirmed, so it "
          "may have been stored: ",
          outcome.status().message(), ")"));
    }
    return absl::UnavailableError(
        absl::StrCat("the tariff book and the alert log could not be stored (",
                     outcome.status().message(),
                     "); nothing was published: retry with the same event_id"));
  }
  switch (outcome->kind) {
    case CommitOutcome::kBookConflict:
      Invalidate(f);
      return Committed::kBookConflict;
    case CommitOutcome::kDuplicate:
      Invalidate(f);
      if (outcome->prior.fingerprint != fingerprint) {
        return absl::AlreadyExistsError(
            absl::StrCat("event.event_id: ", QuoteForError(f.commit.event_id),
                         " was already published with different content; "
                         "use a new event_id"));
      }
      response = PriorResponse(outcome->prior);
      return Committed::kDuplicate;
    case CommitOutcome::kCommitted:
      break;
  }
  ReportBook(*f.next);
  metrics::AlertsProduced(f.alerts.size());
  if (!f.alerts.empty()) {
    response.set_first_sequence(outcome->first_sequence);
    response.set_last_sequence(outcome->first_sequence + f.alerts.size() - 1);
  }
  return Committed::kCommitted;
}

absl::Status Publisher::Advance(absl::Time t, const ExposureTable& table,
                                int* published) {
  for (int i = 0; i < kMaxSnapBacks; ++i) {
    if (stale_) TA_RETURN_IF_ERROR(Reload());
    std::vector<TariffAction> due = book_.DueSnapBacks(t);
    if (due.empty()) break;
    const TariffAction& a = due.front();
    auto step = TimedScoreStep(book_, a, SnapBackEvent(a), table, params_);
    if (!step.ok()) return step.status();  // a paused measure is in force
    v1::PublishEventResponse response;
    response.set_event_id(a.event_id);
    response.set_exposure_version(table.version());
    FillRateChanges(*step, response);
    const uint64_t fingerprint = Fingerprint(step->event);
    auto committed = Commit(*step, table, fingerprint, response);
    if (!committed.ok()) return committed.status();
    if (*committed != Committed::kCommitted) {
      // Another replica changed the book, or published this very snap-back:
      // book_ is read again before the next plan.
      continue;
    }
    TA_LOG(INFO) << "pause on " << a.measure_id << " lapsed: published "
                 << a.event_id << " (" << response.alert_count()
                 << " alerts, book revision " << book_.revision() << ")";
    Remember(a.event_id, fingerprint, PublishedEvent{step->event, response});
    if (published != nullptr) ++*published;
  }
  book_.AdvanceClock(t);
  return absl::OkStatus();
}

absl::StatusOr<int> Publisher::PublishDue() {
  if (options_.book_clock != BookClock::kWall) return 0;
  const std::shared_ptr<const ExposureTable> table = exposure_();
  absl::MutexLock lock(&mu_);
  // Another replica may have changed the book since this one last wrote it.
  // With commits of this one on their way, book_ is ahead of the log, and
  // another replica's change shows as their conflict instead.
  if (in_flight_ == 0) TA_RETURN_IF_ERROR(Reload());
  int published = 0;
  TA_RETURN_IF_ERROR(Advance(clock_.Now(), *table, &published));
  return published;
}

absl::StatusOr<v1::PublishEventResponse> Publisher::Publish(
    const v1::TariffEvent& event, absl::Time deadline) {
  const metrics::Stopwatch stopwatch;
  auto response = PublishImpl(event, deadline);
  metrics::EventPublished(
      event.stage(),
      metrics::PublishResultOf(response.status(),
                               response.ok() && response->duplicate()),
      stopwatch.Seconds());
  return response;
}

absl::StatusOr<v1::PublishEventResponse> Publisher::PublishImpl(
    const v1::TariffEvent& event, absl::Time deadline) {
  auto action = ValidateEvent(event, params_);
  if (!action.ok()) return action.status();
  const uint64_t fingerprint = Fingerprint(event);
  const std::shared_ptr<const ExposureTable> table = exposure_();
  if (!store_reachable()) return Unreachable();

  absl::MutexLock lock(&mu_);
  auto repeat = [&](uint64_t first_fingerprint,
                    v1::PublishEventResponse first_response)
      -> absl::StatusOr<v1::PublishEventResponse> {
    if (first_fingerprint != fingerprint) {
      return absl::AlreadyExistsError(
          absl::StrCat("event.event_id: ", QuoteForError(event.event_id()),
                       " was already published with different content; use a "
                       "new event_id"));
    }
    first_response.set_duplicate(true);
    return first_response;
  };
  if (auto it = published_.find(event.event_id()); it != published_.end()) {
    return repeat(it->second.fingerprint, it->second.record.response);
  }
  // A repeat of a published event was answered above, whatever its dates.
  TA_RETURN_IF_ERROR(CheckEventTimes(*action));
  // Publishes are serialized: this one may have waited behind others.
  if (!store_reachable()) return Unreachable();
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError(
        "the call's deadline passed while it waited for earlier publishes; "
        "nothing was published: retry with the same event_id");
  }
  // An event published before by another replica, or before a restart, is
  // found by the commit (which stores nothing then), or, if the book refuses
  // it now (e.g. a REVOKED that already happened), by its record below: no
  // extra round trip to Redis on the way of a new event.

  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (stale_) TA_RETURN_IF_ERROR(Reload());
    std::optional<absl::Time> now = options_.book_clock == BookClock::kWall
                                        ? std::optional(clock_.Now())
                                        : action->EventTime();
    if (now && options_.book_clock == BookClock::kWall) {
      TA_RETURN_IF_ERROR(Advance(*now, *table));
    } else if (now) {
      // The event's own time: a pause lapsing at that instant gives way to
      // it (JustBefore).
      TA_RETURN_IF_ERROR(Advance(JustBefore(*now), *table));
      book_.AdvanceClock(*now);
    }
    auto step = TimedScoreStep(book_, *action, event, *table, params_);
    if (!step.ok()) {
      // Perhaps published already (a REVOKED that happened): its record
      // says, read without mu_, which the next publishes plan under.
      mu_.Unlock();
      auto prior = log_->FindEvent(event.event_id());
      mu_.Lock();
      if (prior.ok() && prior->has_value()) {
        if ((*prior)->fingerprint == fingerprint) {
          v1::PublishEventResponse first = PriorResponse(**prior);
          first.set_duplicate(false);
          Remember(event.event_id(), fingerprint,
                   PublishedEvent{event, std::move(first)});
        }
        return repeat((*prior)->fingerprint, PriorResponse(**prior));
      }
      return step.status();
    }

    v1::PublishEventResponse response;
    response.set_event_id(event.event_id());
    response.set_exposure_version(table->version());
    FillRateChanges(*step, response);
    if (table->companies().empty()) {
      response.add_warnings(
          "no exposure table is loaded: no company was scored");
    }
    auto committed = Commit(*step, *table, fingerprint, response);
    if (!committed.ok()) return committed.status();
    // A conflict: the book is read again (stale_) and the event planned on
    // it.
    if (*committed == Committed::kBookConflict) continue;
    if (*committed == Committed::kDuplicate) {
      // The same event_id, committed first by another replica, or by an
      // attempt of this one whose answer was lost (a timeout): the same
      // content, so GetEvent shows it as sent.
      v1::PublishEventResponse first = response;
      first.set_duplicate(false);
      Remember(event.event_id(), fingerprint,
               PublishedEvent{event, std::move(first)});
      return response;
    }
    Remember(event.event_id(), fingerprint, PublishedEvent{event, response});
    // The RPC's own line (services.cc) says it at info, with the caller.
    TA_LOG(DEBUG)
            .With("event_id", event.event_id())
            .With("measure_id", step->book.action.measure_id)
            .With("alert_count", response.alert_count())
            .With("book_revision", book_.revision())
        << "committed to the book and the log";
    return response;
  }
  return absl::AbortedError(
      "the tariff book kept changing under publishes on other replicas; "
      "retry with the same event_id");
}

}  // namespace tariffalert
