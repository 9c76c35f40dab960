#include "server/tariff_book/book_codec.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"

namespace tariffalert {

void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds down
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

absl::Time TimeFromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

namespace {

bool GoodRate(double r) { return std::isfinite(r) && r >= 0 && r <= 10000; }

}  // namespace

std::optional<Stage> StageFromProto(v1::Stage s) {
  switch (s) {
    case v1::STAGE_THREATENED:
      return Stage::kThreatened;
    case v1::STAGE_ANNOUNCED:
      return Stage::kAnnounced;
    case v1::STAGE_EFFECTIVE:
      return Stage::kEffective;
    case v1::STAGE_PAUSED:
      return Stage::kPaused;
    case v1::STAGE_EXTENDED:
      return Stage::kExtended;
    case v1::STAGE_REVOKED:
      return Stage::kRevoked;
    default:
      return std::nullopt;
  }
}

v1::Stage StageToProto(Stage stage) {
  switch (stage) {
    case Stage::kThreatened:
      return v1::STAGE_THREATENED;
    case Stage::kAnnounced:
      return v1::STAGE_ANNOUNCED;
    case Stage::kEffective:
      return v1::STAGE_EFFECTIVE;
    case Stage::kPaused:
      return v1::STAGE_PAUSED;
    case Stage::kExtended:
      return v1::STAGE_EXTENDED;
    case Stage::kRevoked:
      return v1::STAGE_REVOKED;
  }
  return v1::STAGE_UNSPECIFIED;
}

v1::Authority AuthorityToProto(Authority a) {
  switch (a) {
    case Authority::kUnspecified:
      return v1::AUTHORITY_UNSPECIFIED;
    case Authority::kIeepaReciprocal:
      return v1::IEEPA_RECIPROCAL;
    case Authority::kIeepaFentanyl:
      return v1::IEEPA_FENTANYL;
    case Authority::kSection232:
      return v1::SECTION_232;
    case Authority::kSection301:
      return v1::SECTION_301;
    case Authority::kSection201:
      return v1::SECTION_201;
    case Authority::kSection122:
      return v1::SECTION_122;
    case Authority::kOther:
      return v1::AUTHORITY_OTHER;
  }
  return v1::AUTHORITY_UNSPECIFIED;
}

std::optional<Authority> AuthorityFromProto(int a) {
  switch (a) {
    case v1::AUTHORITY_UNSPECIFIED:
      return Authority::kUnspecified;
    case v1::IEEPA_RECIPROCAL:
      return Authority::kIeepaReciprocal;
    case v1::IEEPA_FENTANYL:
      return Authority::kIeepaFentanyl;
    case v1::SECTION_232:
      return Authority::kSection232;
    case v1::SECTION_301:
      return Authority::kSection301;
    case v1::SECTION_201:
      return Authority::kSection201;
    case v1::SECTION_122:
      return Authority::kSection122;
    case v1::AUTHORITY_OTHER:
      return Authority::kOther;
    default:
      return std::nullopt;
  }
}

v1::Combination CombinationToProto(Combination c) {
  switch (c) {
    case Combination::kAdd:
      return v1::COMBINATION_ADD;
    case Combination::kAllIn:
      return v1::COMBINATION_ALL_IN;
    case Combination::kInLieu:
      return v1::COMBINATION_IN_LIEU;
  }
  return v1::COMBINATION_ADD;
}

std::optional<Combination> CombinationFromProto(int c) {
  switch (c) {
    case v1::COMBINATION_ADD:
      return Combination::kAdd;
    case v1::COMBINATION_ALL_IN:
      return Combination::kAllIn;
    case v1::COMBINATION_IN_LIEU:
      return Combination::kInLieu;
    default:
      return std::nullopt;
  }
}

v1::ShipmentChannel ChannelToProto(Channel c) {
  switch (c) {
    case Channel::kGeneral:
      return v1::SHIPMENT_GENERAL;
    case Channel::kUsmca:
      return v1::SHIPMENT_USMCA;
    case Channel::kLowValue:
      return v1::SHIPMENT_LOW_VALUE;
  }
  return v1::SHIPMENT_GENERAL;
}

std::optional<Channel> ChannelFromProto(int c) {
  switch (c) {
    case v1::SHIPMENT_GENERAL:
      return Channel::kGeneral;
    case v1::SHIPMENT_USMCA:
      return Channel::kUsmca;
    case v1::SHIPMENT_LOW_VALUE:
      return Channel::kLowValue;
    default:
      return std::nullopt;
  }
}

namespace {

template <typename Message>
void TermsToProto(const MeasureTerms& t, Message* out) {
  out->set_authority(AuthorityToProto(t.authority));
  out->set_combination(CombinationToProto(t.combination));
  for (const std::string& n : t.not_with) out->add_not_with(n);
  out->set_on_content(t.on_content);
}

// An error naming the field, or the terms.
template <typename Message>
absl::StatusOr<MeasureTerms> TermsFromProto(const Message& in,
                                            absl::string_view id) {
  MeasureTerms t;
  auto authority = AuthorityFromProto(in.authority());
  if (!authority) return absl::InvalidArgumentError("authority: unknown value");
  t.authority = *authority;
  // Books stored before combinations existed have none: ADD.
  if (in.combination() != v1::COMBINATION_UNSPECIFIED) {
    auto combination = CombinationFromProto(in.combination());
    if (!combination) {
      return absl::InvalidArgumentError("combination: unknown value");
    }
    t.combination = *combination;
  }
  for (const std::string& n : in.not_with()) {
    if (n.empty() || n == id) {
      return absl::InvalidArgumentError(
          "not_with: empty or the measure itself");
    }
    t.not_with.push_back(n);
  }
  std::sort(t.not_with.begin(), t.not_with.end());
  t.on_content = in.on_content();
  return t;
}

}  // namespace

v1::Measure MeasureToProto(const Measure& m) {
  v1::Measure out;
  out.set_measure_id(m.id);
  out.set_imposing_country(m.importer.ToString());
  for (Country t : m.targets) out.add_target_countries(t.ToString());
  for (HsCode p : m.products) out.add_product_codes(p.ToString());
  for (HsCode p : m.excluded) out.add_excluded_product_codes(p.ToString());
  for (Country c : m.excluded_targets) {
    out.add_excluded_target_countries(c.ToString());
  }
  out.set_in_force(m.in_force);
  out.set_rate_pct(m.rate_pct);
  if (m.pause) {
    v1::MeasurePause* p = out.mutable_pause();
    p->set_snap_back_rate_pct(m.pause->snap_back_rate_pct);
    TimeToProto(m.pause->expires, p->mutable_expires_time());
    p->set_event_id(m.pause->event_id);
  }
  if (m.pending) {
    v1::PendingChange* p = out.mutable_pending();
    p->set_stage(StageToProto(m.pending->stage));
    p->set_rate_pct(m.pending->rate_pct);
    p->set_probability(m.pending->probability);
    p->set_event_id(m.pending->event_id);
    TermsToProto(m.pending->terms, p);
  }
  out.set_event_id(m.event_id);
  TermsToProto(m.terms, &out);
  ChannelsToProto(m.channels, out.mutable_channels());
  return out;
}

v1::BookState BookToProto(const TariffBook& book) {
  v1::BookState state;
  state.set_revision(book.revision());
  if (book.clock() != absl::InfinitePast()) {
    TimeToProto(book.clock(), state.mutable_clock_time());
  }
  for (const auto& [id, m] : book.measures()) {
    *state.add_measures() = MeasureToProto(m);
  }
  return state;
}

absl::StatusOr<TariffBook> BookFromProto(const v1::BookState& state,
                                         absl::string_view where) {
  std::map<std::string, Measure> measures;
  for (int i = 0; i < state.measures_size(); ++i) {
    const v1::Measure& pm = state.measures(i);
    auto bad = [&](absl::string_view field, absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": measures[", i, "].", field, ": ", why));
    };
    Measure m;
    m.id = pm.measure_id();
    if (m.id.empty()) return bad("measure_id", "empty");
    auto importer = Country::Parse(pm.imposing_country());
    if (!importer) return bad("imposing_country", "not a country code");
    m.importer = *importer;
    for (const std::string& t : pm.target_countries()) {
      auto c = Country::Parse(t);
      if (!c) return bad("target_countries", absl::StrCat("'", t, "'"));
      m.targets.push_back(*c);
    }
    for (const std::string& p : pm.product_codes()) {
      auto h = HsCode::Parse(p);
      if (!h || h->is_all()) return bad("product_codes", absl::StrCat("'", p, "'"));
      m.products.push_back(*h);
    }
    for (const std::string& p : pm.excluded_product_codes()) {
      auto h = HsCode::Parse(p);
      if (!h || h->is_all()) {
        return bad("excluded_product_codes", absl::StrCat("'", p, "'"));
      }
      m.excluded.push_back(*h);
    }
    for (const std::string& t : pm.excluded_target_countries()) {
      auto c = Country::Parse(t);
      if (!c || !m.targets.empty()) {
        return bad("excluded_target_countries", absl::StrCat("'", t, "'"));
      }
      m.excluded_targets.push_back(*c);
    }
    for (Country t : m.targets) {
      if (t.SameBloc(m.importer)) {
        return bad("target_countries",
                   absl::StrCat(t.ToString(), " is in the importer's own bloc"));
      }
    }
    for (size_t a = 0; a < m.products.size(); ++a) {
      for (size_t b = a + 1; b < m.products.size(); ++b) {
        if (m.products[a].Overlaps(m.products[b])) {
          return bad("product_codes", "overlapping codes");
        }
      }
    }
    for (HsCode e : m.excluded) {
      bool inside = m.products.empty();
      for (HsCode p : m.products) inside |= p.Contains(e) && p != e;
      if (!inside) {
        return bad("excluded_product_codes",
                   absl::StrCat(e.ToString(), " is not inside product_codes"));
      }
    }
    std::sort(m.excluded_targets.begin(), m.excluded_targets.end());
    std::sort(m.targets.begin(), m.targets.end());
    std::sort(m.products.begin(), m.products.end());
    std::sort(m.excluded.begin(), m.excluded.end());
    m.in_force = pm.in_force();
    if (!GoodRate(pm.rate_pct()) || (!m.in_force && pm.rate_pct() != 0)) {
      return bad("rate_pct", "out of range");
    }
    m.rate_pct = pm.rate_pct();
    if (pm.has_pause()) {
      if (!m.in_force) return bad("pause", "on a measure not in force");
      if (!GoodRate(pm.pause().snap_back_rate_pct())) {
        return bad("pause.snap_back_rate_pct", "out of range");
      }
      m.pause = MeasurePause{pm.pause().snap_back_rate_pct(),
                             TimeFromProto(pm.pause().expires_time()),
                             pm.pause().event_id()};
    }
    if (pm.has_pending()) {
      auto stage = StageFromProto(pm.pending().stage());
      if (!stage || (*stage != Stage::kThreatened &&
                     *stage != Stage::kAnnounced)) {
        return bad("pending.stage", "not THREATENED or ANNOUNCED");
      }
      const double p = pm.pending().probability();
      if (!std::isfinite(p) || p < 0 || p > 1) {
        return bad("pending.probability", "outside 0..1");
      }
      if (!GoodRate(pm.pending().rate_pct())) {
        return bad("pending.rate_pct", "out of range");
      }
      auto terms = TermsFromProto(pm.pending(), m.id);
      if (!terms.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": measures[", i, "].pending.", terms.status().message()));
      }
      m.pending = PendingChange{*stage, pm.pending().rate_pct(), p,
                                pm.pending().event_id(), *std::move(terms)};
    }
    if (!m.in_force && !m.pending) {
      return bad("in_force", "a measure neither in force nor pending");
    }
    m.event_id = pm.event_id();
    auto terms = TermsFromProto(pm, m.id);
    if (!terms.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": measures[", i, "].", terms.status().message()));
    }
    m.terms = *std::move(terms);
    if (pm.channels_size() > 0) {
      m.channels = 0;
      for (int c : pm.channels()) {
        auto channel = ChannelFromProto(c);
        if (!channel) return bad("channels", "unknown value");
        m.channels |= static_cast<uint8_t>(*channel);
      }
    }
    const std::string id = m.id;
    if (!measures.emplace(id, std::move(m)).second) {
      return bad("measure_id", absl::StrCat("'", id, "' repeats"));
    }
  }
  absl::Time clock = absl::InfinitePast();
  if (state.has_clock_time()) clock = TimeFromProto(state.clock_time());
  return TariffBook::FromParts(state.revision(), clock, std::move(measures));
}

}  // namespace tariffalert
