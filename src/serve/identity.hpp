// Who a verified caller of `sluice serve` is, and what it may do: the keys the server knows (the
// IAM users' access keys of the IAM configuration, and the temporary credentials its STS endpoint
// issued, serve/sessions.hpp), and for each key the principal (ARN, account, session tags) and
// the identity policies (an IAM user's own, or the assumed role's) that every operation's
// authorization evaluates with policy/.
//
// A caller's identity comes only from here, from the key its request was signed with: never from
// the request's content.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/sigv4_verify.hpp"
#include "policy/document.hpp"
#include "policy/evaluate.hpp"
#include "policy/iam_config.hpp"
#include "serve/api_server.hpp"
#include "serve/job_records.hpp"
#include "serve/sessions.hpp"

namespace sluice::serve {

struct CallerIdentity {
  // arn: an IAM user's ARN (arn:aws:iam::ACCT:user/NAME), or the assumed-role session's ARN
  // (arn:aws:sts::ACCT:assumed-role/ROLE/SESSION); tags: the session's tags (an IAM user's own
  // tags for a user, as aws:PrincipalTag gives them).
  Principal principal;
  std::string principal_arn;  // aws:PrincipalArn: the user's ARN, or the role's ARN for a session
  std::string user_id;        // GetCallerIdentity's UserId ("AIDA..." / "AROA...:SESSION")
  bool temporary = false;     // signed with credentials Sluice's STS issued
  std::vector<std::string> transitive_tag_keys;  // a session's, passed on when it assumes a role
  std::vector<policy::Document> policies;        // identity policies, in file order
};

class Identities {
 public:
  // `now` gives seconds since the epoch (sessions expire by it).
  Identities(std::shared_ptr<const policy::IamConfig> iam, Sessions& sessions, std::function<double()> now);

  // For ApiServer: an IAM user's key (long-term, no session token), or a session's (expired
  // sessions: kExpired), else kUnknown.
  auth::KeyLookup key_lookup() const;

  // The identity of a verified caller. Throws ApiFailure (403 AccessDenied / ExpiredTokenException)
  // when the key is gone or expired since its request was verified, or the role or user it stands
  // for is no longer in the IAM configuration.
  CallerIdentity resolve(const Caller& caller) const;

  // Evaluates the caller's identity policies for `action` on `resource`, with the caller's request
  // context (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalTag/*, aws:userid, aws:username
  // for users) plus `extra` (e.g. aws:RequestTag/*, aws:ResourceTag/*, aws:TagKeys). Returns
  // whether it is allowed.
  bool allowed(const CallerIdentity& who, const std::string& action, const std::string& resource,
               const policy::Context& extra = {}) const;

  const policy::IamConfig& iam() const { return *iam_; }

 private:
  std::shared_ptr<const policy::IamConfig> iam_;
  Sessions& sessions_;
  std::function<double()> now_;
};

// The access-denied error of an operation, worded as AWS does: "User: ARN is not authorized to
// perform: ACTION on resource: RESOURCE because no identity-based policy allows the ACTION action"
// (SageMaker: AccessDeniedException, 400; STS: AccessDenied, 403).
ApiError access_denied(const CallerIdentity& who, const std::string& action, const std::string& resource,
                       const std::string& code = "AccessDeniedException", int status = 400);

}  // namespace sluice::serve
