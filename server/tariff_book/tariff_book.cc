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

absl::StatusOr<BookStep> TariffBook::Plan(const TariffAction& in,
                                          const BaseRates* base) const {
  BookStep step;
  TariffAction& a = step.action;
  a = in;
  const bool named = !a.measure_id.empty();
  if (!named) a.measure_id = DefaultMeasureId(a);

  Measure proposed;
  proposed.id = a.measure_id;
  proposed.importer = a.importer;
  proposed.targets = Sorted(a.targets);
  proposed.products = Sorted(a.products);
  proposed.excluded = Sorted(a.excluded);
  proposed.excluded_targets = Sorted(a.excluded_targets);
  proposed.channels = a.channels;

  auto it = measures_.find(a.measure_id);
  const Measure* m = it == measures_.end() ? nullptr : &it->second;
  const std::string quoted = absl::StrCat("'", a.measure_id, "'");
  if (m != nullptr && m->importer != a.importer) {
    return Invalid("imposing_country",
                   absl::StrCat("measure ", quoted, " is imposed by ",
                                m->importer.ToString(), ", not ",
                                a.importer.ToString()));
  }
  const bool scope_given = !a.targets.empty() || !a.products.empty() ||
                           !a.excluded.empty() || !a.excluded_targets.empty() ||
                           a.channels != kAllChannels;
  // Stages that act on an existing measure as it stands; any stage does when
  // the event names the measure and leaves the scope out entirely (an empty
  // target list would otherwise mean all partners).
  const bool acts_on_existing =
      a.stage == Stage::kPaused || a.stage == Stage::kExtended ||
      a.stage == Stage::kRevoked || (named && !scope_given);
  if (m != nullptr && acts_on_existing) {
    if (scope_given && !proposed.SameScope(*m)) {
      return Invalid(
          ScopeFieldThatDiffers(proposed, *m),
          absl::StrCat("the scope differs from measure ", quoted,
                       "'s (targets ", JoinOrStar(m->targets), ", products ",
                       JoinOrStar(m->products), ", excluded products ",
                       JoinOrStar(m->excluded), ", channels ",
                       ChannelsText(m->channels),
                       "); leave target_countries, excluded_target_countries, "
                       "product_codes, excluded_product_codes and channels "
                       "empty to act on the measure as it stands"));
    }
    // The event acts on the measure's scope.
    a.targets = m->targets;
    a.products = m->products;
    a.excluded = m->excluded;
    a.excluded_targets = m->excluded_targets;
    a.channels = m->channels;
    proposed = *m;
  }
  // How the measure stacks: as the event states it, else as it stood.
  if (m != nullptr && !a.terms_given) a.terms = m->terms;
  if (m != nullptr && a.terms_given && !(a.terms == m->terms) &&
      (a.stage == Stage::kExtended || a.stage == Stage::kRevoked)) {
    return Invalid(
        TermFieldThatDiffers(a.terms, m->terms),
        absl::StrCat(StageName(a.stage), " cannot change how measure ", quoted,
                     " stacks (authority, combination, not_with, "
                     "on_content); leave them unset"));
  }
  proposed.terms = a.terms;

  TariffBook next = *this;
  next.priced_ = false;
  Measure& nm = next.measures_[a.measure_id];
  if (m == nullptr) nm = proposed;
  const double r0 = m != nullptr && m->in_force ? m->rate_pct : 0;
  const bool had_pending = m != nullptr && m->pending.has_value();

  // The hypothetical book the rate change is scored against, when it is not
  // `next` itself (THREATENED, ANNOUNCED).
  std::optional<TariffBook> target;
  // The fully priced-in move of the measure's rate the scorer is given, and
  // the part of it not yet priced in.
  double full_move = 0;
  double expected_move = 0;
  const double priced_before = m != nullptr ? m->PricedRate() : 0;

  switch (a.stage) {
    case Stage::kThreatened:
    case Stage::kAnnounced: {
      const double r1 = *a.new_rate_pct;
      if (m != nullptr && m->in_force && !proposed.SameScope(*m)) {
        return Precondition(
            ScopeFieldThatDiffers(proposed, *m),
            absl::StrCat("measure ", quoted,
                         " is in force on another scope "
                         "(targets ",
                         JoinOrStar(m->targets), ", products ",
                         JoinOrStar(m->products), ", excluded products ",
                         JoinOrStar(m->excluded), ", channels ",
                         ChannelsText(m->channels),
                         "); a threat on a different "
                         "scope needs its own measure_id"));
      }
      if (m != nullptr && !m->in_force) {
        // Only pending so far: the newest threat sets its scope.
        nm.targets = proposed.targets;
        nm.products = proposed.products;
        nm.excluded = proposed.excluded;
        nm.excluded_targets = proposed.excluded_targets;
        nm.channels = proposed.channels;
        nm.terms = proposed.terms;
      }
      nm.pending =
          PendingChange{a.stage, r1, a.probability, a.event_id, proposed.terms};
      nm.event_id = a.event_id;
      target = *this;
      target->priced_ = false;
      Measure& tm = target->measures_[a.measure_id];
      tm = nm;
      tm.terms = proposed.terms;
      tm.pending.reset();
      tm.pause.reset();
      tm.in_force = true;
      tm.rate_pct = r1;
      full_move = r1 - r0;
      expected_move = nm.PricedRate() - priced_before;
      break;
    }
    case Stage::kEffective: {
      const double r1 = *a.new_rate_pct;
      const bool scope_changed = m != nullptr && !proposed.SameScope(*m);
      if (scope_changed && had_pending) {
        // The priced part was on the old scope: score the whole move from
        // the priced book below.
      }
      nm.targets = proposed.targets;
      nm.products = proposed.products;
      nm.excluded = proposed.excluded;
      nm.excluded_targets = proposed.excluded_targets;
      nm.channels = proposed.channels;
      nm.terms = proposed.terms;
      nm.in_force = true;
      nm.rate_pct = r1;
      nm.pause.reset();
      nm.pending.reset();
      nm.event_id = a.event_id;
      full_move = r1 - r0;
      expected_move = scope_changed ? full_move : r1 - priced_before;
      if (scope_changed && had_pending) full_move = 0;  // use priced books
      break;
    }
    case Stage::kPaused: {
      if (m == nullptr || !m->in_force) {
        if (!a.snap_back_rate_pct) {
          return Precondition(
              "measure_id",
              absl::StrCat("measure ", quoted, " is not in force for ",
                           a.importer.ToString(),
                           ", so a pause has no rate to snap back to; set "
                           "snap_back_rate_pct"));
        }
      }
      const double r1 = *a.new_rate_pct;
      MeasurePause pause;
      pause.snap_back_rate_pct =
          a.snap_back_rate_pct ? *a.snap_back_rate_pct
          : m->pause           ? m->pause->snap_back_rate_pct
                               : r0;
      pause.expires = *a.expires_time;
      pause.event_id = a.event_id;
      nm.terms = proposed.terms;
      nm.in_force = true;
      nm.rate_pct = r1;
      nm.pause = pause;
      nm.pending.reset();
      nm.event_id = a.event_id;
      full_move = r1 - r0;
      expected_move = r1 - priced_before;
      break;
    }
    case Stage::kExtended: {
      if (m == nullptr) {
        return Precondition(
            "measure_id", absl::StrCat("no measure ", quoted, " in the book"));
      }
      if (!m->pause) {
        return Precondition(
            "stage", absl::StrCat("EXTENDED needs a paused measure; ", quoted,
                                  " is not paused"));
      }
      nm.pause->expires = *a.expires_time;
      nm.pause->event_id = a.event_id;
      nm.event_id = a.event_id;
      break;
    }
    case Stage::kRevoked: {
      if (m == nullptr) {
        return Precondition(
            "measure_id",
            absl::StrCat("no measure ", quoted, " in the book to revoke"));
      }
      next.measures_.erase(a.measure_id);
      full_move = -r0;
      expected_move = -priced_before;
      break;
    }
  }
  ++next.revision_;

  const TariffBook& after_book = target ? *target : next;
  step.changes = Changes(a, after_book, base);
  if (a.stage == Stage::kExtended) {
    auto same = std::make_shared<const TariffBook>(*this);
    step.before = same;
    step.after = same;
    step.probability = 1;
  } else if (std::abs(full_move) > 1e-12) {
    // Δ is the full move of the measure's rate; the scorer scales it by the
    // share not yet priced in (the event's probability for a first threat,
    // 1 - p for the EFFECTIVE stage of a threat priced at p).
    TariffBook before = *this;
    before.priced_ = false;
    step.before = std::make_shared<const TariffBook>(std::move(before));
    step.after = std::make_shared<const TariffBook>(after_book);
    double share = expected_move / full_move;
    if (a.stage == Stage::kEffective || a.stage == Stage::kPaused ||
        a.stage == Stage::kRevoked) {
      share *= a.probability;
    }
    step.probability = share;
  }
  if (a.stage != Stage::kExtended &&
      (std::abs(full_move) <= 1e-12 || step.probability < 0 ||
       step.probability > 1)) {
    // No move of the rate in force, a scope change under a pending threat,
    // or a priced-in part that overshoots the move (a threat above the rate
    // that came in): score the change of the priced-in rates.
    step.before = std::make_shared<const TariffBook>(Priced());
    TariffBook priced_next = next.Priced();
    step.after = std::make_shared<const TariffBook>(std::move(priced_next));
    step.probability = 1;
    step.scored_changes = step.before->Changes(a, *step.after, base);
  } else if (a.stage == Stage::kExtended) {
    // Nothing moves: `before` and `after` are this book.
    step.scored_changes = Changes(a, *this, base);
  } else {
    // `before` is this book (unpriced, as stored) and `after` the target.
    step.scored_changes = step.changes;
  }
  next.priced_ = false;
  step.next = std::make_shared<const TariffBook>(std::move(next));
  return step;
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
