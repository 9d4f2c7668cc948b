#include "store/registry.hpp"

namespace sluice::store {

ObjectStore& Registry::operator()(const Address& where) {
  std::lock_guard lock(mu_);
  auto& slot = stores_[where.store_id()];
  if (!slot.inner) {
    slot.inner = open_ ? open_(where) : open_store(where, options_);
    if (wrap_) slot.wrapped = wrap_(*slot.inner, where);
  }
  return slot.wrapped ? *slot.wrapped : *slot.inner;
}

}  // namespace sluice::store
