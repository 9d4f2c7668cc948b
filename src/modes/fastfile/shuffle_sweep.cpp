// Shuffled-order detection and the sweep that fetches ahead of it (shuffle_sweep.hpp).
#include "modes/fastfile/shuffle_sweep.hpp"

#include <algorithm>
#include <bit>

namespace sluice::modes::fastfile {

static_assert(ShuffleSweep::kRecentOpens == 64, "the recent opens are the bits of one uint64_t");

void ShuffleSweep::on_open(size_t order, bool in_walk) {
  recent_ = (recent_ << 1) | (in_walk ? 0u : 1u);
  random_recent_ = static_cast<uint32_t>(std::popcount(recent_));
  if (opened_in_[order] == pass_) {
    // Opened again in this pass: the loader began its next epoch, once this one has covered
    // at least half of its range.
    if (opened_ >= (hi_ - lo_ + 1) / 2) start_pass(order);
    return;
  }
  opened_in_[order] = pass_;
  ++opened_;
  // The range grows downwards past the cursor: the files below it are still to be looked at.
  if (order < lo_ && order < cursor_) cursor_ = order;
  lo_ = std::min(lo_, order);
  hi_ = std::max(hi_, order);
}

void ShuffleSweep::start_pass(size_t order) {
  ++pass_;
  opened_in_[order] = pass_;
  opened_ = 1;
  cursor_ = lo_;  // the range carries over: the next epoch reads the same files
}

std::optional<size_t> ShuffleSweep::next(size_t& steps) {
  if (!active() || opened_ == 0) return std::nullopt;
  cursor_ = std::max(cursor_, lo_);
  while (cursor_ <= hi_ && steps > 0) {
    --steps;
    const size_t order = cursor_++;
    if (opened_in_[order] != pass_) return order;
  }
  return std::nullopt;
}

void ShuffleSweep::put_back(size_t order) {
  if (order < cursor_) cursor_ = order;
}

}  // namespace sluice::modes::fastfile
