#include "core/unicode.hpp"

#include <algorithm>
#include <iterator>

namespace sluice {
namespace {

struct CodeRange {
  std::uint32_t first, last;
};
struct CaseFold {
  std::uint32_t from, to;
};

#include "core/unicode_tables.inc"

}  // namespace

std::string_view unicode_version() { return kUnicodeVersion; }

bool is_letter_number_separator(std::uint32_t cp) {
  auto it = std::upper_bound(std::begin(kLetterNumberSeparator), std::end(kLetterNumberSeparator), cp,
                             [](std::uint32_t v, const CodeRange& r) { return v < r.first; });
  return it != std::begin(kLetterNumberSeparator) && cp <= std::prev(it)->last;
}

std::uint32_t simple_case_fold(std::uint32_t cp) {
  auto it = std::lower_bound(std::begin(kCaseFold), std::end(kCaseFold), cp,
                             [](const CaseFold& f, std::uint32_t v) { return f.from < v; });
  return it != std::end(kCaseFold) && it->from == cp ? it->to : cp;
}

}  // namespace sluice
