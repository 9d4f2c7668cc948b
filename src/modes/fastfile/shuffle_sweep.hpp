// FastFile's shuffled-order prefetch (reader.hpp, "Shuffled-order prefetch"): tells from the opens
// whether a loader reads the files in a random order (a shuffled epoch: each file once, in no
// order prefetch by the listing could follow), and then hands out the files to fetch ahead, in
// walk order, skipping those this pass has already opened. Pure logic: no I/O and no lock (the
// Reader calls it under its own).
//
//  - Active while at least kActiveOpens of the last kRecentOpens opens were not part of a
//    listing walk (listing_walk.hpp), so a few random opens, or a walk, start nothing.
//  - Only files between the first and the last walk position this pass has opened are handed
//    out: a loader that reads one directory of the mount (train/ beside val/, one host's share)
//    does not have the rest fetched.
//  - A pass is one epoch: the files opened during it are skipped. A file opened a second time in
//    a pass that has opened at least half of the files in its range means the next epoch began:
//    a new pass starts from the first file of the range (the range carries over). (A reopen earlier than that, by a loader that opens a
//    file twice or samples with replacement, starts nothing.)
//  - The sweep hands out each file at most once per pass; a file it could not start (memory
//    full) is given back (put_back) and handed out again next time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sluice::modes::fastfile {

class ShuffleSweep {
 public:
  static constexpr uint32_t kRecentOpens = 64;
  static constexpr uint32_t kActiveOpens = 48;

  explicit ShuffleSweep(size_t file_count) : opened_in_(file_count, 0) {}

  // Records the open of the file at walk position `order` (< file_count); `in_walk`: the listing
  // walk took it as part of a walk.
  void on_open(size_t order, bool in_walk);
  bool active() const { return random_recent_ >= kActiveOpens; }

  // The next walk position to fetch ahead, or nullopt when this pass has handed out every file
  // not opened yet in its range (or the sweep is not active). Each position looked at takes one
  // of `steps` (a bound on the work of the caller); nullopt when none is left.
  std::optional<size_t> next(size_t& steps);
  // `order`, just handed out by next(), could not be started: it comes out of next() again.
  void put_back(size_t order);

  uint32_t pass() const { return pass_; }

 private:
  void start_pass(size_t order);

  std::vector<uint32_t> opened_in_;  // per walk position: the pass (from 1) it was last opened in
  uint32_t pass_ = 1;
  size_t opened_ = 0;            // distinct files this pass has opened
  size_t lo_ = SIZE_MAX, hi_ = 0;  // the walk positions this pass has opened: [lo_, hi_]
  size_t cursor_ = 0;
  uint64_t recent_ = 0;  // the last kRecentOpens opens, one bit each: 1 = not in a walk
  uint32_t random_recent_ = 0;
};

}  // namespace sluice::modes::fastfile
