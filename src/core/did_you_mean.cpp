#include "core/did_you_mean.hpp"

#include <algorithm>
#include <vector>

#include "core/strings.hpp"

namespace sluice {

size_t edit_distance(std::string_view a, std::string_view b, EditRules rules) {
  auto same = [&](char x, char y) { return rules.ignore_case ? ascii_lower(x) == ascii_lower(y) : x == y; };
  // d[i][j]: distance between a[0, i) and b[0, j); three rows are enough for the swap.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (rules.transpositions && i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::optional<size_t> nearest(std::string_view word, std::span<const std::string_view> candidates,
                              size_t max_distance, EditRules rules) {
  std::optional<size_t> best;
  size_t best_distance = max_distance + 1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    size_t d = edit_distance(word, candidates[i], rules);
    if (d < best_distance) {
      best = i;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace sluice
