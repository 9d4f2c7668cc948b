// Deterministic pseudo-random bytes for the tests: the same (size, seed) gives the same bytes.
// Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace sluice::testing {

inline std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace sluice::testing
