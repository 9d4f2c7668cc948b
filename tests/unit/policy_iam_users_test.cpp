// policy/iam_config: the IAM users of the configuration (ARNs, access keys, policies, tags), their
// validation errors (never holding a secret), the file-mode warning, and trust_match (which Allow
// let a caller in: by name, or through an account root or "*").
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "policy/iam_config.hpp"

namespace sluice::policy {
namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const std::string kRoles = R"("Roles":[{"Arn":"arn:aws:iam::123456789012:role/R",
  "AssumeRolePolicyDocument":{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}}])";

std::string key(const std::string& id, const std::string& secret = kSecret) {
  return R"({"AccessKeyId":")" + id + R"(","SecretAccessKey":")" + secret + R"("})";
}

std::string user(const std::string& arn, const std::string& extra) { return R"({"Arn":")" + arn + "\"" + extra + "}"; }

std::string config(const std::string& users) { return "{" + kRoles + R"(,"Users":[)" + users + "]}"; }

// Refused with kInvalidInput, the file name first, `part` in the message, and never the secret.
void expect_refused(const std::string& text, const std::string& part) {
  SCOPED_TRACE(text);
  try {
    parse_iam_config(text, "cfg.json");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    const std::string what = std::string(e.what()) + " " + e.cause();
    EXPECT_EQ(what.rfind("invalid IAM config cfg.json: ", 0), 0u) << what;
    EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_EQ(what.find("wJalrXUtnFEMI"), std::string::npos) << "the secret is in the message";
  }
}

TEST(IamConfigUsers, ParsesUsersWithKeysPoliciesAndTags) {
  IamConfig c = parse_iam_config(
      config(user("arn:aws:iam::123456789012:user/alice",
                  R"(,"AccessKeys":[)" + key("AKIAALICE0000000001") + "," + key("AKIAALICE0000000002", "other") +
                      R"(],"Policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole",
                      "Resource":"*"}}],"Tags":[{"Key":"team","Value":"ml"}])") +
             "," + user("arn:aws:iam::123456789012:user/division/bob", "")),
      "cfg.json");
  ASSERT_EQ(c.users.size(), 2u);
  const User& alice = c.users[0];
  EXPECT_EQ(alice.arn, "arn:aws:iam::123456789012:user/alice");
  EXPECT_EQ(alice.name(), "alice");
  ASSERT_EQ(alice.access_keys.size(), 2u);
  EXPECT_EQ(alice.access_keys[0].secret_access_key, kSecret);
  EXPECT_EQ(alice.policies.size(), 1u);
  ASSERT_EQ(alice.tags.size(), 1u);
  EXPECT_EQ(alice.tags[0].first, "team");
  EXPECT_EQ(c.users[1].name(), "bob");
  EXPECT_TRUE(c.users[1].access_keys.empty());

  EXPECT_EQ(c.find_user("arn:aws:iam::123456789012:user/alice"), &alice);
  EXPECT_EQ(c.find_user("arn:aws:iam::123456789012:user/Alice"), nullptr);
  EXPECT_EQ(c.find_user_by_key("AKIAALICE0000000002"), &alice);
  EXPECT_EQ(alice.find_key("AKIAALICE0000000002")->secret_access_key, "other");
  EXPECT_EQ(c.find_user_by_key("AKIAALICE000000000"), nullptr);
  EXPECT_EQ(c.find_user_by_key(""), nullptr);
}

TEST(IamConfigUsers, UsersAreOptional) {
  EXPECT_TRUE(parse_iam_config("{" + kRoles + "}", "cfg.json").users.empty());
  EXPECT_TRUE(parse_iam_config(config(""), "cfg.json").users.empty());
}

TEST(IamConfigUsers, RefusesBadUsers) {
  expect_refused("{" + kRoles + R"(,"Users":{}})", "Users: must be a list");
  expect_refused(config("3"), "Users[0]: must be an object");
  expect_refused(config(R"({"AccessKeys":[]})"), "Users[0].Arn: missing");
  expect_refused(config(user("arn:aws:iam::123456789012:role/alice", "")), "Users[0].Arn: must be arn:aws:iam::<12-digit account>:user/");
  expect_refused(config(user("arn:aws:iam::12345:user/alice", "")), "the account must be 12 digits");
  expect_refused(config(user("arn:aws:iam::123456789012:user/al ice", "")), "the user name may only hold");
  expect_refused(config(user("arn:aws:iam::123456789012:user/a", R"(,"Password":"x")")), "Users[0].Password: unknown user member");
  expect_refused(config(user("arn:aws:iam::123456789012:user/a", "") + "," + user("arn:aws:iam::123456789012:user/a", "")),
                 "Users[1].Arn: duplicate user ARN \"arn:aws:iam::123456789012:user/a\" (first at Users[0])");
  expect_refused(config(user("arn:aws:iam::123456789012:user/a", R"(,"Tags":[{"Key":"aws:x","Value":"v"}])")),
                 "Users[0].Tags[0] (tag 'aws:x' of user arn:aws:iam::123456789012:user/a)");
  expect_refused(config(user("arn:aws:iam::123456789012:user/a", R"(,"Policies":[{"Statement":[]}])")),
                 "Users[0].Policies[0]: ");
}

TEST(IamConfigUsers, RefusesBadAccessKeysWithoutShowingTheSecret) {
  auto with_keys = [](const std::string& keys) {
    return config(user("arn:aws:iam::123456789012:user/a", R"(,"AccessKeys":[)" + keys + "]"));
  };
  expect_refused(with_keys(key("AKIASHORT")), "Users[0].AccessKeys[0].AccessKeyId: must be 16-128 characters of A-Z and 0-9");
  expect_refused(with_keys(key("akialowercase00000")), "must be 16-128 characters");
  expect_refused(with_keys(key(std::string(129, 'A'))), "must be 16-128 characters");
  expect_refused(with_keys(key("ASIATEMPORARY000001")), "must not start with ASIA");
  expect_refused(with_keys(key("AKIAALICE0000000001", "")), "Users[0].AccessKeys[0].SecretAccessKey: must not be empty");
  expect_refused(with_keys(R"({"AccessKeyId":"AKIAALICE0000000001"})"), "SecretAccessKey: missing");
  expect_refused(with_keys(R"({"AccessKeyId":"AKIAALICE0000000001","SecretAccessKey":["wJalrXUtnFEMI"]})"),
                 "SecretAccessKey: must be a string");
  expect_refused(with_keys(R"({"AccessKeyId":"AKIAALICE0000000001","SecretAccessKey":"x","Status":"Active"})"),
                 "Users[0].AccessKeys[0].Status: unknown access key member");
  // A key id is unique in the whole file, across users.
  expect_refused(config(user("arn:aws:iam::123456789012:user/a", R"(,"AccessKeys":[)" + key("AKIAALICE0000000001") + "]") +
                        "," + user("arn:aws:iam::123456789012:user/b", R"(,"AccessKeys":[)" + key("AKIAALICE0000000001") + "]")),
                 "Users[1].AccessKeys[0].AccessKeyId: duplicate access key id \"AKIAALICE0000000001\" (first at "
                 "Users[0].AccessKeys[0].AccessKeyId)");
  // Malformed JSON inside a secret: the parser's "last read" text is not repeated.
  expect_refused(config(user("arn:aws:iam::123456789012:user/a", R"(,"AccessKeys":[{"AccessKeyId":"AKIAALICE0000000001",
                 "SecretAccessKey":"wJalrXUtnFEMI\q"}])")),
                 "malformed JSON at byte");
}

TEST(IamConfigUsers, ModeWarning) {
  IamConfig none = parse_iam_config(config(user("arn:aws:iam::123456789012:user/a", "")), "cfg.json");
  EXPECT_EQ(secrets_mode_warning(none, "/etc/iam.json", 0100644), "");  // no keys: nothing secret
  IamConfig keys = parse_iam_config(
      config(user("arn:aws:iam::123456789012:user/a", R"(,"AccessKeys":[)" + key("AKIAALICE0000000001") + "]")), "cfg.json");
  EXPECT_EQ(secrets_mode_warning(keys, "/etc/iam.json", 0100600), "");
  EXPECT_EQ(secrets_mode_warning(keys, "/etc/iam.json", 0100400), "");
  const std::string w = secrets_mode_warning(keys, "/etc/iam.json", 0100640);
  EXPECT_NE(w.find("/etc/iam.json"), std::string::npos) << w;
  EXPECT_NE(w.find("0640"), std::string::npos) << w;
  EXPECT_NE(w.find("chmod 600"), std::string::npos) << w;
  EXPECT_NE(secrets_mode_warning(keys, "x", 0100602), "");

  // load_iam_config reads the file whatever its mode (the warning is logged, not thrown).
  std::string path = ::testing::TempDir() + "iam_users_mode_test.json";
  std::ofstream(path) << config(user("arn:aws:iam::123456789012:user/a", R"(,"AccessKeys":[)" + key("AKIAALICE0000000001") + "]"));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(load_iam_config(path).users.size(), 1u);
  std::remove(path.c_str());
}

Role role_with_trust(const std::string& trust) {
  Role r;
  r.arn = "arn:aws:iam::123456789012:role/Target";
  r.trust = parse_trust_policy(trust);
  return r;
}

TEST(TrustMatch, NamedAccountAndDenied) {
  const std::vector<std::string> session{"arn:aws:sts::123456789012:assumed-role/Creator/s1",
                                         "arn:aws:iam::123456789012:role/Creator"};
  Role named = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Creator"},
    "Action":"sts:AssumeRole"}})");
  EXPECT_EQ(trust_match(named, session, "sts:AssumeRole"), TrustMatch::kNamed);
  EXPECT_EQ(trust_match(named, session, "sts:TagSession"), TrustMatch::kDenied);
  EXPECT_EQ(trust_match(named, {"arn:aws:iam::123456789012:user/alice"}, "sts:AssumeRole"), TrustMatch::kDenied);
  EXPECT_EQ(trust_match(named, {}, "sts:AssumeRole"), TrustMatch::kDenied);

  Role by_session = role_with_trust(R"({"Statement":{"Effect":"Allow",
    "Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/Creator/s1"},"Action":"sts:AssumeRole"}})");
  EXPECT_EQ(trust_match(by_session, session, "sts:AssumeRole"), TrustMatch::kNamed);

  Role root = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:*"}})");
  EXPECT_EQ(trust_match(root, session, "sts:AssumeRole"), TrustMatch::kAccount);
  EXPECT_EQ(trust_match(root, {"arn:aws:iam::999999999999:user/x"}, "sts:AssumeRole"), TrustMatch::kDenied);
  Role any = role_with_trust(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}})");
  EXPECT_EQ(trust_match(any, session, "sts:AssumeRole"), TrustMatch::kAccount);

  // Named wins over account when both allow; a Deny naming either ARN of the caller refuses.
  Role both = role_with_trust(R"({"Statement":[
    {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Creator"},"Action":"sts:AssumeRole"}]})");
  EXPECT_EQ(trust_match(both, session, "sts:AssumeRole"), TrustMatch::kNamed);
  Role deny = role_with_trust(R"({"Statement":[
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Creator"},"Action":"sts:AssumeRole"},
    {"Effect":"Deny","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/Creator/s1"},"Action":"sts:AssumeRole"}]})");
  EXPECT_EQ(trust_match(deny, session, "sts:AssumeRole"), TrustMatch::kDenied);
  EXPECT_EQ(trust_match(deny, {"arn:aws:sts::123456789012:assumed-role/Creator/s2", "arn:aws:iam::123456789012:role/Creator"},
                        "sts:AssumeRole"),
            TrustMatch::kNamed);
}

}  // namespace
}  // namespace sluice::policy
