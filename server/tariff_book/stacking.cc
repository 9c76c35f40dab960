#include "server/tariff_book/stacking.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/tariff_book/tariff_book.h"

namespace tariffalert {
namespace {

bool Adds(const StackLine& l) {
  return l.reason == StackReason::kAdds || l.reason == StackReason::kAllIn ||
         l.reason == StackReason::kOnContent ||
         l.reason == StackReason::kInLieu;
}

// The stacking rules, in the order they apply. Each reads and marks the
// lines; the sum comes after them.

// `line` yields to `by`, which applies with weight w: it keeps 1 - w of its
// weight, and is marked as replaced once it keeps none.
void Yield(StackLine& line, const StackLine& by, StackReason reason) {
  line.weight *= 1 - by.weight;
  if (line.weight <= 0) {
    line.weight = 0;
    line.reason = reason;
    line.by = by.measure;
  }
}

// A country's own rate replaces the all-partner rate of the same authority:
// the 2025 reciprocal rate of China (9903.01.63) and not the 10% baseline
// (9903.01.25); the UK's 25% on steel and not the 50% on all partners.
void CountryRateReplacesAllPartner(RateStack& s, const StackQuery&) {
  const std::vector<StackLine> before = s.lines;
  for (StackLine& wide : s.lines) {
    const Authority a = wide.terms->authority;
    if (!Adds(wide) || a == Authority::kUnspecified ||
        !wide.measure->targets.empty()) {
      continue;
    }
    for (const StackLine& own : before) {
      if (own.measure != wide.measure && Adds(own) &&
          own.terms->authority == a && !own.measure->targets.empty()) {
        Yield(wide, own, StackReason::kCountryRate);
        if (!Adds(wide)) break;
      }
    }
  }
}

bool Names(const StackLine& l, const std::string& entry) {
  return entry == l.measure->id || entry == AuthorityName(l.terms->authority);
}

// A measure does not apply to goods on which a measure it names in not_with
// owes duty (more than 0%, as CBP reads "subject to"): the reciprocal duties
// and goods under section 232 (EO 14257 sec. 3(b)), the Canada and Mexico
// duties and section 232 autos (EO 14289). Read against the lines as the
// earlier rules left them, so the order of the lines does not matter.
void NotWith(RateStack& s, const StackQuery&) {
  const std::vector<StackLine> before = s.lines;
  for (StackLine& line : s.lines) {
    for (const StackLine& other : before) {
      if (!Adds(line)) break;
      if (other.measure == line.measure || !Adds(other) ||
          !(other.rate_pct > 0)) {
        continue;
      }
      for (const std::string& entry : line.terms->not_with) {
        if (Names(other, entry)) {
          Yield(line, other, StackReason::kNotWith);
          break;
        }
      }
    }
  }
}

// A measure in lieu of all other duties (de minimis, postal duties) replaces
// the base rate and every other measure; of two, the first by id.
void InLieu(RateStack& s, const StackQuery&) {
  StackLine* lieu = nullptr;
  for (StackLine& line : s.lines) {
    if (Adds(line) && line.terms->combination == Combination::kInLieu) {
      lieu = &line;
      break;
    }
  }
  if (lieu == nullptr) return;
  lieu->reason = StackReason::kInLieu;
  const StackLine by = *lieu;
  for (StackLine& line : s.lines) {
    if (line.measure != by.measure && Adds(line)) {
      Yield(line, by, StackReason::kReplacedInLieu);
    }
  }
  s.base_pct *= 1 - by.weight;
}

// What each applying line adds: an all-in rate adds what the base does not
// already charge (max(0, rate - base), CBP CSMS #65829726 for the EU); an
// on-content rate is charged on the content's share of the value.
void Amounts(RateStack& s, const StackQuery& q) {
  for (StackLine& line : s.lines) {
    if (!Adds(line)) {
      line.applied_pct = 0;
      continue;
    }
    const MeasureTerms& t = *line.terms;
    double applied = line.rate_pct;
    if (line.reason != StackReason::kInLieu &&
        t.combination == Combination::kAllIn) {
      applied = std::max(0.0, line.rate_pct - s.base_pct);
      line.reason = StackReason::kAllIn;
    }
    if (t.on_content) {
      applied *= q.content_share;
      if (line.reason == StackReason::kAdds) {
        line.reason = StackReason::kOnContent;
      }
    }
    line.applied_pct = applied * line.weight;
  }
}

struct StackRule {
  const char* name;  // as docs/tariff-book.md lists it
  void (*apply)(RateStack&, const StackQuery&);
};

constexpr StackRule kStackRules[] = {
    {"a country's own rate replaces the all-partner rate of its authority",
     CountryRateReplacesAllPartner},
    {"not_with: no duty where a named measure or authority owes duty", NotWith},
    {"in lieu: replaces the base rate and every other measure", InLieu},
    {"all-in and on-content amounts", Amounts},
};

std::string Pct(double v) { return absl::StrFormat("%.4g%%", v); }

}  // namespace

RateStack StackRates(std::vector<StackLine> lines, const BaseRate* base,
                     const StackQuery& query) {
  RateStack s;
  s.base = base;
  s.base_pct = base != nullptr ? base->rate_pct : 0;
  s.lines = std::move(lines);
  for (StackLine& line : s.lines) {
    if (line.terms == nullptr) line.terms = &line.measure->terms;
  }
  for (const StackRule& rule : kStackRules) rule.apply(s, query);
  s.total_pct = s.base_pct;
  for (const StackLine& line : s.lines) s.total_pct += line.applied_pct;
  return s;
}

std::string DescribeLine(const StackLine& line, const RateStack& stack,
                         const StackQuery& query) {
  const Measure& m = *line.measure;
  const std::string by = line.by != nullptr ? line.by->id : "";
  switch (line.reason) {
    case StackReason::kAdds:
      return absl::StrCat("adds ", Pct(line.applied_pct));
    case StackReason::kAllIn:
      return absl::StrCat(Pct(line.rate_pct), " all-in, which includes the ",
                          Pct(stack.base_pct), " base rate: adds ",
                          Pct(line.applied_pct));
    case StackReason::kOnContent:
      return absl::StrCat(Pct(line.rate_pct), " on the content, ",
                          Pct(query.content_share * 100),
                          " of the value: adds ", Pct(line.applied_pct));
    case StackReason::kInLieu:
      return absl::StrCat(Pct(line.rate_pct),
                          " in lieu of the base rate and every other measure");
    case StackReason::kReplacedInLieu:
      return absl::StrCat("not charged: ", by, " is in lieu of it");
    case StackReason::kNotWith:
      return absl::StrCat("not charged: the good owes duty under ", by, " (",
                          AuthorityName(line.by->terms.authority),
                          "), which this measure does not stack with");
    case StackReason::kCountryRate:
      return absl::StrCat("not charged: ", by, ", ", query.exporter.ToString(),
                          "'s own ", AuthorityName(m.terms.authority),
                          " rate, replaces this all-partner rate");
    case StackReason::kOutsideChannel:
      return absl::StrCat("not charged: it does not reach ",
                          ChannelName(query.channel), " goods");
    case StackReason::kPending:
      if (m.pending) {
        return absl::StrFormat("not in force: %s at %s, priced at p %.3g",
                               StageName(m.pending->stage),
                               Pct(m.pending->rate_pct),
                               m.pending->probability);
      }
      return "not in force";
  }
  return "";
}

std::string DescribeBase(const RateStack& stack, const StackQuery& query) {
  if (stack.base == nullptr) {
    return absl::StrCat("no base (MFN) rate on file for ",
                        query.importer.ToString(),
                        ": the rate is the additional duties only");
  }
  const BaseRate& b = *stack.base;
  std::string text =
      absl::StrCat(b.importer.ToString(), " MFN ", Pct(b.rate_pct), " (HS ",
                   b.product.ToString());
  if (b.lines > 0) {
    absl::StrAppend(&text, ", the mean of ", b.lines, " tariff line",
                    b.lines == 1 ? "" : "s");
  }
  absl::StrAppend(&text, ": ", b.source, ", ", b.year, ")");
  if (b.product != query.product) {
    absl::StrAppend(&text, "; no row for HS ", query.product.ToString(),
                    ", so the ", b.product.is_all() ? "all-goods" : "chapter",
                    " row applies");
  }
  if (stack.base_pct == 0 && b.rate_pct != 0) {
    absl::StrAppend(&text, "; not charged: a measure is in lieu of it");
  }
  return text;
}

const char* AuthorityName(Authority a) {
  switch (a) {
    case Authority::kUnspecified:
      return "UNSPECIFIED";
    case Authority::kIeepaReciprocal:
      return "IEEPA_RECIPROCAL";
    case Authority::kIeepaFentanyl:
      return "IEEPA_FENTANYL";
    case Authority::kSection232:
      return "SECTION_232";
    case Authority::kSection301:
      return "SECTION_301";
    case Authority::kSection201:
      return "SECTION_201";
    case Authority::kSection122:
      return "SECTION_122";
    case Authority::kOther:
      return "OTHER";
  }
  return "?";
}

std::optional<Authority> AuthorityFromName(std::string_view name) {
  for (Authority a :
       {Authority::kIeepaReciprocal, Authority::kIeepaFentanyl,
        Authority::kSection232, Authority::kSection301, Authority::kSection201,
        Authority::kSection122, Authority::kOther}) {
    if (name == AuthorityName(a)) return a;
  }
  return std::nullopt;
}

const char* CombinationName(Combination c) {
  switch (c) {
    case Combination::kAdd:
      return "ADD";
    case Combination::kAllIn:
      return "ALL_IN";
    case Combination::kInLieu:
      return "IN_LIEU";
  }
  return "?";
}

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kGeneral:
      return "general";
    case Channel::kUsmca:
      return "USMCA-qualifying";
    case Channel::kLowValue:
      return "low-value (de minimis)";
  }
  return "?";
}

}  // namespace tariffalert
