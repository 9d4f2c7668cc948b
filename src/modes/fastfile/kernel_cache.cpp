// The guess of which files the kernel's page cache holds whole (kernel_cache.hpp).
#include "modes/fastfile/kernel_cache.hpp"

namespace sluice::modes::fastfile {

void KernelCache::read_again(size_t order) {
  marked_[order] = false;
  ++misses_;
  streak_ = 0;
  count();
}

void KernelCache::closed_unread() {
  ++hits_;
  ++streak_;
  count();
}

void KernelCache::count() {
  if (hits_ + misses_ >= kWindow) {
    hits_ /= 2;
    misses_ /= 2;
  }
}

}  // namespace sluice::modes::fastfile
