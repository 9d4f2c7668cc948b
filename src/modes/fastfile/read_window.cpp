// The per-handle read-ahead window of FastFile's reader (read_window.hpp).
#include "modes/fastfile/read_window.hpp"

#include <algorithm>

namespace sluice::modes::fastfile {

bool ReadWindow::on_read(uint64_t offset, uint64_t end, const ReadWindowOptions& o) {
  const uint64_t B = o.block_size;
  // Sequential: at the expected offset, or near it (the kernel's read-ahead sends reads out of
  // order); a fresh handle reading from 0 starts streaming.
  bool seq = offset == next_offset_ ||
             (streaming_ && offset + 2 * B >= next_offset_ && offset <= next_offset_ + window_ + o.max_request);
  if (seq) {
    window_ = streaming_ ? std::min(window_ * 2, o.max_window) : o.initial_window;
    if (!streaming_) ahead_end_ = 0;
    streaming_ = true;
    next_offset_ = std::max(next_offset_, end);
  } else {
    streaming_ = false;
    window_ = 0;
    next_offset_ = end;
  }
  return streaming_;
}

std::optional<ReadWindow::Ahead> ReadWindow::ahead(uint64_t end, uint64_t file_size, uint64_t block_size) {
  if (!streaming_ || end >= file_size) return std::nullopt;
  const uint64_t B = block_size;
  uint64_t target = std::min(file_size, end + window_);
  if (ahead_end_ < end) ahead_end_ = end;
  if (ahead_end_ >= file_size || ahead_end_ - end >= window_ / 2 + 1) return std::nullopt;
  uint64_t from = (ahead_end_ + B - 1) / B, to = (target - 1) / B;
  if (from > to) return std::nullopt;
  return Ahead{from, to, target};
}

}  // namespace sluice::modes::fastfile
