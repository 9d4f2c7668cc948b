// "Did you mean ...?": the known name nearest to a mistyped one by edit distance. One mechanism
// for command-line words (cli/suggest) and JSON field names and values (core/json_check).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace sluice {

struct EditRules {
  bool ignore_case = false;     // ASCII letters equal in either case
  bool transpositions = false;  // a swap of two neighbouring characters is one edit (optimal string alignment)
};

// Levenshtein distance over bytes, under `rules`.
size_t edit_distance(std::string_view a, std::string_view b, EditRules rules = {});

// The index of the candidate nearest to `word`, when at most `max_distance` edits away (ties: the
// earlier candidate).
std::optional<size_t> nearest(std::string_view word, std::span<const std::string_view> candidates,
                              size_t max_distance, EditRules rules = {});

}  // namespace sluice
