// policy/evaluate: deny wins, identity ∩ session, NotAction/NotResource, the tenant ABAC policy
// with ${aws:PrincipalTag/tenant-id}, and every implemented condition operator family with
// IfExists, ForAllValues/ForAnyValue, missing keys and policy variables in values.
#include "policy/evaluate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::policy {
namespace {

Request req(std::string action, std::string resource, Context ctx = {}) {
  return Request{std::move(action), std::move(resource), std::move(ctx)};
}

Outcome decide(const std::vector<std::string>& identity, const std::vector<std::string>& session,
               const Request& r) {
  std::vector<Document> id, se;
  for (const auto& t : identity) id.push_back(parse_document(t));
  for (const auto& t : session) se.push_back(parse_document(t));
  return evaluate(id, se, r).outcome;
}

const std::string kTenant = R"({
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "TenantData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*"}]})";

TEST(PolicyEvaluate, TenantPolicyIsolatesTenants) {
  Context tagged{{"aws:PrincipalTag/tenant-id", {"example-tenant"}}};
  EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/example-tenant/train/a.bin", tagged)),
            Outcome::kAllow);
  EXPECT_EQ(decide({kTenant}, {}, req("S3:getobject", "arn:aws:s3:::input-bucket/example-tenant/x", tagged)),
            Outcome::kAllow);
  EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/other-tenant/a.bin", tagged)),
            Outcome::kImplicitDeny);
  EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/example-tenant-2/a", tagged)),
            Outcome::kImplicitDeny);
  EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/example-tenant", tagged)),
            Outcome::kImplicitDeny);
  EXPECT_EQ(decide({kTenant}, {}, req("s3:DeleteObject", "arn:aws:s3:::input-bucket/example-tenant/a", tagged)),
            Outcome::kImplicitDeny);
  // The tag key is case-insensitive.
  Context upper{{"AWS:PRINCIPALTAG/TENANT-ID", {"example-tenant"}}};
  EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/example-tenant/a", upper)),
            Outcome::kAllow);
}

TEST(PolicyEvaluate, TenantPolicyDeniesWithoutTheTag) {
  for (const Context& ctx : {Context{}, Context{{"aws:PrincipalTag/tenant-id", {""}}},
                             Context{{"aws:PrincipalTag/other", {"example-tenant"}}}}) {
    // Not even the literal text or an empty segment matches.
    EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/example-tenant/a", ctx)),
              Outcome::kImplicitDeny);
    EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/a", ctx)),
              Outcome::kImplicitDeny);
    EXPECT_EQ(decide({kTenant}, {}, req("s3:GetObject", "arn:aws:s3:::input-bucket//a", ctx)),
              Outcome::kImplicitDeny);
  }
}

TEST(PolicyEvaluate, Version2008KeepsVariablesLiteral) {
  const std::string p = R"({"Statement":{"Effect":"Allow","Action":"s3:GetObject",
      "Resource":"arn:aws:s3:::b/${aws:username}/*"}})";
  Context ctx{{"aws:username", {"bob"}}};
  EXPECT_EQ(decide({p}, {}, req("s3:GetObject", "arn:aws:s3:::b/bob/k", ctx)), Outcome::kImplicitDeny);
  EXPECT_EQ(decide({p}, {}, req("s3:GetObject", "arn:aws:s3:::b/${aws:username}/k", ctx)), Outcome::kAllow);
}

TEST(PolicyEvaluate, DenyWinsAndDecisionNamesStatements) {
  const std::string allow_all = R"({"Version":"2012-10-17","Statement":[
      {"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"}]})";
  const std::string deny_secret = R"({"Version":"2012-10-17","Statement":[
      {"Sid":"Other","Effect":"Allow","Action":"ec2:*","Resource":"*"},
      {"Sid":"NoSecret","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}]})";
  std::vector<Document> id{parse_document(allow_all), parse_document(deny_secret)};
  Decision d = evaluate(id, {}, req("s3:GetObject", "arn:aws:s3:::b/secret/x"));
  EXPECT_EQ(d.outcome, Outcome::kExplicitDeny);
  ASSERT_EQ(d.statements.size(), 1u);
  EXPECT_EQ(d.statements[0], (StatementRef{PolicySet::kIdentity, 1, 1, "NoSecret"}));
  Decision a = evaluate(id, {}, req("s3:GetObject", "arn:aws:s3:::b/public/x"));
  EXPECT_EQ(a.outcome, Outcome::kAllow);
  ASSERT_EQ(a.statements.size(), 1u);
  EXPECT_EQ(a.statements[0], (StatementRef{PolicySet::kIdentity, 0, 0, "All"}));
  Decision n = evaluate(id, {}, req("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q"));
  EXPECT_EQ(n.outcome, Outcome::kImplicitDeny);
  EXPECT_TRUE(n.statements.empty());
  EXPECT_EQ(evaluate({}, {}, req("s3:GetObject", "arn:aws:s3:::b/k")).outcome, Outcome::kImplicitDeny);
  // A deny in a session policy also wins over an identity allow.
  const std::string session_deny = R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*"},
      {"Sid":"SD","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]})";
  Decision s = evaluate({parse_document(allow_all)}, {parse_document(session_deny)},
                        req("s3:PutObject", "arn:aws:s3:::b/k"));
  EXPECT_EQ(s.outcome, Outcome::kExplicitDeny);
  ASSERT_EQ(s.statements.size(), 1u);
  EXPECT_EQ(s.statements[0], (StatementRef{PolicySet::kSession, 0, 1, "SD"}));
}

TEST(PolicyEvaluate, SessionPolicyIntersects) {
  const std::string role = R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/*"}]})";
  const std::string session = R"({"Version":"2012-10-17","Statement":[
      {"Sid":"A","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/tenant-a/*"}]})";
  const std::string other = R"({"Version":"2012-10-17","Statement":[
      {"Sid":"B","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/tenant-b/*"}]})";
  EXPECT_EQ(decide({role}, {session}, req("s3:GetObject", "arn:aws:s3:::b/tenant-a/k")), Outcome::kAllow);
  EXPECT_EQ(decide({role}, {session}, req("s3:GetObject", "arn:aws:s3:::b/tenant-b/k")), Outcome::kImplicitDeny);
  EXPECT_EQ(decide({role}, {session}, req("s3:PutObject", "arn:aws:s3:::b/tenant-a/k")), Outcome::kImplicitDeny);
  EXPECT_EQ(decide({role}, {}, req("s3:GetObject", "arn:aws:s3:::b/tenant-b/k")), Outcome::kAllow);
  EXPECT_EQ(decide({}, {session}, req("s3:GetObject", "arn:aws:s3:::b/tenant-a/k")), Outcome::kImplicitDeny);
  // Any one of several session policies may allow.
  EXPECT_EQ(decide({role}, {session, other}, req("s3:GetObject", "arn:aws:s3:::b/tenant-b/k")), Outcome::kAllow);
  std::vector<Document> id{parse_document(role)};
  std::vector<Document> se{parse_document(session), parse_document(other)};
  Decision d = evaluate(id, se, req("s3:GetObject", "arn:aws:s3:::b/tenant-b/k"));
  ASSERT_EQ(d.statements.size(), 2u);
  EXPECT_EQ(d.statements[0], (StatementRef{PolicySet::kIdentity, 0, 0, ""}));
  EXPECT_EQ(d.statements[1], (StatementRef{PolicySet::kSession, 1, 0, "B"}));
}

TEST(PolicyEvaluate, NotActionAndNotResource) {
  const std::string not_action = R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::*"}]})";
  EXPECT_EQ(decide({not_action}, {}, req("s3:GetObject", "arn:aws:s3:::b/k")), Outcome::kAllow);
  EXPECT_EQ(decide({not_action}, {}, req("s3:DeleteBucket", "arn:aws:s3:::b")), Outcome::kImplicitDeny);
  EXPECT_EQ(decide({not_action}, {}, req("S3:deletebucket", "arn:aws:s3:::b")), Outcome::kImplicitDeny);
  // ListAllMyBuckets needs the "*" resource, which arn:aws:s3:::* does not cover.
  EXPECT_EQ(decide({not_action}, {}, req("s3:ListAllMyBuckets", "*")), Outcome::kImplicitDeny);

  const std::string allow_all = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})";
  const std::string deny_not_action = R"({"Version":"2012-10-17","Statement":{"Effect":"Deny",
      "NotAction":["s3:GetObject","s3:List*"],"Resource":"*"}})";
  EXPECT_EQ(decide({allow_all, deny_not_action}, {}, req("s3:GetObject", "arn:aws:s3:::b/k")), Outcome::kAllow);
  EXPECT_EQ(decide({allow_all, deny_not_action}, {}, req("s3:ListBucket", "arn:aws:s3:::b")), Outcome::kAllow);
  EXPECT_EQ(decide({allow_all, deny_not_action}, {}, req("s3:PutObject", "arn:aws:s3:::b/k")), Outcome::kExplicitDeny);

  const std::string deny_not_resource = R"({"Version":"2012-10-17","Statement":{"Effect":"Deny",
      "Action":"s3:*","NotResource":["arn:aws:s3:::mine","arn:aws:s3:::mine/*"]}})";
  EXPECT_EQ(decide({allow_all, deny_not_resource}, {}, req("s3:GetObject", "arn:aws:s3:::mine/k")), Outcome::kAllow);
  EXPECT_EQ(decide({allow_all, deny_not_resource}, {}, req("s3:GetObject", "arn:aws:s3:::theirs/k")),
            Outcome::kExplicitDeny);
  // Only S3 actions are affected.
  EXPECT_EQ(decide({allow_all, deny_not_resource}, {}, req("ec2:RunInstances", "arn:aws:ec2:::x")), Outcome::kAllow);

  // NotResource with a variable that has no value: the excluded resource matches nothing, so the
  // NotResource matches every resource.
  const std::string deny_outside_tenant = R"({"Version":"2012-10-17","Statement":{"Effect":"Deny",
      "Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/${aws:PrincipalTag/tenant-id}/*"}})";
  Context t{{"aws:PrincipalTag/tenant-id", {"t1"}}};
  EXPECT_EQ(decide({allow_all, deny_outside_tenant}, {}, req("s3:GetObject", "arn:aws:s3:::b/t1/k", t)), Outcome::kAllow);
  EXPECT_EQ(decide({allow_all, deny_outside_tenant}, {}, req("s3:GetObject", "arn:aws:s3:::b/t2/k", t)),
            Outcome::kExplicitDeny);
  EXPECT_EQ(decide({allow_all, deny_outside_tenant}, {}, req("s3:GetObject", "arn:aws:s3:::b/t1/k")),
            Outcome::kExplicitDeny);
}

// Condition helpers: a 2012 document with one Allow * statement carrying `condition`.
bool holds(const std::string& condition, const Context& ctx) {
  Document d = parse_document(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*",
      "Resource":"*","Condition":)" + condition + "}}");
  return evaluate({d}, {}, req("s3:GetObject", "arn:aws:s3:::b/k", ctx)).outcome == Outcome::kAllow;
}

TEST(PolicyConditions, StringOperators) {
  Context c{{"aws:PrincipalTag/team", {"Red"}}};
  EXPECT_TRUE(holds(R"({"StringEquals":{"aws:PrincipalTag/team":"Red"}})", c));
  EXPECT_TRUE(holds(R"({"StringEquals":{"AWS:principaltag/TEAM":"Red"}})", c));  // key case-insensitive
  EXPECT_FALSE(holds(R"({"StringEquals":{"aws:PrincipalTag/team":"red"}})", c));  // value case-sensitive
  EXPECT_TRUE(holds(R"({"StringEquals":{"aws:PrincipalTag/team":["blue","Red"]}})", c));  // values OR
  EXPECT_FALSE(holds(R"({"StringEquals":{"aws:PrincipalTag/team":"R*"}})", c));  // no wildcards
  EXPECT_TRUE(holds(R"({"StringNotEquals":{"aws:PrincipalTag/team":["blue","green"]}})", c));
  EXPECT_FALSE(holds(R"({"StringNotEquals":{"aws:PrincipalTag/team":["blue","Red"]}})", c));  // values AND
  EXPECT_TRUE(holds(R"({"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"rED"}})", c));
  EXPECT_FALSE(holds(R"({"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"rED"}})", c));
  EXPECT_TRUE(holds(R"({"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"blue"}})", c));
  EXPECT_TRUE(holds(R"({"StringLike":{"aws:PrincipalTag/team":"R?d"}})", c));
  EXPECT_TRUE(holds(R"({"StringLike":{"aws:PrincipalTag/team":["x*","*e*"]}})", c));
  EXPECT_FALSE(holds(R"({"StringLike":{"aws:PrincipalTag/team":"r*"}})", c));
  EXPECT_TRUE(holds(R"({"StringNotLike":{"aws:PrincipalTag/team":"r*"}})", c));
  EXPECT_FALSE(holds(R"({"StringNotLike":{"aws:PrincipalTag/team":["x","R*"]}})", c));
}

TEST(PolicyConditions, MissingKeys) {
  Context none;
  EXPECT_FALSE(holds(R"({"StringEquals":{"k":"v"}})", none));
  EXPECT_FALSE(holds(R"({"StringLike":{"k":"*"}})", none));
  EXPECT_TRUE(holds(R"({"StringNotEquals":{"k":"v"}})", none));
  EXPECT_TRUE(holds(R"({"StringNotLike":{"k":"*"}})", none));
  EXPECT_FALSE(holds(R"({"NumericEquals":{"k":"1"}})", none));
  EXPECT_TRUE(holds(R"({"NumericNotEquals":{"k":"1"}})", none));
  EXPECT_FALSE(holds(R"({"Bool":{"k":"true"}})", none));
  EXPECT_FALSE(holds(R"({"IpAddress":{"k":"10.0.0.0/8"}})", none));
  EXPECT_TRUE(holds(R"({"NotIpAddress":{"k":"10.0.0.0/8"}})", none));
  EXPECT_TRUE(holds(R"({"StringEqualsIfExists":{"k":"v"}})", none));
  EXPECT_TRUE(holds(R"({"StringNotEqualsIfExists":{"k":"v"}})", none));
  EXPECT_TRUE(holds(R"({"DateLessThanIfExists":{"k":"2020-01-01"}})", none));
  // An empty value is null.
  EXPECT_FALSE(holds(R"({"StringEquals":{"k":""}})", Context{{"k", {""}}}));
  // IfExists on a present key behaves like the plain operator.
  EXPECT_TRUE(holds(R"({"StringEqualsIfExists":{"k":"v"}})", Context{{"k", {"v"}}}));
  EXPECT_FALSE(holds(R"({"StringEqualsIfExists":{"k":"v"}})", Context{{"k", {"w"}}}));
}

TEST(PolicyConditions, DenyWithNegatedIfExistsStillDeniesWhenTagMissing) {
  const std::string p = R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":"*","Resource":"*",
       "Condition":{"StringNotEqualsIfExists":{"aws:PrincipalTag/tenant-id":"t1"}}}]})";
  EXPECT_EQ(decide({p}, {}, req("s3:GetObject", "arn:aws:s3:::b/k")), Outcome::kExplicitDeny);
  EXPECT_EQ(decide({p}, {}, req("s3:GetObject", "arn:aws:s3:::b/k", {{"aws:PrincipalTag/tenant-id", {"t2"}}})),
            Outcome::kExplicitDeny);
  EXPECT_EQ(decide({p}, {}, req("s3:GetObject", "arn:aws:s3:::b/k", {{"aws:PrincipalTag/tenant-id", {"t1"}}})),
            Outcome::kAllow);
}

TEST(PolicyConditions, KeysAndOperatorsAnd) {
  Context c{{"a", {"1"}}, {"b", {"2"}}};
  EXPECT_TRUE(holds(R"({"StringEquals":{"a":"1","b":"2"}})", c));
  EXPECT_FALSE(holds(R"({"StringEquals":{"a":"1","b":"3"}})", c));
  EXPECT_TRUE(holds(R"({"StringEquals":{"a":"1"},"NumericGreaterThan":{"b":"1"}})", c));
  EXPECT_FALSE(holds(R"({"StringEquals":{"a":"1"},"NumericGreaterThan":{"b":"2"}})", c));
}

TEST(PolicyConditions, SetQualifiers) {
  Context tags{{"aws:TagKeys", {"env", "team"}}};
  EXPECT_TRUE(holds(R"({"ForAllValues:StringEquals":{"aws:TagKeys":["env","team","cost"]}})", tags));
  EXPECT_FALSE(holds(R"({"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}})", tags));
  EXPECT_TRUE(holds(R"({"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}})", tags));
  EXPECT_FALSE(holds(R"({"ForAnyValue:StringEquals":{"aws:TagKeys":["cost"]}})", tags));
  EXPECT_TRUE(holds(R"({"ForAnyValue:StringLike":{"aws:TagKeys":"te*"}})", tags));
  // Negated: per value, "matches none of the policy values".
  EXPECT_TRUE(holds(R"({"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}})", tags));
  EXPECT_FALSE(holds(R"({"ForAllValues:StringNotEquals":{"aws:TagKeys":["env"]}})", tags));
  EXPECT_TRUE(holds(R"({"ForAllValues:StringNotEquals":{"aws:TagKeys":["cost"]}})", tags));
  // Missing key or null set: ForAllValues is true, ForAnyValue false.
  EXPECT_TRUE(holds(R"({"ForAllValues:StringEquals":{"aws:TagKeys":"x"}})", Context{}));
  EXPECT_TRUE(holds(R"({"ForAllValues:StringEquals":{"aws:TagKeys":"x"}})", Context{{"aws:TagKeys", {}}}));
  EXPECT_FALSE(holds(R"({"ForAnyValue:StringEquals":{"aws:TagKeys":"x"}})", Context{}));
  EXPECT_FALSE(holds(R"({"ForAnyValue:StringNotEquals":{"aws:TagKeys":"x"}})", Context{}));
  // Without a qualifier, a multivalued key matches a positive operator when any value does.
  EXPECT_TRUE(holds(R"({"StringEquals":{"aws:TagKeys":"team"}})", tags));
  EXPECT_FALSE(holds(R"({"StringNotEquals":{"aws:TagKeys":"team"}})", tags));
}

TEST(PolicyConditions, NumericDateBool) {
  Context c{{"n", {"10"}}, {"t", {"2024-06-01T12:00:00Z"}}, {"secure", {"true"}}, {"junk", {"x"}}};
  EXPECT_TRUE(holds(R"({"NumericEquals":{"n":"10.0"}})", c));
  EXPECT_TRUE(holds(R"({"NumericEquals":{"n":10}})", c));
  EXPECT_FALSE(holds(R"({"NumericEquals":{"n":"11"}})", c));
  EXPECT_TRUE(holds(R"({"NumericNotEquals":{"n":["11","12"]}})", c));
  EXPECT_FALSE(holds(R"({"NumericNotEquals":{"n":["10","12"]}})", c));
  EXPECT_TRUE(holds(R"({"NumericLessThan":{"n":"10.5"}})", c));
  EXPECT_FALSE(holds(R"({"NumericLessThan":{"n":"10"}})", c));
  EXPECT_TRUE(holds(R"({"NumericLessThanEquals":{"n":"10"}})", c));
  EXPECT_TRUE(holds(R"({"NumericGreaterThan":{"n":"-1"}})", c));
  EXPECT_FALSE(holds(R"({"NumericGreaterThan":{"n":"10"}})", c));
  EXPECT_TRUE(holds(R"({"NumericGreaterThanEquals":{"n":"1e1"}})", c));
  EXPECT_FALSE(holds(R"({"NumericEquals":{"junk":"1"}})", c));  // unparseable context value: no match
  EXPECT_TRUE(holds(R"({"DateGreaterThan":{"t":"2024-06-01"}})", c));
  EXPECT_TRUE(holds(R"({"DateLessThan":{"t":"2024-06-01T14:00:00+01:00"}})", c));
  EXPECT_FALSE(holds(R"({"DateLessThan":{"t":"2024-06-01T13:00:00+01:00"}})", c));
  EXPECT_TRUE(holds(R"({"DateLessThanEquals":{"t":"2024-06-01T13:00:00+01:00"}})", c));
  EXPECT_TRUE(holds(R"({"DateEquals":{"t":"2024-06-01T12:00:00.000Z"}})", c));
  EXPECT_TRUE(holds(R"({"DateEquals":{"t":1717243200}})", c));
  EXPECT_TRUE(holds(R"({"DateNotEquals":{"t":"2024-06-02"}})", c));
  EXPECT_TRUE(holds(R"({"DateGreaterThanEquals":{"t":"2024-06-01T12:00:00Z"}})", c));
  EXPECT_FALSE(holds(R"({"DateGreaterThan":{"junk":"2024-06-01"}})", c));
  EXPECT_TRUE(holds(R"({"Bool":{"secure":"true"}})", c));
  EXPECT_TRUE(holds(R"({"Bool":{"secure":true}})", c));
  EXPECT_FALSE(holds(R"({"Bool":{"secure":"false"}})", c));
  EXPECT_TRUE(holds(R"({"Bool":{"secure":"true"}})", Context{{"secure", {"TRUE"}}}));
}

TEST(PolicyConditions, Null) {
  Context c{{"present", {"v"}}};
  EXPECT_TRUE(holds(R"({"Null":{"absent":"true"}})", c));
  EXPECT_FALSE(holds(R"({"Null":{"absent":"false"}})", c));
  EXPECT_FALSE(holds(R"({"Null":{"present":"true"}})", c));
  EXPECT_TRUE(holds(R"({"Null":{"present":"false"}})", c));
  EXPECT_TRUE(holds(R"({"Null":{"present":true}})", Context{{"present", {""}}}));  // empty = null
}

TEST(PolicyConditions, ArnOperators) {
  const std::string v = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
  Context c{{"aws:SourceArn", {v}}};
  EXPECT_TRUE(holds(R"({"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}})", c));
  EXPECT_FALSE(holds(R"({"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}})", c));
  EXPECT_FALSE(holds(R"({"ArnEquals":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}})", c));
  EXPECT_TRUE(holds(R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}})", c));
  EXPECT_TRUE(holds(R"({"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:999999999999:store/*"}})", c));
  EXPECT_TRUE(holds(R"({"ArnEquals":{"aws:SourceArn":"arn:aws:someservice:us-east-?:*:*"}})", c));
  EXPECT_FALSE(holds(R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:someservice:us-east-?:*:*"}})", c));
  EXPECT_FALSE(holds(R"({"ArnLike":{"aws:SourceArn":"arn:aws:SomeService:*:*:*"}})", c));  // case-sensitive
}

TEST(PolicyConditions, IpAddress) {
  Context v4{{"aws:SourceIp", {"10.1.2.3"}}};
  Context v6{{"aws:SourceIp", {"2001:db8::1"}}};
  EXPECT_TRUE(holds(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", v4));
  EXPECT_TRUE(holds(R"({"IpAddress":{"aws:SourceIp":["192.168.0.0/16","10.1.2.0/23"]}})", v4));
  EXPECT_FALSE(holds(R"({"IpAddress":{"aws:SourceIp":"10.1.2.4"}})", v4));  // bare = /32
  EXPECT_TRUE(holds(R"({"IpAddress":{"aws:SourceIp":"10.1.2.3"}})", v4));
  EXPECT_TRUE(holds(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", v4));
  EXPECT_FALSE(holds(R"({"IpAddress":{"aws:SourceIp":"10.1.2.0/31"}})", v4));
  EXPECT_TRUE(holds(R"({"NotIpAddress":{"aws:SourceIp":"192.168.0.0/16"}})", v4));
  EXPECT_FALSE(holds(R"({"NotIpAddress":{"aws:SourceIp":["192.168.0.0/16","10.0.0.0/8"]}})", v4));
  EXPECT_TRUE(holds(R"({"IpAddress":{"aws:SourceIp":"2001:db8::/32"}})", v6));
  EXPECT_FALSE(holds(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", v6));
  EXPECT_FALSE(holds(R"({"IpAddress":{"aws:SourceIp":"2001:db9::/32"}})", v6));
  EXPECT_FALSE(holds(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", Context{{"aws:SourceIp", {"not-an-ip"}}}));
}

TEST(PolicyConditions, VariablesInValues) {
  Context c{{"aws:PrincipalTag/tenant-id", {"t1"}}, {"s3:prefix", {"t1/data/"}}, {"aws:ResourceTag/tenant-id", {"t1"}}};
  EXPECT_TRUE(holds(R"({"StringLike":{"s3:prefix":"${aws:PrincipalTag/tenant-id}/*"}})", c));
  EXPECT_TRUE(holds(R"({"StringEquals":{"aws:ResourceTag/tenant-id":"${aws:PrincipalTag/tenant-id}"}})", c));
  EXPECT_FALSE(holds(R"({"StringEquals":{"aws:ResourceTag/tenant-id":"${aws:PrincipalTag/dept}"}})", c));
  // A value with an unresolved variable has no value: equal/like fail, the inverted operators match.
  EXPECT_FALSE(holds(R"({"StringLike":{"s3:prefix":"${aws:PrincipalTag/dept}*"}})", c));
  EXPECT_TRUE(holds(R"({"StringNotEquals":{"aws:ResourceTag/tenant-id":"${aws:PrincipalTag/dept}"}})", c));
  EXPECT_TRUE(holds(R"({"StringNotLike":{"s3:prefix":"${aws:PrincipalTag/dept}*"}})", c));
  EXPECT_TRUE(holds(R"({"StringEquals":{"aws:ResourceTag/tenant-id":"${aws:PrincipalTag/dept, 't1'}"}})", c));
  EXPECT_TRUE(holds(R"({"ArnLike":{"src":"arn:aws:iam::1:role/${aws:PrincipalTag/tenant-id}-*"}})",
                    Context{{"src", {"arn:aws:iam::1:role/t1-reader"}}, {"aws:PrincipalTag/tenant-id", {"t1"}}}));
  // 2008 documents keep the variable as literal text.
  Document d = parse_document(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"StringEquals":{"k":"${aws:username}"}}}})");
  EXPECT_EQ(evaluate({d}, {}, req("s3:GetObject", "*", {{"k", {"bob"}}, {"aws:username", {"bob"}}})).outcome,
            Outcome::kImplicitDeny);
  EXPECT_EQ(evaluate({d}, {}, req("s3:GetObject", "*", {{"k", {"${aws:username}"}}})).outcome, Outcome::kAllow);
}

}  // namespace
}  // namespace sluice::policy
