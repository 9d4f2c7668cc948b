// FastFile's listing-order detection (reader.hpp, "Listing-order prefetch"): tells from the order
// in which files are opened whether a loader walks them in walk order (namespace.hpp), and how many
// of the next files to prefetch. Pure logic: no I/O and no lock (the Reader calls it under its own).
//
//  - An open is part of a walk when the file's predecessor in walk order was among the last
//    kWalkWindow files opened (a few loader workers may interleave), or it is the first file.
//  - The prefetch depth doubles with the length of the walk: 8 files, then 16, ... up to
//    `max_files`, so that a chance match in a random order costs little.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::modes::fastfile {

class ListingWalk {
 public:
  static constexpr uint32_t kWalkWindow = 8;

  explicit ListingWalk(size_t file_count) : opened_(file_count, 0), streak_(file_count, 0) {}

  // Records the open of the file at walk position `order` (< file_count) and returns how many of
  // the files after it to prefetch (0: this open is not part of a walk).
  size_t on_open(size_t order, size_t max_files);

 private:
  std::vector<uint32_t> opened_;  // per walk position: the open sequence number of its last open
  std::vector<uint8_t> streak_;   // per walk position: files opened in walk order up to it
  uint32_t opens_ = 0;
};

}  // namespace sluice::modes::fastfile
