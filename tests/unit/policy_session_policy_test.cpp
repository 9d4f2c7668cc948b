// policy/session_policy: the concrete session policy handed to the store. Checked by evaluating
// it, as the store would (request keys only, no principal context), against the original policy
// evaluated with the session's principal context, over many requests.
#include "policy/session_policy.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "policy/evaluate.hpp"

namespace sluice::policy {
namespace {

const Context kTenantA{{"aws:PrincipalTag/tenant-id", {"tenant-a"}},
                       {"aws:PrincipalArn", {"arn:aws:iam::123456789012:role/Jobs"}}};

std::vector<Document> docs(const std::vector<std::string>& texts) {
  std::vector<Document> out;
  for (const auto& t : texts) out.push_back(parse_document(t));
  return out;
}

Outcome decide(const std::vector<Document>& p, const std::string& action, const std::string& resource, const Context& ctx) {
  return evaluate(p, {}, Request{action, resource, ctx}).outcome;
}

const std::string kTenantPolicy = R"({"Version": "2012-10-17", "Statement": [
  {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "elasticfilesystem:ClientMount"],
   "Resource": ["arn:aws:s3:::in/${aws:PrincipalTag/tenant-id}/*", "arn:aws:s3:::in/${aws:PrincipalTag/missing}/*"]},
  {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::in",
   "Condition": {"StringLike": {"s3:prefix": ["${aws:PrincipalTag/tenant-id}/*", "${aws:PrincipalTag/nope}/*"]}}},
  {"Sid": "Write", "Effect": "Allow", "Action": "s3:Put*", "Resource": "arn:aws:s3:::out/${aws:PrincipalTag/tenant-id}/*",
   "Condition": {"StringEquals": {"aws:PrincipalTag/tenant-id": "tenant-a"}}},
  {"Sid": "OtherTenant", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
   "Condition": {"StringEquals": {"aws:PrincipalTag/tenant-id": "tenant-b"}}},
  {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::in/*/secret*"},
  {"Sid": "Efs", "Effect": "Allow", "Action": "elasticfilesystem:*", "Resource": "*"}
]})";

TEST(SessionPolicy, ResolvesTagsAndDropsWhatDoesNotApply) {
  SessionPolicy sp = concrete_session_policy(docs({kTenantPolicy}), kTenantA);
  auto j = nlohmann::json::parse(sp.json);
  EXPECT_EQ(j["Version"], "2012-10-17");
  ASSERT_EQ(j["Statement"].size(), 4u) << sp.json;
  const auto& read = j["Statement"][0];
  EXPECT_EQ(read["Sid"], "Read");
  EXPECT_EQ(read["Action"], "s3:GetObject");  // the EFS action is not the store's
  EXPECT_EQ(read["Resource"], "arn:aws:s3:::in/tenant-a/*");  // the entry with a missing tag is gone
  const auto& list = j["Statement"][1];
  EXPECT_EQ(list["Condition"]["StringLike"]["s3:prefix"], "tenant-a/*");
  const auto& write = j["Statement"][2];
  EXPECT_EQ(write["Sid"], "Write");
  EXPECT_FALSE(write.contains("Condition"));  // decided now: true
  EXPECT_EQ(j["Statement"][3]["Sid"], "NoSecrets");  // OtherTenant is false now; Efs has no S3 action
  EXPECT_EQ(sp.json.find("${"), std::string::npos);
  EXPECT_EQ(sp.json.find("PrincipalTag"), std::string::npos);
}

TEST(SessionPolicy, NothingLeftDeniesEverything) {
  SessionPolicy sp = concrete_session_policy(docs({kTenantPolicy}), Context{});  // no tag at all
  auto j = nlohmann::json::parse(sp.json);
  // Only the Deny survives (it needs no tag); nothing is allowed.
  for (const auto& s : j["Statement"]) EXPECT_EQ(s["Effect"], "Deny") << sp.json;
  SessionPolicy none = concrete_session_policy({}, kTenantA);
  EXPECT_EQ(none.json, R"({"Statement":[{"Action":"s3:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"})");
}

TEST(SessionPolicy, OmissionsAreListed) {
  SessionPolicy sp = concrete_session_policy(docs({R"({"Version": "2012-10-17", "Statement": [
      {"Sid": "NA", "Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
      {"Sid": "NR", "Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"},
      {"Sid": "Gone", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:PrincipalTag/nope}/*"},
      {"Sid": "Star", "Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${*}"}]})"}),
                                             kTenantA);
  // "Gone" is not an omission: with no tag it matches nothing, in the original too.
  ASSERT_EQ(sp.omitted.size(), 3u);
  EXPECT_NE(sp.omitted[0].find("(Sid NA): NotAction"), std::string::npos);
  EXPECT_NE(sp.omitted[1].find("NotResource"), std::string::npos);
  EXPECT_NE(sp.omitted[2].find("(Sid Star)"), std::string::npos);  // a literal '*' cannot be written
  EXPECT_EQ(sp.json.find("Gone"), std::string::npos);
}

TEST(SessionPolicy, Version2008KeepsTextLiteral) {
  SessionPolicy sp = concrete_session_policy(
      docs({R"({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]})"}),
      kTenantA);
  EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"][0]["Resource"], "arn:aws:s3:::b/k");
}

// The property the store-side policy must have: evaluated without the principal context (as the
// store evaluates it), it allows exactly what the original allows with the principal context
// (nothing is omitted from these policies), for principals with a tag, another tag and none.
TEST(SessionPolicy, SameDecisionsAsTheOriginalOverRandomRequests) {
  const std::vector<std::string> texts = {kTenantPolicy, R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::shared", "arn:aws:s3:::shared/${aws:PrincipalTag/tenant-id, 'common'}/*"]},
      {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"StringNotLike": {"s3:prefix": "${aws:PrincipalTag/tenant-id}/*"}}},
      {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*", "Condition": {"StringLikeIfExists": {"s3:prefix": "${aws:PrincipalTag/nope}"}}}]})"};
  const auto original = docs(texts);
  std::mt19937 rng(7);
  const std::vector<std::string> actions = {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"};
  const std::vector<std::string> buckets = {"in", "out", "shared", "other"};
  const std::vector<std::string> tenants = {"tenant-a", "tenant-b", "common", "tenant-a-x", ""};
  const std::vector<std::string> names = {"x", "secret.bin", "a/b", ""};
  for (const Context& principal : {kTenantA, Context{{"aws:PrincipalTag/tenant-id", {"tenant-b"}}}, Context{}}) {
    SessionPolicy sp = concrete_session_policy(original, principal);
    const auto concrete = docs({sp.json});
    ASSERT_TRUE(sp.omitted.empty()) << sp.omitted.front();
    for (int i = 0; i < 4000; ++i) {
      const std::string action = actions[rng() % actions.size()];
      const std::string bucket = buckets[rng() % buckets.size()];
      const std::string tenant = tenants[rng() % tenants.size()];
      const std::string name = names[rng() % names.size()];
      Context request;
      std::string resource = "arn:aws:s3:::" + bucket;
      if (action == "s3:ListBucket") {
        request["s3:prefix"] = {tenant + "/" + name};
      } else {
        resource += "/" + tenant + "/" + name;
      }
      Context full = request;
      for (const auto& [k, v] : principal) full[k] = v;
      bool want = decide(original, action, resource, full) == Outcome::kAllow;
      bool got = decide(concrete, action, resource, request) == Outcome::kAllow;
      ASSERT_EQ(got, want) << action << " " << resource << " prefix " << (request.empty() ? "" : request["s3:prefix"][0])
                           << "\n" << sp.json;
    }
  }
}

}  // namespace
}  // namespace sluice::policy
