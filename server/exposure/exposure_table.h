#ifndef TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_TABLE_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_TABLE_H_

// The exposure table: who sells into, sources from and produces in which
// country, in which product groups. An ExposureTable is an immutable snapshot
// of one loaded version; the server swaps whole snapshots, so a scorer never
// sees half a table. Knows nothing of Redis or gRPC.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"

namespace tariffalert {

// One row of exposures.csv for a company: `share` of the kind's base (revenue,
// cost of goods or output) in `country` and product scope `product`.
struct ExposureRow {
  Country country;  // invalid (unset) for product rows
  HsCode product;
  double share = 0;
};

struct Company {
  std::string ticker;
  std::string name;
  std::string sector;
  Country country;
  double market_cap_usd = 0;
  double cogs_ratio = 0;
  double operating_margin = 0;
  std::vector<ExposureRow>
      revenue;  // share of revenue from customers in country
  std::vector<ExposureRow>
      sourcing;  // share of cost of goods bought from country
  std::vector<ExposureRow> production;  // share of output made in country
  std::vector<ExposureRow> products;    // share of revenue in an HS scope
};

struct SectorGroup {
  std::string name;
  std::vector<int> members;  // indices into ExposureTable::companies()
  double market_cap_usd = 0;
};

class ExposureTable {
 public:
  ExposureTable(std::string version, std::vector<Company> companies);

  // The version id the loader gave this table ("" for an empty table).
  const std::string& version() const { return version_; }
  absl::Span<const Company> companies() const { return companies_; }
  // Sectors in name order, each with its members in ticker order.
  absl::Span<const SectorGroup> sectors() const { return sectors_; }
  // nullptr if the ticker is not in the table.
  const Company* Find(absl::string_view ticker) const;
  size_t exposure_row_count() const { return exposure_rows_; }

 private:
  std::string version_;
  std::vector<Company> companies_;
  std::vector<SectorGroup> sectors_;
  absl::flat_hash_map<std::string, int> by_ticker_;
  size_t exposure_rows_ = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_TABLE_H_
