#include "dataset/key_filter.hpp"

#include <cstdint>

namespace sluice::dataset {
namespace {

// The code point at s[i] and its length in bytes; a byte that does not start valid UTF-8 is a
// code point of its own.
std::pair<uint32_t, size_t> code_point(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? b : b & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 0x2) return {b, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, len};
}

// The end of the bracket expression opening at p[i] == '[' (the index of its ']'), or npos when
// it has none and the '[' is literal. A ']' first (after an optional '!') belongs to the set.
size_t class_end(std::string_view p, size_t i) {
  size_t j = i + 1;
  if (j < p.size() && p[j] == '!') ++j;
  if (j < p.size() && p[j] == ']') ++j;
  while (j < p.size() && p[j] != ']') ++j;
  return j < p.size() ? j : std::string_view::npos;
}

// Whether code point c is in the set p[first, last) (the text between '[' and ']').
bool in_class(std::string_view p, size_t first, size_t last, uint32_t c) {
  bool negate = first < last && p[first] == '!';
  if (negate) ++first;
  bool found = false;
  for (size_t k = first; k < last;) {
    auto [lo, lo_len] = code_point(p, k);
    k += lo_len;
    uint32_t hi = lo;
    if (k + 1 < last && p[k] == '-') {  // a range; a '-' first or last is itself
      auto [h, h_len] = code_point(p, k + 1);
      hi = h;
      k += 1 + h_len;
    }
    found = found || (lo <= c && c <= hi);
  }
  return found != negate;
}

}  // namespace

bool glob_match(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0;
  // Where to resume after the last '*': the pattern just past it, and the text it reached.
  size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_t = ti;
      continue;
    }
    if (pi < p.size()) {
      auto [c, c_len] = code_point(t, ti);
      if (p[pi] == '?') {
        ++pi;
        ti += c_len;
        continue;
      }
      if (p[pi] == '[') {
        if (size_t end = class_end(p, pi); end != std::string_view::npos) {
          if (in_class(p, pi + 1, end, c)) {
            pi = end + 1;
            ti += c_len;
            continue;
          }
        } else if (t[ti] == '[') {
          ++pi;
          ++ti;
          continue;
        }
      } else if (p[pi] == t[ti]) {
        ++pi;
        ++ti;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    // Let the last '*' take one more character and try again from there.
    star_t += code_point(t, star_t).second;
    ti = star_t;
    pi = star_p;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool KeyFilter::selects(std::string_view relative) const {
  bool selected = true;
  for (const auto& [action, pattern] : rules_) {
    if (glob_match(pattern, relative)) selected = action == Action::kInclude;
  }
  return selected;
}

}  // namespace sluice::dataset
