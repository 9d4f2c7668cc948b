#include "cli/suggest.hpp"

#include <algorithm>

#include "core/did_you_mean.hpp"

namespace sluice::cli {

size_t edit_distance(std::string_view a, std::string_view b) {
  return sluice::edit_distance(a, b, {.transpositions = true});
}

std::optional<std::string> closest(std::string_view typed, const std::vector<std::string>& candidates) {
  if (typed.starts_with("--")) typed = typed.substr(0, typed.find('='));
  std::string_view core = typed.substr(std::min(typed.find_first_not_of('-'), typed.size()));
  if (core.empty()) return std::nullopt;
  const std::vector<std::string_view> names(candidates.begin(), candidates.end());
  if (auto i = nearest(typed, names, std::max<size_t>(2, core.size() / 3), {.transpositions = true})) {
    return candidates[*i];
  }
  if (core.size() < 3) return std::nullopt;
  std::optional<std::string> only;
  for (const auto& c : candidates) {
    if (!c.starts_with(typed)) continue;
    if (only) return std::nullopt;  // two of them: nothing to suggest
    only = c;
  }
  return only;
}

}  // namespace sluice::cli
