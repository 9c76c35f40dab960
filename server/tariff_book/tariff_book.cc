#include "server/tariff_book/tariff_book.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tariffalert {

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::kThreatened:
      return "THREATENED";
    case Stage::kAnnounced:
      return "ANNOUNCED";
    case Stage::kEffective:
      return "EFFECTIVE";
    case Stage::kPaused:
      return "PAUSED";
    case Stage::kExtended:
      return "EXTENDED";
    case Stage::kRevoked:
      return "REVOKED";
  }
  return "?";
}

namespace {

bool InList(const std::vector<Country>& list, Country c) {
  for (Country t : list) {
    if (t == c || (t.is_eu() && c.IsEuMember())) return true;
  }
  return false;
}

}  // namespace

bool TariffAction::TargetsCountry(Country exporter) const {
  if (exporter.SameBloc(importer)) return false;
  if (targets.empty()) return !InList(excluded_targets, exporter);
  for (Country t : targets) {
    if (t == exporter || (t.is_eu() && exporter.IsEuMember())) return true;
  }
  return false;
}

namespace {

absl::Status Precondition(absl::string_view field, absl::string_view message) {
  return absl::FailedPreconditionError(
      absl::StrCat("event.", field, ": ", message));
}

absl::Status Invalid(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("event.", field, ": ", message));
}

template <typename T>
std::vector<T> Sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

template <typename T>
std::string JoinOrStar(const std::vector<T>& v) {
  if (v.empty()) return "*";
  std::vector<std::string> parts;
  for (const T& x : v) parts.push_back(x.ToString());
  return absl::StrJoin(parts, ",");
}

// Does scope `s` of a measure reach goods of `q`? All goods reaches
// everything; a chapter reaches itself and its headings; a heading itself.
// A chapter or heading does not reach the all-goods rate.
bool Reaches(HsCode s, HsCode q) {
  if (s.is_all()) return true;
  if (q.is_all()) return false;
  return s == q || (q.is_heading() && s == q.Parent());
}

// The first field of an event's scope that differs from the measure's.
const char* ScopeFieldThatDiffers(const Measure& event, const Measure& m) {
  if (event.targets != m.targets) return "target_countries";
  if (event.excluded_targets != m.excluded_targets) {
    return "excluded_target_countries";
  }
  if (event.products != m.products) return "product_codes";
  if (event.excluded != m.excluded) return "excluded_product_codes";
  return "channels";
}

const char* TermFieldThatDiffers(const MeasureTerms& a, const MeasureTerms& b) {
  if (a.authority != b.authority) return "authority";
  if (a.combination != b.combination) return "combination";
  if (a.not_with != b.not_with) return "not_with";
  return "on_content";
}

// "all", or the channels a measure reaches: "general,low-value (de minimis)".
std::string ChannelsText(uint8_t channels) {
  if (channels == kAllChannels) return "all";
  std::vector<std::string> names;
  for (Channel c : {Channel::kGeneral, Channel::kUsmca, Channel::kLowValue}) {
    if (channels & static_cast<uint8_t>(c)) names.push_back(ChannelName(c));
  }
  return absl::StrJoin(names, ",");
}

}  // namespace

bool Measure::Covers(Country exporter, HsCode product) const {
  if (!exporter.valid()) {
    if (!targets.empty()) return false;
  } else {
    if (exporter.SameBloc(importer)) return false;
    if (targets.empty() && InList(excluded_targets, exporter)) return false;
    if (!targets.empty()) {
      bool hit = false;
      for (Country t : targets) {
        if (t == exporter || (t.is_eu() && exporter.IsEuMember())) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
  }
  if (!products.empty()) {
    bool hit = false;
    for (HsCode s : products) {
      if (Reaches(s, product)) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  if (!product.is_all()) {
    for (HsCode e : excluded) {
      if (Reaches(e, product)) return false;
    }
  }
  return true;
}

double Measure::PricedRate() const {
  const double r = in_force ? rate_pct : 0;
  if (!pending) return r;
  return r + pending->probability * (pending->rate_pct - r);
}

bool Measure::SameScope(const Measure& o) const {
  return importer == o.importer && targets == o.targets &&
         products == o.products && excluded == o.excluded &&
         excluded_targets == o.excluded_targets && channels == o.channels;
}

std::string TariffBook::DefaultMeasureId(const TariffAction& a) {
  std::string id = absl::StrCat(a.importer.ToString(), ">",
                                JoinOrStar(Sorted(a.targets)), ":",
                                JoinOrStar(Sorted(a.products)));
  if (!a.excluded.empty()) {
    absl::StrAppend(&id, "-x", JoinOrStar(Sorted(a.excluded)));
  }
  if (!a.excluded_targets.empty()) {
    absl::StrAppend(&id, "-not", JoinOrStar(Sorted(a.excluded_targets)));
  }
  if (a.channels != kAllChannels) {
    absl::StrAppend(&id, "-ch", static_cast<int>(a.channels));
  }
  return id;
}

TariffBook TariffBook::FromParts(uint64_t revision, absl::Time clock,
                                 std::map<std::string, Measure> measures) {
  TariffBook b;
  b.revision_ = revision;
  b.clock_ = clock;
  b.measures_ = std::move(measures);
  return b;
}

double TariffBook::Rate(Country importer, Country exporter, HsCode product,
                        const BaseRates* base, Channel channel) const {
  StackQuery q;
  q.importer = importer;
  q.exporter = exporter;
  q.product = product;
  q.channel = channel;
  return Stack(q, base).total_pct;
}

RateStack TariffBook::Stack(const StackQuery& q, const BaseRates* base) const {
  if (q.exporter.valid() && q.exporter.SameBloc(q.importer)) return {};
  std::vector<StackLine> lines;
  for (const auto& [id, m] : measures_) {
    if (m.importer != q.importer || !m.Covers(q.exporter, q.product)) continue;
    StackLine line;
    line.measure = &m;
    if ((m.channels & static_cast<uint8_t>(q.channel)) == 0) {
      line.reason = StackReason::kOutsideChannel;
    }
    const double p = priced_ && m.pending ? m.pending->probability : 0;
    if (m.in_force) {
      line.rate_pct = m.rate_pct;
      line.weight = 1 - p;
      lines.push_back(line);
    } else if (!priced_ || !m.pending) {
      line.reason = StackReason::kPending;
      lines.push_back(line);
    }
    if (p > 0) {
      // The pending change, priced at its probability (StackLine::weight).
      line.rate_pct = m.pending->rate_pct;
      line.terms = &m.pending->terms;
      line.weight = p;
      lines.push_back(line);
    }
  }
  return StackRates(
      std::move(lines),
      base != nullptr ? base->Find(q.importer, q.product) : nullptr, q);
}

TariffBook TariffBook::Priced() const {
  TariffBook b = *this;
  b.priced_ = true;
  return b;
}

std::vector<const Measure*> TariffBook::MeasuresFor(Country importer,
                                                    Country exporter,
                                                    HsCode product) const {
  std::vector<const Measure*> out;
  for (const auto& [id, m] : measures_) {
    if (m.importer == importer && m.Covers(exporter, product)) {
      out.push_back(&m);
    }
  }
  return out;
}

std::vector<TariffAction> TariffBook::DueSnapBacks(absl::Time t) const {
  std::vector<const Measure*> due;
  for (const auto& [id, m] : measures_) {
    if (m.pause && m.pause->expires <= t) due.push_back(&m);
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const Measure* a, const Measure* b) {
                     return a->pause->expires < b->pause->expires;
                   });
  std::vector<TariffAction> out;
  for (const Measure* m : due) {
    TariffAction a;
    a.event_id = absl::StrCat(
        m->id, "/snap-back/",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", m->pause->expires,
                         absl::UTCTimeZone()));
    a.importer = m->importer;
    a.targets = m->targets;
    a.products = m->products;
    a.excluded = m->excluded;
    a.excluded_targets = m->excluded_targets;
    a.channels = m->channels;
    a.terms = m->terms;
    a.terms_given = true;
    a.stage = Stage::kEffective;
    a.new_rate_pct = m->pause->snap_back_rate_pct;
    a.previous_rate_pct = m->rate_pct;
    a.probability = 1;
    a.measure_id = m->id;
    a.effective_time = m->pause->expires;
    a.snap_back = true;
    out.push_back(std::move(a));
  }
  return out;
}

bool TariffBook::ChannelsDiffer() const {
  for (const auto& [id, m] : measures_) {
    if (m.channels != kAllChannels) return true;
  }
  return false;
}

void TariffBook::AdvanceClock(absl::Time t) {
  if (t > clock_) clock_ = t;
}

// TariffBook::Plan, stage by stage: Resolve finds the measure the action acts
// on, its scope and how it stacks; one function per stage moves the measure
// in a copy of the book; Score works out what the scorer compares.
class TariffBookPlanner {
 public:
  TariffBookPlanner(const TariffBook& book, const TariffAction& action,
                    const BaseRates* base)
      : book_(book), base_(base), next_(book) {
    step_.action = action;
  }

  absl::StatusOr<BookStep> Run() {
    if (absl::Status s = Resolve(); !s.ok()) return s;
    absl::Status s;
    switch (a().stage) {
      case Stage::kThreatened:
      case Stage::kAnnounced:
        s = Threaten();
        break;
      case Stage::kEffective:
        s = Enforce();
        break;
      case Stage::kPaused:
        s = Pause();
        break;
      case Stage::kExtended:
        s = Extend();
        break;
      case Stage::kRevoked:
        s = Revoke();
        break;
    }
    if (!s.ok()) return s;
    ++next_.revision_;
    Score();
    return std::move(step_);
  }

 private:
  TariffAction& a() { return step_.action; }

  // The measure: the one the event names or its default, with the scope the
  // event gives or, for stages that act on a measure as it stands, the
  // measure's; and how it stacks: as the event states it, else as it stood.
  absl::Status Resolve() {
    TariffAction& a = step_.action;
    const bool named = !a.measure_id.empty();
    if (!named) a.measure_id = TariffBook::DefaultMeasureId(a);
    quoted_ = absl::StrCat("'", a.measure_id, "'");

    proposed_.id = a.measure_id;
    proposed_.importer = a.importer;
    proposed_.targets = Sorted(a.targets);
    proposed_.products = Sorted(a.products);
    proposed_.excluded = Sorted(a.excluded);
    proposed_.excluded_targets = Sorted(a.excluded_targets);
    proposed_.channels = a.channels;

    auto it = book_.measures_.find(a.measure_id);
    m_ = it == book_.measures_.end() ? nullptr : &it->second;
    if (m_ != nullptr && m_->importer != a.importer) {
      return Invalid("imposing_country",
                     absl::StrCat("measure ", quoted_, " is imposed by ",
                                  m_->importer.ToString(), ", not ",
                                  a.importer.ToString()));
    }
    const bool scope_given = !a.targets.empty() || !a.products.empty() ||
                             !a.excluded.empty() ||
                             !a.excluded_targets.empty() ||
                             a.channels != kAllChannels;
    // Stages that act on an existing measure as it stands; any stage does
    // when the event names the measure and leaves the scope out entirely (an
    // empty target list would otherwise mean all partners).
    const bool acts_on_existing =
        a.stage == Stage::kPaused || a.stage == Stage::kExtended ||
        a.stage == Stage::kRevoked || (named && !scope_given);
    if (m_ != nullptr && acts_on_existing) {
      if (scope_given && !proposed_.SameScope(*m_)) {
        return Invalid(ScopeFieldThatDiffers(proposed_, *m_),
                       absl::StrCat("the scope differs from measure ", quoted_,
                                    "'s (", ScopeText(*m_),
                                    "); leave target_countries, "
                                    "excluded_target_countries, "
                                    "product_codes, excluded_product_codes "
                                    "and channels empty to act on the "
                                    "measure as it stands"));
      }
      a.targets = m_->targets;
      a.products = m_->products;
      a.excluded = m_->excluded;
      a.excluded_targets = m_->excluded_targets;
      a.channels = m_->channels;
      proposed_ = *m_;
    }
    if (m_ != nullptr && !a.terms_given) a.terms = m_->terms;
    if (m_ != nullptr && a.terms_given && !(a.terms == m_->terms) &&
        (a.stage == Stage::kExtended || a.stage == Stage::kRevoked)) {
      return Invalid(TermFieldThatDiffers(a.terms, m_->terms),
                     absl::StrCat(StageName(a.stage),
                                  " cannot change how measure ", quoted_,
                                  " stacks (authority, combination, "
                                  "not_with, on_content); leave them unset"));
    }
    proposed_.terms = a.terms;

    next_.priced_ = false;
    nm_ = &next_.measures_[a.measure_id];
    if (m_ == nullptr) *nm_ = proposed_;
    r0_ = m_ != nullptr && m_->in_force ? m_->rate_pct : 0;
    priced_before_ = m_ != nullptr ? m_->PricedRate() : 0;
    return absl::OkStatus();
  }

  // "targets CN, products *, excluded products *, channels all".
  static std::string ScopeText(const Measure& m) {
    return absl::StrCat("targets ", JoinOrStar(m.targets), ", products ",
                        JoinOrStar(m.products), ", excluded products ",
                        JoinOrStar(m.excluded), ", channels ",
                        ChannelsText(m.channels));
  }

  // The measure takes the proposed scope and terms.
  void TakeProposedScope() {
    nm_->targets = proposed_.targets;
    nm_->products = proposed_.products;
    nm_->excluded = proposed_.excluded;
    nm_->excluded_targets = proposed_.excluded_targets;
    nm_->channels = proposed_.channels;
    nm_->terms = proposed_.terms;
  }

  // THREATENED, ANNOUNCED: no rate changes; the measure remembers the change
  // as pending, and the move is scored against a book where it is in force.
  absl::Status Threaten() {
    const TariffAction& a = step_.action;
    const double r1 = *a.new_rate_pct;
    if (m_ != nullptr && m_->in_force && !proposed_.SameScope(*m_)) {
      return Precondition(
          ScopeFieldThatDiffers(proposed_, *m_),
          absl::StrCat("measure ", quoted_, " is in force on another scope (",
                       ScopeText(*m_),
                       "); a threat on a different scope needs its own "
                       "measure_id"));
    }
    // Only pending so far: the newest threat sets its scope.
    if (m_ != nullptr && !m_->in_force) TakeProposedScope();
    nm_->pending =
        PendingChange{a.stage, r1, a.probability, a.event_id, proposed_.terms};
    nm_->event_id = a.event_id;
    target_ = book_;
    target_->priced_ = false;
    Measure& tm = target_->measures_[a.measure_id];
    tm = *nm_;
    tm.terms = proposed_.terms;
    tm.pending.reset();
    tm.pause.reset();
    tm.in_force = true;
    tm.rate_pct = r1;
    full_move_ = r1 - r0_;
    expected_move_ = nm_->PricedRate() - priced_before_;
    return absl::OkStatus();
  }

  // EFFECTIVE: the measure is in force at the new rate on the event's scope;
  // a pause or pending change ends.
  absl::Status Enforce() {
    const TariffAction& a = step_.action;
    const double r1 = *a.new_rate_pct;
    const bool scope_changed = m_ != nullptr && !proposed_.SameScope(*m_);
    TakeProposedScope();
    nm_->in_force = true;
    nm_->rate_pct = r1;
    nm_->pause.reset();
    nm_->pending.reset();
    nm_->event_id = a.event_id;
    full_move_ = r1 - r0_;
    expected_move_ = scope_changed ? full_move_ : r1 - priced_before_;
    // The priced part was on the old scope: Score scores the change of the
    // priced-in rates instead.
    if (scope_changed && m_->pending) full_move_ = 0;
    return absl::OkStatus();
  }

  // PAUSED: the measure is in force at the lower rate until the expiry, when
  // it snaps back (to the event's snap_back_rate_pct, else the rate an
  // earlier pause snaps back to, else the rate in force).
  absl::Status Pause() {
    const TariffAction& a = step_.action;
    if ((m_ == nullptr || !m_->in_force) && !a.snap_back_rate_pct) {
      return Precondition(
          "measure_id",
          absl::StrCat("measure ", quoted_, " is not in force for ",
                       a.importer.ToString(),
                       ", so a pause has no rate to snap back to; set "
                       "snap_back_rate_pct"));
    }
    const double r1 = *a.new_rate_pct;
    MeasurePause pause;
    pause.snap_back_rate_pct =
        a.snap_back_rate_pct ? *a.snap_back_rate_pct
        : m_->pause          ? m_->pause->snap_back_rate_pct
                             : r0_;
    pause.expires = *a.expires_time;
    pause.event_id = a.event_id;
    nm_->terms = proposed_.terms;
    nm_->in_force = true;
    nm_->rate_pct = r1;
    nm_->pause = pause;
    nm_->pending.reset();
    nm_->event_id = a.event_id;
    full_move_ = r1 - r0_;
    expected_move_ = r1 - priced_before_;
    return absl::OkStatus();
  }

  // EXTENDED: a paused measure's expiry moves; no rate does.
  absl::Status Extend() {
    const TariffAction& a = step_.action;
    if (m_ == nullptr) {
      return Precondition("measure_id",
                          absl::StrCat("no measure ", quoted_, " in the book"));
    }
    if (!m_->pause) {
      return Precondition("stage",
                          absl::StrCat("EXTENDED needs a paused measure; ",
                                       quoted_, " is not paused"));
    }
    nm_->pause->expires = *a.expires_time;
    nm_->pause->event_id = a.event_id;
    nm_->event_id = a.event_id;
    return absl::OkStatus();
  }

  // REVOKED: the measure leaves the book.
  absl::Status Revoke() {
    if (m_ == nullptr) {
      return Precondition(
          "measure_id",
          absl::StrCat("no measure ", quoted_, " in the book to revoke"));
    }
    next_.measures_.erase(step_.action.measure_id);
    nm_ = nullptr;
    full_move_ = -r0_;
    expected_move_ = -priced_before_;
    return absl::OkStatus();
  }

  // The rate changes the step quotes, and the books and probability the
  // scorer compares (BookStep).
  void Score() {
    const TariffAction& a = step_.action;
    const TariffBook& after_book = target_ ? *target_ : next_;
    step_.changes = book_.Changes(a, after_book, base_);
    if (a.stage == Stage::kExtended) {
      // Nothing moves: `before` and `after` are this book.
      auto same = std::make_shared<const TariffBook>(book_);
      step_.before = same;
      step_.after = same;
      step_.probability = 1;
      step_.scored_changes = book_.Changes(a, book_, base_);
    } else {
      double share = -1;
      if (std::abs(full_move_) > 1e-12) {
        // Δ is the full move of the measure's rate; the scorer scales it by
        // the share not yet priced in (the event's probability for a first
        // threat, 1 - p for the EFFECTIVE stage of a threat priced at p).
        share = expected_move_ / full_move_;
        if (a.stage != Stage::kThreatened && a.stage != Stage::kAnnounced) {
          share *= a.probability;
        }
      }
      if (share >= 0 && share <= 1) {
        // `before` is this book (unpriced, as stored) and `after` the target.
        TariffBook before = book_;
        before.priced_ = false;
        step_.before = std::make_shared<const TariffBook>(std::move(before));
        step_.after = std::make_shared<const TariffBook>(after_book);
        step_.probability = share;
        step_.scored_changes = step_.changes;
      } else {
        // No move of the rate in force, a scope change under a pending
        // threat, or a priced-in part that overshoots the move (a threat
        // above the rate that came in): score the change of the priced-in
        // rates.
        step_.before = std::make_shared<const TariffBook>(book_.Priced());
        step_.after = std::make_shared<const TariffBook>(next_.Priced());
        step_.probability = 1;
        step_.scored_changes = step_.before->Changes(a, *step_.after, base_);
      }
    }
    next_.priced_ = false;
    step_.next = std::make_shared<const TariffBook>(std::move(next_));
  }

  const TariffBook& book_;
  const BaseRates* base_;
  BookStep step_;
  std::string quoted_;    // "'<measure_id>'", for messages
  Measure proposed_;      // the measure as the event states it
  const Measure* m_ = nullptr;  // the measure in the book, if any
  TariffBook next_;       // the book once the action is applied
  Measure* nm_ = nullptr;  // the measure in `next_`
  double r0_ = 0;          // the measure's rate in force
  double priced_before_ = 0;  // ... and its priced rate
  // The hypothetical book the rate change is scored against, when it is not
  // `next_` itself (THREATENED, ANNOUNCED).
  std::optional<TariffBook> target_;
  // The fully priced-in move of the measure's rate the scorer is given, and
  // the part of it not yet priced in.
  double full_move_ = 0;
  double expected_move_ = 0;
};

absl::StatusOr<BookStep> TariffBook::Plan(const TariffAction& action,
                                          const BaseRates* base) const {
  return TariffBookPlanner(*this, action, base).Run();
}

std::vector<BookRateChange> TariffBook::Changes(const TariffAction& action,
                                                const TariffBook& after,
                                                const BaseRates* base) const {
  std::vector<BookRateChange> out;
  std::vector<HsCode> products = action.products;
  if (products.empty()) products.push_back(HsCode::All());
  auto add = [&](const std::string& name, Country exporter, HsCode product) {
    const BaseRate* b =
        base != nullptr ? base->Find(action.importer, product) : nullptr;
    out.push_back(BookRateChange{
        name, product, Rate(action.importer, exporter, product, base),
        after.Rate(action.importer, exporter, product, base),
        b != nullptr ? b->rate_pct : 0});
  };
  for (HsCode product : products) {
    if (action.targets.empty()) {
      add("*", Country(), product);
      continue;
    }
    for (Country t : action.targets) {
      if (!t.is_eu()) {
        add(t.ToString(), t, product);
        continue;
      }
      // One line for the EU when its members moved alike, else one each.
      const size_t first = out.size();
      for (Country m : EuMembers()) add(m.ToString(), m, product);
      const bool alike = std::all_of(
          out.begin() + first, out.end(), [&](const BookRateChange& c) {
            return c.previous_rate_pct == out[first].previous_rate_pct &&
                   c.new_rate_pct == out[first].new_rate_pct;
          });
      if (alike) {
        BookRateChange eu = out[first];
        eu.target = "EU";
        out.resize(first);
        out.push_back(eu);
      }
    }
  }
  return out;
}

}  // namespace tariffalert
