// IAM-style policy evaluation for a role session: identity policies intersected with session
// policies, explicit deny winning (docs/policy.md, "Evaluation").
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "policy/document.hpp"
#include "policy/match.hpp"

namespace sluice::policy {

struct Request {
  std::string action;    // e.g. "s3:GetObject"
  std::string resource;  // e.g. "arn:aws:s3:::bucket/key"
  Context context;       // condition keys; absent key = not present
};

enum class Outcome { kAllow, kExplicitDeny, kImplicitDeny };

enum class PolicySet { kIdentity, kSession };

struct StatementRef {
  PolicySet set;
  std::size_t policy;     // index into the identity or session list
  std::size_t statement;  // index into the document's statements
  std::string sid;
  bool operator==(const StatementRef&) const = default;
};

struct Decision {
  Outcome outcome = Outcome::kImplicitDeny;
  // kExplicitDeny: every Deny statement that applied. kAllow: the Allow statements that applied
  // (identity, then session). kImplicitDeny: empty.
  std::vector<StatementRef> statements;
};

// Explicit deny in any policy wins; otherwise the request is allowed when an identity policy
// allows it and (no session policies are given or a session policy allows it); otherwise
// implicit deny. `session` empty = no session policy.
Decision evaluate(const std::vector<Document>& identity, const std::vector<Document>& session,
                  const Request& r);

// Whether one statement applies to the request (action, resource and every condition match),
// regardless of its effect. Exposed for tests.
bool statement_applies(const Statement& s, Version v, const Request& r);

// Whether one condition holds for the context. Exposed for tests.
bool condition_holds(const Condition& c, Version v, const Context& ctx);

}  // namespace sluice::policy
