// Shuffled-order detection and the sweep that fetches ahead of it (shuffle_sweep.hpp).
#include "modes/fastfile/shuffle_sweep.hpp"

#include <bit>

namespace sluice::modes::fastfile {

static_assert(ShuffleSweep::kRecentOpens == 64, "the recent opens are the bits of one uint64_t");

void ShuffleSweep::on_open(size_t order, bool in_walk) {
  recent_ = (recent_ << 1) | (in_walk ? 0u : 1u);
  random_recent_ = static_cast<uint32_t>(std::popcount(recent_));
  if (opened_in_[order] == pass_) {
    // Opened again in this pass: the loader began its next epoch.
    ++pass_;
    cursor_ = 0;
  }
  opened_in_[order] = pass_;
}

std::optional<size_t> ShuffleSweep::next() {
  if (!active()) return std::nullopt;
  while (cursor_ < opened_in_.size()) {
    const size_t order = cursor_++;
    if (opened_in_[order] != pass_) return order;
  }
  return std::nullopt;
}

void ShuffleSweep::put_back(size_t order) {
  if (order < cursor_) cursor_ = order;
}

}  // namespace sluice::modes::fastfile
