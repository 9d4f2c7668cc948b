// FastFile's listing-order detection (modes/fastfile/listing_walk.hpp): which opens count as a
// walk in listing order, and how deep the prefetch goes.
#include "modes/fastfile/listing_walk.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace sluice::modes::fastfile {
namespace {

TEST(FastFileListingWalk, AWalkInOrderDoublesThePrefetchDepth) {
  ListingWalk walk(100);
  std::vector<size_t> depths;
  for (size_t order = 0; order < 6; ++order) depths.push_back(walk.on_open(order, 64));
  EXPECT_EQ(depths, (std::vector<size_t>{8, 16, 32, 64, 64, 64}));
}

TEST(FastFileListingWalk, TheDepthStopsGrowingAfterEightFiles) {
  ListingWalk walk(100);
  size_t depth = 0;
  for (size_t order = 0; order < 20; ++order) depth = walk.on_open(order, 100000);
  EXPECT_EQ(depth, size_t{4} << 8);
}

TEST(FastFileListingWalk, ARandomOrderPrefetchesNothing) {
  ListingWalk walk(100);
  for (size_t order : {57, 3, 91, 20, 44, 12}) EXPECT_EQ(walk.on_open(order, 64), 0u) << order;
  // Opening a file again is not a walk either (its predecessor was never opened).
  EXPECT_EQ(walk.on_open(57, 64), 0u);
}

TEST(FastFileListingWalk, InterleavedWorkersStillCountAsAWalk) {
  ListingWalk walk(100);
  EXPECT_EQ(walk.on_open(0, 64), 8u);
  for (size_t order = 50; order < 50 + ListingWalk::kWalkWindow - 1; ++order) walk.on_open(order, 64);
  // The predecessor (0) was the kWalkWindow-th open before this one.
  EXPECT_EQ(walk.on_open(1, 64), 16u);
}

TEST(FastFileListingWalk, APredecessorOpenedTooLongAgoEndsTheWalk) {
  ListingWalk walk(100);
  walk.on_open(0, 64);
  for (size_t order = 50; order < 50 + ListingWalk::kWalkWindow; ++order) walk.on_open(order, 64);
  EXPECT_EQ(walk.on_open(1, 64), 0u);
  // The walk starts over from there: 2 follows 1, whose streak was reset.
  EXPECT_EQ(walk.on_open(2, 64), 8u);
}

TEST(FastFileListingWalk, NoPrefetchWhenItIsOff) {
  ListingWalk walk(10);
  EXPECT_EQ(walk.on_open(0, 0), 0u);
  EXPECT_EQ(walk.on_open(1, 0), 0u);
}

}  // namespace
}  // namespace sluice::modes::fastfile
