// "Did you mean ...?" for a mistyped command or option: the closest known name by edit distance.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// Levenshtein distance counting a swap of two neighbouring characters as one edit (optimal string
// alignment), over bytes: core/did_you_mean's edit_distance with transpositions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `typed`, when it is close enough to be what was meant: at most
// max(2, n/3) edits away, n the length of `typed` without leading dashes (ties: the first
// candidate); else the only candidate that `typed` (three characters or more) begins. "--foo=bar"
// is compared as "--foo".
std::optional<std::string> closest(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace sluice::cli
