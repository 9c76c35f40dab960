#include "server/common/base_rates.h"

namespace tariffalert {

void BaseRates::Add(BaseRate rate) {
  index_[{rate.importer, rate.product}] = rows_.size();
  rows_.push_back(std::move(rate));
}

const BaseRate* BaseRates::Find(Country importer, HsCode product) const {
  for (HsCode scope = product;;
       scope = scope.is_heading() ? scope.Parent() : HsCode::All()) {
    auto it = index_.find({importer, scope});
    if (it != index_.end()) return &rows_[it->second];
    if (scope.is_all()) return nullptr;
  }
}

}  // namespace tariffalert
