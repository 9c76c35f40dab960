#ifndef TARIFF_ALERT_SERVER_COMMON_BASE_RATES_H_
#define TARIFF_ALERT_SERVER_COMMON_BASE_RATES_H_

// Most-favoured-nation (column 1 general) base rates per importer and HS
// scope: all goods ("*"), chapter or heading, each row with its source. The
// exposure table carries them (base-rates.csv, docs/exposure-format.md), so
// every server of a deployment prices with the same rates. Immutable once
// built; Find() is safe from any thread.

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"

namespace tariffalert {

struct BaseRate {
  Country importer;
  HsCode product;  // the row's scope: "*", a chapter or a heading
  double rate_pct = 0;
  int year = 0;
  std::string source;
  std::string url;
  std::string method;
  // The tariff lines the rate averages (the file's optional `lines`
  // column); 0 if not given.
  int lines = 0;
};

class BaseRates {
 public:
  // One row per (importer, product); the caller checks for repeats.
  void Add(BaseRate rate);

  // The most specific row for goods of `product` into `importer`: the
  // heading's, else its chapter's, else the importer's all-goods row; null
  // when there is none (the importer has no base rates on file).
  const BaseRate* Find(Country importer, HsCode product) const;

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<BaseRate>& rows() const { return rows_; }

 private:
  std::vector<BaseRate> rows_;
  absl::flat_hash_map<std::pair<Country, HsCode>, size_t> index_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_BASE_RATES_H_
