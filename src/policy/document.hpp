// IAM policy documents (identity and session policies): parsing and validation from JSON text.
// See docs/policy.md. Errors are sluice::Error with kind kInvalidInput; malformed
// JSON names the byte offset (0-based: the last byte nlohmann::json read, i.e. the end of the
// offending token) and its line:column (1-based) with the reason; structural errors name the JSON
// path, e.g. `Statement[1].Effect: must be "Allow" or "Deny", got "allow"`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::policy {

enum class Version {
  k2008_10_17,  // also when Version is missing: policy variables are literal text
  k2012_10_17,  // policy variables are substituted
};

enum class Effect { kAllow, kDeny };

enum class Operator {
  kStringEquals, kStringNotEquals, kStringEqualsIgnoreCase, kStringNotEqualsIgnoreCase,
  kStringLike, kStringNotLike,
  kNumericEquals, kNumericNotEquals, kNumericLessThan, kNumericLessThanEquals,
  kNumericGreaterThan, kNumericGreaterThanEquals,
  kDateEquals, kDateNotEquals, kDateLessThan, kDateLessThanEquals, kDateGreaterThan,
  kDateGreaterThanEquals,
  kBool,
  kNull,
  kArnEquals, kArnLike, kArnNotEquals, kArnNotLike,
  kIpAddress, kNotIpAddress,
};

enum class SetQualifier { kNone, kForAllValues, kForAnyValue };

// One key under one operator, e.g. {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}}.
struct Condition {
  std::string op_name;  // as written, e.g. "ForAnyValue:StringLikeIfExists"
  Operator op;
  SetQualifier qualifier = SetQualifier::kNone;
  bool if_exists = false;
  std::string key;
  std::vector<std::string> values;  // numbers and booleans in the JSON are kept as their text
};

struct Statement {
  std::string sid;  // empty when absent
  Effect effect = Effect::kAllow;
  bool not_action = false;  // actions are NotAction
  std::vector<std::string> actions;
  bool not_resource = false;  // resources are NotResource
  std::vector<std::string> resources;
  std::vector<Condition> conditions;
};

struct Document {
  Version version = Version::k2008_10_17;
  std::string id;
  std::vector<Statement> statements;
};

// Parses and validates an identity or session policy document.
Document parse_document(std::string_view json_text);

// True for the negated operators (StringNotEquals, NumericNotEquals, ArnNotLike, NotIpAddress, ...).
bool is_negated(Operator op);

// Date condition values: ISO 8601 (YYYY-MM-DD, optionally THH:MM[:SS[.fff]] and Z or +HH:MM) or
// integer epoch seconds, as milliseconds since the epoch; false when `s` is neither.
bool parse_date(std::string_view s, long long& ms_out);
// Numeric condition values: a decimal number, the whole string.
bool parse_number(std::string_view s, double& out);

}  // namespace sluice::policy
