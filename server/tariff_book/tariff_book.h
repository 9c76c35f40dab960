#ifndef TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_BOOK_H_
#define TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_BOOK_H_

// The tariff book, first form (docs/tariff-book.md): one rate per (importer,
// partner, product scope), where the partner is one country or "all partners"
// and the scope is all goods, an HS chapter or a heading. The effective rate on
// goods of a scope from a partner is the most specific entry that covers it:
// a heading before its chapter before all goods, and at one scope the
// partner's own entry before the all-partner one. Rates start at 0. An
// EFFECTIVE or PAUSED event sets its entries, REVOKED removes them; the other
// stages leave the book alone. Pure: no clock, no I/O, not thread-safe (the
// publisher serializes access).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"
#include "server/tariff_book/tariff_action.h"

namespace tariffalert {

// The change an event makes on one (partner, scope) it names.
struct BookRateChange {
  std::string target;  // alpha-2, "EU" (members moved alike) or "*"
  HsCode product;
  double previous_rate_pct = 0;
  double new_rate_pct = 0;
};

class TariffBook {
 public:
  // Effective rate in percent on goods of `product` from `exporter` (a single
  // country) into `importer`. 0 within one customs bloc.
  double Rate(Country importer, Country exporter, HsCode product) const;

  // The book as it would be after `action` took effect. For THREATENED and
  // ANNOUNCED this is the hypothetical book the event points at; for EXTENDED
  // the same book.
  TariffBook After(const TariffAction& action) const;

  // Applies the action if its stage changes the book (EFFECTIVE, PAUSED,
  // REVOKED); bumps the revision when an entry changed. Returns whether it did.
  bool Apply(const TariffAction& action);

  // Before and after rates of each (target, product) the action names.
  std::vector<BookRateChange> Changes(const TariffAction& action,
                                      const TariffBook& after) const;

  uint64_t revision() const { return revision_; }
  size_t entry_count() const { return rates_.size(); }

 private:
  struct Key {
    Country importer;
    Country exporter;  // invalid Country() = all partners
    HsCode product;
    friend bool operator==(const Key& a, const Key& b) {
      return a.importer == b.importer && a.exporter == b.exporter &&
             a.product == b.product;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.importer, k.exporter, k.product);
    }
  };
  // The book's entries an action writes: its targets with "EU" expanded to
  // the members, times its products.
  static std::vector<Key> KeysOf(const TariffAction& action);
  // Rate of an all-partner or single-country entry chain for `product`.
  const double* Lookup(Country importer, Country exporter,
                       HsCode product) const;

  absl::flat_hash_map<Key, double> rates_;
  uint64_t revision_ = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_TARIFF_BOOK_TARIFF_BOOK_H_
