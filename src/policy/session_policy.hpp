// The concrete session policy of a role session, for store-side enforcement (docs/multi-tenant.md):
// the role's permission policies with everything that depends on the principal resolved, so that
// a store without policy variables or principal tags (Ceph RGW 16 rejects both, object-store.md)
// can enforce them as the `Policy` of AssumeRole. The store then refuses what the policies refuse
// even if Sluice's own check had a bug. Pure: no I/O.
//
// For each statement of each policy (in order), against `principal` (the session's context:
// aws:PrincipalTag/*, aws:PrincipalArn, ...):
//  - Action: only S3 actions are kept ("s3:..." entries; "*" becomes "s3:*"); a statement with no
//    S3 action is left out. NotAction and NotResource statements are left out.
//  - Resource: variables substituted (Version 2012-10-17); an entry whose variable has no value
//    matches nothing and is left out; a statement with no resource left is left out.
//  - Condition on a principal key (one `principal` has, or aws:Principal*, aws:username,
//    aws:userid): decided now; false leaves the statement out, true drops the condition.
//    Conditions on request keys (s3:prefix, ...) are kept with variables substituted in their
//    values; a value whose variable has no value is left out, and a condition left with no value
//    leaves the statement out.
//  - A substituted value that would put a literal `*` or `?` into the text cannot be written
//    without variables: that entry is left out (session tag values cannot contain them).
// Leaving an Allow out only narrows the policy. Leaving a Deny out widens the store's view; Sluice
// still applies it itself, and the omission is listed in `omitted`.
// No statement left: the policy is one Deny of s3:* on * (the session may do nothing at the store).
#pragma once

#include <string>
#include <vector>

#include "policy/document.hpp"
#include "policy/match.hpp"

namespace sluice::policy {

struct SessionPolicy {
  std::string json;                  // compact JSON, Version 2012-10-17
  std::vector<std::string> omitted;  // "policy 0 statement 2 (Sid X): NotAction", for the log
};

SessionPolicy concrete_session_policy(const std::vector<Document>& policies, const Context& principal);

}  // namespace sluice::policy
