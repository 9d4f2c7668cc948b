// policy/iam_config: the --iam-config file (roles, trust policies, permission policies, tags),
// its validation errors (file name + JSON path) and trust_allows.
#include "policy/iam_config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace sluice::policy {
namespace {

constexpr const char* kArn = "arn:aws:iam::123456789012:role/SageMakerExecution";

const std::string kTrust = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"AWS":"arn:aws:iam::123456789012:role/JobCreator","Service":"sagemaker.amazonaws.com"},
  "Action":["sts:AssumeRole","sts:TagSession"]}]})";

const std::string kPolicy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":"s3:GetObject","Resource":"arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*"}]})";

std::string role(const std::string& extra, const std::string& arn = kArn) {
  return R"({"Arn":")" + arn + R"(","AssumeRolePolicyDocument":)" + kTrust + extra + "}";
}

std::string config(const std::string& roles) { return R"({"Roles":[)" + roles + "]}"; }

Error refusal(const std::string& text) {
  try {
    parse_iam_config(text, "cfg.json");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-Error: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

// The message must start with the file name and contain `part` (usually "<path>: <why>").
void expect_refused(const std::string& text, const std::string& part) {
  SCOPED_TRACE(text);
  Error e = refusal(text);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  std::string what = e.what();
  EXPECT_EQ(what.rfind("invalid IAM config cfg.json: ", 0), 0u) << what;
  EXPECT_NE(what.find(part), std::string::npos) << what;
}

TEST(IamConfig, ParsesValidConfig) {
  IamConfig c = parse_iam_config(
      config(role(R"(,"Policies":[)" + kPolicy + "," + kPolicy +
                  R"(],"Tags":[{"Key":"team","Value":"ml"},{"Key":"empty","Value":""}],"MaxSessionDuration":7200)") +
             "," + role("", "arn:aws:iam::123456789012:role/service-role/teams/Other")),
      "cfg.json");
  ASSERT_EQ(c.roles.size(), 2u);
  const Role& r = c.roles[0];
  EXPECT_EQ(r.arn, kArn);
  EXPECT_EQ(r.max_session_duration, 7200);
  ASSERT_EQ(r.policies.size(), 2u);
  EXPECT_EQ(r.policies[0].version, Version::k2012_10_17);
  EXPECT_EQ(r.policies[0].statements.at(0).resources.at(0),
            "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*");
  ASSERT_EQ(r.tags.size(), 2u);
  EXPECT_EQ(r.tags[0], (std::pair<std::string, std::string>{"team", "ml"}));
  EXPECT_EQ(r.tags[1].second, "");
  ASSERT_EQ(r.trust.statements.size(), 1u);
  EXPECT_EQ(r.trust.statements[0].aws.at(0), "arn:aws:iam::123456789012:role/JobCreator");
  EXPECT_EQ(r.trust.statements[0].services.at(0), "sagemaker.amazonaws.com");
  EXPECT_EQ(r.trust.statements[0].actions.size(), 2u);
  EXPECT_EQ(c.roles[1].max_session_duration, 3600);  // default
  EXPECT_TRUE(c.roles[1].policies.empty());
  EXPECT_TRUE(parse_iam_config(R"({"Roles":[]})", "x").roles.empty());
}

TEST(IamConfig, Find) {
  IamConfig c = parse_iam_config(config(role("") + "," + role("", "arn:aws:iam::123456789012:role/b")), "x");
  ASSERT_NE(c.find(kArn), nullptr);
  EXPECT_EQ(c.find(kArn), &c.roles[0]);
  EXPECT_EQ(c.find("arn:aws:iam::123456789012:role/b"), &c.roles[1]);
  EXPECT_EQ(c.find("arn:aws:iam::123456789012:role/sagemakerexecution"), nullptr);
  EXPECT_EQ(c.find("arn:aws:iam::123456789012:role/missing"), nullptr);
}

TEST(IamConfig, MalformedJsonNamesOffset) {
  expect_refused("{\"Roles\": [}", "malformed JSON at byte 11 (line 1, column 12)");
  expect_refused("{\n\"Roles\": [,", "malformed JSON at byte 12 (line 2, column 11)");
  expect_refused("", "malformed JSON at byte 0");
}

TEST(IamConfig, RefusesUnknownMembers) {
  expect_refused(R"({"Roles":[],"Extra":1})", "Extra: unknown top-level member");
  expect_refused(config(role(R"(,"Description":"x")")), "Roles[0].Description: unknown role member");
  expect_refused(config(role(R"(,"Tags":[{"Key":"a","Value":"b","X":1}])")), "Roles[0].Tags[0].X: unknown tag member");
  expect_refused(R"({})", "Roles: missing");
  expect_refused(R"([])", "(document): must be a JSON object");
  expect_refused(R"({"Roles":{}})", "Roles: must be a list");
  expect_refused(config("1"), "Roles[0]: must be an object");
}

TEST(IamConfig, RefusesBadArns) {
  expect_refused(config(R"({"AssumeRolePolicyDocument":)" + kTrust + "}"), "Roles[0].Arn: missing");
  expect_refused(config(role("", "arn:aws:iam::12345678901:role/x")), "Roles[0].Arn: must be arn:aws:iam::");
  expect_refused(config(role("", "arn:aws:iam::123456789012:user/x")), "the resource must start with role/");
  expect_refused(config(role("", "arn:aws:s3:::bucket")), "Roles[0].Arn");
  expect_refused(config(role("", "arn:aws:iam::123456789012:role/")), "the role name must be 1-64");
  expect_refused(config(role("", "arn:aws:iam::123456789012:role/a b")), "the role name may only hold");
  expect_refused(config(role("", "arn:aws:iam::123456789012:role/a//b")), "empty segment");
  expect_refused(config(role("", "arn:aws:iam::123456789012:role/" + std::string(65, 'a'))), "1-64");
  expect_refused(config(role("") + "," + role("")), "Roles[1].Arn: duplicate role ARN");
}

TEST(IamConfig, MaxSessionDuration) {
  expect_refused(config(role(R"(,"MaxSessionDuration":3599)")), "Roles[0].MaxSessionDuration: must be 3600-43200");
  expect_refused(config(role(R"(,"MaxSessionDuration":43201)")), "Roles[0].MaxSessionDuration: must be 3600-43200");
  expect_refused(config(role(R"(,"MaxSessionDuration":"3600")")), "Roles[0].MaxSessionDuration: must be an integer");
  expect_refused(config(role(R"(,"MaxSessionDuration":3600.5)")), "must be an integer");
  expect_refused(config(role(R"(,"MaxSessionDuration":18446744073709551615)")), "must be 3600-43200");
  EXPECT_EQ(parse_iam_config(config(role(R"(,"MaxSessionDuration":43200)")), "x").roles[0].max_session_duration, 43200);
}

TEST(IamConfig, TagsShape) {
  expect_refused(config(role(R"(,"Tags":[{"Key":"k"}])")), "Roles[0].Tags[0].Value: missing");
  expect_refused(config(role(R"(,"Tags":[{"Value":"v"}])")), "Roles[0].Tags[0].Key: missing");
  expect_refused(config(role(R"(,"Tags":[{"Key":1,"Value":"v"}])")), "Roles[0].Tags[0].Key: must be a string");
  expect_refused(config(role(R"(,"Tags":["k=v"])")), "Roles[0].Tags[0]: must be an object with Key and Value");
  expect_refused(config(role(R"(,"Tags":{})")), "Roles[0].Tags: must be a list");
}

std::string tags_json(const std::vector<std::pair<std::string, std::string>>& tags) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [k, v] : tags) j.push_back({{"Key", k}, {"Value", v}});
  return R"(,"Tags":)" + j.dump();
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A role's tags follow the STS session tag rules (policy::check_tags, as --session-tag): each
// broken rule refuses the file, naming the tag's path, its key, the role's ARN and the rule.
TEST(IamConfig, TagsFollowTheSessionTagRules) {
  const std::string of_role = " of role " + std::string(kArn) + "): ";
  struct Case {
    std::vector<std::pair<std::string, std::string>> tags;
    std::string part;  // what the message holds after "invalid IAM config cfg.json: "
  };
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 51; ++i) many.emplace_back("k" + std::to_string(i), "v");
  const std::vector<Case> cases = {
      {many, "Roles[0].Tags[50] (tag 'k50'" + of_role + "more than 50 tags (51 given)"},
      {{{"ok", "1"}, {"", "v"}}, "Roles[0].Tags[1] (tag ''" + of_role + "the tag key is empty"},
      {{{repeat("k", 129), "v"}}, "Roles[0].Tags[0] (tag '" + repeat("k", 129) + "'" + of_role +
                                      "the tag key has 129 characters; at most 128 are allowed"},
      // Characters, not bytes: 129 two-byte letters.
      {{{repeat("\xC3\xA9", 129), "v"}}, "the tag key has 129 characters; at most 128"},
      {{{"k", repeat("v", 257)}}, "Roles[0].Tags[0] (tag 'k'" + of_role + "the tag value has 257 characters; at most 256"},
      {{{"k", repeat("\xE2\x82\xAC", 1)}}, "Roles[0].Tags[0] (tag 'k'" + of_role +
                                               "the tag value has a character outside letters, numbers, spaces"},
      {{{"k", "a*"}}, "the tag value has a character outside letters, numbers, spaces and _ . : / = + - @"},
      {{{"k", "a?"}}, "the tag value has a character outside"},
      {{{"k", "a\tb"}}, "the tag value has a character outside"},
      {{{"ten*ant", "a"}}, "Roles[0].Tags[0] (tag 'ten*ant'" + of_role + "the tag key has a character outside"},
      {{{"k\xF0\x9F\x98\x80", "a"}}, "the tag key has a character outside"},  // emoji (So)
      {{{"aws:team", "a"}}, "Roles[0].Tags[0] (tag 'aws:team'" + of_role + "tag keys starting with 'aws:' are reserved"},
      {{{"AWS:Team", "a"}}, "tag keys starting with 'aws:' are reserved"},
      {{{"Team", "a"}, {"x", "1"}, {"team", "b"}},
       "Roles[0].Tags[2] (tag 'team'" + of_role + "the tag key duplicates Roles[0].Tags[0] (tag 'Team'" +
           " of role " + kArn + ") (tag keys are case-insensitive)"},
      // Unicode case folding, not ASCII only.
      {{{"\xC3\x84RGER", "1"}, {"\xC3\xA4rger", "2"}}, "the tag key duplicates Roles[0].Tags[0]"},
  };
  for (const auto& c : cases) expect_refused(config(role(tags_json(c.tags))), c.part);
  // The second role is named by its own ARN.
  const std::string other = "arn:aws:iam::123456789012:role/Other";
  expect_refused(config(role("") + "," + role(tags_json({{"aws:x", "1"}}), other)),
                 "Roles[1].Tags[0] (tag 'aws:x' of role " + other + "): tag keys starting with 'aws:' are reserved");
}

TEST(IamConfig, TagsAtTheLimitsAreKept) {
  std::vector<std::pair<std::string, std::string>> fifty;
  for (int i = 0; i < 50; ++i) fifty.emplace_back("k" + std::to_string(i), "v");
  EXPECT_EQ(parse_iam_config(config(role(tags_json(fifty))), "x").roles[0].tags, fifty);
  const std::vector<std::pair<std::string, std::string>> ok = {
      {repeat("k", 128), repeat("v", 256)},
      {repeat("\xC3\xA9", 128), repeat("\xC3\xA9", 256)},  // characters, not bytes
      {"a_.:/=+-@ b", "_.:/=+-@ x"},                       // every allowed punctuation, space
      {"\xE6\x97\xA5\xE6\x9C\xAC", "\xD9\xA3\xE2\x85\xAB"},  // CJK letters; Arabic-Indic digit, roman numeral
      {"empty", ""},
      {"awsx", "aws:v"},  // only a key starting with aws: is reserved
      {"Team", "A"},      // case preserved
  };
  EXPECT_EQ(parse_iam_config(config(role(tags_json(ok))), "x").roles[0].tags, ok);
}

TEST(IamConfig, PolicyErrorsArePrefixedWithPath) {
  expect_refused(config(role(R"(,"Policies":[)" + kPolicy + R"(,{"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}])")),
                 "Roles[0].Policies[1]: Statement[0].Effect: must be \"Allow\" or \"Deny\"");
  expect_refused(config(role(R"(,"Policies":[{"Statement":[],"Foo":1}])")), "Roles[0].Policies[0]: ");
  expect_refused(config(role(R"(,"Policies":{})")), "Roles[0].Policies: must be a list");
  // Principal is not allowed in a permission policy.
  expect_refused(config(role(R"(,"Policies":[{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}])")),
                 "Roles[0].Policies[0]: Statement");
}

TEST(IamConfig, TrustPolicyErrorsArePrefixedWithPath) {
  auto with_trust = [](const std::string& trust) {
    return config(R"({"Arn":")" + std::string(kArn) + R"(","AssumeRolePolicyDocument":)" + trust + "}");
  };
  expect_refused(config(R"({"Arn":")" + std::string(kArn) + R"("})"), "Roles[0].AssumeRolePolicyDocument: missing");
  expect_refused(with_trust(R"({"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]})"),
                 "Roles[0].AssumeRolePolicyDocument: Statement[0].Principal: missing");
  expect_refused(with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"sts:AssumeRole"}})"),
                 "Roles[0].AssumeRolePolicyDocument: Statement.Principal.Federated: principal type is not supported");
  expect_refused(with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}})"),
                 "Roles[0].AssumeRolePolicyDocument: Statement.Principal.AWS: must be");
  expect_refused(with_trust(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}})"),
                 "Roles[0].AssumeRolePolicyDocument: Statement.Action: must be \"*\" or an sts: action");
  expect_refused(with_trust(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}})"),
                 "Statement.Resource: is not supported in a trust policy");
  expect_refused(with_trust(R"({"Statement":{"Effect":"Maybe","Principal":"*","Action":"sts:AssumeRole"}})"),
                 "Statement.Effect: must be \"Allow\" or \"Deny\"");
  expect_refused(with_trust(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole",
                                "Condition":{"StringEqualz":{"aws:PrincipalTag/x":"y"}}}})"),
                 "Roles[0].AssumeRolePolicyDocument: Statement.Condition.StringEqualz: unknown condition operator");
  expect_refused(with_trust(R"({"Statement":[],"X":1})"), "Roles[0].AssumeRolePolicyDocument: X: unknown top-level element");
  expect_refused(with_trust(R"("x")"), "Roles[0].AssumeRolePolicyDocument: (document): must be a JSON object");
}

TEST(IamConfig, LoadFromFile) {
  std::string path = ::testing::TempDir() + "sluice_iam_config_test.json";
  {
    std::ofstream out(path);
    out << config(role(""));
  }
  IamConfig c = load_iam_config(path);
  EXPECT_NE(c.find(kArn), nullptr);
  {
    std::ofstream out(path);
    out << "{\"Roles\": 1}";
  }
  try {
    load_iam_config(path);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("invalid IAM config " + path + ": Roles: must be a list"), std::string::npos)
        << e.what();
  }
  std::remove(path.c_str());
  try {
    load_iam_config(path);
    ADD_FAILURE() << "accepted a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

Role role_with_trust(const std::string& trust) {
  Role r;
  r.arn = kArn;
  r.trust = parse_trust_policy(trust);
  return r;
}

TEST(TrustAllows, ExactPrincipalAndTagSession) {
  Role r = role_with_trust(kTrust);
  EXPECT_TRUE(trust_allows(r, "arn:aws:iam::123456789012:role/JobCreator", false));
  EXPECT_TRUE(trust_allows(r, "arn:aws:iam::123456789012:role/JobCreator", true));
  EXPECT_TRUE(trust_allows(r, "sagemaker.amazonaws.com", true));
  EXPECT_FALSE(trust_allows(r, "arn:aws:iam::123456789012:role/Other", false));
  EXPECT_FALSE(trust_allows(r, "arn:aws:iam::999999999999:role/JobCreator", false));
  EXPECT_FALSE(trust_allows(r, "", false));
}

TEST(TrustAllows, AssumeRoleWithoutTagSessionRefusesTags) {
  Role r = role_with_trust(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
    "Principal":{"AWS":"arn:aws:iam::123456789012:role/JobCreator"},"Action":"sts:AssumeRole"}})");
  EXPECT_TRUE(trust_allows(r, "arn:aws:iam::123456789012:role/JobCreator", false));
  EXPECT_FALSE(trust_allows(r, "arn:aws:iam::123456789012:role/JobCreator", true));
  // TagSession alone does not allow AssumeRole.
  Role t = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}})");
  EXPECT_FALSE(trust_allows(t, "arn:aws:iam::123456789012:role/JobCreator", false));
  EXPECT_FALSE(trust_allows(t, "arn:aws:iam::123456789012:role/JobCreator", true));
}

TEST(TrustAllows, AccountRootAndWildcards) {
  Role root = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},
    "Action":["sts:AssumeRole","sts:TagSession"]}})");
  EXPECT_TRUE(trust_allows(root, "arn:aws:iam::123456789012:role/Anything", true));
  EXPECT_TRUE(trust_allows(root, "arn:aws:sts::123456789012:assumed-role/Creator/session", true));
  EXPECT_TRUE(trust_allows(root, "arn:aws:iam::123456789012:user/alice", false));
  EXPECT_FALSE(trust_allows(root, "arn:aws:iam::210987654321:role/Anything", false));
  EXPECT_FALSE(trust_allows(root, "sagemaker.amazonaws.com", false));

  Role bare = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012"]},"Action":"sts:*"}})");
  EXPECT_EQ(bare.trust.statements[0].aws.at(0), "arn:aws:iam::123456789012:root");
  EXPECT_TRUE(trust_allows(bare, "arn:aws:iam::123456789012:role/x", true));

  Role any = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}})");
  EXPECT_TRUE(trust_allows(any, "arn:aws:iam::555555555555:role/x", true));
  Role any_aws = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:assumerole"}})");
  EXPECT_TRUE(trust_allows(any_aws, "arn:aws:iam::555555555555:role/x", false));  // actions: case-insensitive
  EXPECT_FALSE(trust_allows(any_aws, "arn:aws:iam::555555555555:role/x", true));
}

TEST(TrustAllows, DenyWinsAndConditionalAllowFailsClosed) {
  Role deny = role_with_trust(R"({"Statement":[
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession"]},
    {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:role/Blocked"},"Action":"sts:TagSession"}]})");
  EXPECT_TRUE(trust_allows(deny, "arn:aws:iam::123456789012:role/Ok", true));
  EXPECT_TRUE(trust_allows(deny, "arn:aws:iam::123456789012:role/Blocked", false));
  EXPECT_FALSE(trust_allows(deny, "arn:aws:iam::123456789012:role/Blocked", true));

  Role cond = role_with_trust(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
    "Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalTag/team":"ml"}}}})");
  ASSERT_EQ(cond.trust.statements[0].conditions.size(), 1u);
  EXPECT_EQ(cond.trust.statements[0].conditions[0].key, "aws:PrincipalTag/team");
  EXPECT_FALSE(trust_allows(cond, "arn:aws:iam::123456789012:role/x", false));
}

}  // namespace
}  // namespace sluice::policy
