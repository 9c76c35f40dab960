#include "server/scoring/scorer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tariffalert {
namespace {

constexpr double kBps = 10000;

bool InUsmca(Country c) {
  return c == Country::Parse("US") || c == Country::Parse("CA") ||
         c == Country::Parse("MX");
}

// How a company's flows between the importer and one partner split over the
// channels (tariff_action.h): USMCA-qualifying within North America,
// low-value parcels, the rest general.
struct ChannelMix {
  double usmca = 0;
  double low_value = 0;
};

ChannelMix MixOf(double usmca_share, double low_value_share, Country importer,
                 Country partner) {
  ChannelMix mix;
  if (InUsmca(importer) && InUsmca(partner)) mix.usmca = usmca_share;
  mix.low_value = low_value_share;
  const double sum = mix.usmca + mix.low_value;
  if (sum > 1) {
    mix.usmca /= sum;
    mix.low_value /= sum;
  }
  return mix;
}

// Rate changes in percentage points between the two books, the base rates
// included, memoized per (single partner country, product scope, channel).
class Deltas {
 public:
  Deltas(Country importer, const TariffBook& before, const TariffBook& after,
         const BaseRates* base)
      : importer_(importer),
        before_(before),
        after_(after),
        base_(base),
        channels_differ_(before.ChannelsDiffer() || after.ChannelsDiffer()) {}

  // For goods whose channels are those of the market at large: the default
  // USMCA share (exposure_table.h), no low-value parcels.
  double Get(Country partner, HsCode scope) {
    return Mixed(MixOf(kDefaultUsmcaShare, 0, importer_, partner), partner,
                 scope);
  }
  // For one company's flows.
  double For(const Company& c, Country partner, HsCode scope) {
    return Mixed(MixOf(c.usmca_share, c.low_value_share, importer_, partner),
                 partner, scope);
  }

 private:
  double Mixed(const ChannelMix& mix, Country partner, HsCode scope) {
    const double general = One(partner, scope, Channel::kGeneral);
    if (!channels_differ_) return general;
    double d = (1 - mix.usmca - mix.low_value) * general;
    if (mix.usmca > 0) d += mix.usmca * One(partner, scope, Channel::kUsmca);
    if (mix.low_value > 0) {
      d += mix.low_value * One(partner, scope, Channel::kLowValue);
    }
    return d;
  }

  double One(Country partner, HsCode scope, Channel channel) {
    auto [it, inserted] =
        cache_.try_emplace(std::make_tuple(partner, scope, channel), 0.0);
    if (inserted) {
      it->second = after_.Rate(importer_, partner, scope, base_, channel) -
                   before_.Rate(importer_, partner, scope, base_, channel);
    }
    return it->second;
  }

  Country importer_;
  const TariffBook& before_;
  const TariffBook& after_;
  const BaseRates* base_;

 public:
  bool channels_differ() const { return channels_differ_; }

 private:
  bool channels_differ_;
  absl::flat_hash_map<std::tuple<Country, HsCode, Channel>, double> cache_;
};

// The single countries of an exposure row's country that the action targets,
// and the fraction of the row they stand for: an "EU" row is spread evenly
// over the member states.
struct Coverage {
  std::vector<Country> partners;
  double fraction = 0;
};

Coverage Cover(Country row_country, const TariffAction& action) {
  Coverage cov;
  if (row_country.is_eu()) {
    for (Country m : EuMembers()) {
      if (action.TargetsCountry(m)) cov.partners.push_back(m);
    }
    cov.fraction = static_cast<double>(cov.partners.size()) / kEuMemberCount;
  } else if (action.TargetsCountry(row_country)) {
    cov.partners.push_back(row_country);
    cov.fraction = 1;
  }
  return cov;
}

// Sum of the rows' shares located in `where` (a country or "EU"), with an "EU"
// row counting 1/27 for one member state.
double ShareIn(const std::vector<ExposureRow>& rows, Country where) {
  double s = 0;
  for (const ExposureRow& r : rows) {
    if (r.country == where || (where.is_eu() && r.country.IsEuMember())) {
      s += r.share;
    } else if (r.country.is_eu() && where.IsEuMember()) {
      s += r.share / kEuMemberCount;
    }
  }
  return std::min(1.0, s);
}

// Share of revenue in product scope `p` by the company's product rows. A
// chapter row counts in full for a heading inside it: an upper bound.
double ProductShare(const Company& c, HsCode p) {
  double s = 0;
  for (const ExposureRow& r : c.products) {
    if (r.product.Overlaps(p)) s += r.share;
  }
  return std::min(1.0, s);
}

struct ScopePart {
  HsCode scope;  // the scope at which the rate change is read
  double weight;
  // For an all-products row under an all-goods event: the company's product
  // mix, so that goods the book rates apart (steel under its own tariff) move
  // with their own rate. Empty: read the change at `scope`.
  std::vector<std::pair<HsCode, double>> mix;
};

// How much of an exposure row with product `row` the action's product scope
// covers, split by the scope at which to read the rate change.
std::vector<ScopePart> ScopeParts(const Company& c, HsCode row,
                                  const std::vector<HsCode>& products) {
  if (products.empty()) {
    ScopePart all{row, 1, {}};
    if (row.is_all() && !c.products.empty()) {
      double listed = 0;
      for (const ExposureRow& p : c.products) {
        all.mix.emplace_back(p.product, p.share);
        listed += p.share;
      }
      if (listed < 1) all.mix.emplace_back(HsCode::All(), 1 - listed);
    }
    return {all};
  }
  std::vector<ScopePart> parts;
  if (row.is_all()) {
    for (HsCode p : products) {
      const double w = ProductShare(c, p);
      if (w > 0) parts.push_back({p, w, {}});
    }
  } else {
    for (HsCode p : products) {
      if (p.Contains(row)) return {{row, 1, {}}};
    }
    const double row_share = ProductShare(c, row);
    for (HsCode p : products) {
      if (!row.Contains(p)) continue;
      parts.push_back(
          {p,
           row_share > 0 ? std::min(1.0, ProductShare(c, p) / row_share) : 1.0,
           {}});
    }
  }
  double total = 0;
  for (const ScopePart& part : parts) total += part.weight;
  if (total > 1) {
    for (ScopePart& part : parts) part.weight /= total;
  }
  return parts;
}

std::string Pct(double fraction) {
  return absl::StrFormat("%.3g%%", fraction * 100);
}

std::string Bps(double bps) { return absl::StrFormat("%+.1f bps", bps); }

std::string RateText(double pct) { return absl::StrFormat("%.4g%%", pct); }

std::string DescribeContribution(const Contribution& k,
                                 const std::string& importer) {
  const std::string scope =
      k.product.is_all() ? "" : absl::StrCat(" in HS ", k.product.ToString());
  std::string text;
  switch (k.channel) {
    case ScoreChannel::kImportCost:
      text = absl::StrFormat(
          "import cost %s = -(%+.4g pp) x %s of COGS sourced from %s%s x COGS "
          "%s of revenue x %s of revenue in %s x %s not passed on",
          Bps(k.bps), k.delta_pct, Pct(k.exposure_share), k.country, scope,
          Pct(k.cogs_ratio), Pct(k.market_factor), importer,
          Pct(k.sector_factor));
      break;
    case ScoreChannel::kExport:
      text = absl::StrFormat(
          "export %s = -(%+.4g pp) x %s of output made in %s%s x %s of output "
          "made outside %s sold there (revenue in %s %s) x kappa %.3g",
          Bps(k.bps), k.delta_pct, Pct(k.exposure_share), k.country, scope,
          Pct(k.market_factor), importer, importer, Pct(k.revenue_share),
          k.sector_factor);
      break;
    case ScoreChannel::kProtection:
      text = absl::StrFormat(
          "protection %s = %+.4g pp on imports from %s x partner weight %s x "
          "%s of output made in %s%s x %s of it sold there x gamma %.3g",
          Bps(k.bps), k.delta_pct, k.country, Pct(k.partner_weight),
          Pct(k.exposure_share), importer, scope, Pct(k.market_factor),
          k.sector_factor);
      break;
    case ScoreChannel::kSpillover:
      text = absl::StrFormat(
          "spillover from %s %s = %s of revenue sold to %s x beta %.3g x "
          "%s's first-order score %s",
          k.customer, Bps(k.bps), Pct(k.exposure_share), k.customer,
          k.sector_factor, k.customer, Bps(k.customer_score_bps));
      break;
  }
  if (k.probability < 1) {
    absl::StrAppendFormat(&text, " x p %.3g", k.probability);
  }
  return text;
}

// The one formula every first-order channel shares (scorer.h), in one order
// of operations, so the fast path gets the same doubles.
double ContributionBps(double sign, double delta_pct, double exposure_share,
                       double market_factor, double cogs_ratio,
                       double sector_factor, double partner_weight,
                       double probability) {
  return sign * delta_pct / 100 * exposure_share * market_factor * cogs_ratio *
         sector_factor * partner_weight * probability * kBps;
}

// A company's position in the importing market I: the one place the market
// factors are worked out, for both passes. A company serves a market from
// its plants there first; only the rest is imported, from its other plants
// in proportion to their output.
struct Market {
  double revenue = 0;   // revenue(I)
  double imported = 0;  // share of output made outside I that is sold in I
  double local = 0;     // share of output made in I that is sold in I
};

double ImportedShare(double revenue, double made_in) {
  return made_in < 1 ? std::max(0.0, revenue - made_in) / (1 - made_in) : 0;
}

double LocalShare(double revenue, double made_in) {
  return made_in > 0 ? std::min(1.0, revenue / made_in) : 0;
}

Market MarketOf(double revenue, double made_in) {
  return {revenue, ImportedShare(revenue, made_in),
          LocalShare(revenue, made_in)};
}

// The factors of a first-order channel besides the rate change, the
// exposure share, the partner weight and the probability (scorer.h): the
// one place each channel's are chosen, for both passes.
struct ChannelFactors {
  double sign;
  double market_factor;
  double cogs_ratio;
  double sector_factor;
};

// `market_factor`: revenue(I) for import cost, the imported share for
// export, the local share for protection (Market).
// -1 for the channels a tariff costs (import cost, export), +1 for
// protection.
double SignOf(ScoreChannel channel) {
  return channel == ScoreChannel::kProtection ? 1 : -1;
}

ChannelFactors FactorsOf(ScoreChannel channel, double market_factor,
                         double cogs_ratio, const SectorParams& sp) {
  const double sign = SignOf(channel);
  switch (channel) {
    case ScoreChannel::kImportCost:
      return {sign, market_factor, cogs_ratio, 1 - sp.pass_through};
    case ScoreChannel::kExport:
      return {sign, market_factor, 1, sp.export_kappa};
    case ScoreChannel::kProtection:
    case ScoreChannel::kSpillover:
      break;
  }
  return {sign, market_factor, 1, sp.protection_gamma};
}

double MarketFactor(ScoreChannel channel, const Market& m) {
  switch (channel) {
    case ScoreChannel::kImportCost:
      return m.revenue;
    case ScoreChannel::kExport:
      return m.imported;
    case ScoreChannel::kProtection:
    case ScoreChannel::kSpillover:
      break;
  }
  return m.local;
}

// A first-order term: ContributionBps with the channel's factors.
double TermBps(const ChannelFactors& f, double delta_pct, double exposure_share,
               double partner_weight, double probability) {
  return ContributionBps(f.sign, delta_pct, exposure_share, f.market_factor,
                         f.cogs_ratio, f.sector_factor, partner_weight,
                         probability);
}

// One hop of spillover: beta x the share of the supplier's revenue the
// customer buys x the customer's first-order score.
double SpilloverBps(double customer_bps, double share, double beta) {
  return customer_bps * share * beta;
}

// Fills in bps from the inputs the contribution carries, and keeps it unless
// it is zero.
void AddContribution(Contribution& k, std::vector<Contribution>& out) {
  const ChannelFactors f{SignOf(k.channel), k.market_factor, k.cogs_ratio,
                         k.sector_factor};
  k.bps = TermBps(f, k.delta_pct, k.exposure_share, k.partner_weight,
                  k.probability);
  if (k.bps != 0) out.push_back(k);
}

// A row-by-row contribution's factors (FactorsOf), as it shows them.
void SetFactors(Contribution& k, const Market& m, const Company& c,
                const SectorParams& sp) {
  const ChannelFactors f =
      FactorsOf(k.channel, MarketFactor(k.channel, m), c.cogs_ratio, sp);
  k.market_factor = f.market_factor;
  k.revenue_share = m.revenue;
  k.cogs_ratio = f.cogs_ratio;
  k.sector_factor = f.sector_factor;
}

void Identify(const Company& c, SubjectScore& s) {
  s.kind = ScoreSubjectKind::kTicker;
  s.subject = c.ticker;
  s.name = c.name;
  s.sector = c.sector;
  s.country = c.country.ToString();
}

// An all-goods event on a market other than the EU as a whole: the simple
// companies (ExposureTable::simple) can then be scored country-major.
bool CountryMajorApplies(const TariffAction& action) {
  return action.products.empty() && !action.importer.is_eu();
}

void SortContributions(std::vector<Contribution>& contributions) {
  std::stable_sort(contributions.begin(), contributions.end(),
                   [](const Contribution& a, const Contribution& b) {
                     return std::abs(a.bps) > std::abs(b.bps);
                   });
}

// Orders the contributions and derives what follows from the score.
void Finish(const Company& c, const ScoringParams& params, SubjectScore& s) {
  SortContributions(s.contributions);
  s.severity = params.SeverityOf(std::abs(s.score_bps));
  s.operating_profit_change_pct = 0;
  if (c.operating_margin > 0) {
    s.operating_profit_change_pct =
        s.score_bps / (c.operating_margin * kBps) * 100;
  }
}

constexpr size_t kExplainedContributions = 3;

class CompanyScorer {
 public:
  CompanyScorer(const TariffAction& action, const TariffBook& before,
                const TariffBook& after, const BaseRates* base,
                const ScoringParams& params)
      : action_(action),
        params_(params),
        deltas_(action.importer, before, after, base),
        importer_(action.importer.ToString()) {
    if (action.targets.empty()) {
      targets_label_ = "*";
    } else {
      std::vector<std::string> names;
      for (Country t : action.targets) names.push_back(t.ToString());
      targets_label_ = absl::StrJoin(names, ",");
    }
  }

  SubjectScore Score(const Company& c) {
    SubjectScore s;
    Identify(c, s);
    const SectorParams& sp = params_.ForSector(c.sector);
    const Market m = MarketOf(ShareIn(c.revenue, action_.importer),
                              ShareIn(c.production, action_.importer));
    const double p = action_.probability;
    if (m.revenue > 0 && p > 0) {
      ImportCost(c, sp, m, p, s.contributions);
      Export(c, sp, m, p, s.contributions);
      Protection(c, sp, m, p, s.contributions);
    }
    for (const Contribution& k : s.contributions) s.score_bps += k.bps;
    Finish(c, params_, s);
    return s;
  }

  // The country-major path (CountryMajorApplies): adds the first-order score
  // of every simple company of `table` to bps[i] and sets moved[i] for those
  // the action moves at all (a company left unmoved has no contribution in
  // Score()). Reads only the rows located in the importing market and in
  // the partners whose rate changes. Per company the same terms as Score(),
  // in the same order for a one-partner event. Each nonzero term is also
  // handed to sink(company, channel, partner, bps): the partner for import
  // cost and export, Country() for protection (which names the targets);
  // every term is for all goods.
  template <typename Sink>
  void ScoreSimple(const ExposureTable& table, std::vector<double>& bps,
                   std::vector<char>& moved, Sink&& sink) {
    const double p = action_.probability;
    const Country importer = action_.importer;
    const auto revenue = table.RowsIn(ExposureKind::kRevenue, importer);
    if (!(p > 0) || revenue.empty()) return;
    const auto companies = table.companies();
    const size_t n = companies.size();
    std::vector<const SectorParams*> sector_params;
    for (const SectorGroup& g : table.sectors()) {
      sector_params.push_back(&params_.ForSector(g.name));
    }
    auto sector = [&](size_t i) -> const SectorParams& {
      return *sector_params[static_cast<size_t>(table.sector_of(i))];
    };
    // revenue(I) and production(I); `there`: production in the partner at
    // hand, reset after each. Kept per thread between calls: the same
    // table's events reuse them without allocating.
    thread_local std::vector<double> rev, made, there;
    rev.assign(n, 0);
    made.assign(n, 0);
    there.assign(n, 0);
    for (const CountryShare& r : revenue) {
      rev[static_cast<size_t>(r.company)] = std::min(1.0, r.share);
    }
    const auto home = table.RowsIn(ExposureKind::kProduction, importer);
    for (const CountryShare& r : home) {
      made[static_cast<size_t>(r.company)] = std::min(1.0, r.share);
    }
    // A company's own channel mix (usmca_share, low_value_share) matters
    // only when a measure reaches some channels and not others.
    const bool per_company = deltas_.channels_differ();
    for (Country x : AllCountries()) {
      if (!action_.TargetsCountry(x)) continue;
      const double market_delta = deltas_.Get(x, HsCode::All());
      if (market_delta == 0 && !per_company) continue;
      auto delta_of = [&](size_t i) {
        return per_company ? deltas_.For(companies[i], x, HsCode::All())
                           : market_delta;
      };
      const auto production = table.RowsIn(ExposureKind::kProduction, x);
      for (const CountryShare& r : production) {
        there[static_cast<size_t>(r.company)] = std::min(1.0, r.share);
      }
      for (const CountryShare& r : table.RowsIn(ExposureKind::kSourcing, x)) {
        const size_t i = static_cast<size_t>(r.company);
        if (rev[i] == 0) continue;
        const ChannelFactors f = FactorsOf(ScoreChannel::kImportCost, rev[i],
                                           companies[i].cogs_ratio, sector(i));
        const double term =
            TermBps(f, delta_of(i), r.share * (1 - there[i]), 1, p);
        bps[i] += term;
        moved[i] = 1;
        if (term != 0) sink(i, ScoreChannel::kImportCost, x, term);
      }
      for (const CountryShare& r : production) {
        const size_t i = static_cast<size_t>(r.company);
        there[i] = 0;
        if (rev[i] == 0) continue;
        const ChannelFactors f =
            FactorsOf(ScoreChannel::kExport, ImportedShare(rev[i], made[i]),
                      companies[i].cogs_ratio, sector(i));
        if (f.market_factor == 0) continue;
        const double term = TermBps(f, delta_of(i), r.share, 1, p);
        bps[i] += term;
        moved[i] = 1;
        if (term != 0) sink(i, ScoreChannel::kExport, x, term);
      }
    }
    const auto [delta, weight] = CompetingDelta(HsCode::All());
    if (delta == 0 || weight == 0) return;
    for (const CountryShare& r : home) {
      const size_t i = static_cast<size_t>(r.company);
      if (rev[i] == 0) continue;
      const ChannelFactors f =
          FactorsOf(ScoreChannel::kProtection, LocalShare(rev[i], made[i]),
                    companies[i].cogs_ratio, sector(i));
      const double term = TermBps(f, delta, r.share, weight, p);
      bps[i] += term;
      moved[i] = 1;
      if (term != 0) sink(i, ScoreChannel::kProtection, Country(), term);
    }
  }

  // The event's partners as protection and spillover contributions name
  // them: "CN", "CN,MX", or "*" for all partners.
  const std::string& targets_label() const { return targets_label_; }

  void Explain(const Company& c, const std::string& event,
               SubjectScore& s) const {
    s.explanation =
        absl::StrFormat("%s %s of revenue", c.ticker, Bps(s.score_bps));
    if (c.operating_margin > 0) {
      absl::StrAppendFormat(&s.explanation, " (%+.3g%% of operating profit)",
                            s.operating_profit_change_pct);
    }
    absl::StrAppend(&s.explanation, " from ", event, ": ");
    std::vector<std::string> parts;
    for (size_t i = 0;
         i < s.contributions.size() && i < kExplainedContributions; ++i) {
      parts.push_back(DescribeContribution(s.contributions[i], importer_));
    }
    absl::StrAppend(&s.explanation, absl::StrJoin(parts, "; "));
    if (s.contributions.size() > kExplainedContributions) {
      absl::StrAppend(&s.explanation, "; and ",
                      s.contributions.size() - kExplainedContributions,
                      " smaller contributions");
    }
    absl::StrAppend(&s.explanation, ".");
  }

 private:
  double MeanDelta(const Company& c, const Coverage& cov, HsCode scope) {
    double sum = 0;
    for (Country x : cov.partners) sum += deltas_.For(c, x, scope);
    return sum / static_cast<double>(cov.partners.size());
  }

  double MeanDelta(const Company& c, const Coverage& cov,
                   const ScopePart& part) {
    if (part.mix.empty()) return MeanDelta(c, cov, part.scope);
    double delta = 0;
    for (const auto& [scope, share] : part.mix) {
      delta += share * MeanDelta(c, cov, scope);
    }
    return delta;
  }

  // Calls fill(row, coverage, part, delta) for every (row, scope part) of
  // `rows` that the action's partners and products cover with a nonzero
  // rate change.
  template <typename Fill>
  void ForCoveredRows(const Company& c, const std::vector<ExposureRow>& rows,
                      Fill fill) {
    for (const ExposureRow& r : rows) {
      const Coverage cov = Cover(r.country, action_);
      if (cov.partners.empty()) continue;
      for (const ScopePart& part : ScopeParts(c, r.product, action_.products)) {
        const double delta = MeanDelta(c, cov, part);
        if (delta != 0) fill(r, cov, part, delta);
      }
    }
  }

  void ImportCost(const Company& c, const SectorParams& sp, const Market& m,
                  double p, std::vector<Contribution>& out) {
    ForCoveredRows(c, c.sourcing,
                   [&](const ExposureRow& r, const Coverage& cov,
                       const ScopePart& part, double delta) {
                     // Inputs bought in x and made into goods in x cross the
                     // border as finished goods: the export channel counts
                     // them, not this one.
                     const double not_made_there =
                         1 - ShareIn(c.production, r.country);
                     Contribution k;
                     k.channel = ScoreChannel::kImportCost;
                     k.country = r.country.ToString();
                     k.product = part.scope;
                     k.delta_pct = delta;
                     k.exposure_share =
                         r.share * part.weight * cov.fraction * not_made_there;
                     SetFactors(k, m, c, sp);
                     k.probability = p;
                     AddContribution(k, out);
                   });
  }

  void Export(const Company& c, const SectorParams& sp, const Market& m,
              double p, std::vector<Contribution>& out) {
    if (m.imported == 0) return;
    ForCoveredRows(c, c.production,
                   [&](const ExposureRow& r, const Coverage& cov,
                       const ScopePart& part, double delta) {
                     Contribution k;
                     k.channel = ScoreChannel::kExport;
                     k.country = r.country.ToString();
                     k.product = part.scope;
                     k.delta_pct = delta;
                     k.exposure_share = r.share * part.weight * cov.fraction;
                     SetFactors(k, m, c, sp);
                     k.probability = p;
                     AddContribution(k, out);
                   });
  }

  // Import-weighted rate change on competing goods of `scope`: returns the
  // weighted mean delta and the total partner weight.
  std::pair<double, double> CompetingDelta(HsCode scope) {
    auto it = competing_.find(scope);
    if (it != competing_.end()) return it->second;
    std::vector<Country> partners;
    if (action_.targets.empty()) {
      for (Country x : AllCountries()) {
        if (action_.TargetsCountry(x)) partners.push_back(x);
      }
    } else {
      for (Country t : action_.targets) {
        if (t.is_eu()) {
          partners.insert(partners.end(), EuMembers().begin(),
                          EuMembers().end());
        } else {
          partners.push_back(t);
        }
      }
    }
    double weight = 0, weighted = 0;
    for (Country x : partners) {
      const double w = params_.PartnerWeight(action_.importer, x);
      weight += w;
      weighted += w * deltas_.Get(x, scope);
    }
    const std::pair<double, double> result{weight > 0 ? weighted / weight : 0,
                                           weight};
    competing_.emplace(scope, result);
    return result;
  }

  void Protection(const Company& c, const SectorParams& sp, const Market& m,
                  double p, std::vector<Contribution>& out) {
    const Country importer = action_.importer;
    for (const ExposureRow& r : c.production) {
      double home = 0;  // part of the row made inside the importing market
      if (r.country == importer ||
          (importer.is_eu() && r.country.IsEuMember())) {
        home = 1;
      } else if (r.country.is_eu() && importer.IsEuMember()) {
        home = 1.0 / kEuMemberCount;
      }
      if (home == 0) continue;
      for (const ScopePart& part : ScopeParts(c, r.product, action_.products)) {
        auto [delta, weight] = CompetingDelta(part.scope);
        if (!part.mix.empty()) {
          delta = 0;
          for (const auto& [scope, share] : part.mix) {
            delta += share * CompetingDelta(scope).first;
          }
        }
        if (delta == 0 || weight == 0) continue;
        Contribution k;
        k.channel = ScoreChannel::kProtection;
        k.country = targets_label_;
        k.product = part.scope;
        k.delta_pct = delta;
        k.exposure_share = r.share * part.weight * home;
        SetFactors(k, m, c, sp);
        k.partner_weight = weight;
        k.probability = p;
        AddContribution(k, out);
      }
    }
  }

  const TariffAction& action_;
  const ScoringParams& params_;
  Deltas deltas_;
  const std::string importer_;
  std::string targets_label_;
  absl::flat_hash_map<HsCode, std::pair<double, double>> competing_;
};

bool ByMagnitude(const SubjectScore& a, const SubjectScore& b) {
  const double x = std::abs(a.score_bps), y = std::abs(b.score_bps);
  if (x != y) return x > y;
  return a.subject < b.subject;
}

}  // namespace

std::string DescribeAction(const TariffAction& action,
                           const std::vector<BookRateChange>& changes) {
  const std::string importer = action.importer.ToString();
  std::vector<std::string> targets;
  for (Country t : action.targets) targets.push_back(t.ToString());
  const std::string partners =
      targets.empty() ? "all partners'" : absl::StrJoin(targets, ", ");
  std::string scope;
  if (!action.products.empty()) {
    std::vector<std::string> codes;
    for (HsCode p : action.products) codes.push_back(p.ToString());
    scope = absl::StrCat(" in HS ", absl::StrJoin(codes, ", "));
  }
  std::string text =
      absl::StrCat(importer, " tariff on ", partners, " goods", scope);
  bool alike = !changes.empty();
  for (const BookRateChange& c : changes) {
    alike &= c.previous_rate_pct == changes[0].previous_rate_pct &&
             c.new_rate_pct == changes[0].new_rate_pct;
  }
  if (alike) {
    const BookRateChange& c = changes[0];
    absl::StrAppend(
        &text, " ", RateText(c.previous_rate_pct), " -> ",
        RateText(c.new_rate_pct),
        absl::StrFormat(" (%+.4g pp)", c.new_rate_pct - c.previous_rate_pct));
  } else if (!changes.empty()) {
    std::vector<std::string> each;
    for (const BookRateChange& c : changes) {
      each.push_back(absl::StrCat(
          c.target, " ", c.product.is_all() ? "" : c.product.ToString() + " ",
          RateText(c.previous_rate_pct), " -> ", RateText(c.new_rate_pct)));
    }
    absl::StrAppend(&text, " (", absl::StrJoin(each, "; "), ")");
  }
  absl::StrAppend(&text, ", ", StageName(action.stage));
  if (action.probability < 1) {
    absl::StrAppendFormat(&text, " with probability %.3g", action.probability);
  }
  return text;
}

namespace {

// A sector's roll-up of its members' contributions: Σ w x bps per (channel,
// partner, product), w = the member's share of the sector's market cap.
using RollUpKey = std::tuple<int, std::string, std::string>;
using RollUp = std::map<RollUpKey, Contribution>;

void AddToRollUp(RollUp& roll_up, ScoreChannel channel, std::string country,
                 HsCode product, std::string product_text, double probability,
                 double weighted_bps) {
  Contribution& into = roll_up[{static_cast<int>(channel), std::move(country),
                                std::move(product_text)}];
  into.channel = channel;
  into.product = product;
  into.probability = probability;
  into.bps += weighted_bps;
}

// The ranking pass: every company's first-order score (country-major for
// the simple companies of an all-goods event, row by row for the others),
// and its total with one hop of supply-chain spillover: every supplier of a
// company with a nonzero first-order score bears beta x share x that score,
// read from the first-order scores, so it never cascades. With
// `roll_ups`, also each sector's roll-up of its members' contributions.
struct Ranking {
  std::vector<double> first;  // first-order bps, indexed like companies()
  std::vector<double> total;  // first order plus spillover
  // The companies scored row by row, with their first-order contributions:
  // full[full_of[i]] for company i, full_of[i] = -1 for the others.
  std::vector<SubjectScore> full;
  std::vector<int> full_of;
  std::vector<RollUp> roll_ups;  // indexed like table.sectors()
};

Ranking Rank(CompanyScorer& scorer, const TariffAction& action,
             const ExposureTable& table, const ScoringParams& params,
             bool roll_ups) {
  const auto companies = table.companies();
  const size_t n = companies.size();
  auto weight = [&](size_t i) { return table.sector_weight(i); };
  const std::string all_goods = HsCode::All().ToString();
  Ranking r;
  r.first.assign(n, 0);
  r.full_of.assign(n, -1);
  if (roll_ups) r.roll_ups.resize(table.sectors().size());
  auto score_row_by_row = [&](size_t i) {
    r.full_of[i] = static_cast<int>(r.full.size());
    r.full.push_back(scorer.Score(companies[i]));
    const SubjectScore& s = r.full.back();
    r.first[i] = s.score_bps;
    if (!roll_ups) return;
    const double w = weight(i);
    RollUp& roll_up = r.roll_ups[static_cast<size_t>(table.sector_of(i))];
    for (const Contribution& k : s.contributions) {
      AddToRollUp(roll_up, k.channel, k.country, k.product,
                  k.product.ToString(), k.probability, w * k.bps);
    }
  };
  if (CountryMajorApplies(action)) {
    // The simple companies' terms, summed per (sector, channel, partner)
    // before they are keyed by text.
    absl::flat_hash_map<std::tuple<int, int, Country>, double> terms;
    std::vector<char> moved(n, 0);
    scorer.ScoreSimple(
        table, r.first, moved,
        [&](size_t i, ScoreChannel channel, Country partner, double bps) {
          if (!roll_ups) return;
          terms[{table.sector_of(i), static_cast<int>(channel), partner}] +=
              weight(i) * bps;
        });
    for (const auto& [key, bps] : terms) {
      const auto& [sector, channel, partner] = key;
      const auto ch = static_cast<ScoreChannel>(channel);
      AddToRollUp(r.roll_ups[static_cast<size_t>(sector)], ch,
                  ch == ScoreChannel::kProtection ? scorer.targets_label()
                                                  : partner.ToString(),
                  HsCode::All(), all_goods, action.probability, bps);
    }
    for (int i : table.general_companies()) {
      score_row_by_row(static_cast<size_t>(i));
    }
  } else {
    for (size_t i = 0; i < n; ++i) score_row_by_row(i);
  }

  r.total = r.first;
  const double beta = params.spillover_beta();
  if (beta == 0 || table.link_count() == 0) return r;
  for (size_t i = 0; i < n; ++i) {
    double spilled = 0;
    for (const CustomerLink& link : table.CustomersOf(i)) {
      const double customer_bps = r.first[static_cast<size_t>(link.customer)];
      if (customer_bps == 0) continue;
      const double bps = SpilloverBps(customer_bps, link.share, beta);
      r.total[i] += bps;
      spilled += bps;
    }
    if (roll_ups && spilled != 0) {
      AddToRollUp(r.roll_ups[static_cast<size_t>(table.sector_of(i))],
                  ScoreChannel::kSpillover, scorer.targets_label(),
                  HsCode::All(), all_goods, 1, weight(i) * spilled);
    }
  }
  return r;
}

}  // namespace

std::vector<double> ScoreTickers(const TariffAction& action,
                                 const TariffBook& before,
                                 const TariffBook& after,
                                 const ExposureTable& table,
                                 const ScoringParams& params) {
  CompanyScorer scorer(action, before, after, &table.base_rates(), params);
  return Rank(scorer, action, table, params, /*roll_ups=*/false).total;
}

// Two passes: the ranking (Rank), then only the companies that alert
// scored row by row with their contributions and explanation: a small
// partner's event moves thousands of companies, of which a hundred or so
// alert. The sectors' roll-ups come from the ranking pass.
ScoreResult ScoreAction(const TariffAction& action, const TariffBook& before,
                        const TariffBook& after, const ExposureTable& table,
                        const ScoringParams& params) {
  return ScoreAction(action, before, after,
                     before.Changes(action, after, &table.base_rates()), table,
                     params);
}

ScoreResult ScoreAction(const TariffAction& action, const TariffBook& before,
                        const TariffBook& after,
                        const std::vector<BookRateChange>& changes,
                        const ExposureTable& table,
                        const ScoringParams& params) {
  ScoreResult result;
  const std::string event = DescribeAction(action, changes);
  CompanyScorer scorer(action, before, after, &table.base_rates(), params);
  const auto companies = table.companies();
  const size_t n = companies.size();
  const auto groups = table.sectors();
  auto weight = [&](size_t i) { return table.sector_weight(i); };
  Ranking ranking = Rank(scorer, action, table, params, /*roll_ups=*/true);
  const std::vector<double>& first = ranking.first;
  const std::vector<double>& total = ranking.total;
  const double beta = params.spillover_beta();
  const bool spills = beta != 0 && table.link_count() > 0;

  // Pass 2: the companies that alert, with their contributions (first
  // order, then one spillover contribution per link to a moved customer)
  // and explanation.
  for (size_t i = 0; i < n; ++i) {
    if (total[i] == 0 || std::abs(total[i]) < params.min_alert_bps()) continue;
    const int f = ranking.full_of[i];
    SubjectScore s = f >= 0 ? std::move(ranking.full[static_cast<size_t>(f)])
                            : scorer.Score(companies[i]);
    if (spills) {
      bool added = false;
      for (const CustomerLink& link : table.CustomersOf(i)) {
        const double customer_bps = first[static_cast<size_t>(link.customer)];
        if (customer_bps == 0) continue;
        Contribution k;
        k.channel = ScoreChannel::kSpillover;
        k.country = scorer.targets_label();
        k.product = HsCode::All();
        k.delta_pct = 0;
        k.exposure_share = link.share;
        k.market_factor = 1;
        k.revenue_share = 0;
        k.cogs_ratio = 1;
        k.sector_factor = beta;
        k.partner_weight = 1;
        k.probability = 1;
        k.customer = companies[static_cast<size_t>(link.customer)].ticker;
        k.customer_score_bps = customer_bps;
        k.bps = SpilloverBps(customer_bps, link.share, beta);
        s.score_bps += k.bps;
        s.contributions.push_back(std::move(k));
        added = true;
      }
      if (added) {
        if (s.subject.empty()) Identify(companies[i], s);
        Finish(companies[i], params, s);
      }
    }
    if (s.score_bps == 0 || std::abs(s.score_bps) < params.min_alert_bps())
      continue;
    scorer.Explain(companies[i], event, s);
    result.subjects.push_back(std::move(s));
  }

  std::vector<SubjectScore> sectors;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const SectorGroup& g = groups[gi];
    SubjectScore s;
    s.kind = ScoreSubjectKind::kSector;
    s.subject = g.name;
    s.name = g.name;
    s.sector = g.name;
    // Market-cap-weighted mean over all members, unaffected ones included.
    std::vector<int> movers;
    for (int i : g.members) {
      const double m = total[static_cast<size_t>(i)];
      s.score_bps += weight(static_cast<size_t>(i)) * m;
      if (m != 0) movers.push_back(i);
    }
    if (std::abs(s.score_bps) < params.min_alert_bps() || s.score_bps == 0)
      continue;
    for (auto& [key, k] : ranking.roll_ups[gi]) {
      k.country = std::get<1>(key);
      k.delta_pct = 0;
      k.exposure_share = k.market_factor = k.revenue_share = k.cogs_ratio =
          k.sector_factor = k.partner_weight = 0;
      s.contributions.push_back(k);
    }
    SortContributions(s.contributions);
    s.severity = params.SeverityOf(std::abs(s.score_bps));
    std::sort(movers.begin(), movers.end(), [&](int a, int b) {
      const double x = std::abs(total[static_cast<size_t>(a)]),
                   y = std::abs(total[static_cast<size_t>(b)]);
      if (x != y) return x > y;
      return companies[static_cast<size_t>(a)].ticker <
             companies[static_cast<size_t>(b)].ticker;
    });
    std::vector<std::string> top;
    for (size_t k = 0; k < movers.size() && k < 3; ++k) {
      const size_t i = static_cast<size_t>(movers[k]);
      top.push_back(absl::StrFormat("%s %+.1f", companies[i].ticker, total[i]));
    }
    s.explanation = absl::StrFormat(
        "%s %s of revenue, the market-cap-weighted mean of its %d companies "
        "(largest moves: %s bps) from %s.",
        g.name, Bps(s.score_bps), static_cast<int>(g.members.size()),
        top.empty() ? "none" : absl::StrJoin(top, ", "), event);
    sectors.push_back(std::move(s));
  }

  std::sort(result.subjects.begin(), result.subjects.end(), ByMagnitude);
  std::sort(sectors.begin(), sectors.end(), ByMagnitude);
  for (SubjectScore& s : sectors) result.subjects.push_back(std::move(s));
  return result;
}

}  // namespace tariffalert
