// Listing-order detection for FastFile's prefetch (listing_walk.hpp).
#include "modes/fastfile/listing_walk.hpp"

#include <algorithm>

namespace sluice::modes::fastfile {

size_t ListingWalk::on_open(size_t order, size_t max_files) {
  const uint32_t seq = ++opens_;
  bool walk = order == 0 || (opened_[order - 1] != 0 && seq - opened_[order - 1] <= kWalkWindow);
  opened_[order] = seq;
  streak_[order] = walk ? static_cast<uint8_t>(std::min<int>(order == 0 ? 1 : streak_[order - 1] + 1, 8)) : 0;
  if (!walk) return 0;
  return std::min<size_t>(max_files, size_t{4} << streak_[order]);
}

}  // namespace sluice::modes::fastfile
