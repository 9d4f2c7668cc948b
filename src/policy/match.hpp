// Wildcard matching and policy-variable substitution for IAM-style policies (pure, no I/O).
// See ../shared/reference/iam-abac.md sections 2.2 and 2.4.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.hpp"

namespace sluice::policy {

// The request context: condition key -> values. Key names are compared case-insensitively.
// A key that is not in the map, has no values, or whose values are all empty strings is absent
// ("null"); empty-string values are ignored (spec 2.3 "Empty values").
using Context = std::map<std::string, std::vector<std::string>>;

// The non-empty values of `key` in `ctx` (case-insensitive key lookup); empty when absent.
std::vector<std::string> context_values(const Context& ctx, std::string_view key);

// A pattern after variable substitution: text plus, for each byte, whether it is a literal
// (a `${*}`/`${?}` escape or text substituted from a variable), so `*`/`?` there are not wildcards.
struct Pattern {
  std::string text;
  std::vector<bool> literal;  // same size as text

  static Pattern plain(std::string_view s);  // no literal bytes: every `*`/`?` is a wildcard
};

// `*` matches any run of bytes (including `/` and `:`), `?` exactly one byte. Greedy with one
// backtrack point: O(len(pattern) * len(text)) worst case, never exponential.
// `ignore_case` folds ASCII letters (actions); resources and ARNs are case-sensitive.
bool wildcard_match(const Pattern& pattern, std::string_view text, bool ignore_case);
bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case);

// Substitutes `${key}` / `${key, 'default'}` / `${*}` `${?}` `${$}` in `s` from `ctx`.
// A variable resolves when its key has exactly one (non-empty) value; otherwise its default is
// used when given; otherwise the whole string has no value and nullopt is returned (it then
// matches nothing). `${` without a closing `}` is literal text.
std::optional<Pattern> substitute(std::string_view s, const Context& ctx);

// Resource element: variables are substituted only in the resource portion of an ARN (after the
// fifth colon); text before it is kept as is. "*" or a non-ARN string is substituted whole.
std::optional<Pattern> substitute_resource(std::string_view s, const Context& ctx);

// ArnLike/ArnEquals: the six colon-delimited components (the last one takes the rest) are matched
// separately, case-sensitively, with wildcards. Fewer than six components in the value: no match.
bool arn_match(const Pattern& pattern, std::string_view arn);

using sluice::iequals;  // ASCII case-insensitive equality, kept in this namespace for callers

}  // namespace sluice::policy
