#include "cli/suggest.hpp"

#include <algorithm>

namespace sluice::cli {

size_t edit_distance(std::string_view a, std::string_view b) {
  // d[i][j]: distance between a[0, i) and b[0, j); three rows are enough for the swap.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest(std::string_view typed, const std::vector<std::string>& candidates) {
  if (typed.starts_with("--")) typed = typed.substr(0, typed.find('='));
  std::string_view core = typed.substr(std::min(typed.find_first_not_of('-'), typed.size()));
  if (core.empty()) return std::nullopt;
  const size_t limit = std::max<size_t>(2, core.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(typed, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (best || core.size() < 3) return best;
  std::optional<std::string> only;
  for (const auto& c : candidates) {
    if (!c.starts_with(typed)) continue;
    if (only) return std::nullopt;  // two of them: nothing to suggest
    only = c;
  }
  return only;
}

}  // namespace sluice::cli
