// The ShuffleConfig permutation (dataset/shuffle.hpp): reference vectors of its generators,
// golden permutations pinned from an independent implementation of the algorithm as
// docs/sharding-and-shuffling.md specifies it, and statistical sanity (deterministic inputs).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "dataset/shuffle.hpp"

namespace sluice::dataset {
namespace {

bool is_permutation_of_iota(const std::vector<size_t>& p) {
  std::vector<char> seen(p.size(), 0);
  for (size_t v : p) {
    if (v >= p.size() || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

// ---- the generators ----------------------------------------------------------------------------

TEST(SplitMix64, ReferenceVector) {
  // Vigna's splitmix64.c seeded with 1234567 (the same vector Java's SplittableRandom and Rust's
  // rand_xoshiro test against).
  SplitMix64 g(1234567);
  const std::vector<uint64_t> expected = {6457827717110365317ULL, 3203168211198807973ULL, 9817491932198370423ULL,
                                          4593380528125082431ULL, 16408922859458223821ULL};
  for (uint64_t e : expected) EXPECT_EQ(g.next(), e);
}

TEST(Xoshiro256StarStar, ReferenceVector) {
  // xoshiro256starstar.c from state {1, 2, 3, 4} (rand_xoshiro's reference test).
  Xoshiro256StarStar g({1, 2, 3, 4});
  const std::vector<uint64_t> expected = {11520ULL,
                                          0ULL,
                                          1509978240ULL,
                                          1215971899390074240ULL,
                                          1216172134540287360ULL,
                                          607988272756665600ULL,
                                          16172922978634559625ULL,
                                          8476171486693032832ULL,
                                          10595114339597558777ULL,
                                          2904607092377533576ULL};
  for (uint64_t e : expected) EXPECT_EQ(g.next(), e);
}

TEST(Xoshiro256StarStar, EpochStateDerivation) {
  auto g = Xoshiro256StarStar::for_epoch(0, 0);
  EXPECT_EQ(g.state(), (std::array<uint64_t, 4>{0xa706dd2f4d197e6fULL, 0xb382a305f4414f5eULL, 0x631a9154fbabf717ULL,
                                                0xa80aba8c86640906ULL}));
  EXPECT_EQ(Xoshiro256StarStar::for_epoch(42, 0).next(), 1865750160070900731ULL);
  // Seed is used by its two's-complement bits.
  EXPECT_EQ(Xoshiro256StarStar::for_epoch(-1, 3).state(),
            Xoshiro256StarStar::for_epoch(static_cast<int64_t>(UINT64_MAX), 3).state());
  // Swapping seed and epoch gives another state.
  EXPECT_NE(Xoshiro256StarStar::for_epoch(1, 2).state(), Xoshiro256StarStar::for_epoch(2, 1).state());
  // Distinct (seed, epoch) pairs give distinct states.
  std::set<std::array<uint64_t, 4>> states;
  for (int64_t seed = -20; seed < 20; ++seed) {
    for (uint64_t epoch = 0; epoch < 20; ++epoch) states.insert(Xoshiro256StarStar::for_epoch(seed, epoch).state());
  }
  EXPECT_EQ(states.size(), 40u * 20u);
}

TEST(Xoshiro256StarStar, BoundedGolden) {
  auto g = Xoshiro256StarStar::for_epoch(7, 0);
  std::vector<uint64_t> small;
  for (int i = 0; i < 10; ++i) small.push_back(g.bounded(3));
  EXPECT_EQ(small, (std::vector<uint64_t>{0, 2, 0, 0, 2, 1, 1, 1, 2, 0}));
  // A bound just above 2^63 rejects about half of the draws: this pins the rejection loop.
  auto h = Xoshiro256StarStar::for_epoch(7, 0);
  std::vector<uint64_t> big;
  for (int i = 0; i < 5; ++i) big.push_back(h.bounded((uint64_t{1} << 63) + 1));
  EXPECT_EQ(big, (std::vector<uint64_t>{2739139118529587723ULL, 1409587171026884076ULL, 8636323542840801247ULL,
                                        3859397482440531521ULL, 5682027276250651221ULL}));
}

TEST(Xoshiro256StarStar, BoundedStaysInRange) {
  auto g = Xoshiro256StarStar::for_epoch(99, 1);
  for (uint64_t bound : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{1000}, uint64_t{1} << 32,
                         (uint64_t{1} << 63) + 1, UINT64_MAX}) {
    for (int i = 0; i < 1000; ++i) EXPECT_LT(g.bounded(bound), bound);
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(g.bounded(1), 0u);
}

TEST(Xoshiro256StarStar, BoundedIsUnbiased) {
  // bound 3: counts over 300000 draws; chi-square with 2 degrees of freedom.
  auto g = Xoshiro256StarStar::for_epoch(2024, 5);
  std::array<double, 3> count{};
  const int draws = 300000;
  for (int i = 0; i < draws; ++i) count[g.bounded(3)] += 1;
  double chi = 0;
  for (double c : count) chi += (c - draws / 3.0) * (c - draws / 3.0) / (draws / 3.0);
  EXPECT_LT(chi, 13.8);  // p = 0.001
}

// ---- golden permutations -------------------------------------------------------------------------

struct Golden {
  int64_t seed;
  uint64_t epoch;
  std::vector<size_t> perm;
};

// Computed by an independent Python implementation of the documented algorithm.
const std::vector<Golden>& goldens() {
  static const std::vector<Golden> g = {
      {0, 0, {5, 3, 8, 2, 0, 6, 7, 1, 4, 9}},
      {0, 1, {4, 8, 1, 3, 7, 0, 2, 6, 5, 9}},
      {1, 0, {3, 5, 2, 8, 0, 6, 4, 1, 7, 9}},
      {42, 0, {11, 12, 7, 3, 4, 5, 0, 17, 19, 15, 16, 10, 1, 18, 14, 9, 8, 13, 6, 2}},
      {42, 1, {11, 17, 13, 5, 2, 12, 9, 15, 6, 7, 10, 16, 3, 0, 4, 19, 14, 18, 8, 1}},
      {42, 2, {18, 7, 14, 15, 13, 5, 1, 10, 9, 8, 11, 3, 12, 16, 4, 0, 2, 19, 17, 6}},
      {-1, 0, {11, 6, 3, 13, 5, 9, 1, 7, 10, 4, 12, 14, 15, 2, 8, 0}},
      {INT64_MIN, 7, {8, 6, 0, 1, 5, 11, 9, 2, 10, 4, 3, 7}},
      {INT64_MAX, 123456789, {0, 2, 1, 4, 7, 3, 5, 9, 10, 8, 11, 6}},
      {2024, 0, {30, 37, 2, 12, 28, 43, 13, 5, 0, 50, 44, 7, 24, 20, 16, 49, 39, 21, 34, 46, 18, 25, 26, 48, 14, 11,
                 47, 8, 15, 29, 22, 31, 3, 45, 33, 1, 32, 51, 10, 42, 6, 23, 27, 38, 19, 35, 36, 41, 4, 9, 17, 40}},
      {5, 0, {0, 1}},
      {5, 1, {0, 1}},
      {5, 3, {1, 0}},
      {5, 0, {0, 1, 2}},
  };
  return g;
}

TEST(Shuffle, GoldenPermutations) {
  for (const auto& g : goldens()) {
    SCOPED_TRACE("seed " + std::to_string(g.seed) + " epoch " + std::to_string(g.epoch) + " n " + std::to_string(g.perm.size()));
    EXPECT_EQ(shuffle_permutation(g.perm.size(), g.seed, g.epoch), g.perm);
  }
}

TEST(Shuffle, ShuffledAppliesThePermutation) {
  std::vector<std::string> items = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  EXPECT_EQ(shuffled(items, 0, 0), (std::vector<std::string>{"f", "d", "i", "c", "a", "g", "h", "b", "e", "j"}));
  EXPECT_TRUE(shuffled(std::vector<int>{}, 1, 1).empty());
}

TEST(Shuffle, TrivialSizesAreTheIdentity) {
  EXPECT_TRUE(shuffle_permutation(0, 42, 0).empty());
  EXPECT_EQ(shuffle_permutation(1, 42, 0), (std::vector<size_t>{0}));
}

TEST(Shuffle, EveryResultIsAPermutation) {
  for (size_t n = 0; n <= 300; ++n) {
    for (int64_t seed : {int64_t{0}, int64_t{1}, int64_t{-7}, INT64_MAX}) {
      for (uint64_t epoch : {0u, 1u, 2u}) {
        ASSERT_TRUE(is_permutation_of_iota(shuffle_permutation(n, seed, epoch))) << n << " " << seed << " " << epoch;
      }
    }
  }
  EXPECT_TRUE(is_permutation_of_iota(shuffle_permutation(1'000'000, 3, 9)));
}

TEST(Shuffle, SameSeedAndEpochSameResult) {
  for (size_t n : {2u, 10u, 1000u}) {
    for (uint64_t epoch = 0; epoch < 5; ++epoch) {
      EXPECT_EQ(shuffle_permutation(n, 123, epoch), shuffle_permutation(n, 123, epoch));
    }
  }
}

TEST(Shuffle, DifferentEpochsAndSeedsDiffer) {
  const size_t n = 100;
  std::set<std::vector<size_t>> seen;
  for (uint64_t epoch = 0; epoch < 50; ++epoch) seen.insert(shuffle_permutation(n, 7, epoch));
  for (int64_t seed = 0; seed < 50; ++seed) seen.insert(shuffle_permutation(n, seed, 1000));
  EXPECT_EQ(seen.size(), 100u);
  // Not the identity either.
  std::vector<size_t> id(n);
  std::iota(id.begin(), id.end(), size_t{0});
  EXPECT_EQ(seen.count(id), 0u);
}

TEST(Shuffle, PrefixOfTheListDoesNotFixThePrefixOfTheResult) {
  // Fisher-Yates from the back: adding one object changes the whole order, as expected.
  auto a = shuffle_permutation(50, 1, 0);
  auto b = shuffle_permutation(51, 1, 0);
  EXPECT_NE(std::vector<size_t>(b.begin(), b.begin() + 50), a);
}

// Chi-square of "element i lands at position j" over `runs` shuffles, n x n cells, (n-1)^2 degrees.
template <class Next>
double position_chi_square(size_t n, int runs, Next next_perm) {
  std::vector<std::vector<double>> count(n, std::vector<double>(n, 0));
  for (int r = 0; r < runs; ++r) {
    auto p = next_perm(r);
    for (size_t pos = 0; pos < n; ++pos) count[p[pos]][pos] += 1;
  }
  double expected = static_cast<double>(runs) / static_cast<double>(n);
  double chi = 0;
  for (auto& row : count) {
    for (double c : row) chi += (c - expected) * (c - expected) / expected;
  }
  return chi;
}

TEST(Shuffle, PositionsAreUniformAcrossSeeds) {
  // 6 elements, 36 cells, 25 degrees of freedom: p = 0.001 at 52.6.
  double chi = position_chi_square(6, 60000, [](int r) { return shuffle_permutation(6, r, 0); });
  EXPECT_LT(chi, 52.6);
}

TEST(Shuffle, PositionsAreUniformAcrossEpochs) {
  double chi = position_chi_square(6, 60000, [](int r) { return shuffle_permutation(6, 12345, static_cast<uint64_t>(r)); });
  EXPECT_LT(chi, 52.6);
  // Seed equal to epoch (0/0, 1/1, ...) is not a weak spot.
  double diagonal = position_chi_square(6, 60000, [](int r) { return shuffle_permutation(6, r, static_cast<uint64_t>(r)); });
  EXPECT_LT(diagonal, 52.6);
}

TEST(Shuffle, AllPermutationsOfFiveAreEquallyLikely) {
  // Across epochs of one seed. (Regression: with the epoch feeding only half of the state, the
  // first draw, hence the last position, was the same in every epoch: 24 of 120 permutations.)
  // 120 permutations, 119 degrees of freedom: p = 0.001 at 173.6.
  std::map<std::vector<size_t>, double> count;
  const int runs = 120 * 500;
  for (int r = 0; r < runs; ++r) count[shuffle_permutation(5, 77, static_cast<uint64_t>(r))] += 1;
  ASSERT_EQ(count.size(), 120u);
  double chi = 0;
  for (auto& [p, c] : count) chi += (c - 500.0) * (c - 500.0) / 500.0;
  EXPECT_LT(chi, 173.6);
}

TEST(Shuffle, LargeListsMoveAlmostEverything) {
  // A uniform permutation has on average one fixed point.
  auto p = shuffle_permutation(100000, 5, 0);
  size_t fixed = 0;
  for (size_t i = 0; i < p.size(); ++i) fixed += p[i] == i;
  EXPECT_LT(fixed, 10u);
}

}  // namespace
}  // namespace sluice::dataset
