// FastFile's shuffled-order detection and sweep (modes/fastfile/shuffle_sweep.hpp): when it wakes,
// what it hands out, passes (epochs), and giving back what could not start.
#include "modes/fastfile/shuffle_sweep.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace sluice::modes::fastfile {
namespace {

std::optional<size_t> next(ShuffleSweep& s) {
  size_t steps = SIZE_MAX;
  return s.next(steps);
}

std::vector<size_t> drain(ShuffleSweep& s) {
  std::vector<size_t> out;
  while (auto o = next(s)) out.push_back(*o);
  return out;
}

// Opens order[from .. to) as random opens (not in a walk), adding each to `opened`.
void open_each(ShuffleSweep& s, const std::vector<size_t>& order, size_t from, size_t to, std::set<size_t>& opened) {
  for (size_t i = from; i < to; ++i) {
    s.on_open(order[i], false);
    opened.insert(order[i]);
  }
}

std::vector<size_t> shuffled(size_t n, unsigned seed) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  return v;
}

TEST(FastFileShuffleSweep, AsleepUntilMostRecentOpensAreRandom) {
  ShuffleSweep s(1000);
  const auto order = shuffled(1000, 1);
  for (size_t i = 0; i + 1 < ShuffleSweep::kActiveOpens; ++i) {
    s.on_open(order[i], false);
    EXPECT_FALSE(s.active()) << i;
    EXPECT_EQ(next(s), std::nullopt);
  }
  s.on_open(order[ShuffleSweep::kActiveOpens - 1], false);
  EXPECT_TRUE(s.active());
}

TEST(FastFileShuffleSweep, AWalkOrAFewRandomOpensNeverWakeIt) {
  ShuffleSweep s(1000);
  // A walk with a random open every fourth file: 16 of each 64 opens are random.
  for (size_t i = 0; i < 800; ++i) {
    s.on_open(i, i % 4 != 3);
    EXPECT_FALSE(s.active()) << i;
  }
}

TEST(FastFileShuffleSweep, WakesAndSleepsWithTheShareOfRandomOpens) {
  ShuffleSweep s(1000);
  const auto order = shuffled(1000, 2);
  for (size_t i = 0; i < 64; ++i) s.on_open(order[i], false);
  ASSERT_TRUE(s.active());
  // The loader turns to walking: after 64 - kActiveOpens + 1 walk opens, fewer than kActiveOpens
  // of the last 64 are random.
  for (size_t i = 0; i < 64 - ShuffleSweep::kActiveOpens; ++i) s.on_open(order[64 + i], true);
  EXPECT_TRUE(s.active());
  s.on_open(order[200], true);
  EXPECT_FALSE(s.active());
  EXPECT_EQ(next(s), std::nullopt);
}

TEST(FastFileShuffleSweep, HandsOutEachFileNotOpenedInThisPassOnceInWalkOrder) {
  ShuffleSweep s(300);
  const auto order = shuffled(300, 3);
  std::set<size_t> opened;
  open_each(s, order, 0, 100, opened);
  const size_t lo = *opened.begin(), hi = *opened.rbegin();
  const std::vector<size_t> got = drain(s);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(got.size(), hi - lo + 1 - 100) << "every file of the range opened so far, but those opened";
  for (size_t o : got) {
    EXPECT_EQ(opened.count(o), 0u) << o;
    EXPECT_GE(o, lo);
    EXPECT_LE(o, hi);
  }
  // Later opens widen the range; a file opened is never handed out.
  open_each(s, order, 100, 150, opened);
  for (size_t o : drain(s)) EXPECT_EQ(opened.count(o), 0u) << o;
}

TEST(FastFileShuffleSweep, FilesOpenedAheadOfTheCursorAreSkipped) {
  ShuffleSweep s(300);
  const auto order = shuffled(300, 4);
  for (size_t i = 0; i < 64; ++i) s.on_open(order[i], false);
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(next(s));
  // The loader opens files the cursor has not reached yet: the sweep never hands them out.
  std::set<size_t> later;
  open_each(s, order, 64, 200, later);
  for (size_t o : drain(s)) EXPECT_EQ(later.count(o), 0u) << o;
}

TEST(FastFileShuffleSweep, OnlyTheRangeTheLoaderOpensIsHandedOut) {
  // The loader reads train/ (walk positions 200 .. 599) of a mount that also holds other files.
  ShuffleSweep s(1000);
  std::vector<size_t> order = shuffled(400, 8);
  for (size_t& o : order) o += 200;
  for (size_t i = 0; i < 100; ++i) s.on_open(order[i], false);
  for (size_t o : drain(s)) {
    EXPECT_GE(o, 200u);
    EXPECT_LT(o, 600u);
  }
  // The range grows downwards past the cursor: what is below the cursor is handed out then.
  s.on_open(199, false);
  const std::vector<size_t> got = drain(s);
  ASSERT_FALSE(got.empty());
  EXPECT_LT(got.front(), 210u);
}

TEST(FastFileShuffleSweep, EachPositionLookedAtTakesAStep) {
  ShuffleSweep s(1000);
  for (size_t o = 0; o < 1000; o += 2) s.on_open(o, false);  // every even position: 500 opens
  ASSERT_TRUE(s.active());
  size_t steps = 3;
  EXPECT_EQ(s.next(steps), 1u);  // 0 opened, 1 not: two steps
  EXPECT_EQ(steps, 1u);
  EXPECT_EQ(s.next(steps), std::nullopt) << "2 is opened, and no step is left";
  EXPECT_EQ(steps, 0u);
  steps = 1;
  EXPECT_EQ(s.next(steps), 3u) << "the cursor kept its place";
}

TEST(FastFileShuffleSweep, AReopenBeforeHalfTheRangeWasOpenedStartsNoPass) {
  ShuffleSweep s(1000);
  const auto order = shuffled(1000, 9);
  for (size_t i = 0; i < 100; ++i) s.on_open(order[i], false);
  s.on_open(order[3], false);  // opened twice (a loader that samples with replacement)
  EXPECT_EQ(s.pass(), 1u);
  for (size_t i = 100; i < 600; ++i) s.on_open(order[i], false);
  s.on_open(order[3], false);  // past half: the next epoch
  EXPECT_EQ(s.pass(), 2u);
}

TEST(FastFileShuffleSweep, AFileOpenedAgainStartsTheNextPass) {
  ShuffleSweep s(200);
  auto order = shuffled(200, 5);
  for (size_t o : order) s.on_open(o, false);
  EXPECT_EQ(s.pass(), 1u);
  EXPECT_TRUE(drain(s).empty()) << "every file was opened in this pass";
  // The next epoch: its first open is a file this pass opened already.
  order = shuffled(200, 6);
  s.on_open(order[0], false);
  EXPECT_EQ(s.pass(), 2u);
  const std::vector<size_t> got = drain(s);
  EXPECT_EQ(got.size(), 199u) << "every file but the one just opened: the range carries over";
  EXPECT_EQ(std::count(got.begin(), got.end(), order[0]), 0);
}

TEST(FastFileShuffleSweep, PutBackHandsTheFileOutAgain) {
  ShuffleSweep s(100);
  const auto order = shuffled(100, 7);
  for (size_t i = 0; i < 64; ++i) s.on_open(order[i], false);
  const size_t a = *next(s);
  const size_t b = *next(s);
  s.put_back(b);
  EXPECT_EQ(next(s), b);
  s.put_back(a);  // an earlier one: those between come out again too (the Reader skips what it has)
  EXPECT_EQ(next(s), a);
}

}  // namespace
}  // namespace sluice::modes::fastfile
