#include "dataset/shuffle.hpp"

#include <numeric>
#include <utility>

namespace sluice::dataset {
namespace {

__extension__ typedef unsigned __int128 u128;

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Xoshiro256StarStar Xoshiro256StarStar::for_epoch(int64_t seed, uint64_t epoch) {
  // Every state word depends on both seed and epoch. (Feeding the epoch into s2/s3 only would
  // leave the first output, a function of s1 alone, the same in every epoch.) For one seed,
  // different epochs start SplitMix64 at different states, hence get different first words
  // (the SplitMix64 finaliser is a bijection); likewise for one epoch and different seeds.
  const uint64_t key = SplitMix64(static_cast<uint64_t>(seed)).next();
  SplitMix64 sm(key ^ epoch);
  std::array<uint64_t, 4> s;
  for (auto& word : s) word = sm.next();
  // Never all zero: four consecutive SplitMix64 outputs are the finaliser at four distinct inputs.
  return Xoshiro256StarStar(s);
}

uint64_t Xoshiro256StarStar::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Xoshiro256StarStar::bounded(uint64_t bound) {
  u128 m = static_cast<u128>(next()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;  // (2^64 - bound) mod bound
    while (low < threshold) {
      m = static_cast<u128>(next()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

std::vector<size_t> shuffle_permutation(size_t n, int64_t seed, uint64_t epoch) {
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), size_t{0});
  if (n < 2) return perm;
  Xoshiro256StarStar rng = Xoshiro256StarStar::for_epoch(seed, epoch);
  for (size_t i = n - 1; i > 0; --i) {
    size_t j = static_cast<size_t>(rng.bounded(static_cast<uint64_t>(i) + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

}  // namespace sluice::dataset
