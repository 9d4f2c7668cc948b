// STS session tags for `sluice train --session-tag KEY=VALUE`, the request context of the role
// session they produce, and SageMaker session tag chaining (docs/multi-tenant.md, "The job's
// session"; policy variables: docs/policy.md). Pure: no STS call, no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/match.hpp"

namespace sluice::policy {

struct SessionTag {
  std::string key, value;
  bool operator==(const SessionTag&) const = default;
};

// STS AssumeRole limits (spec 3.1).
inline constexpr std::size_t kMaxSessionTags = 50;
inline constexpr std::size_t kMaxTagKeyChars = 128;    // Unicode characters, not bytes
inline constexpr std::size_t kMaxTagValueChars = 256;  // Unicode characters, not bytes

// Parses the values of repeated `--session-tag KEY=VALUE` arguments, in order. Each is split at
// its first '=' (later '=' belong to the value). Rules (spec 3.1, botocore STS model):
// - at most 50 tags;
// - key 1-128 and value 0-256 Unicode characters; the argument must be valid UTF-8;
// - key and value characters match [\p{L}\p{Z}\p{N}_.:/=+\-@] (letters, numbers, separators such
//   as space and U+00A0 -- not tab or newline, which are control characters -- and `_.:/=+-@`);
// - keys are case-insensitive: two keys equal ignoring case are refused, naming both arguments;
// - a key starting with "aws:" (any case) is reserved and refused.
// Throws sluice::Error kInvalidInput naming the argument (`--session-tag 'k=v'`) and the rule.
std::vector<SessionTag> parse_session_tags(const std::vector<std::string>& args);

// Checks tags that come as key/value pairs rather than as `--session-tag` arguments (a role's Tags
// in the IAM configuration) against the same rules as parse_session_tags: at most 50 tags; key
// 1-128 and value 0-256 characters, valid UTF-8, of [\p{L}\p{Z}\p{N}_.:/=+\-@]; no "aws:" key
// prefix; keys distinct ignoring case. Throws sluice::Error kInvalidInput "<name(i)>: <rule>" for
// the first tag that breaks a rule (for a duplicate key: the later tag, naming the earlier one).
void check_tags(const std::vector<SessionTag>& tags, const std::function<std::string(std::size_t)>& name);

// User text for an error message: in single quotes, always valid UTF-8 (invalid bytes become
// U+FFFD), cut with "..." past the length of the longest valid KEY=VALUE (385 characters).
std::string quote_for_message(std::string_view text);

// The condition keys of a request made with an assumed-role session (spec 2.2, IAM condition keys
// page):
// - "aws:PrincipalTag/<key>" = {value} for each tag, the key as given (lookups are
//   case-insensitive, see policy::Context);
// - "aws:PrincipalArn" = the role's ARN (for a role session AWS gives the role ARN, not the
//   arn:aws:sts::...:assumed-role/... session ARN).
// Not produced: "aws:username" (absent for assumed-role sessions); "aws:userid", which is
// "ROLE-ID:session-name" with the role's unique ID (AROA...) that Sluice does not know -- absent
// means null, so a policy using it matches nothing (deny), never a guessed value; "aws:TagKeys",
// which belongs to the tagging request (AssumeRole/TagSession), not to the session's requests.
// `role_arn` must be 20-2048 characters and start with "arn:"; `session_name` must be 2-64
// characters of [A-Za-z0-9_+=,.@-] (AssumeRole RoleSessionName). Tags must have distinct keys
// ignoring case. Throws sluice::Error kInvalidInput otherwise.
Context session_context(const std::vector<SessionTag>& tags, const std::string& role_arn,
                        const std::string& session_name);

// The principal tags of the training job's execution-role session.
// - enable_chaining: the caller's session tags are passed as the AssumeRole Tags, exactly (none
//   dropped or changed; they are checked against the STS rules above and an error is thrown
//   rather than dropping one). As STS documents, "session tags override a role tag with the same
//   key" (case-insensitively): the result is the caller's tags in order, then the role's own tags
//   whose key no caller tag has.
// - otherwise: only the role's own tags.
// Throws sluice::Error kInvalidInput when either list has two keys equal ignoring case, or when
// chaining passes caller tags that break the STS limits.
std::vector<SessionTag> chained_tags(const std::vector<SessionTag>& caller_tags,
                                     const std::vector<SessionTag>& role_tags,
                                     bool enable_chaining);

// Unicode simple case folding of a valid UTF-8 string (used to compare tag keys). Exposed for
// tests.
std::string fold_case(const std::string& utf8);

}  // namespace sluice::policy
