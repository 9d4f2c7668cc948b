#include "policy/match.hpp"

#include <cstddef>

namespace sluice::policy {
namespace {

void append(Pattern& p, std::string_view s, bool literal) {
  p.text.append(s);
  p.literal.insert(p.literal.end(), s.size(), literal);
}

// Splits at the first five colons into up to six components (the last takes the rest).
std::vector<std::pair<std::size_t, std::size_t>> arn_components(std::string_view s) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t start = 0;
  while (out.size() < 5) {
    std::size_t c = s.find(':', start);
    if (c == std::string_view::npos) break;
    out.emplace_back(start, c - start);
    start = c + 1;
  }
  out.emplace_back(start, s.size() - start);
  return out;
}

}  // namespace

std::vector<std::string> context_values(const Context& ctx, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& [k, vs] : ctx) {
    if (!iequals(k, key)) continue;
    for (const auto& v : vs)
      if (!v.empty()) out.push_back(v);
  }
  return out;
}

Pattern Pattern::plain(std::string_view s) {
  Pattern p;
  append(p, s, false);
  return p;
}

bool wildcard_match(const Pattern& pattern, std::string_view text, bool ignore_case) {
  const std::string& p = pattern.text;
  auto is_wild = [&](std::size_t i, char w) { return p[i] == w && !pattern.literal[i]; };
  auto same = [&](char a, char b) { return ignore_case ? ascii_lower(a) == ascii_lower(b) : a == b; };
  std::size_t pi = 0, ti = 0;
  std::size_t star = std::string::npos, star_ti = 0;
  while (ti < text.size()) {
    if (pi < p.size() && is_wild(pi, '*')) {
      star = pi++;
      star_ti = ti;
    } else if (pi < p.size() && (is_wild(pi, '?') || same(p[pi], text[ti]))) {
      ++pi;
      ++ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++star_ti;
    } else {
      return false;
    }
  }
  while (pi < p.size() && is_wild(pi, '*')) ++pi;
  return pi == p.size();
}

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  return wildcard_match(Pattern::plain(pattern), text, ignore_case);
}

std::optional<Pattern> substitute(std::string_view s, const Context& ctx) {
  Pattern out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t open = s.find("${", i);
    if (open == std::string_view::npos) break;
    std::size_t close = s.find('}', open + 2);
    if (close == std::string_view::npos) break;
    append(out, s.substr(i, open - i), false);
    std::string_view body = s.substr(open + 2, close - open - 2);
    i = close + 1;
    if (body == "*" || body == "?" || body == "$") {
      append(out, body, true);
      continue;
    }
    std::optional<std::string> fallback;
    std::string_view key = body;
    if (std::size_t comma = body.find(','); comma != std::string_view::npos) {
      key = body.substr(0, comma);
      std::string_view rest = body.substr(comma + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
      if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'')
        fallback = std::string(rest.substr(1, rest.size() - 2));
      else
        return std::nullopt;  // a malformed default resolves to nothing
    }
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    std::vector<std::string> values = context_values(ctx, key);
    if (values.size() == 1) {
      append(out, values.front(), true);
    } else if (fallback) {
      append(out, *fallback, true);
    } else {
      return std::nullopt;  // no value (or a multivalued key): the string matches nothing
    }
  }
  append(out, s.substr(i), false);
  return out;
}

std::optional<Pattern> substitute_resource(std::string_view s, const Context& ctx) {
  auto parts = arn_components(s);
  if (parts.size() < 6 || s.substr(0, 4) != "arn:") return substitute(s, ctx);
  std::size_t at = parts[5].first;
  auto tail = substitute(s.substr(at), ctx);
  if (!tail) return std::nullopt;
  Pattern out = Pattern::plain(s.substr(0, at));
  out.text += tail->text;
  out.literal.insert(out.literal.end(), tail->literal.begin(), tail->literal.end());
  return out;
}

bool arn_match(const Pattern& pattern, std::string_view arn) {
  auto pc = arn_components(pattern.text);
  auto vc = arn_components(arn);
  if (vc.size() != 6) return false;
  if (pc.size() != 6) return pattern.text.size() == 1 && wildcard_match(pattern, arn, false);
  for (std::size_t k = 0; k < 6; ++k) {
    Pattern sub;
    sub.text = pattern.text.substr(pc[k].first, pc[k].second);
    sub.literal.assign(pattern.literal.begin() + static_cast<std::ptrdiff_t>(pc[k].first),
                       pattern.literal.begin() + static_cast<std::ptrdiff_t>(pc[k].first + pc[k].second));
    if (!wildcard_match(sub, arn.substr(vc[k].first, vc[k].second), false)) return false;
  }
  return true;
}

}  // namespace sluice::policy
