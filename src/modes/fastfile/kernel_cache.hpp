// FastFile's guess of which files the kernel's page cache holds whole (reader.hpp, "Files the
// kernel holds"). The mount opens files with FOPEN_KEEP_CACHE (the content never changes), so a
// file the kernel has read whole is served from its page cache on later opens and no read reaches
// the reader. Fetching its head on open, or in the shuffled-order sweep, would fetch bytes nobody
// asks for: every epoch after the first of a dataset that fits in memory. Pure logic: no I/O and
// no lock (the Reader calls it under its own).
//
//  - A file is marked when a handle's reads have covered it from 0 to its end (read_whole).
//  - The kernel may drop pages at any time (memory pressure, fadvise, the inode forgotten): a read
//    that reaches the reader through a handle opened while the file was marked shows it did
//    (read_again): the mark goes, and the open counts as a miss. A handle opened while marked and
//    closed without a read counts as a hit.
//  - holds() answers for a marked file only while misses stay under a quarter of the hits (with a
//    grace of kGrace misses): a page cache too small for the dataset turns the guess off, and the
//    reader prefetches as if it knew nothing. Both counts are halved every kWindow opens, so the
//    guess follows a change (another job's files pushed the dataset out, or memory came back).
//  - A wrong guess costs speed, never bytes: a read always gets its data.
//  - opens_unneeded(): once the opens of marked files closed without a read kSettle times in a
//    row (or file_count times, for a smaller tree) the page cache holds the whole tree, and an
//    open only costs its round trip to the daemon: the mount may ask the kernel to stop sending
//    opens (fuse_ops.cpp). A tree larger than the page cache does not get there: a shuffled
//    epoch over it misses at random and every miss starts the count again.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::modes::fastfile {

class KernelCache {
 public:
  static constexpr uint32_t kGrace = 16;
  static constexpr uint32_t kWindow = 4096;
  static constexpr uint64_t kSettle = 4096;

  explicit KernelCache(size_t file_count) : marked_(file_count, false) {}

  // The file at walk position `order` (< file_count) was read whole through one handle.
  void read_whole(size_t order) { marked_[order] = true; }
  // A handle opened while `order` was marked reads it: the kernel no longer holds all of it.
  void read_again(size_t order);
  // A handle opened while `order` was marked closes without a read.
  void closed_unread();

  bool marked(size_t order) const { return marked_[order]; }
  // Whether to take `order` as held: marked, and the guess has been right often enough.
  bool holds(size_t order) const { return marked_[order] && trusted(); }
  bool trusted() const { return misses_ <= kGrace + hits_ / 4; }

  bool opens_unneeded() const { return trusted() && streak_ >= std::min<uint64_t>(kSettle, marked_.size()) && streak_ > 0; }

  uint32_t hits() const { return hits_; }
  uint32_t misses() const { return misses_; }

 private:
  void count();

  std::vector<bool> marked_;
  uint32_t hits_ = 0, misses_ = 0;
  uint64_t streak_ = 0;  // hits since the last miss
};

}  // namespace sluice::modes::fastfile
