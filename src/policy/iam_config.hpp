// The IAM configuration file (`--iam-config FILE` / SLUICE_IAM_CONFIG): the roles a job may run
// as, each with its trust policy, permission policies, tags and maximum session duration. The
// format is documented in docs/iam-config.md. Errors are sluice::Error with kind kInvalidInput
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

struct IamConfig {
  std::vector<Role> roles;
  // The role with exactly this ARN (case-sensitive, as IAM compares role ARNs), or nullptr.
  const Role* find(std::string_view arn) const;
};

// Reads and validates the file; an unreadable file is an errno_error (kNotFound, kAccessDenied,
// kIo), everything else kInvalidInput naming `path`.
IamConfig load_iam_config(const std::string& path);

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

}  // namespace sluice::policy
