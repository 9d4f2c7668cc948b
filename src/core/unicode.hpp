// Unicode character properties Sluice needs, from tables generated out of Python's unicodedata
// (scripts/gen-unicode-tables writes src/core/unicode_tables.inc; kUnicodeVersion names the version).
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

// The Unicode version the tables were generated from, e.g. "14.0.0".
std::string_view unicode_version();

// Whether `cp` is in general category L*, N* or Z* (a regex's \p{L}\p{N}\p{Z}).
bool is_letter_number_separator(std::uint32_t cp);

// Simple case folding: the one code point `cp` folds to (Python's casefold(), or lower() where
// casefold() expands to several code points), or `cp` itself.
std::uint32_t simple_case_fold(std::uint32_t cp);

}  // namespace sluice
