// The deterministic shuffle behind ShuffleConfig (docs/sharding-and-shuffling.md).
// Every step is specified in docs/sharding-and-shuffling.md so that any implementation, in any
// language, gives the same permutation; nothing here uses std::shuffle or <random> distributions,
// whose results differ between standard libraries.
//
//   key:    the first output of SplitMix64 started at uint64(Seed)
//   state:  s0..s3 = the first four outputs of SplitMix64 started at key XOR epoch
//   draws:  xoshiro256** 1.0 on (s0, s1, s2, s3)
//   bound:  Lemire's multiply-shift with rejection (unbiased) for an integer in [0, n)
//   order:  Fisher-Yates from the back: for i = n-1 down to 1, j = bounded(i+1), swap(p[i], p[j]),
//           starting from the identity p = [0, 1, ..., n-1]
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::dataset {

// SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c): state += 0x9E3779B97F4A7C15,
// then the output is the state through a fixed 64-bit finaliser.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t next();

 private:
  uint64_t state_;
};

// xoshiro256** 1.0 (Blackman & Vigna 2018, xoshiro256starstar.c).
class Xoshiro256StarStar {
 public:
  explicit Xoshiro256StarStar(const std::array<uint64_t, 4>& state) : s_(state) {}
  // The generator for one epoch of one ShuffleConfig.Seed (the derivation above). Seed is the
  // API's long; its two's-complement bits are used, so -1 and 0xFFFFFFFFFFFFFFFF are the same seed.
  static Xoshiro256StarStar for_epoch(int64_t seed, uint64_t epoch);

  uint64_t next();
  // Uniform in [0, bound), bound >= 1, without modulo bias (Lemire 2019, "Fast Random Integer
  // Generation in an Interval"): m = x * bound (128-bit); while low64(m) < (2^64 - bound) mod bound,
  // draw again; the result is high64(m).
  uint64_t bounded(uint64_t bound);

  const std::array<uint64_t, 4>& state() const { return s_; }

 private:
  std::array<uint64_t, 4> s_;
};

// The permutation of one epoch: element k of the shuffled list is element perm[k] of the input.
// n = 0 and n = 1 give the identity (no draws are made).
std::vector<size_t> shuffle_permutation(size_t n, int64_t seed, uint64_t epoch);

// The items in the order of shuffle_permutation(items.size(), seed, epoch).
template <class T>
std::vector<T> shuffled(const std::vector<T>& items, int64_t seed, uint64_t epoch) {
  std::vector<T> out;
  out.reserve(items.size());
  for (size_t i : shuffle_permutation(items.size(), seed, epoch)) out.push_back(items[i]);
  return out;
}

}  // namespace sluice::dataset
