#include "server/tariff_book/tariff_book.h"

#include <algorithm>

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

bool TariffAction::TargetsCountry(Country exporter) const {
  if (exporter.SameBloc(importer)) return false;
  if (targets.empty()) return true;
  for (Country t : targets) {
    if (t == exporter || (t.is_eu() && exporter.IsEuMember())) return true;
  }
  return false;
}

std::vector<TariffBook::Key> TariffBook::KeysOf(const TariffAction& action) {
  std::vector<Country> partners;
  if (action.targets.empty()) {
    partners.push_back(Country());
  } else {
    for (Country t : action.targets) {
      if (t.is_eu()) {
        partners.insert(partners.end(), EuMembers().begin(), EuMembers().end());
      } else {
        partners.push_back(t);
      }
    }
  }
  std::vector<HsCode> products = action.products;
  if (products.empty()) products.push_back(HsCode::All());
  std::vector<Key> keys;
  for (Country p : partners) {
    for (HsCode h : products) keys.push_back(Key{action.importer, p, h});
  }
  return keys;
}

const double* TariffBook::Lookup(Country importer, Country exporter,
                                 HsCode product) const {
  auto it = rates_.find(Key{importer, exporter, product});
  return it == rates_.end() ? nullptr : &it->second;
}

double TariffBook::Rate(Country importer, Country exporter,
                        HsCode product) const {
  if (exporter.valid() && exporter.SameBloc(importer)) return 0;
  // The most specific product scope wins; within one scope the partner's own
  // entry beats the all-partner one. Product measures such as steel tariffs
  // thus hold against a country's all-goods rate.
  const HsCode scopes[3] = {product, product.Parent(), HsCode::All()};
  for (const HsCode& scope : scopes) {
    if (exporter.valid()) {
      if (const double* r = Lookup(importer, exporter, scope)) return *r;
    }
    if (const double* r = Lookup(importer, Country(), scope)) return *r;
    if (scope.is_all()) break;
  }
  return 0;
}

TariffBook TariffBook::After(const TariffAction& action) const {
  TariffBook after = *this;
  switch (action.stage) {
    case Stage::kThreatened:
    case Stage::kAnnounced: {
      // The hypothetical book the threat points at.
      TariffAction effective = action;
      effective.stage = Stage::kEffective;
      after.Apply(effective);
      break;
    }
    default:
      after.Apply(action);
  }
  return after;
}

bool TariffBook::Apply(const TariffAction& action) {
  bool changed = false;
  switch (action.stage) {
    case Stage::kEffective:
    case Stage::kPaused:
      for (const Key& k : KeysOf(action)) {
        auto [it, inserted] = rates_.emplace(k, *action.new_rate_pct);
        if (inserted || it->second != *action.new_rate_pct) {
          it->second = *action.new_rate_pct;
          changed = true;
        }
      }
      break;
    case Stage::kRevoked:
      for (const Key& k : KeysOf(action)) changed |= rates_.erase(k) > 0;
      break;
    case Stage::kThreatened:
    case Stage::kAnnounced:
    case Stage::kExtended:
      break;
  }
  if (changed) ++revision_;
  return changed;
}

std::vector<BookRateChange> TariffBook::Changes(const TariffAction& action,
                                                const TariffBook& after) const {
  std::vector<BookRateChange> out;
  std::vector<HsCode> products = action.products;
  if (products.empty()) products.push_back(HsCode::All());
  auto add = [&](const std::string& name, Country exporter, HsCode product) {
    out.push_back(
        BookRateChange{name, product, Rate(action.importer, exporter, product),
                       after.Rate(action.importer, exporter, product)});
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
