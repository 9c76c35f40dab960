#ifndef TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_TABLE_H_
#define TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_TABLE_H_

// The exposure table: who sells into, sources from and produces in which
// country, in which product groups, and which company buys what share of
// which supplier's revenue (links.csv). An ExposureTable is an immutable
// snapshot of one loaded version; the server swaps whole snapshots, so a
// scorer never sees half a table. Knows nothing of Redis or gRPC.

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/common/base_rates.h"
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

// 2024: $406.7B of the $916.4B imported from Canada and Mexico entered under
// USMCA (International Trade Today, 2025-03-06): 44.4%.
inline constexpr double kDefaultUsmcaShare = 0.444;

struct Company {
  std::string ticker;
  std::string name;
  std::string sector;
  Country country;
  double market_cap_usd = 0;
  double cogs_ratio = 0;
  double operating_margin = 0;
  // Of its flows among the US, Canada and Mexico, the share that qualifies
  // for USMCA preference; of its imports, the share that enters as
  // low-value direct-to-consumer parcels (de minimis). Optional columns of
  // companies.csv with these defaults (docs/exposure-format.md).
  double usmca_share = kDefaultUsmcaShare;
  double low_value_share = 0;
  std::vector<ExposureRow>
      revenue;  // share of revenue from customers in country
  std::vector<ExposureRow>
      sourcing;  // share of cost of goods bought from country
  std::vector<ExposureRow> production;  // share of output made in country
  std::vector<ExposureRow> products;    // share of revenue in an HS scope
};

// One row of links.csv: `customer` buys `share` of `supplier`'s revenue.
struct SupplyLink {
  std::string supplier;
  std::string customer;
  double share = 0;
};

// A supplier's link to one of its customers, by index into
// ExposureTable::companies().
struct CustomerLink {
  int customer = 0;
  double share = 0;
};

// One company's row of one kind in one country, for the country-major view.
struct CountryShare {
  int company = 0;  // index into ExposureTable::companies()
  double share = 0;
};

enum class ExposureKind { kRevenue = 0, kSourcing = 1, kProduction = 2 };

struct SectorGroup {
  std::string name;
  std::vector<int> members;  // indices into ExposureTable::companies()
  double market_cap_usd = 0;
};

class ExposureTable {
 public:
  // `links` name their companies by ticker; the parser has checked them
  // (exposure_csv.h), and a link naming a ticker not in `companies` is
  // dropped.
  ExposureTable(std::string version, std::vector<Company> companies,
                std::vector<SupplyLink> links = {},
                std::shared_ptr<const BaseRates> base_rates = nullptr);

  // The version id the loader gave this table ("" for an empty table).
  const std::string& version() const { return version_; }
  absl::Span<const Company> companies() const { return companies_; }
  // Sectors in name order, each with its members in ticker order.
  absl::Span<const SectorGroup> sectors() const { return sectors_; }
  // The index in sectors() of companies()[company]'s sector.
  int sector_of(size_t company) const { return sector_of_[company]; }
  // companies()[company]'s share of its sector's market cap: its weight in
  // the sector's score (made once, at load: the scorer reads it per term).
  double sector_weight(size_t company) const { return sector_weight_[company]; }
  // nullptr if the ticker is not in the table.
  const Company* Find(absl::string_view ticker) const;
  size_t exposure_row_count() const { return exposure_rows_; }
  // The customers of companies()[supplier], in ticker order.
  absl::Span<const CustomerLink> CustomersOf(size_t supplier) const;
  size_t link_count() const { return customers_.size(); }
  // The base (MFN) rates the table carries; never null, maybe empty.
  const BaseRates& base_rates() const { return *base_rates_; }
  // Every company's ticker, name and sector is valid UTF-8, as the loader
  // (which refuses other bytes) makes sure; a table built otherwise may not
  // be, and the publisher then checks each alert's bytes.
  bool text_is_utf8() const { return text_is_utf8_; }

  // The country-major view the scorer reads for an all-goods event: the rows
  // of `kind` located in `country`, of the simple companies only, in company
  // order. A company is simple when each of its revenue, sourcing and
  // production rows names one country (not EU) and all products, and it has
  // no product rows: then a country holds at most one of its rows of a kind.
  // The other companies are in general_companies(), scored row by row.
  absl::Span<const CountryShare> RowsIn(ExposureKind kind,
                                        Country country) const;
  bool simple(size_t company) const { return simple_[company] != 0; }
  absl::Span<const int> general_companies() const { return general_; }

 private:
  std::string version_;
  std::vector<Company> companies_;
  std::vector<SectorGroup> sectors_;
  std::vector<int> sector_of_;
  std::vector<double> sector_weight_;
  absl::flat_hash_map<std::string, int> by_ticker_;
  size_t exposure_rows_ = 0;
  // RowsIn, by kind.
  absl::flat_hash_map<Country, std::vector<CountryShare>> by_country_[3];
  bool text_is_utf8_ = true;
  std::vector<char> simple_;
  std::vector<int> general_;
  // Links grouped by supplier: those of supplier i are
  // customers_[customer_begin_[i] .. customer_begin_[i + 1]). Both are empty
  // for a table without links.
  std::vector<CustomerLink> customers_;
  std::vector<size_t> customer_begin_;
  std::shared_ptr<const BaseRates> base_rates_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_EXPOSURE_EXPOSURE_TABLE_H_
