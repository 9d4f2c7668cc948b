// serve/sts_service: AssumeRole (parameters, trust policy and AWS's same-account rule, role
// chaining with transitive tags, the credentials issued and stored) and GetCallerIdentity, called
// directly and over a real ApiServer socket with requests signed by the project's own signer.
#include "serve/sts_service.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <string>

#include "auth/sigv4.hpp"
#include "support/sign_post.hpp"
#include "support/state_db_fixture.hpp"

namespace sluice::serve {
namespace {

constexpr char kAlice[] = "arn:aws:iam::123456789012:user/alice";
constexpr char kCreator[] = "arn:aws:iam::123456789012:role/JobCreator";
constexpr char kExec[] = "arn:aws:iam::123456789012:role/Exec";

std::string trust(const std::string& principal, const std::string& actions) {
  return R"({"Statement":{"Effect":"Allow","Principal":)" + principal + R"(,"Action":)" + actions + "}}";
}
std::string role(const std::string& name, const std::string& trust_doc, const std::string& extra = "") {
  return R"({"Arn":"arn:aws:iam::123456789012:role/)" + name + R"(","AssumeRolePolicyDocument":)" + trust_doc + extra + "}";
}
std::string allow(const std::string& actions, const std::string& resource, const std::string& effect = "Allow") {
  return R"({"Effect":")" + effect + R"(","Action":)" + actions + R"(,"Resource":")" + resource + R"("})";
}

const std::string kBoth = R"(["sts:AssumeRole","sts:TagSession"])";

const std::string kConfig =
    R"({"Roles":[)" +
    role("JobCreator", trust(R"({"AWS":"arn:aws:iam::123456789012:user/alice"})", kBoth), R"(,"MaxSessionDuration":7200)") +
    "," + role("Exec", trust(R"({"AWS":"arn:aws:iam::123456789012:role/JobCreator"})", kBoth),
               R"(,"Tags":[{"Key":"tenant-id","Value":"role-default"},{"Key":"team","Value":"ml"}])") +
    "," + role("ExecNoTag", trust(R"({"AWS":"arn:aws:iam::123456789012:role/JobCreator"})", R"("sts:AssumeRole")")) +
    "," + role("AccountWide", trust(R"({"AWS":"123456789012"})", kBoth)) +
    "," + role("Open", trust(R"("*")", kBoth)) +
    "," + role("Denied", trust(R"({"AWS":"arn:aws:iam::123456789012:user/alice"})", kBoth)) +
    "," + role("WithSource", trust(R"({"AWS":"arn:aws:iam::123456789012:user/alice"})",
                                   R"(["sts:AssumeRole","sts:SetSourceIdentity"])")) +
    R"(],"Users":[
    {"Arn":"arn:aws:iam::123456789012:user/alice",
     "AccessKeys":[{"AccessKeyId":"AKIAALICE0000000001","SecretAccessKey":"alice-secret-do-not-leak"}],
     "Policies":[{"Version":"2012-10-17","Statement":[)" +
    allow(kBoth, "arn:aws:iam::123456789012:role/AccountWide") + "," +
    allow(R"("sts:AssumeRole")", "arn:aws:iam::123456789012:role/Denied", "Deny") + R"(]}]},
    {"Arn":"arn:aws:iam::123456789012:user/bob",
     "AccessKeys":[{"AccessKeyId":"AKIABOB00000000001","SecretAccessKey":"bob-secret"}]},
    {"Arn":"arn:aws:iam::999999999999:user/eve",
     "AccessKeys":[{"AccessKeyId":"AKIAEVE00000000001","SecretAccessKey":"eve-secret"}],
     "Policies":[{"Version":"2012-10-17","Statement":[)" +
    allow(kBoth, "*") + R"(]}]}]})";

const Caller kAliceCaller{"AKIAALICE0000000001", kAlice, false};
const Caller kBobCaller{"AKIABOB00000000001", "arn:aws:iam::123456789012:user/bob", false};
const Caller kEveCaller{"AKIAEVE00000000001", "arn:aws:iam::999999999999:user/eve", false};

// The text of the first <name> element of `xml`.
std::string element(const std::string& xml, const std::string& name) {
  const size_t open = xml.find("<" + name + ">");
  if (open == std::string::npos) return "";
  const size_t start = open + name.size() + 2;
  return xml.substr(start, xml.find("</" + name + ">", start) - start);
}

// AWS's AssumeRole refusal: AccessDenied, 403, "User: CALLER is not authorized to perform: ACTION
// on resource: ROLE".
void expect_not_authorized(const ApiError& e, const std::string& caller, const std::string& action, const std::string& role) {
  EXPECT_EQ(e.code, "AccessDenied");
  EXPECT_EQ(e.status, 403);
  EXPECT_EQ(e.message, "User: " + caller + " is not authorized to perform: " + action + " on resource: " + role);
}

class StsTest : public sluice::testing::OnStateDb<Sessions> {
 protected:
  std::shared_ptr<const policy::IamConfig> iam =
      std::make_shared<policy::IamConfig>(policy::parse_iam_config(kConfig, "iam.json"));
  double now = 1'700'000'000;
  Identities ids{iam, store, [this] { return now; }};
  StsOptions options{.region = "us-east-1", .clock = [this] {
                       return std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<long long>(now)));
                     },
                     .random = {}};
  std::map<std::string, Operation> ops = sts_operations(ids, store, options);

  std::string assume(const Caller& caller, nlohmann::json input) {
    return ops.at("sts.AssumeRole")(ApiCall{Protocol::kQuery, "sts", "AssumeRole", std::move(input)}, caller).result_xml;
  }
  ApiError refusal(const Caller& caller, nlohmann::json input) {
    try {
      assume(caller, std::move(input));
      ADD_FAILURE() << "AssumeRole succeeded";
    } catch (const ApiFailure& f) {
      return f.error;
    }
    return {};
  }
  // AssumeRole's new session as a Caller.
  Caller session_of(const std::string& xml) { return Caller{element(xml, "AccessKeyId"), "", true}; }
};

TEST_F(StsTest, AUserAssumesARoleWithTags) {
  const std::string xml = assume(kAliceCaller, {{"RoleArn", kCreator},
                                                {"RoleSessionName", "alice-1"},
                                                {"Tags.member.1.Key", "tenant-id"},
                                                {"Tags.member.1.Value", "a"},
                                                {"Tags.member.2.Key", "project"},
                                                {"Tags.member.2.Value", ""},
                                                {"TransitiveTagKeys.member.1", "TENANT-ID"}});
  const std::string key = element(xml, "AccessKeyId");
  EXPECT_TRUE(std::regex_match(key, std::regex("ASIA[A-Z0-9]{16}"))) << key;
  EXPECT_TRUE(std::regex_match(element(xml, "SecretAccessKey"), std::regex("[A-Za-z0-9+/]{40}")));
  EXPECT_GE(element(xml, "SessionToken").size(), 100u);
  EXPECT_EQ(element(xml, "Expiration"), "2023-11-14T23:13:20Z");  // now + 3600
  EXPECT_EQ(element(xml, "AssumedRoleId"), unique_id("AROA", kCreator) + ":alice-1");
  EXPECT_EQ(element(xml, "Arn"), "arn:aws:sts::123456789012:assumed-role/JobCreator/alice-1");
  EXPECT_EQ(element(xml, "PackedPolicySize"), "1");

  auto stored = store.find(key);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->secret_access_key, element(xml, "SecretAccessKey"));
  EXPECT_EQ(stored->session_token, element(xml, "SessionToken"));
  EXPECT_EQ(stored->role_arn, kCreator);
  EXPECT_EQ(stored->tags, (std::vector<policy::SessionTag>{{"tenant-id", "a"}, {"project", ""}}));
  EXPECT_EQ(stored->transitive_tag_keys, std::vector<std::string>{"tenant-id"});  // the tag's own case
  EXPECT_EQ(stored->parent_arn, kAlice);
  EXPECT_EQ(stored->expiration, now + 3600);

  // A second session gets other credentials; without tags there is no PackedPolicySize.
  const std::string plain = assume(kAliceCaller, {{"RoleArn", kCreator}, {"RoleSessionName", "alice-2"}, {"DurationSeconds", "7200"}});
  EXPECT_NE(element(plain, "AccessKeyId"), key);
  EXPECT_EQ(plain.find("PackedPolicySize"), std::string::npos);
  EXPECT_EQ(element(plain, "Expiration"), "2023-11-15T00:13:20Z");
}

TEST_F(StsTest, RoleChainingPassesTransitiveTagsOn) {
  const Caller creator = session_of(assume(kAliceCaller, {{"RoleArn", kCreator},
                                                          {"RoleSessionName", "alice"},
                                                          {"Tags.member.1.Key", "tenant-id"},
                                                          {"Tags.member.1.Value", "a"},
                                                          {"Tags.member.2.Key", "request"},
                                                          {"Tags.member.2.Value", "r1"},
                                                          {"TransitiveTagKeys.member.1", "tenant-id"}}));
  // Creator session -> Exec (trust names the JobCreator role): inherits tenant-id, not request.
  const std::string xml = assume(creator, {{"RoleArn", kExec}, {"RoleSessionName", "job"}, {"Tags.member.1.Key", "job"},
                                           {"Tags.member.1.Value", "j1"}});
  auto stored = store.find(element(xml, "AccessKeyId"));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->tags, (std::vector<policy::SessionTag>{{"tenant-id", "a"}, {"job", "j1"}}));
  EXPECT_EQ(stored->transitive_tag_keys, std::vector<std::string>{"tenant-id"});
  EXPECT_EQ(stored->parent_arn, "arn:aws:sts::123456789012:assumed-role/JobCreator/alice");
  CallerIdentity exec = ids.resolve(session_of(xml));
  // The session's tenant-id overrides the role's; the role's team stays.
  EXPECT_EQ(exec.principal_tags,
            (std::vector<policy::SessionTag>{{"tenant-id", "a"}, {"job", "j1"}, {"team", "ml"}}));

  // ... and on again, from the Exec session (trust through JobCreator fails: Exec is no JobCreator).
  EXPECT_EQ(refusal(session_of(xml), {{"RoleArn", kExec}, {"RoleSessionName", "again"}}).code, "AccessDenied");

  // An inherited key cannot be passed again, in any case.
  ApiError again = refusal(creator, {{"RoleArn", kExec}, {"RoleSessionName", "job"}, {"Tags.member.1.Key", "TENANT-ID"},
                                     {"Tags.member.1.Value", "b"}});
  EXPECT_EQ(again.code, "ValidationError");
  EXPECT_NE(again.message.find("Tags.member.1 (tag 'TENANT-ID')"), std::string::npos) << again.message;
  // Inherited tags need sts:TagSession even when none is passed.
  ApiError no_tag = refusal(creator, {{"RoleArn", "arn:aws:iam::123456789012:role/ExecNoTag"}, {"RoleSessionName", "job"}});
  expect_not_authorized(no_tag, "arn:aws:sts::123456789012:assumed-role/JobCreator/alice", "sts:TagSession",
                        "arn:aws:iam::123456789012:role/ExecNoTag");
  // Role chaining: at most one hour.
  ApiError chained = refusal(creator, {{"RoleArn", kExec}, {"RoleSessionName", "job"}, {"DurationSeconds", "3601"}});
  EXPECT_EQ(chained.code, "ValidationError");
  EXPECT_EQ(chained.message, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
}

TEST_F(StsTest, TrustPolicyAndTheSameAccountRule) {
  ApiError unknown = refusal(kAliceCaller, {{"RoleArn", "arn:aws:iam::123456789012:role/Nope"}, {"RoleSessionName", "s1"}});
  expect_not_authorized(unknown, kAlice, "sts:AssumeRole", "arn:aws:iam::123456789012:role/Nope");
  EXPECT_EQ(refusal(kBobCaller, {{"RoleArn", kCreator}, {"RoleSessionName", "s1"}}).code, "AccessDenied");
  // A trust policy naming the account: the caller's own policies decide.
  const std::string wide = "arn:aws:iam::123456789012:role/AccountWide";
  EXPECT_NO_THROW(assume(kAliceCaller, {{"RoleArn", wide}, {"RoleSessionName", "s1"}, {"Tags.member.1.Key", "k"},
                                        {"Tags.member.1.Value", "v"}}));
  EXPECT_EQ(refusal(kBobCaller, {{"RoleArn", wide}, {"RoleSessionName", "s1"}}).code, "AccessDenied");
  // "*": the same; another account always needs its own policies too.
  const std::string open = "arn:aws:iam::123456789012:role/Open";
  EXPECT_EQ(refusal(kBobCaller, {{"RoleArn", open}, {"RoleSessionName", "s1"}}).code, "AccessDenied");
  EXPECT_NO_THROW(assume(kEveCaller, {{"RoleArn", open}, {"RoleSessionName", "s1"}}));
  // An explicit Deny in the caller's policies wins over a trust policy that names it.
  EXPECT_EQ(refusal(kAliceCaller, {{"RoleArn", "arn:aws:iam::123456789012:role/Denied"}, {"RoleSessionName", "s1"}}).code,
            "AccessDenied");
  // Tags without sts:TagSession in the trust policy; SourceIdentity needs sts:SetSourceIdentity.
  const std::string source = "arn:aws:iam::123456789012:role/WithSource";
  ApiError tags = refusal(kAliceCaller, {{"RoleArn", source}, {"RoleSessionName", "s1"}, {"Tags.member.1.Key", "k"},
                                         {"Tags.member.1.Value", "v"}});
  EXPECT_NE(tags.message.find("sts:TagSession"), std::string::npos) << tags.message;
  ApiError src = refusal(kAliceCaller, {{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"SourceIdentity", "alice"}});
  EXPECT_NE(src.message.find("sts:SetSourceIdentity"), std::string::npos) << src.message;
  const std::string xml = assume(kAliceCaller, {{"RoleArn", source}, {"RoleSessionName", "s1"}, {"SourceIdentity", "alice"}});
  EXPECT_EQ(element(xml, "SourceIdentity"), "alice");
  EXPECT_EQ(store.find(element(xml, "AccessKeyId"))->source_identity, "alice");
}

TEST_F(StsTest, ParametersAreValidated) {
  struct Case {
    nlohmann::json input;
    std::string part;
  };
  const std::vector<Case> cases = {
      {{{"RoleSessionName", "s1"}}, "Value 'null' at 'roleArn' failed to satisfy constraint: Member must not be null"},
      {{{"RoleArn", "arn:aws:iam::1:r"}, {"RoleSessionName", "s1"}}, "at 'roleArn' failed to satisfy constraint"},
      {{{"RoleArn", kCreator}}, "at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "a"}}, "Member must have length between 2 and 64"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "a b"}}, "Member must satisfy regular expression pattern: [\\w+=,.@-]*"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", std::string(65, 'a')}}, "Member must have length between 2 and 64"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"DurationSeconds", "899"}},
       "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"DurationSeconds", "1h"}}, "Member must be an integer"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"DurationSeconds", "7201"}},
       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Tags.member.1.Key", "aws:x"}, {"Tags.member.1.Value", "v"}},
       "Tags.member.1 (tag 'aws:x')"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Tags.member.1.Key", "k"}}, "Tags.member.1.Value is missing"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Tags.member.2.Key", "k"}, {"Tags.member.2.Value", "v"}},
       "Tags.member.1 is missing"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Tags.member.1.Key", "k"}, {"Tags.member.1.Value", "v"},
        {"Tags.member.2.Key", "K"}, {"Tags.member.2.Value", "v"}},
       "Tags.member.2 (tag 'K')"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Tags.member.1.Key", "k"}, {"Tags.member.1.Value", "v"},
        {"TransitiveTagKeys.member.1", "other"}},
       "TransitiveTagKeys.member.1 ('other') is not the key of a tag passed in Tags"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"SourceIdentity", "aws:me"}}, "must not start with 'aws:'"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Policy", "{}"}, {"PolicyArns.member.1.arn", "arn:x"}},
       "AssumeRole parameters this server does not support: Policy, PolicyArns"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"ExternalId", "xyz"}}, "does not support: ExternalId"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"SerialNumber", "x"}, {"TokenCode", "123456"}},
       "does not support: SerialNumber, TokenCode"},
      {{{"RoleArn", kCreator}, {"RoleSessionName", "s1"}, {"Tags.member.1.Foo", "x"}}, "AssumeRole has no parameter Tags.member.1.Foo"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input.dump());
    ApiError e = refusal(kAliceCaller, c.input);
    EXPECT_EQ(e.code, "ValidationError");
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(e.message.find(c.part), std::string::npos) << e.message;
  }
  nlohmann::json many = {{"RoleArn", kCreator}, {"RoleSessionName", "s1"}};
  for (int i = 1; i <= 51; ++i) {
    many["Tags.member." + std::to_string(i) + ".Key"] = "k" + std::to_string(i);
    many["Tags.member." + std::to_string(i) + ".Value"] = "v";
  }
  EXPECT_NE(refusal(kAliceCaller, many).message.find("more than 50 tags (51 given)"), std::string::npos);
  many.erase("Tags.member.51.Key");
  many.erase("Tags.member.51.Value");
  EXPECT_NO_THROW(assume(kAliceCaller, many));
  EXPECT_TRUE(store.find("AKIAALICE0000000001") == std::nullopt);
}

TEST_F(StsTest, GetCallerIdentity) {
  auto call = [&](const Caller& c) {
    return ops.at("sts.GetCallerIdentity")(ApiCall{Protocol::kQuery, "sts", "GetCallerIdentity", nlohmann::json::object()}, c)
        .result_xml;
  };
  EXPECT_EQ(call(kAliceCaller), "<UserId>" + unique_id("AIDA", kAlice) +
                                    "</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/alice</Arn>");
  const Caller s = session_of(assume(kAliceCaller, {{"RoleArn", kCreator}, {"RoleSessionName", "me"}}));
  const std::string xml = call(s);
  EXPECT_EQ(element(xml, "UserId"), unique_id("AROA", kCreator) + ":me");
  EXPECT_EQ(element(xml, "Arn"), "arn:aws:sts::123456789012:assumed-role/JobCreator/me");
  now += 3600;
  try {
    call(s);
    ADD_FAILURE() << "an expired session answered";
  } catch (const ApiFailure& f) {
    EXPECT_EQ(f.error.code, "ExpiredTokenException");
  }
}

TEST_F(StsTest, RandomnessComesFromTheGivenSource) {
  StsOptions o = options;
  o.random = [](unsigned char* buf, size_t n) {
    for (size_t i = 0; i < n; ++i) buf[i] = static_cast<unsigned char>(i);
  };
  auto fixed = sts_operations(ids, store, o);
  auto xml = fixed.at("sts.AssumeRole")(ApiCall{Protocol::kQuery, "sts", "AssumeRole", {{"RoleArn", kCreator}, {"RoleSessionName", "s1"}}},
                                        kAliceCaller)
                 .result_xml;
  EXPECT_EQ(element(xml, "AccessKeyId"), "ASIAABCDEFGHIJKLMNOP");
  // The same bytes again give the same key id: Sessions refuses it and the call fails, never
  // handing out one key twice.
  EXPECT_ANY_THROW(fixed.at("sts.AssumeRole")(
      ApiCall{Protocol::kQuery, "sts", "AssumeRole", {{"RoleArn", kCreator}, {"RoleSessionName", "s1"}}}, kAliceCaller));
}

// Over a socket: SigV4 with the user's key, then with the session's key and token.
class StsServerTest : public StsTest {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.clock = [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<long long>(now))); };
    server = std::make_unique<ApiServer>(o, ids.key_lookup(), ops);
    server->start();
  }

  httplib::Result post(const auth::Credentials& creds, const std::string& body) {
    std::vector<auth::Header> headers{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                                      {"Host", "127.0.0.1:" + std::to_string(server->port())}};
    const auto time = std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<long long>(now)));
    httplib::Headers hs;
    for (auto& h : testing::sign_post(headers, body, creds, "sts", time)) hs.emplace(h.first, h.second);
    httplib::Client client("127.0.0.1", server->port());
    return client.Post("/", hs, body, "application/x-www-form-urlencoded; charset=utf-8");
  }

  std::unique_ptr<ApiServer> server;
};

std::string form(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = "Version=2011-06-15";
  for (const auto& [k, v] : params) out += "&" + auth::uri_encode(k, true) + "=" + auth::uri_encode(v, true);
  return out;
}

TEST_F(StsServerTest, AUserToRoleToRoleChainOverHttp) {
  const auth::Credentials alice{"AKIAALICE0000000001", "alice-secret-do-not-leak", "", "test"};
  auto r = post(alice, form({{"Action", "AssumeRole"},
                             {"RoleArn", kCreator},
                             {"RoleSessionName", "alice"},
                             {"Tags.member.1.Key", "tenant-id"},
                             {"Tags.member.1.Value", "a b"},
                             {"TransitiveTagKeys.member.1", "tenant-id"}}));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"), std::string::npos);
  const auth::Credentials creator{element(r->body, "AccessKeyId"), element(r->body, "SecretAccessKey"),
                                  element(r->body, "SessionToken"), "test"};

  auto who = post(creator, form({{"Action", "GetCallerIdentity"}}));
  ASSERT_TRUE(who);
  EXPECT_EQ(who->status, 200) << who->body;
  EXPECT_EQ(element(who->body, "Arn"), "arn:aws:sts::123456789012:assumed-role/JobCreator/alice");

  auto exec = post(creator, form({{"Action", "AssumeRole"}, {"RoleArn", kExec}, {"RoleSessionName", "job-1"}}));
  ASSERT_TRUE(exec);
  ASSERT_EQ(exec->status, 200) << exec->body;
  auto stored = store.find(element(exec->body, "AccessKeyId"));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->tags, (std::vector<policy::SessionTag>{{"tenant-id", "a b"}}));

  auto denied = post(creator, form({{"Action", "AssumeRole"}, {"RoleArn", kCreator}, {"RoleSessionName", "x1"}}));
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_EQ(element(denied->body, "Code"), "AccessDenied");
  EXPECT_EQ(element(denied->body, "Type"), "Sender");

  auto bad = post(alice, form({{"Action", "AssumeRole"}, {"RoleArn", kCreator}, {"RoleSessionName", "x"}}));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(element(bad->body, "Code"), "ValidationError");

  now += 3600;  // the creator session has expired
  auto expired = post(creator, form({{"Action", "GetCallerIdentity"}}));
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->status, 400);
  EXPECT_EQ(element(expired->body, "Code"), "ExpiredToken");
  for (const auto* body : {&r->body, &who->body, &exec->body, &denied->body, &bad->body, &expired->body}) {
    if (body != &r->body && body != &exec->body) {
      EXPECT_EQ(body->find(creator.secret_access_key), std::string::npos);
    }
    EXPECT_EQ(body->find("alice-secret-do-not-leak"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::serve
