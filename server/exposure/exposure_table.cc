#include "server/exposure/exposure_table.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/string_view.h"

namespace tariffalert {

ExposureTable::ExposureTable(std::string version,
                             std::vector<Company> companies)
    : version_(std::move(version)), companies_(std::move(companies)) {
  std::sort(
      companies_.begin(), companies_.end(),
      [](const Company& a, const Company& b) { return a.ticker < b.ticker; });
  std::map<std::string, SectorGroup> sectors;
  for (size_t i = 0; i < companies_.size(); ++i) {
    const Company& c = companies_[i];
    by_ticker_.emplace(c.ticker, static_cast<int>(i));
    SectorGroup& group = sectors[c.sector];
    group.name = c.sector;
    group.members.push_back(static_cast<int>(i));
    group.market_cap_usd += c.market_cap_usd;
    exposure_rows_ += c.revenue.size() + c.sourcing.size() +
                      c.production.size() + c.products.size();
  }
  for (auto& [name, group] : sectors) sectors_.push_back(std::move(group));
}

const Company* ExposureTable::Find(absl::string_view ticker) const {
  auto it = by_ticker_.find(ticker);
  return it == by_ticker_.end() ? nullptr : &companies_[it->second];
}

}  // namespace tariffalert
