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

std::vector<size_t> drain(ShuffleSweep& s) {
  std::vector<size_t> out;
  while (auto o = s.next()) out.push_back(*o);
  return out;
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
    EXPECT_EQ(s.next(), std::nullopt);
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
  EXPECT_EQ(s.next(), std::nullopt);
}

TEST(FastFileShuffleSweep, HandsOutEachFileNotOpenedInThisPassOnceInWalkOrder) {
  ShuffleSweep s(300);
  const auto order = shuffled(300, 3);
  std::set<size_t> opened;
  for (size_t i = 0; i < 100; ++i) {
    s.on_open(order[i], false);
    opened.insert(order[i]);
  }
  const std::vector<size_t> got = drain(s);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(got.size(), 200u);
  for (size_t o : got) EXPECT_EQ(opened.count(o), 0u) << o;
  // Opens after the cursor passed change nothing it hands out: the pass is done.
  for (size_t i = 100; i < 150; ++i) s.on_open(order[i], false);
  EXPECT_EQ(s.next(), std::nullopt);
}

TEST(FastFileShuffleSweep, FilesOpenedAheadOfTheCursorAreSkipped) {
  ShuffleSweep s(300);
  const auto order = shuffled(300, 4);
  for (size_t i = 0; i < 64; ++i) s.on_open(order[i], false);
  std::vector<size_t> first;
  for (int k = 0; k < 10; ++k) first.push_back(*s.next());
  // The loader opens files the cursor has not reached yet: the sweep never hands them out.
  std::set<size_t> later;
  for (size_t i = 64; i < 200; ++i) {
    s.on_open(order[i], false);
    later.insert(order[i]);
  }
  for (size_t o : drain(s)) {
    EXPECT_EQ(later.count(o), 0u) << o;
    EXPECT_GT(o, first.back());
  }
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
  EXPECT_EQ(got.size(), 199u) << "every file but the one just opened";
  EXPECT_EQ(std::count(got.begin(), got.end(), order[0]), 0);
}

TEST(FastFileShuffleSweep, PutBackHandsTheFileOutAgain) {
  ShuffleSweep s(100);
  const auto order = shuffled(100, 7);
  for (size_t i = 0; i < 64; ++i) s.on_open(order[i], false);
  const size_t a = *s.next();
  const size_t b = *s.next();
  s.put_back(b);
  EXPECT_EQ(s.next(), b);
  s.put_back(a);  // an earlier one: those between come out again too (they are skipped by the Reader when fetched)
  EXPECT_EQ(s.next(), a);
}

}  // namespace
}  // namespace sluice::modes::fastfile
