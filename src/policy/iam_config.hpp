// The IAM configuration file (`--iam-config FILE` / SLUICE_IAM_CONFIG): the roles a job may run
// as, each with its trust policy, permission policies, tags and maximum session duration; and the
// IAM users who call `sluice serve`, each with its access keys, permission policies and tags. The
// format is documented in docs/iam-config.md. The file holds the users' secret access keys: no
// error made here contains one. Errors are sluice::Error with kind kInvalidInput
// naming the file and the JSON path, e.g.
// `invalid IAM config cfg.json: Roles[0].Policies[1]: Statement[0].Effect: must be ...`.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/document.hpp"

namespace sluice::policy {

// One statement of a role trust policy (AssumeRolePolicyDocument). parse_document() refuses
// Principal, so trust policies have their own small parser.
struct TrustStatement {
  std::string sid;  // empty when absent
  Effect effect = Effect::kAllow;
  bool any_principal = false;           // "Principal": "*" or {"AWS": "*"}
  std::vector<std::string> aws;         // AWS principals as ARNs; a bare account id becomes
                                        // arn:aws:iam::<acct>:root
  std::vector<std::string> services;    // service principals, e.g. "sagemaker.amazonaws.com"
  std::vector<std::string> actions;     // e.g. "sts:AssumeRole", wildcards allowed ("sts:*")
  std::vector<Condition> conditions;    // validated like a permission policy's; see trust_allows
};

struct TrustPolicy {
  Version version = Version::k2008_10_17;
  std::vector<TrustStatement> statements;
};

struct Role {
  std::string arn;  // arn:aws:iam::<12 digits>:role/<path/>name
  TrustPolicy trust;
  std::vector<Document> policies;  // permission (identity) policies, in file order
  std::vector<std::pair<std::string, std::string>> tags;  // in file order, case preserved
  int max_session_duration = 3600;                        // seconds, 3600..43200
  // The role in the object store's own STS that jobs of this role assume, with the concrete
  // session policy of their session (policy/session_policy.hpp), so that the store enforces the
  // policies too; empty: Sluice's own checks only.
  std::string store_role_arn;
};

// A long-term access key of an IAM user.
struct AccessKey {
  std::string access_key_id;      // 16-128 characters of [A-Z0-9], not starting with ASIA
  std::string secret_access_key;  // never log it, never put it in an error message
};

struct User {
  std::string arn;  // arn:aws:iam::<12 digits>:user/[<path>/]name
  std::vector<AccessKey> access_keys;
  std::vector<Document> policies;                         // permission (identity) policies, in file order
  std::vector<std::pair<std::string, std::string>> tags;  // in file order, case preserved

  // The user's name: the ARN's last path segment.
  std::string name() const;
  // The key with exactly this id, or nullptr.
  const AccessKey* find_key(std::string_view access_key_id) const;
};

struct IamConfig {
  std::vector<Role> roles;
  std::vector<User> users;
  // The role with exactly this ARN (case-sensitive, as IAM compares role ARNs), or nullptr.
  const Role* find(std::string_view arn) const;
  // The user with exactly this ARN, or nullptr.
  const User* find_user(std::string_view arn) const;
  // The user that holds the access key with exactly this id (ids are unique in the file), or
  // nullptr.
  const User* find_user_by_key(std::string_view access_key_id) const;
};

// Reads and validates the file; an unreadable file is an errno_error (kNotFound, kAccessDenied,
// kIo), everything else kInvalidInput naming `path`. When the file holds access keys and its mode
// lets its group or others read or write it, a warning is logged (secrets_mode_warning).
IamConfig load_iam_config(const std::string& path);

// The warning for an IAM configuration file of `mode` (st_mode) that holds access keys and is open
// to its group or others (any of 077), naming `path` and the fix (chmod 600); "" otherwise.
std::string secrets_mode_warning(const IamConfig& config, const std::string& path, unsigned mode);

// Validates `text`; `name` (the file name) starts every error message.
IamConfig parse_iam_config(std::string_view text, std::string_view name);

// Parses one trust policy document (also used by parse_iam_config); errors name the JSON path
// inside the document, prefixed "invalid trust policy: ".
TrustPolicy parse_trust_policy(std::string_view json_text);

// Whether the role's trust policy lets `principal_arn` call sts:AssumeRole and, when
// `tag_session`, also sts:TagSession. An Allow statement counts when its Principal matches and it
// has no Condition (there is no request context here, so conditional Allows fail closed); a Deny
// statement whose Principal and Action match refuses, with or without a Condition. Principal
// match: "*", the exact ARN, an account root arn:aws:iam::<acct>:root (any principal whose ARN is in
// that account), or a service principal equal to `principal_arn`.
bool trust_allows(const Role& role, std::string_view principal_arn, bool tag_session);

// How a role's trust policy answers `action` (sts:AssumeRole, sts:TagSession, ...) for a caller
// known by any of `principal_arns` (an assumed-role session is known by its session ARN and by its
// role's ARN): kDenied when a Deny statement matches one of them (with or without a Condition) or
// no unconditional Allow does; kNamed when an unconditional Allow names one of them exactly (an AWS
// ARN or a Service); kAccount when the Allows that match do so only through an account root or
// "*" -- then, as in AWS, the trust policy delegates the decision to the caller's own identity
// policies, which must allow the action on the role too.
enum class TrustMatch { kDenied, kAccount, kNamed };
TrustMatch trust_match(const Role& role, const std::vector<std::string>& principal_arns, std::string_view action);

}  // namespace sluice::policy
