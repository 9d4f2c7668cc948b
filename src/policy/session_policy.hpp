// The concrete session policy of a role session, for store-side enforcement (docs/multi-tenant.md):
// the role's permission policies with everything that depends on the principal resolved, so that
// a store without policy variables or principal tags (Ceph RGW 16 rejects both, docs/local-s3.md)
// can enforce them as the `Policy` of AssumeRole. The store then refuses what the policies refuse
// even if Sluice's own check had a bug. Pure: no I/O.
//
// For each statement of each policy (in order), against `principal` (the session's context:
// aws:PrincipalTag/*, aws:PrincipalArn, ...):
//  - Condition on a principal key (one `principal` has, or aws:Principal*, aws:username,
//    aws:userid): decided now; false leaves the statement out (it never applies to this session),
//    true drops the condition.
//  - Action: narrowed to the S3 actions it matches, written "s3:..." ("*" and "s*:*" become
//    "s3:*", "*:GetObject" becomes "s3:GetObject"); a statement with no S3 action is left out.
//  - Resource: variables substituted (Version 2012-10-17); an entry whose variable has no value
//    matches nothing and is left out; a statement with no resource left is left out.
//  - Conditions on request keys (s3:prefix, ...) are kept with variables substituted in their
//    values; a value whose variable has no value is left out, and a condition left with no value
//    becomes what only the key's presence decides (always, never, absent or present).
//  - A request key is written in the store's spelling: RGW 16 looks condition keys up
//    case-sensitively, where AWS and Sluice do not, so "S3:Prefix" is written "s3:prefix", as are
//    the keys RGW sets (aws:SourceIp, aws:CurrentTime, s3:x-amz-acl, s3:ExistingObjectTag/<tag
//    key>, ...) and AWS's other S3 and global keys; a key in neither list is kept as written (no
//    store sets it, so it is missing there in any spelling).
//  - Conditions are written as RGW 16 evaluates them (rgw_iam_policy.cc, Condition::eval), so
//    that the store decides as Sluice does: Null is true there exactly when the key is missing,
//    whatever its value, so "absent" is Null "true" and "present" is StringLike "*"; a missing key
//    makes any operator false there unless it ends in IfExists, so a Deny's negated operator with
//    no set qualifier (StringNotEquals, NumericNotEquals, NotIpAddress, ...) is written with
//    IfExists, which Sluice decides the same way, key present or missing (an Allow's is kept:
//    RGW's false only narrows it).
// What the store (Ceph RGW 16) cannot be given:
//  - NotAction: RGW 16 accepts it but never applies it (tests/integration/sts_rgw_test.cpp);
//  - NotResource on an Allow (kept on a Deny: RGW applies it);
//  - a literal `*` or `?` (from ${*} or ${?}) in a resource or in a value of a Like or Arn
//    condition, where the store would read it as a wildcard (StringEquals and the other operators
//    take it as it is);
//  - an Arn operator (ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, any form) on a request key:
//    RGW 16 does not implement them and takes them as false whenever the key is present (one on a
//    principal key is decided above and gone);
//  - a literal `${` in a resource or condition value, or a condition value that begins with `$`
//    (from ${$}, a value substituted for a variable, an unclosed `${`, or the text of a 2008-10-17
//    policy, all of which Sluice takes as they are): RGW 16 takes a condition value that begins
//    with `$` as a policy variable when it is `${...}` (it substitutes ${aws:username}) and refuses
//    the policy otherwise ("$x", "${x"), and refuses ${aws:username} in a resource;
//  - a set qualifier (ForAllValues:, ForAnyValue:) with an operator other than StringEquals,
//    StringEqualsIgnoreCase or StringLike (negated ones included): RGW 16 refuses the whole policy
//    (MalformedPolicyDocument), so AssumeRole would fail;
//  - two conditions under one operator on keys that differ only in case, unless both are negated
//    without a set qualifier (their values then merge exactly): written in the store's spelling
//    they would be one condition taking either one's values where both must hold;
//  - on an Allow, a negated operator with several values (NotIpAddress excepted): RGW 16 takes it
//    as true when any one value does not match, where AWS wants none to (on a Deny this only makes
//    the store deny more, and it is kept).
// The rule: an Allow holding one of these is left out, which only narrows what the store allows,
// and listed in `omitted` (Sluice still applies it itself). A Deny is never left out, since that
// would widen what the job's credentials allow (its code could read what Sluice denies):
//  - a Deny with NotAction that leaves out no S3 action denies them all: it becomes Action s3:*;
//    one that leaves out every S3 action is not about the store and is left out;
//  - a Deny with NotResource keeps it; with no entry left (each without a value excludes
//    nothing), it becomes Resource "*";
//  - any other such Deny that applies to this session throws sluice::Error kInvalidInput naming
//    "policy P statement S (Sid X)" and why, so that the caller refuses StoreRoleArn and the job
//    fails before it starts.
// No statement left: the policy is one Deny of s3:* on * (the session may do nothing at the store).
#pragma once

#include <string>
#include <vector>

#include "policy/document.hpp"
#include "policy/match.hpp"

namespace sluice::policy {

struct SessionPolicy {
  std::string json;                  // compact JSON, Version 2012-10-17
  std::vector<std::string> omitted;  // Allows only: "policy 0 statement 2 (Sid X): NotAction", for the log
};

// Throws sluice::Error kInvalidInput for a Deny the store cannot be given (above).
SessionPolicy concrete_session_policy(const std::vector<Document>& policies, const Context& principal);

}  // namespace sluice::policy
