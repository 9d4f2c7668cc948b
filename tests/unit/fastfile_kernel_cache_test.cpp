// FastFile's guess of which files the kernel's page cache holds (modes/fastfile/kernel_cache.hpp):
// marks, what a read after a marked open does, and the trust that misses take away.
#include "modes/fastfile/kernel_cache.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sluice::modes::fastfile {
namespace {

TEST(FastFileKernelCache, NothingIsHeldUntilReadWhole) {
  KernelCache k(4);
  for (size_t i = 0; i < 4; ++i) EXPECT_FALSE(k.holds(i));
  k.read_whole(2);
  EXPECT_TRUE(k.marked(2));
  EXPECT_TRUE(k.holds(2));
  EXPECT_FALSE(k.holds(1));
  EXPECT_FALSE(k.holds(3));
}

TEST(FastFileKernelCache, AReadAfterAMarkedOpenRemovesTheMarkAndCountsAMiss) {
  KernelCache k(2);
  k.read_whole(0);
  k.read_again(0);
  EXPECT_FALSE(k.marked(0));
  EXPECT_FALSE(k.holds(0));
  EXPECT_EQ(k.misses(), 1u);
  k.read_whole(0);  // that read went on to cover the file: the kernel holds it again
  EXPECT_TRUE(k.holds(0));
}

TEST(FastFileKernelCache, MissesBeyondTheGraceAndAQuarterOfTheHitsTurnTheGuessOff) {
  KernelCache k(1);
  k.read_whole(0);
  for (uint32_t i = 0; i < KernelCache::kGrace; ++i) {
    k.read_again(0);
    k.read_whole(0);
  }
  EXPECT_TRUE(k.holds(0)) << "within the grace";
  k.read_again(0);
  k.read_whole(0);
  EXPECT_TRUE(k.marked(0));
  EXPECT_FALSE(k.holds(0)) << "one miss past the grace, no hits";
  // Hits bring it back: misses <= grace + hits / 4.
  for (int i = 0; i < 3; ++i) k.closed_unread();
  EXPECT_FALSE(k.holds(0));
  k.closed_unread();
  EXPECT_TRUE(k.holds(0));
}

TEST(FastFileKernelCache, AMostlyRightGuessStaysOnThroughItsMisses) {
  KernelCache k(1);
  k.read_whole(0);
  // One miss in five opens, for many opens: misses stay under a quarter of the hits.
  for (int i = 0; i < 10000; ++i) {
    if (i % 5 == 0) {
      k.read_again(0);
      k.read_whole(0);
    } else {
      k.closed_unread();
    }
    ASSERT_TRUE(k.holds(0)) << "after open " << i;
  }
}

TEST(FastFileKernelCache, TheCountsDecaySoTheGuessFollowsAChange) {
  KernelCache k(1);
  k.read_whole(0);
  for (int i = 0; i < 100000; ++i) k.closed_unread();  // a long run of hits
  EXPECT_LT(k.hits() + k.misses(), KernelCache::kWindow);
  // Then the page cache no longer holds the dataset: every open misses. The guess turns off
  // within a window, not after as many misses as there were hits.
  int opens = 0;
  while (k.holds(0)) {
    k.read_again(0);
    k.read_whole(0);
    ASSERT_LT(++opens, static_cast<int>(KernelCache::kWindow)) << "still trusted";
  }
  EXPECT_GT(opens, static_cast<int>(KernelCache::kGrace));
}

// Opens become unneeded after a tree's worth of hits in a row (at most kSettle), and a miss starts
// the count again.
TEST(FastFileKernelCache, OpensAreUnneededAfterATreesWorthOfHitsInARow) {
  KernelCache k(10);
  for (size_t i = 0; i < 10; ++i) k.read_whole(i);
  EXPECT_FALSE(k.opens_unneeded()) << "marks alone are no evidence";
  for (int i = 0; i < 9; ++i) k.closed_unread();
  EXPECT_FALSE(k.opens_unneeded());
  k.read_again(3);  // the tenth open was a miss
  k.read_whole(3);
  for (int i = 0; i < 9; ++i) k.closed_unread();
  EXPECT_FALSE(k.opens_unneeded()) << "the miss started the count again";
  k.closed_unread();
  EXPECT_TRUE(k.opens_unneeded());

  KernelCache big(100000);
  big.read_whole(0);
  for (uint64_t i = 0; i + 1 < KernelCache::kSettle; ++i) big.closed_unread();
  EXPECT_FALSE(big.opens_unneeded());
  big.closed_unread();
  EXPECT_TRUE(big.opens_unneeded()) << "a large tree needs kSettle hits in a row, not a whole epoch";
}

// A page cache that holds most of a large tree but not all: a shuffled epoch misses at random, and
// with one miss in a hundred opens a run of kSettle hits in a row does not come (0.99^4096 is
// about 1e-18). (With one in a thousand it may: then the misses cost less than the opens would.)
TEST(FastFileKernelCache, APageCacheMissingOneFileInAHundredNeverMakesOpensUnneeded) {
  KernelCache k(20000);
  for (size_t i = 0; i < 20000; ++i) k.read_whole(i);
  std::mt19937 rng(7);
  for (int open = 0; open < 200000; ++open) {
    const size_t i = rng() % 20000;
    if (rng() % 100 != 0) {  // the page cache holds 99 %
      k.closed_unread();
    } else {
      k.read_again(i);
      k.read_whole(i);
    }
    ASSERT_FALSE(k.opens_unneeded()) << "after open " << open;
  }
}

}  // namespace
}  // namespace sluice::modes::fastfile
