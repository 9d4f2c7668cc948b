// serve/identity: the keys the server knows (IAM users' from the IAM configuration, sessions'
// from the state database, expired ones told apart), who each stands for (principal, tags, role
// tags overridden by session tags, policies), and the request context allowed() evaluates.
#include "serve/identity.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/state_db_fixture.hpp"

namespace sluice::serve {
namespace {

constexpr char kAlice[] = "arn:aws:iam::123456789012:user/alice";
constexpr char kCreator[] = "arn:aws:iam::123456789012:role/teams/JobCreator";

const char* const kConfig = R"({
  "Roles": [{
    "Arn": "arn:aws:iam::123456789012:role/teams/JobCreator",
    "AssumeRolePolicyDocument": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
                                               "Action": ["sts:AssumeRole", "sts:TagSession"]}},
    "Policies": [{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "sagemaker:DescribeTrainingJob",
       "Resource": "arn:aws:sagemaker:us-east-1:123456789012:training-job/${aws:PrincipalTag/tenant-id}-*"}]}],
    "Tags": [{"Key": "Tenant-Id", "Value": "from-role"}, {"Key": "cost-center", "Value": "42"}]
  }],
  "Users": [{
    "Arn": "arn:aws:iam::123456789012:user/alice",
    "AccessKeys": [{"AccessKeyId": "AKIAALICE0000000001", "SecretAccessKey": "alice-secret-do-not-leak"}],
    "Policies": [{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*",
       "Condition": {"StringEquals": {"aws:username": "alice", "aws:PrincipalTag/team": "ml",
                                      "aws:PrincipalArn": "arn:aws:iam::123456789012:user/alice"}}},
      {"Effect": "Deny", "Action": "sagemaker:StopTrainingJob", "Resource": "*"}]}],
    "Tags": [{"Key": "team", "Value": "ml"}]
  }]
})";

class IdentitiesTest : public sluice::testing::OnStateDb<Sessions> {
 protected:
  std::shared_ptr<const policy::IamConfig> iam =
      std::make_shared<policy::IamConfig>(policy::parse_iam_config(kConfig, "iam.json"));
  double now = 1'700'000'000;
  Identities ids{iam, store, [this] { return now; }};

  IssuedSession session(const std::string& key, double expiration) {
    return {.access_key_id = key,
            .secret_access_key = "session-secret-" + key,
            .session_token = "token-" + key,
            .role_arn = kCreator,
            .session_name = "alice-session",
            .tags = {{"tenant-id", "a"}},
            .transitive_tag_keys = {"tenant-id"},
            .parent_arn = kAlice,
            .source_identity = "alice@example.com",
            .expiration = expiration};
  }
};

ApiError failure_of(const std::function<void()>& f) {
  try {
    f();
    ADD_FAILURE() << "no ApiFailure";
  } catch (const ApiFailure& e) {
    return e.error;
  }
  return {};
}

TEST(IdentityNames, ArnsIdsAndTimes) {
  EXPECT_EQ(assumed_role_arn(kCreator, "s1"), "arn:aws:sts::123456789012:assumed-role/JobCreator/s1");
  EXPECT_EQ(account_of(kCreator), "123456789012");
  EXPECT_EQ(account_of("arn:aws:sts::210987654321:assumed-role/R/s"), "210987654321");
  EXPECT_EQ(account_of("not an arn"), "");
  const std::string id = unique_id("AROA", kCreator);
  EXPECT_EQ(id.size(), 21u);
  EXPECT_EQ(id.rfind("AROA", 0), 0u);
  EXPECT_EQ(id, unique_id("AROA", kCreator));
  EXPECT_NE(id.substr(4), unique_id("AROA", kAlice).substr(4));
  for (char c : id) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << id;
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(1'700'000'000.9), "2023-11-14T22:13:20Z");
}

TEST_F(IdentitiesTest, KeyLookupKnowsUsersAndLiveSessions) {
  auto lookup = ids.key_lookup();
  auto user = lookup("AKIAALICE0000000001");
  EXPECT_EQ(user.status, auth::KeyLookupResult::Status::kFound);
  EXPECT_EQ(user.secret_access_key, "alice-secret-do-not-leak");
  EXPECT_EQ(user.session_token, "");
  EXPECT_EQ(user.principal, kAlice);

  store.insert(session("ASIALIVE000000000001", now + 60));
  store.insert(session("ASIAEXPIRED000000001", now));
  auto live = lookup("ASIALIVE000000000001");
  EXPECT_EQ(live.status, auth::KeyLookupResult::Status::kFound);
  EXPECT_EQ(live.secret_access_key, "session-secret-ASIALIVE000000000001");
  EXPECT_EQ(live.session_token, "token-ASIALIVE000000000001");
  EXPECT_EQ(live.principal, "arn:aws:sts::123456789012:assumed-role/JobCreator/alice-session");
  EXPECT_EQ(lookup("ASIAEXPIRED000000001").status, auth::KeyLookupResult::Status::kExpired);
  EXPECT_EQ(lookup("AKIAUNKNOWN00000001").status, auth::KeyLookupResult::Status::kUnknown);
  now += 61;
  EXPECT_EQ(lookup("ASIALIVE000000000001").status, auth::KeyLookupResult::Status::kExpired);
}

TEST_F(IdentitiesTest, ResolvesAUser) {
  CallerIdentity who = ids.resolve(Caller{"AKIAALICE0000000001", kAlice, false});
  EXPECT_EQ(who.principal.arn, kAlice);
  EXPECT_EQ(who.principal.account, "123456789012");
  EXPECT_EQ(who.principal.tags, (std::vector<policy::SessionTag>{{"team", "ml"}}));
  EXPECT_EQ(who.principal_tags, who.principal.tags);
  EXPECT_EQ(who.principal_arn, kAlice);
  EXPECT_EQ(who.user_id, unique_id("AIDA", kAlice));
  EXPECT_FALSE(who.temporary);
  EXPECT_EQ(who.policies.size(), 1u);
  EXPECT_EQ(who.session_name, "");
}

TEST_F(IdentitiesTest, ResolvesASessionWithItsRolesPoliciesAndTags) {
  store.insert(session("ASIALIVE000000000001", now + 60));
  CallerIdentity who = ids.resolve(Caller{"ASIALIVE000000000001", "", true});
  EXPECT_EQ(who.principal.arn, "arn:aws:sts::123456789012:assumed-role/JobCreator/alice-session");
  EXPECT_EQ(who.principal.account, "123456789012");
  EXPECT_EQ(who.principal.tags, (std::vector<policy::SessionTag>{{"tenant-id", "a"}}));
  // The session's tenant-id overrides the role's Tenant-Id (keys ignore case); cost-center stays.
  EXPECT_EQ(who.principal_tags, (std::vector<policy::SessionTag>{{"tenant-id", "a"}, {"cost-center", "42"}}));
  EXPECT_EQ(who.principal_arn, kCreator);
  EXPECT_EQ(who.user_id, unique_id("AROA", kCreator) + ":alice-session");
  EXPECT_TRUE(who.temporary);
  EXPECT_EQ(who.transitive_tag_keys, std::vector<std::string>{"tenant-id"});
  EXPECT_EQ(who.policies.size(), 1u);
  EXPECT_EQ(who.source_identity, "alice@example.com");

  EXPECT_TRUE(ids.allowed(who, "sagemaker:DescribeTrainingJob",
                          "arn:aws:sagemaker:us-east-1:123456789012:training-job/a-job1"));
  EXPECT_FALSE(ids.allowed(who, "sagemaker:DescribeTrainingJob",
                           "arn:aws:sagemaker:us-east-1:123456789012:training-job/from-role-job1"));
}

TEST_F(IdentitiesTest, ResolveRefusesGoneAndExpiredKeys) {
  ApiError gone = failure_of([&] { ids.resolve(Caller{"AKIAGONE00000000001", kAlice, false}); });
  EXPECT_EQ(gone.code, "AccessDenied");
  EXPECT_EQ(gone.status, 403);
  ApiError unknown = failure_of([&] { ids.resolve(Caller{"ASIAGONE00000000001", "", true}); });
  EXPECT_EQ(unknown.code, "AccessDenied");

  store.insert(session("ASIALIVE000000000001", now + 60));
  now += 60;
  ApiError expired = failure_of([&] { ids.resolve(Caller{"ASIALIVE000000000001", "", true}); });
  EXPECT_EQ(expired.code, "ExpiredTokenException");
  EXPECT_EQ(expired.status, 400);

  IssuedSession orphan = session("ASIAORPHAN0000000001", now + 60);
  orphan.role_arn = "arn:aws:iam::123456789012:role/Deleted";
  store.insert(orphan);
  ApiError no_role = failure_of([&] { ids.resolve(Caller{"ASIAORPHAN0000000001", "", true}); });
  EXPECT_EQ(no_role.code, "AccessDenied");
  EXPECT_NE(no_role.message.find("arn:aws:iam::123456789012:role/Deleted"), std::string::npos) << no_role.message;
  for (const auto& e : {gone, unknown, expired, no_role}) EXPECT_EQ(e.message.find("secret"), std::string::npos);
}

TEST_F(IdentitiesTest, ContextAndEvaluation) {
  CallerIdentity who = ids.resolve(Caller{"AKIAALICE0000000001", kAlice, false});
  policy::Context ctx = ids.context(who, {{"aws:RequestTag/tenant-id", {"a"}}, {"AWS:PRINCIPALARN", {"forged"}}});
  EXPECT_EQ(ctx["aws:PrincipalArn"], std::vector<std::string>{kAlice});
  EXPECT_EQ(ctx.count("AWS:PRINCIPALARN"), 0u);  // extra never replaces an identity key
  EXPECT_EQ(ctx["aws:PrincipalAccount"], std::vector<std::string>{"123456789012"});
  EXPECT_EQ(ctx["aws:PrincipalType"], std::vector<std::string>{"User"});
  EXPECT_EQ(ctx["aws:username"], std::vector<std::string>{"alice"});
  EXPECT_EQ(ctx["aws:userid"], std::vector<std::string>{who.user_id});
  EXPECT_EQ(ctx["aws:PrincipalTag/team"], std::vector<std::string>{"ml"});
  EXPECT_EQ(ctx["aws:RequestTag/tenant-id"], std::vector<std::string>{"a"});
  EXPECT_EQ(ctx["aws:CurrentTime"], std::vector<std::string>{"2023-11-14T22:13:20Z"});
  EXPECT_EQ(ctx["aws:EpochTime"], std::vector<std::string>{"1700000000"});
  EXPECT_EQ(ctx.count("aws:SourceIdentity"), 0u);

  const std::string job = "arn:aws:sagemaker:us-east-1:123456789012:training-job/j";
  EXPECT_TRUE(ids.allowed(who, "sagemaker:CreateTrainingJob", job));
  EXPECT_EQ(ids.evaluate(who, "sagemaker:StopTrainingJob", job), policy::Outcome::kExplicitDeny);
  EXPECT_FALSE(ids.allowed(who, "sagemaker:StopTrainingJob", job));
  EXPECT_EQ(ids.evaluate(who, "sts:AssumeRole", kCreator), policy::Outcome::kImplicitDeny);
  // An extra key cannot stand in for the identity: the condition on aws:PrincipalArn still holds.
  EXPECT_TRUE(ids.allowed(who, "sagemaker:CreateTrainingJob", job, {{"aws:principalarn", {"x"}}}));

  store.insert(session("ASIALIVE000000000001", now + 60));
  CallerIdentity s = ids.resolve(Caller{"ASIALIVE000000000001", "", true});
  policy::Context sc = ids.context(s);
  EXPECT_EQ(sc["aws:PrincipalArn"], std::vector<std::string>{kCreator});
  EXPECT_EQ(sc["aws:PrincipalType"], std::vector<std::string>{"AssumedRole"});
  EXPECT_EQ(sc.count("aws:username"), 0u);
  EXPECT_EQ(sc["aws:SourceIdentity"], std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(sc["aws:PrincipalTag/tenant-id"], std::vector<std::string>{"a"});
  EXPECT_EQ(sc["aws:PrincipalTag/cost-center"], std::vector<std::string>{"42"});
  EXPECT_EQ(sc.count("aws:PrincipalTag/Tenant-Id"), 0u);
}

TEST_F(IdentitiesTest, AccessDeniedIsWordedAsAws) {
  CallerIdentity who = ids.resolve(Caller{"AKIAALICE0000000001", kAlice, false});
  ApiError e = access_denied(who, "sagemaker:CreateTrainingJob", "arn:aws:sagemaker:us-east-1:123456789012:training-job/j");
  EXPECT_EQ(e.code, "AccessDeniedException");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message,
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sagemaker:CreateTrainingJob on "
            "resource: arn:aws:sagemaker:us-east-1:123456789012:training-job/j because no identity-based policy allows "
            "the sagemaker:CreateTrainingJob action");
  EXPECT_EQ(access_denied(who, "sts:AssumeRole", kCreator, "AccessDenied", 403).status, 403);
}

}  // namespace
}  // namespace sluice::serve
