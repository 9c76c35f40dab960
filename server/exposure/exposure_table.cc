#include "server/exposure/exposure_table.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/string_view.h"

namespace tariffalert {

ExposureTable::ExposureTable(std::string version,
                             std::vector<Company> companies,
                             std::vector<SupplyLink> links)
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

const Company* ExposureTable::Find(absl::string_view ticker) const {
  auto it = by_ticker_.find(ticker);
  return it == by_ticker_.end() ? nullptr : &companies_[it->second];
}

}  // namespace tariffalert
