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
  // aws:PrincipalTag/*: a user's tags; for a session, its tags, then the role's own tags whose key
  // (ignoring case) no session tag has ("session tags override a role tag with the same key").
  std::vector<policy::SessionTag> principal_tags;
  std::string session_name;     // RoleSessionName; "" for a user
  std::string source_identity;  // a session's SourceIdentity (aws:SourceIdentity), "" when none
};

// The ARN of a role's session: arn:aws:sts::ACCT:assumed-role/ROLE-NAME/SESSION (the role's name
// without its path, as AWS writes it). `role_arn` is a role ARN of the IAM configuration.
std::string assumed_role_arn(const std::string& role_arn, const std::string& session_name);

// The 12-digit account of an IAM or STS ARN ("" when it is no ARN).
std::string account_of(const std::string& arn);

// The unique ID of a user ("AIDA...") or role ("AROA...") for UserId, AssumedRoleId and
// aws:userid: "AIDA"/"AROA" and 17 characters of [0-9A-F] derived from the ARN, so it is stable
// across restarts. (AWS gives a new one to a user or role deleted and created again; here the same
// ARN keeps its ID.)
std::string unique_id(std::string_view prefix, const std::string& arn);

// Seconds since the epoch as ISO 8601 UTC to the second: "2024-05-01T12:00:00Z" (the whole
// second below `seconds`).
std::string iso8601_utc(double seconds);

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
  // The same, with the kind of answer: an explicit deny, no Allow, or allowed.
  policy::Outcome evaluate(const CallerIdentity& who, const std::string& action, const std::string& resource,
                           const policy::Context& extra = {}) const;
  // The request context allowed() evaluates with, before `extra`: aws:PrincipalArn,
  // aws:PrincipalAccount, aws:PrincipalType ("User" / "AssumedRole"), aws:PrincipalTag/<key>,
  // aws:userid, aws:username (users only), aws:SourceIdentity (when set), aws:CurrentTime and
  // aws:EpochTime. `extra` adds keys but never replaces one of these (a key equal to one of them
  // ignoring case is dropped).
  policy::Context context(const CallerIdentity& who, const policy::Context& extra = {}) const;

  double now() const { return now_(); }

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
