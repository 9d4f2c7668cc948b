// Counters a long transfer updates and a reporter reads (from another thread).
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::transfer {

struct Progress {
  std::atomic<uint64_t> total_files{0};
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<uint64_t> done_files{0};     // transferred or skipped
  std::atomic<uint64_t> done_bytes{0};     // bytes moved or skipped
  std::atomic<uint64_t> skipped_files{0};  // already complete at the destination
  std::atomic<uint64_t> skipped_bytes{0};
  std::atomic<uint64_t> failed_files{0};
};

}  // namespace sluice::transfer
