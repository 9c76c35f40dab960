#include "server/exposure/exposure_table.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/string_view.h"
#include "server/common/utf8.h"

namespace tariffalert {

ExposureTable::ExposureTable(std::string version,
                             std::vector<Company> companies,
                             std::vector<SupplyLink> links,
                             std::shared_ptr<const BaseRates> base_rates)
    : version_(std::move(version)),
      companies_(std::move(companies)),
      base_rates_(base_rates != nullptr ? std::move(base_rates)
                                        : std::make_shared<const BaseRates>()) {
  std::sort(
      companies_.begin(), companies_.end(),
      [](const Company& a, const Company& b) { return a.ticker < b.ticker; });
  std::map<std::string, SectorGroup> sectors;
  for (size_t i = 0; i < companies_.size(); ++i) {
    const Company& c = companies_[i];
    text_is_utf8_ = text_is_utf8_ && IsValidUtf8(c.ticker) &&
                    IsValidUtf8(c.name) && IsValidUtf8(c.sector);
    by_ticker_.emplace(c.ticker, static_cast<int>(i));
    SectorGroup& group = sectors[c.sector];
    group.name = c.sector;
    group.members.push_back(static_cast<int>(i));
    group.market_cap_usd += c.market_cap_usd;
    exposure_rows_ += c.revenue.size() + c.sourcing.size() +
                      c.production.size() + c.products.size();
  }
  sector_of_.assign(companies_.size(), 0);
  for (auto& [name, group] : sectors) {
    for (int member : group.members) {
      sector_of_[static_cast<size_t>(member)] =
          static_cast<int>(sectors_.size());
    }
    sectors_.push_back(std::move(group));
  }
  sector_weight_.assign(companies_.size(), 0);
  for (size_t i = 0; i < companies_.size(); ++i) {
    sector_weight_[i] =
        companies_[i].market_cap_usd /
        sectors_[static_cast<size_t>(sector_of_[i])].market_cap_usd;
  }

  // The table lives as long as it serves: no spare capacity.
  for (Company& c : companies_) {
    for (auto* rows : {&c.revenue, &c.sourcing, &c.production, &c.products}) {
      rows->shrink_to_fit();
    }
  }

  // The country-major view (RowsIn).
  simple_.assign(companies_.size(), 0);
  for (size_t i = 0; i < companies_.size(); ++i) {
    const Company& c = companies_[i];
    bool simple = c.products.empty();
    for (const auto* rows : {&c.revenue, &c.sourcing, &c.production}) {
      for (size_t a = 0; a < rows->size(); ++a) {
        const ExposureRow& r = (*rows)[a];
        simple &= r.product.is_all() && r.country.valid() && !r.country.is_eu();
        // The loader never lets a country repeat within a kind; a table
        // built otherwise is scored row by row.
        for (size_t b = 0; b < a; ++b)
          simple &= (*rows)[b].country != r.country;
      }
    }
    if (!simple) {
      general_.push_back(static_cast<int>(i));
      continue;
    }
    simple_[i] = 1;
    const std::vector<ExposureRow>* kinds[3] = {&c.revenue, &c.sourcing,
                                                &c.production};
    for (int k = 0; k < 3; ++k) {
      for (const ExposureRow& r : *kinds[k]) {
        by_country_[k][r.country].push_back(
            CountryShare{static_cast<int>(i), r.share});
      }
    }
  }
  for (auto& index : by_country_) {
    for (auto& [country, rows] : index) rows.shrink_to_fit();
  }

  // (supplier, customer, share) by index, grouped by supplier.
  std::vector<std::pair<int, CustomerLink>> resolved;
  resolved.reserve(links.size());
  for (const SupplyLink& l : links) {
    auto s = by_ticker_.find(l.supplier);
    auto c = by_ticker_.find(l.customer);
    if (s == by_ticker_.end() || c == by_ticker_.end()) continue;
    resolved.push_back({s->second, CustomerLink{c->second, l.share}});
  }
  if (resolved.empty()) return;
  std::sort(resolved.begin(), resolved.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.first, a.second.customer) <
           std::make_pair(b.first, b.second.customer);
  });
  customer_begin_.assign(companies_.size() + 1, 0);
  for (const auto& [supplier, link] : resolved) {
    ++customer_begin_[static_cast<size_t>(supplier) + 1];
    customers_.push_back(link);
  }
  for (size_t i = 1; i < customer_begin_.size(); ++i) {
    customer_begin_[i] += customer_begin_[i - 1];
  }
}

absl::Span<const CustomerLink> ExposureTable::CustomersOf(
    size_t supplier) const {
  if (customers_.empty()) return {};
  const size_t begin = customer_begin_[supplier];
  return absl::MakeConstSpan(customers_.data() + begin,
                             customer_begin_[supplier + 1] - begin);
}

absl::Span<const CountryShare> ExposureTable::RowsIn(ExposureKind kind,
                                                     Country country) const {
  const auto& index = by_country_[static_cast<int>(kind)];
  auto it = index.find(country);
  if (it == index.end()) return {};
  return it->second;
}

const Company* ExposureTable::Find(absl::string_view ticker) const {
  auto it = by_ticker_.find(ticker);
  return it == by_ticker_.end() ? nullptr : &companies_[it->second];
}

}  // namespace tariffalert
