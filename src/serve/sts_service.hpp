// The STS endpoint of `sluice serve` (query protocol): AssumeRole, which issues temporary
// credentials for a role of the IAM configuration (stored with Sessions, so they verify after a
// restart), and GetCallerIdentity. The answers are the XML botocore parses.
//
// AssumeRole follows AWS (docs/iam-config.md, "How sluice serve's STS uses roles and users"):
//  - parameters: RoleArn (20-2048), RoleSessionName (2-64 of [\w+=,.@-]), DurationSeconds
//    (900..the role's MaxSessionDuration, default 3600; at most 3600 when the caller is itself a
//    role session: role chaining), Tags.member.N.Key/Value (at most 50, the session-tag rules of
//    policy::check_tags), TransitiveTagKeys.member.N (each a key of Tags), SourceIdentity (2-64 of
//    [\w+=,.@-], not starting with "aws:"). Policy, PolicyArns, ExternalId, SerialNumber, TokenCode
//    and ProvidedContexts are refused (ValidationError naming them), as is any unknown parameter:
//    a session policy or a condition ignored would grant more than was asked for.
//  - authorization: the role must be in the IAM configuration and its trust policy must allow the
//    caller sts:AssumeRole, plus sts:TagSession when the new session has tags (passed or
//    inherited) and sts:SetSourceIdentity when it has a source identity (passed or inherited). An
//    Allow that names the caller (its ARN; for a session, its session ARN or its role's ARN) is
//    enough within one account; an Allow through the account root or "*", or a caller of another
//    account, also needs the caller's identity policies to allow the action on the role's ARN
//    (AWS's rule: a trust policy naming the account delegates to the account's IAM policies). An
//    explicit Deny in the caller's identity policies always refuses. Refusals: AccessDenied, 403,
//    "User: CALLER is not authorized to perform: ACTION on resource: ROLE".
//  - role chaining: the new session inherits the caller session's transitive tags (which stay
//    transitive) and its source identity; passing a tag whose key equals an inherited one (ignoring
//    case), or another source identity, fails.
//  - the session's own tags override the role's tags of the same key (Identities::resolve).
// Parameter errors are ValidationError, 400, worded like AWS's request validation.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "serve/api_server.hpp"
#include "serve/identity.hpp"
#include "serve/sessions.hpp"

namespace sluice::serve {

struct StsOptions {
  std::string region = "us-east-1";
  std::function<std::chrono::system_clock::time_point()> clock = [] { return std::chrono::system_clock::now(); };
  // Fills the buffer with random bytes for access key ids, secrets and session tokens; empty:
  // OpenSSL's RAND_bytes (a failure of it fails the call, InternalFailure).
  std::function<void(unsigned char*, std::size_t)> random;
};

// The STS operations for ApiServer: "sts.AssumeRole" and "sts.GetCallerIdentity". `identities`
// and `sessions` must outlive the operations.
std::map<std::string, Operation> sts_operations(Identities& identities, Sessions& sessions, StsOptions options = {});

}  // namespace sluice::serve
