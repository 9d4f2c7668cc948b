// FastFile's per-handle read-ahead window (reader.hpp, "Sequential readers"): whether a handle
// reads sequentially, how far ahead of it to read, and which blocks that asks for. Pure logic:
// no I/O and no lock (the Reader calls it under its own).
//
//  - A read is sequential when it starts where the handle's last one ended, or, while the handle
//    streams, near it (the kernel's read-ahead sends reads out of order). A fresh handle reading
//    from 0 starts streaming.
//  - While streaming, the window starts at `initial_window` and doubles with each read up to
//    `max_window`. A read elsewhere resets it: random readers get no read-ahead.
//  - Read-ahead is topped up in large pieces: once less than half the window is left ahead of
//    the reader, everything up to a full window is asked for.
#pragma once

#include <cstdint>
#include <optional>

namespace sluice::modes::fastfile {

struct ReadWindowOptions {
  uint64_t block_size = 0;
  uint64_t initial_window = 0;
  uint64_t max_window = 0;
  uint64_t max_request = 0;  // how far past the window a streaming read may still land
};

class ReadWindow {
 public:
  // Blocks [first, last] to read ahead; `target` is the end offset they reach.
  struct Ahead {
    uint64_t first = 0, last = 0;
    uint64_t target = 0;
  };

  // Records a read of [offset, end) and returns whether the handle now streams.
  bool on_read(uint64_t offset, uint64_t end, const ReadWindowOptions& o);

  // After a read ending at `end` of a file of `file_size` bytes: the blocks to read ahead, or
  // nullopt when the handle does not stream or enough is already ahead. Call issued() once they
  // are asked for (optional work may have to be skipped for want of memory: then the next read
  // asks again).
  std::optional<Ahead> ahead(uint64_t end, uint64_t file_size, uint64_t block_size);
  void issued(const Ahead& a) { ahead_end_ = a.target; }

  bool streaming() const { return streaming_; }
  uint64_t window() const { return window_; }
  uint64_t next_offset() const { return next_offset_; }

 private:
  uint64_t next_offset_ = 0;  // where a sequential reader reads next
  uint64_t window_ = 0;       // read-ahead bytes beyond the last read; 0 when not streaming
  uint64_t ahead_end_ = 0;    // read-ahead has been issued for the bytes before this offset
  bool streaming_ = false;
};

}  // namespace sluice::modes::fastfile
