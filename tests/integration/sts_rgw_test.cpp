// auth::assume_role against the real store (Ceph RGW 16 with `rgw s3 auth use sts = true`, started by
// ctest's local_s3 fixture). A platform admin's setup is done once per run through the IAM API on the
// same endpoint: a role (unique name) whose trust policy allows the store's test user and whose role
// policy allows s3:* on *. The tests assume it with session policies and use the temporary
// credentials through store::open_store: a session scoped to tenant-a/ reads and lists there and is
// refused tenant-b/, the whole bucket and PUT. They also pin down what RGW 16 accepts in a session
// policy and as DurationSeconds (the facts Sluice's session-policy generator relies on), how it
// evaluates the conditions that generator rewrites, and that the generator's own output makes the
// store decide as Sluice's evaluator does. Roles and the bucket are deleted at the end, also when a
// test fails.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <chrono>
#include <memory>
#include <random>

#include "auth/sigv4.hpp"
#include "auth/sts.hpp"
#include "core/hash.hpp"
#include "http/client.hpp"
#include "policy/document.hpp"
#include "policy/evaluate.hpp"
#include "policy/session_policy.hpp"
#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// The store's S3 user (scripts/local-s3, S3_UID): the principal the roles trust.
std::string store_uid() {
  const char* v = std::getenv("SLUICE_LOCAL_S3_UID");
  return v && *v ? v : "sluice";
}

auth::Credentials admin_credentials() {
  const EnvMap& env = store_env();
  return auth::Credentials{env.at("AWS_ACCESS_KEY_ID"), env.at("AWS_SECRET_ACCESS_KEY"), "", "the store's env file"};
}

std::string store_region() {
  const EnvMap& env = store_env();
  auto it = env.find("AWS_REGION");
  return it == env.end() ? "us-east-1" : it->second;
}

// ---- a minimal IAM client for the admin's one-time setup (CreateRole, PutRolePolicy, ...) -------------
class Iam {
 public:
  // The answer body of a 200, else throws std::runtime_error with the status and the error body
  // (RGW's error bodies hold no secret).
  std::string call(std::vector<std::pair<std::string, std::string>> fields) {
    fields.insert(fields.begin() + 1, {"Version", "2010-05-08"});
    const std::string endpoint = store_env().at("AWS_ENDPOINT_URL");
    const std::string host = endpoint.substr(endpoint.find("://") + 3);
    auto body = std::make_shared<const std::string>(auth::form_encode(fields));
    const std::string hash = sha256_hex(*body);
    const std::string type = "application/x-www-form-urlencoded; charset=utf-8";
    auth::Request sreq;
    sreq.method = "POST";
    sreq.wire_path = "/";
    sreq.headers = {{"Host", host}, {"Content-Type", type}, {"x-amz-content-sha256", hash}};
    sreq.payload_sha256_hex = hash;
    auth::SigningParams p;
    p.credentials = admin_credentials();
    p.region = store_region();
    p.service = "iam";
    p.time = std::chrono::system_clock::now();
    p.path_rule = auth::PathRule::kGeneric;
    http::Request r;
    r.method = "POST";
    r.url = endpoint + "/";
    r.headers = {{"Content-Type", type}, {"x-amz-content-sha256", hash}};
    for (auto& h : auth::sign_headers(sreq, p)) r.headers.push_back(std::move(h));
    r.body.bytes = body;
    r.timeout = 30s;
    http::Outcome o = client_.perform(std::move(r));
    if (o.curl_code != 0 || o.response.status != 200) {
      throw std::runtime_error("IAM " + fields[0].second + ": " +
                               (o.curl_code != 0 ? o.curl_message
                                                 : "HTTP " + std::to_string(o.response.status) + " " + o.response.body));
    }
    return o.response.body;
  }

  // Returns the role's ARN as RGW reports it.
  std::string create_role(const std::string& name, const std::string& trust, const std::string& path = "/",
                          int max_session_duration = 0) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"Action", "CreateRole"}, {"RoleName", name}, {"AssumeRolePolicyDocument", trust}, {"Path", path}};
    if (max_session_duration > 0) f.emplace_back("MaxSessionDuration", std::to_string(max_session_duration));
    std::string body = call(f);
    pugi::xml_document doc;
    doc.load_string(body.c_str());
    auto arn = doc.find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "Arn"; });
    if (!arn) throw std::runtime_error("CreateRole answered without an Arn: " + body);
    return arn.text().as_string();
  }
  void put_role_policy(const std::string& role, const std::string& name, const std::string& doc) {
    call({{"Action", "PutRolePolicy"}, {"RoleName", role}, {"PolicyName", name}, {"PolicyDocument", doc}});
  }
  void delete_role_policy(const std::string& role, const std::string& name) {
    call({{"Action", "DeleteRolePolicy"}, {"RoleName", role}, {"PolicyName", name}});
  }
  void delete_role(const std::string& role) { call({{"Action", "DeleteRole"}, {"RoleName", role}}); }

 private:
  http::Client client_;
};

const char* kAllowAll = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]})";

std::string trust_for(const std::string& uid) {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/)" + uid +
         R"("]},"Action":["sts:AssumeRole"]}]})";
}

std::string unique_role_name(const std::string& tag) {
  std::random_device rd;
  char buf[80];
  std::snprintf(buf, sizeof buf, "sluice-it-%s-%d-%08x", tag.c_str(), static_cast<int>(::getpid()),
                static_cast<unsigned>(rd()));
  return buf;
}

// A role that exists for as long as this object: created with a trust policy and (optionally) the
// allow-all role policy, deleted again (policy first) when destroyed. Cleanup problems are printed.
class TestRole {
 public:
  TestRole(Iam& iam, const std::string& tag, const std::string& trust, bool allow_all = true,
           const std::string& path = "/", int max_session_duration = 0)
      : iam_(iam), name_(unique_role_name(tag)) {
    arn_ = iam_.create_role(name_, trust, path, max_session_duration);
    if (allow_all) {
      iam_.put_role_policy(name_, "allow-all", kAllowAll);
      has_policy_ = true;
    }
  }
  TestRole(const TestRole&) = delete;
  TestRole& operator=(const TestRole&) = delete;
  ~TestRole() {
    try {
      if (has_policy_) iam_.delete_role_policy(name_, "allow-all");
      iam_.delete_role(name_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cleanup: could not delete role %s: %s\n", name_.c_str(), e.what());
    }
  }
  const std::string& name() const { return name_; }
  const std::string& arn() const { return arn_; }

 private:
  Iam& iam_;
  std::string name_, arn_;
  bool has_policy_ = false;
};

// ---- the shared setup: one bucket with tenant-a/x and tenant-b/x, one role -----------------------------
class StsRgw : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    iam_ = new Iam();
    bucket_ = new TestBucket("sts");
    put_many(bucket_->store(), {{"tenant-a/x", "data of tenant a"}, {"tenant-b/x", "data of tenant b"}});
    role_ = new TestRole(*iam_, "jobs", trust_for(store_uid()));
  }
  static void TearDownTestSuite() {
    delete role_;
    delete bucket_;
    delete iam_;
    role_ = nullptr;
    bucket_ = nullptr;
    iam_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(role_, nullptr);
    ASSERT_NE(bucket_, nullptr);
  }

  static auth::AssumeRoleRequest request(const std::string& policy = "", int duration = 900) {
    auth::AssumeRoleRequest r;
    r.endpoint = store_env().at("AWS_ENDPOINT_URL");
    r.region = store_region();
    r.caller = admin_credentials();
    r.role_arn = role_->arn();
    r.session_name = "sluice-it-session";
    r.policy = policy;
    r.duration_seconds = duration;
    return r;
  }

  static std::string bucket_arn() { return "arn:aws:s3:::" + bucket_->name(); }

  // The session policy Sluice generates for one tenant: read and list under PREFIX only.
  static std::string tenant_policy(const std::string& prefix) {
    return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":[")" +
           bucket_arn() + "/" + prefix + R"(*"]},{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":[")" +
           bucket_arn() + R"("],"Condition":{"StringLike":{"s3:prefix":[")" + prefix + R"(*"]}}}]})";
  }

  // The bucket through the temporary credentials, opened the way the CLI opens a store.
  static std::unique_ptr<store::ObjectStore> open_as(const auth::Credentials& c) {
    EnvMap env = {{"AWS_ACCESS_KEY_ID", c.access_key_id},
                  {"AWS_SECRET_ACCESS_KEY", c.secret_access_key},
                  {"AWS_SESSION_TOKEN", c.session_token},
                  {"AWS_ENDPOINT_URL", store_env().at("AWS_ENDPOINT_URL")},
                  {"AWS_REGION", store_region()}};
    return open_s3(bucket_->name(), env, 4);
  }

  static Iam* iam_;
  static TestBucket* bucket_;
  static TestRole* role_;
};
Iam* StsRgw::iam_ = nullptr;
TestBucket* StsRgw::bucket_ = nullptr;
TestRole* StsRgw::role_ = nullptr;


std::string all_text(const Error& e) { return std::string(e.what()) + " | " + e.cause(); }

// Prints the message a user would see (it holds no secret: the tests check that).
void show(const Error& e) { std::printf("  -> %s: %s\n", std::string(to_string(e.kind())).c_str(), all_text(e).c_str()); }

// "ok" when fn succeeds, else the kind of the sluice::Error it throws.
template <class F>
std::string outcome(F&& fn) {
  auto e = error_of(fn);
  return e ? std::string(to_string(e->kind())) : "ok";
}

// What a session may do: "get a, get b, list a, list b, list all, put a" outcomes.
std::string abilities(store::ObjectStore& s) {
  std::vector<std::string> out = {
      outcome([&] { store::get_string(s, {"tenant-a/x", {}, {}}); }),
      outcome([&] { store::get_string(s, {"tenant-b/x", {}, {}}); }),
      outcome([&] { store::list_all(s, "tenant-a/"); }),
      outcome([&] { store::list_all(s, "tenant-b/"); }),
      outcome([&] { store::list_all(s, ""); }),
      outcome([&] { s.put("tenant-a/new", store::Body::from_string("x")); }),
  };
  std::string joined;
  for (const auto& o : out) joined += (joined.empty() ? "" : " ") + o;
  return joined;
}

// ---- the tests ----------------------------------------------------------------------------------------

TEST_F(StsRgw, RoleArnHasNoAccount) {
  EXPECT_EQ(role_->arn(), "arn:aws:iam:::role/" + role_->name());
}

TEST_F(StsRgw, SessionPolicyScopesTheSessionToOneTenant) {
  const std::string secret_of_caller = admin_credentials().secret_access_key;
  auto before = std::chrono::system_clock::now();
  auth::AssumedRole got = auth::assume_role(request(tenant_policy("tenant-a/"), 900));
  const auth::Credentials& c = got.credentials;
  EXPECT_FALSE(c.access_key_id.empty());
  EXPECT_FALSE(c.secret_access_key.empty());
  EXPECT_FALSE(c.session_token.empty());
  EXPECT_NE(c.access_key_id, admin_credentials().access_key_id);
  EXPECT_EQ(c.source, "sts:AssumeRole " + role_->arn());
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(got.expiration - before).count();
  EXPECT_GE(lifetime, 900 - 5);
  EXPECT_LE(lifetime, 900 + 5);

  auto s = open_as(c);
  EXPECT_EQ(store::get_string(*s, {"tenant-a/x", {}, {}}), "data of tenant a");
  auto listed = store::list_all(*s, "tenant-a/");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "tenant-a/x");

  struct Refused {
    const char* what;
    std::function<void()> fn;
  };
  std::vector<Refused> refused = {
      {"get tenant-b/x", [&] { store::get_string(*s, {"tenant-b/x", {}, {}}); }},
      {"list tenant-b/", [&] { store::list_all(*s, "tenant-b/"); }},
      {"list the bucket", [&] { store::list_all(*s, ""); }},
      {"put tenant-a/new", [&] { s->put("tenant-a/new", store::Body::from_string("x")); }},
      {"head tenant-b/x", [&] { s->head("tenant-b/x"); }},
  };
  for (const auto& r : refused) {
    auto e = error_of(r.fn);
    ASSERT_TRUE(e.has_value()) << r.what << " was allowed";
    EXPECT_EQ(e->kind(), ErrorKind::kAccessDenied) << r.what << ": " << all_text(*e);
    for (const std::string& secret : {c.secret_access_key, c.session_token, secret_of_caller}) {
      EXPECT_EQ(all_text(*e).find(secret), std::string::npos) << r.what << ": secret in the message";
    }
  }
  // Nothing was written.
  EXPECT_EQ(store::list_all(bucket_->store(), "tenant-a/").size(), 1u);
}

TEST_F(StsRgw, WithoutSessionPolicyTheRolePolicyApplies) {
  // The control for the test above: the same role without a session policy reads tenant-b.
  auto s = open_as(auth::assume_role(request()).credentials);
  EXPECT_EQ(abilities(*s), "ok ok ok ok ok ok");
  s->remove("tenant-a/new");
}

TEST_F(StsRgw, MalformedPolicyIsInvalidInput) {
  for (const std::string& policy : {std::string("{not json"),
                                   // policy variables are refused (docs/local-s3.md)
                                   R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":[")" +
                                       bucket_arn() + R"(/${aws:PrincipalTag/tenant}/*"]}]})"}) {
    auto e = error_of([&] { auth::assume_role(request(policy)); });
    ASSERT_TRUE(e.has_value()) << policy;
    show(*e);
    EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput) << all_text(*e);
    EXPECT_NE(all_text(*e).find("MalformedPolicyDocument"), std::string::npos) << all_text(*e);
    EXPECT_NE(all_text(*e).find(role_->arn()), std::string::npos) << all_text(*e);
  }
}

TEST_F(StsRgw, MissingRoleIsNotFound) {
  auto req = request();
  req.role_arn = "arn:aws:iam:::role/" + unique_role_name("missing");
  auto e = error_of([&] { auth::assume_role(req); });
  ASSERT_TRUE(e.has_value());
  show(*e);
  EXPECT_EQ(e->kind(), ErrorKind::kNotFound) << all_text(*e);
  EXPECT_NE(all_text(*e).find(req.role_arn), std::string::npos) << all_text(*e);
  EXPECT_NE(all_text(*e).find("NoSuchEntity"), std::string::npos) << all_text(*e);
}

TEST_F(StsRgw, UntrustedCallerIsAccessDenied) {
  TestRole other(*iam_, "untrusted", trust_for("someone-else"));
  auto req = request();
  req.role_arn = other.arn();
  auto e = error_of([&] { auth::assume_role(req); });
  ASSERT_TRUE(e.has_value());
  show(*e);
  EXPECT_EQ(e->kind(), ErrorKind::kAccessDenied) << all_text(*e);
  EXPECT_NE(all_text(*e).find(other.arn()), std::string::npos) << all_text(*e);
  EXPECT_EQ(all_text(*e).find(admin_credentials().secret_access_key), std::string::npos);
}

TEST_F(StsRgw, WrongCallerSecretIsAccessDenied) {
  auto req = request();
  req.caller.secret_access_key = "WrongSecretWrongSecretWrongSecret0000000";
  auto e = error_of([&] { auth::assume_role(req); });
  ASSERT_TRUE(e.has_value());
  show(*e);
  EXPECT_EQ(e->kind(), ErrorKind::kAccessDenied) << all_text(*e);
  EXPECT_EQ(all_text(*e).find(req.caller.secret_access_key), std::string::npos);
}

// What RGW 16 accepts in a session policy ("ok") or refuses (the STS error code). The generator of
// concrete session policies must stay inside what is accepted here.
TEST_F(StsRgw, RgwSessionPolicyGrammar) {
  const std::string b = bucket_arn();
  auto stmt = [](const std::string& body) { return R"({"Version":"2012-10-17","Statement":[)" + body + "]}"; };
  const std::string get_a = R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource":[")" + b + R"(/tenant-a/*"]})";
  struct Case {
    const char* what;
    std::string policy;
    const char* expect;  // "ok" or the error code
  };
  std::vector<Case> cases = {
      {"the tenant policy", tenant_policy("tenant-a/"), "ok"},
      {"Action and Resource as strings, Statement as an object",
       R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":")" + b + R"(/a/*"}})",
       "ok"},
      {"Sid", stmt(R"({"Sid":"A1","Effect":"Allow","Action":["s3:GetObject"],"Resource":[")" + b + R"(/a/*"]})"), "ok"},
      {"s3:Get* wildcard", stmt(R"({"Effect":"Allow","Action":["s3:Get*"],"Resource":["*"]})"), "ok"},
      {"Action *", stmt(R"({"Effect":"Allow","Action":"*","Resource":"*"})"), "ok"},
      {"iam:* and sts:* actions", stmt(get_a + R"(,{"Effect":"Allow","Action":["iam:*","sts:AssumeRole"],"Resource":"*"})"), "ok"},
      {"elasticfilesystem:* action", stmt(get_a + R"(,{"Effect":"Allow","Action":["elasticfilesystem:*"],"Resource":"*"})"),
       "MalformedPolicyDocument"},
      {"elasticfilesystem:ClientMount action",
       stmt(get_a + R"(,{"Effect":"Allow","Action":["elasticfilesystem:ClientMount"],"Resource":"*"})"), "MalformedPolicyDocument"},
      {"sagemaker:* action", stmt(get_a + R"(,{"Effect":"Allow","Action":["sagemaker:*"],"Resource":"*"})"),
       "MalformedPolicyDocument"},
      {"unknown s3 action", stmt(R"({"Effect":"Allow","Action":["s3:FooBar"],"Resource":"*"})"), "MalformedPolicyDocument"},
      {"Resource not an ARN", stmt(R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource":"foo"})"), "MalformedPolicyDocument"},
      {"elasticfilesystem Resource ARN",
       stmt(get_a + R"(,{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1"})"),
       "MalformedPolicyDocument"},
      {"policy variable", stmt(R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource":[")" + b + R"(/${aws:username}/*"]})"),
       "MalformedPolicyDocument"},
      {"NotAction", stmt(get_a + R"(,{"Effect":"Deny","NotAction":["s3:GetObject"],"Resource":"*"})"), "ok"},
      {"NotResource", stmt(R"({"Effect":"Allow","Action":["s3:*"],"NotResource":[")" + b + R"(/tenant-b/*"]})"), "ok"},
      {"Condition StringEquals s3:prefix",
       stmt(R"({"Effect":"Allow","Action":["s3:ListBucket"],"Resource":")" + b + R"(","Condition":{"StringEquals":{"s3:prefix":"a/"}}})"), "ok"},
      {"Condition StringNotLike, Null, ForAnyValue:, IpAddress",
       stmt(R"({"Effect":"Allow","Action":["s3:ListBucket"],"Resource":")" + b +
            R"(","Condition":{"StringNotLike":{"s3:prefix":"b/*"},"Null":{"s3:prefix":"false"},"ForAnyValue:StringLike":{"s3:prefix":"a/*"},"IpAddress":{"aws:SourceIp":"127.0.0.1/32"}}})"),
       "ok"},
      {"Condition aws:PrincipalTag with a literal value",
       stmt(R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/tenant":"a"}}})"), "ok"},
      {"unknown condition operator",
       stmt(R"({"Effect":"Allow","Action":["s3:ListBucket"],"Resource":")" + b + R"(","Condition":{"FooBar":{"s3:prefix":"x"}}})"),
       "MalformedPolicyDocument"},
      {"Principal in a session policy", stmt(R"({"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":"*"})"), "ok"},
      {"no Version", R"({"Statement":[)" + get_a + "]}", "ok"},
      {"empty object", "{}", "ok"},
      {"pretty-printed (newlines, tabs, spaces; %20-encoded)",
       "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [ " + get_a + " ]\n}\n", "ok"},
  };
  cases.push_back({"spaces inside a statement",
                   stmt(R"({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [")" + b + R"(/tenant-a/*"]})"), "ok"});
  cases.push_back({"space after Effect colon only",
                   stmt(R"({"Effect": "Allow","Action":["s3:GetObject"],"Resource":[")" + b + R"(/tenant-a/*"]})"), "ok"});
  cases.push_back({"space after Action colon only",
                   stmt(R"({"Effect":"Allow","Action": ["s3:GetObject"],"Resource":[")" + b + R"(/tenant-a/*"]})"), "ok"});
  cases.push_back({"space after Resource colon only",
                   stmt(R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource": [")" + b + R"(/tenant-a/*"]})"), "ok"});
  cases.push_back({"space after comma only",
                   stmt(R"({"Effect":"Allow", "Action":["s3:GetObject"],"Resource":[")" + b + R"(/tenant-a/*"]})"), "ok"});
  cases.push_back({"newline after Effect colon",
                   stmt(R"({"Effect":)" "\n" R"("Allow","Action":["s3:GetObject"],"Resource":[")" + b + R"(/tenant-a/*"]})"), "ok"});
  // The forms concrete_session_policy (src/policy/session_policy.cpp) writes in place of others:
  // a Deny's negated operator with IfExists (rewrite 1), every one it may write; "key present" (Null
  // false) as StringLike "*" (rewrite 3). RGW 16 accepts each.
  auto list_cond = [&](const std::string& effect, const std::string& cond) {
    return stmt(R"({"Effect":"Allow","Action":["s3:*"],"Resource":["*"]},{"Effect":")" + effect +
                R"(","Action":["s3:ListBucket"],"Resource":")" + b + R"(","Condition":{)" + cond + "}}");
  };
  for (const char* c : {R"("StringNotLikeIfExists":{"s3:prefix":"tenant-a/*"})",
                        R"("StringNotEqualsIfExists":{"s3:prefix":"tenant-a/"})",
                        R"("StringNotEqualsIgnoreCaseIfExists":{"s3:delimiter":"/"})",
                        R"("NumericNotEqualsIfExists":{"s3:max-keys":"10"})",
                        R"("DateNotEqualsIfExists":{"aws:CurrentTime":"2020-01-01T00:00:00Z"})",
                        R"("NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"})",
                        R"("StringNotLikeIfExists":{"s3:prefix":["tenant-a/*","tenant-b/*"]})"}) {
    cases.push_back({"Deny with a negated IfExists operator (rewrite 1)", list_cond("Deny", c), "ok"});
  }
  // A set qualifier (ForAllValues:, ForAnyValue:) goes only with StringEquals,
  // StringEqualsIgnoreCase and StringLike (IfExists or not): with any other operator, the negated
  // ones included, RGW 16 refuses the whole policy, in an Allow as in a Deny. So
  // concrete_session_policy never writes one (rewrite 6): it leaves such an Allow out and refuses
  // such a Deny, where AssumeRole would otherwise fail with a bare MalformedPolicyDocument.
  for (const char* q : {"ForAllValues:", "ForAnyValue:"}) {
    for (const char* op : {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "StringEqualsIfExists",
                           "StringEqualsIgnoreCaseIfExists", "StringLikeIfExists"}) {
      const std::string c = std::string(R"(")") + q + op + R"(":{"s3:prefix":"tenant-a/"})";
      cases.push_back({"a set qualifier the store takes (rewrite 6)", list_cond("Deny", c), "ok"});
      cases.push_back({"a set qualifier the store takes (rewrite 6)", list_cond("Allow", c), "ok"});
    }
    for (const char* op : {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "StringNotLikeIfExists",
                           "NumericEquals", "NumericNotEquals", "NumericLessThan", "DateEquals", "DateNotEquals",
                           "DateGreaterThan", "Bool", "IpAddress", "NotIpAddress", "ArnLike", "ArnNotLike",
                           "ArnNotEquals"}) {
      const std::string c = std::string(R"(")") + q + op + R"(":{"s3:prefix":"x"})";
      cases.push_back({"a set qualifier the store refuses (rewrite 6)", list_cond("Deny", c), "MalformedPolicyDocument"});
      cases.push_back({"a set qualifier the store refuses (rewrite 6)", list_cond("Allow", c), "MalformedPolicyDocument"});
    }
  }
  // `$` in a value (rewrite 7; RgwSessionPolicyEffects shows how the accepted ones are read). A
  // condition value that begins with `$` is a policy variable: accepted when it is `${...}` (and
  // read as the variable), refused otherwise ("$", "$x", "$$/", an unclosed "${abc", "${foo}*");
  // a `$` later in the value is accepted (and read as it is). In a resource, ${aws:username} is
  // refused (above); ${foo} and any `$` are accepted.
  for (const char* v : {"$", "$x", "$$/", "${abc", "${foo}*"}) {
    cases.push_back({"condition value beginning with $ (rewrite 7)",
                     list_cond("Deny", std::string(R"("StringEquals":{"s3:prefix":")") + v + R"("})"),
                     "MalformedPolicyDocument"});
  }
  cases.push_back({"StringNotLikeIfExists value $ (rewrite 7)",
                   list_cond("Deny", R"("StringNotLikeIfExists":{"aws:SourceIp":"$"})"), "MalformedPolicyDocument"});
  for (const char* v : {"${aws:username}", "${foo}", "${}", "x$", "a$b", "a${b}c", "a}${b", "{x}"}) {
    cases.push_back({"condition value not beginning with $, or a whole ${...} (rewrite 7)",
                     list_cond("Deny", std::string(R"("StringEquals":{"s3:prefix":")") + v + R"("})"), "ok"});
  }
  for (const char* r : {"${foo}/*", "x${$}", "$", "a$b", "$x"}) {
    cases.push_back({"Resource with a $ (rewrite 7)",
                     stmt(R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource":[")" + b + "/" + r + R"("]})"), "ok"});
  }
  // A condition key in any case is accepted (and looked up as written: RgwSessionPolicyEffects).
  cases.push_back({"condition key S3:Prefix", list_cond("Deny", R"("StringEquals":{"S3:Prefix":"a/"})"), "ok"});
  cases.push_back({"Allow with StringLike \"*\" (rewrite 3)", list_cond("Allow", R"("StringLike":{"s3:prefix":"*"})"), "ok"});
  cases.push_back({"Null true and false (rewrite 3)", list_cond("Allow", R"("Null":{"s3:prefix":"true","s3:delimiter":"false"})"), "ok"});
  // An Arn operator on a request key is accepted (and then never matches: RgwSessionPolicyEffects),
  // so the store would not refuse a Deny holding one; Sluice must (rewrite 2).
  cases.push_back({"Deny with ArnLike on a request key (rewrite 2)",
                   list_cond("Deny", R"("ArnLike":{"s3:prefix":"arn:aws:s3:::*"})"), "ok"});
  // Size: RGW refuses a policy text longer than 2048 bytes (whitespace counts).
  std::string at_limit = stmt(get_a);
  at_limit.insert(1, 2048 - at_limit.size(), '\n');
  cases.push_back({"2048 bytes", at_limit, "ok"});
  cases.push_back({"2049 bytes", "\n" + at_limit, "PackedPolicyTooLarge"});

  for (const auto& c : cases) {
    auto e = error_of([&] { auth::assume_role(request(c.policy)); });
    std::string got = "ok";
    if (e) {
      EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput) << c.what << ": " << all_text(*e);
      got = all_text(*e).find(c.expect) != std::string::npos ? c.expect : all_text(*e);
    }
    EXPECT_EQ(got, c.expect) << c.what << "\npolicy: " << c.policy;
  }
}

// How RGW 16 evaluates what it accepts (abilities: get a, get b, list a, list b, list all, put a).
TEST_F(StsRgw, RgwSessionPolicyEffects) {
  const std::string b = bucket_arn();
  auto stmt = [](const std::string& body) { return R"({"Version":"2012-10-17","Statement":[)" + body + "]}"; };
  const std::string all = R"({"Effect":"Allow","Action":["s3:*"],"Resource":["*"]})";
  auto ab = [&](const std::string& policy) {
    auto s = open_as(auth::assume_role(request(policy)).credentials);
    std::string a = abilities(*s);
    try {
      bucket_->store().remove("tenant-a/new");
    } catch (const std::exception&) {
    }
    return a;
  };
  std::string ok = "ok";
  std::string D = std::string(to_string(ErrorKind::kAccessDenied));
  auto row = [&](std::vector<std::string> v) {
    std::string j;
    for (auto& x : v) j += (j.empty() ? "" : " ") + x;
    return j;
  };
  // Allow with Resource and an s3:prefix condition: the form the generator uses.
  EXPECT_EQ(ab(tenant_policy("tenant-a/")), row({ok, D, ok, D, D, D}));
  // An explicit Deny with Action and Resource works.
  EXPECT_EQ(ab(stmt(all + R"(,{"Effect":"Deny","Action":["s3:GetObject"],"Resource":[")" + b + R"(/tenant-b/*"]})")),
            row({ok, D, ok, ok, ok, ok}));
  // Deny + NotResource works.
  EXPECT_EQ(ab(stmt(all + R"(,{"Effect":"Deny","Action":["s3:GetObject"],"NotResource":[")" + b + R"(/tenant-a/*"]})")),
            row({ok, D, ok, ok, ok, ok}));
  // Allow + NotResource works.
  EXPECT_EQ(ab(stmt(R"({"Effect":"Allow","Action":["s3:*"],"NotResource":[")" + b + R"(/tenant-b/*"]})")),
            row({ok, D, ok, ok, ok, ok}));
  // RGW 16 quirks (accepted, evaluated wrongly): Allow + NotAction grants nothing (fails closed);
  // Deny + NotAction is ignored (fails OPEN). Never generate NotAction.
  EXPECT_EQ(ab(stmt(R"({"Effect":"Allow","NotAction":["s3:PutObject"],"Resource":["*"]})")), row({D, D, D, D, D, D}));
  EXPECT_EQ(ab(stmt(all + R"(,{"Effect":"Deny","NotAction":["s3:GetObject"],"Resource":["*"]})")),
            row({ok, ok, ok, ok, ok, ok}));
  // A literal aws:PrincipalTag condition never matches (AssumeRole tags are dropped): denies all.
  EXPECT_EQ(ab(stmt(R"({"Effect":"Allow","Action":["s3:*"],"Resource":["*"],"Condition":{"StringEquals":{"aws:PrincipalTag/tenant":"a"}}})")),
            row({D, D, D, D, D, D}));

  // The conditions concrete_session_policy (src/policy/session_policy.cpp) rewrites. "list all"
  // lists WITHOUT a prefix: RGW then has no s3:prefix key at all.
  auto list_rule = [&](const std::string& effect, const std::string& cond) {
    return R"({"Effect":")" + effect + R"(","Action":["s3:ListBucket"],"Resource":")" + b + R"(","Condition":{)" + cond + "}}";
  };
  const std::string get_all = R"({"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]})";

  // Rewrite 1 (a Deny's negated operator written with IfExists). A plain StringNotLike in a Deny is
  // FALSE on a missing key at RGW 16 (AWS and Sluice: true): listing the whole bucket is not denied
  // (fails OPEN), while a listing with another prefix is.
  EXPECT_EQ(ab(stmt(all + "," + list_rule("Deny", R"("StringNotLike":{"s3:prefix":"tenant-a/*"})"))),
            row({ok, ok, ok, D, ok, ok}));
  // With IfExists it is true on a missing key: the whole-bucket listing is denied too, and a present
  // prefix is decided as before.
  EXPECT_EQ(ab(stmt(all + "," + list_rule("Deny", R"("StringNotLikeIfExists":{"s3:prefix":"tenant-a/*"})"))),
            row({ok, ok, ok, D, D, ok}));

  // Rewrite 3 ("key present" written StringLike "*", not Null "false"). RGW 16's Null is true
  // exactly when the key is missing, whatever its value: an Allow with Null "false" on s3:prefix
  // (AWS and Sluice: only listings WITH a prefix) allows the listing WITHOUT one and refuses those
  // with one, the opposite of what it says (it would widen what the session may list).
  EXPECT_EQ(ab(stmt(get_all + "," + list_rule("Allow", R"("Null":{"s3:prefix":"false"})"))), row({ok, ok, D, D, ok, D}));
  // Null "true" is read as written: only the listing without a prefix.
  EXPECT_EQ(ab(stmt(get_all + "," + list_rule("Allow", R"("Null":{"s3:prefix":"true"})"))), row({ok, ok, D, D, ok, D}));
  // StringLike "*": true on any present prefix, false on a missing one, as Null "false" means.
  EXPECT_EQ(ab(stmt(get_all + "," + list_rule("Allow", R"("StringLike":{"s3:prefix":"*"})"))), row({ok, ok, ok, ok, D, D}));

  // Rewrite 4 (an Allow whose negated operator has several values is left out). RGW 16 takes
  // StringNotLike ["tenant-a/*", "tenant-b/*"] as true when ANY value does not match (AWS and
  // Sluice: when none does): it allows listing tenant-a/ and tenant-b/, which it should refuse.
  EXPECT_EQ(ab(stmt(get_all + "," + list_rule("Allow", R"("StringNotLike":{"s3:prefix":["tenant-a/*","tenant-b/*"]})"))),
            row({ok, ok, ok, ok, D, D}));
  // With one value it is read as written (on a present key; a missing one is false: rewrite 1).
  EXPECT_EQ(ab(stmt(get_all + "," + list_rule("Allow", R"("StringNotLike":{"s3:prefix":["tenant-b/*"]})"))),
            row({ok, ok, ok, D, D, D}));
  // In a Deny, several values only deny more: here every listing (each prefix differs from one value).
  EXPECT_EQ(ab(stmt(all + "," + list_rule("Deny", R"("StringNotLikeIfExists":{"s3:prefix":["tenant-a/*","tenant-b/*"]})"))),
            row({ok, ok, D, D, D, ok}));

  // Rewrite 2 (a Deny with an Arn operator on a request key is refused). RGW 16 accepts ArnLike
  // (RgwSessionPolicyGrammar) but never matches it on a present key: a Deny of listings whose
  // prefix is ARN-like does not deny one (AWS and Sluice do), nor does one matching every value.
  auto list_as = [&](const std::string& policy, const std::string& prefix) {
    auto s = open_as(auth::assume_role(request(policy)).credentials);
    return outcome([&] { store::list_all(*s, prefix); });
  };
  const std::string arn_deny = stmt(all + "," + list_rule("Deny", R"("ArnLike":{"s3:prefix":"arn:aws:s3:::*"})"));
  EXPECT_EQ(list_as(arn_deny, "arn:aws:s3:::tenant-b/"), ok);
  EXPECT_EQ(list_as(arn_deny, "tenant-b/"), ok);
  EXPECT_EQ(list_as(arn_deny, ""), ok);
  {
    policy::Document d = policy::parse_document(arn_deny);
    policy::Request r{"s3:ListBucket", b, {{"s3:prefix", {"arn:aws:s3:::tenant-b/"}}}};
    EXPECT_EQ(policy::evaluate({d}, {}, r).outcome, policy::Outcome::kExplicitDeny);  // Sluice denies it
  }
  EXPECT_EQ(list_as(stmt(all + "," + list_rule("Deny", R"("ArnLike":{"s3:prefix":"*"})")), "tenant-b/"), ok);
  EXPECT_EQ(list_as(stmt(all + "," + list_rule("Deny", R"("ArnNotLike":{"s3:prefix":"arn:aws:s3:::x"})")), "tenant-b/"), ok);
  EXPECT_EQ(list_as(stmt(all + "," + list_rule("Deny", R"("ArnEqualsIfExists":{"s3:prefix":"arn:aws:s3:::tenant-b/"})")),
                    "arn:aws:s3:::tenant-b/"),
            ok);
  // The control: the same Deny with StringLike does deny.
  EXPECT_EQ(list_as(stmt(all + "," + list_rule("Deny", R"("StringLike":{"s3:prefix":"arn:aws:s3:::*"})")),
                    "arn:aws:s3:::tenant-b/"),
            D);

  // Rewrite 5 (condition keys in the store's spelling). RGW 16 looks condition keys up
  // case-sensitively (AWS and Sluice do not): a Deny on the key as RGW spells it denies, the same
  // Deny on another case of it never does (fails OPEN).
  for (const char* key : {"s3:prefix", "S3:Prefix", "s3:Prefix", "S3:PREFIX"}) {
    SCOPED_TRACE(key);
    const std::string deny_b = stmt(all + "," + list_rule("Deny", R"("StringEquals":{")" + std::string(key) + R"(":"tenant-b/"})"));
    EXPECT_EQ(list_as(deny_b, "tenant-b/"), std::string(key) == "s3:prefix" ? D : ok);
    EXPECT_EQ(list_as(deny_b, "tenant-a/"), ok);
  }
  for (const char* key : {"s3:max-keys", "S3:Max-Keys"}) {  // RGW sets it on every listing
    SCOPED_TRACE(key);
    EXPECT_EQ(list_as(stmt(all + "," + list_rule("Deny", R"("NumericGreaterThan":{")" + std::string(key) + R"(":"0"})")),
                      "tenant-a/"),
              std::string(key) == "s3:max-keys" ? D : ok);
  }
  // Keys of every request (rgw_build_iam_environment; aws:UserAgent too, but Sluice's client sends
  // no User-Agent): a Deny of GetObject on each, as spelled by RGW and in another case.
  auto get_rule = [&](const std::string& cond) {
    return R"({"Effect":"Deny","Action":["s3:GetObject"],"Resource":["*"],"Condition":{)" + cond + "}}";
  };
  struct KeyCase {
    const char *key, *other, *cond;  // cond: operator and values, the key in between
  };
  for (const KeyCase& k : std::vector<KeyCase>{
           {"aws:SourceIp", "aws:sourceip", R"("IpAddress":{"%":["0.0.0.0/0","::/0"]})"},
           {"aws:CurrentTime", "AWS:currenttime", R"("DateGreaterThan":{"%":"2020-01-01T00:00:00Z"})"},
           {"aws:EpochTime", "aws:epochtime", R"("DateGreaterThan":{"%":"2020-01-01T00:00:00Z"})"},
           {"sts:authentication", "STS:Authentication", R"("StringEquals":{"%":"true"})"}}) {
    for (const char* key : {k.key, k.other}) {
      SCOPED_TRACE(key);
      std::string cond = k.cond;
      cond.replace(cond.find('%'), 1, key);
      EXPECT_EQ(ab(stmt(all + "," + get_rule(cond))),
                key == k.key ? row({D, D, ok, ok, ok, ok}) : row({ok, ok, ok, ok, ok, ok}));
    }
  }

  // Rewrite 7 (a literal `${` in a value is never written). RGW 16 reads ${aws:username} in a
  // condition value as the variable (here the store's user): a Deny of the prefix spelled so does
  // not deny that text (Sluice does, for a value written ${$}{aws:username}, which it takes as the
  // text ${aws:username}) and denies the user's name instead.
  const std::string var_deny = stmt(all + "," + list_rule("Deny", R"("StringEquals":{"s3:prefix":"${aws:username}"})"));
  EXPECT_EQ(list_as(var_deny, "${aws:username}"), ok);
  EXPECT_EQ(list_as(var_deny, store_uid()), D);
  {
    policy::Document d = policy::parse_document(
        stmt(all + "," + list_rule("Deny", R"("StringEquals":{"s3:prefix":"${$}{aws:username}"})")));
    policy::Request r{"s3:ListBucket", b, {{"s3:prefix", {"${aws:username}"}}}};
    EXPECT_EQ(policy::evaluate({d}, {}, r).outcome, policy::Outcome::kExplicitDeny);  // Sluice denies it
  }
  // ${foo} (no such variable) does not hold its text either.
  EXPECT_EQ(list_as(stmt(all + "," + list_rule("Deny", R"("StringEquals":{"s3:prefix":"${foo}"})")), "${foo}"), ok);
}

// concrete_session_policy's output for a job role's policies (with ${aws:PrincipalTag/...}), given
// to the live store as the session policy: the store decides a handful of requests as Sluice's
// evaluator decides them on the original policies with the principal's context. Where an Allow was
// left out (SessionPolicy::omitted) the store may allow less, never more.
TEST_F(StsRgw, ConcreteSessionPolicyMatchesSluice) {
  const std::string b = bucket_arn();
  const std::string D = std::string(to_string(ErrorKind::kAccessDenied));
  const policy::Context principal{{"aws:PrincipalTag/tenant-id", {"tenant-a"}}, {"aws:PrincipalArn", {role_->arn()}}};
  struct Probe {
    const char* what;
    std::string action, resource;
    policy::Context keys;  // the request's condition keys
    std::function<void(store::ObjectStore&)> fn;
  };
  const std::vector<Probe> probes = {
      {"get a", "s3:GetObject", b + "/tenant-a/x", {}, [](store::ObjectStore& s) { store::get_string(s, {"tenant-a/x", {}, {}}); }},
      {"get b", "s3:GetObject", b + "/tenant-b/x", {}, [](store::ObjectStore& s) { store::get_string(s, {"tenant-b/x", {}, {}}); }},
      {"list a", "s3:ListBucket", b, {{"s3:prefix", {"tenant-a/"}}}, [](store::ObjectStore& s) { store::list_all(s, "tenant-a/"); }},
      {"list b", "s3:ListBucket", b, {{"s3:prefix", {"tenant-b/"}}}, [](store::ObjectStore& s) { store::list_all(s, "tenant-b/"); }},
      {"list all", "s3:ListBucket", b, {}, [](store::ObjectStore& s) { store::list_all(s, ""); }},
      {"put a", "s3:PutObject", b + "/tenant-a/new", {}, [](store::ObjectStore& s) { s.put("tenant-a/new", store::Body::from_string("x")); }},
      {"put b", "s3:PutObject", b + "/tenant-b/new", {}, [](store::ObjectStore& s) { s.put("tenant-b/new", store::Body::from_string("x")); }},
  };
  auto doc = [](const std::string& statements) { return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}"; };
  const std::string tag = "${aws:PrincipalTag/tenant-id}";
  struct Case {
    const char* what;
    std::string role_policy;
    std::string sluice;  // what Sluice decides, probe by probe (a guard on the case itself)
    std::string store;   // what the store decides
  };
  const std::string ok = "ok";
  auto row = [](std::vector<std::string> v) {
    std::string j;
    for (auto& x : v) j += (j.empty() ? "" : " ") + x;
    return j;
  };
  const std::vector<Case> cases = {
      {"tenant scope by tag",
       doc(R"({"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":")" + b + "/" + tag +
           R"(/*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":")" + b +
           R"(","Condition":{"StringLike":{"s3:prefix":")" + tag + R"(/*"}}})"),
       row({ok, D, ok, D, D, ok, D}), row({ok, D, ok, D, D, ok, D})},
      {"broad Allow, Deny of other prefixes (StringNotLike -> IfExists) and NotResource puts",
       doc(R"({"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:ListBucket","Resource":")" + b +
           R"(","Condition":{"StringNotLike":{"s3:prefix":")" + tag + R"(/*"}}},{"Effect":"Deny","Action":"s3:PutObject","NotResource":")" +
           b + "/" + tag + R"(/*"})"),
       row({ok, ok, ok, D, D, ok, D}), row({ok, ok, ok, D, D, ok, D})},
      {"Allow listing only with a prefix (Null false -> StringLike *), Deny without one (Null true)",
       doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":")" + b + "/" + tag +
           R"(/*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":")" + b +
           R"(","Condition":{"Null":{"s3:prefix":"false"}}},{"Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"Null":{"s3:prefix":"true"}}})"),
       row({ok, D, ok, ok, D, D, D}), row({ok, D, ok, ok, D, D, D})},
      {"Deny on a key spelled S3:Prefix (written s3:prefix, as the store looks it up)",
       doc(R"({"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:ListBucket","Resource":")" + b +
           R"(","Condition":{"StringLike":{"S3:Prefix":"tenant-b/*"}}},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"NumericGreaterThanIfExists":{"S3:MAX-KEYS":"0"},"StringNotLike":{"Aws:SourceIp":"x${$}"}}})"),
       row({ok, ok, ok, D, ok, D, D}), row({ok, ok, ok, D, ok, D, D})},
      {"Allow with ForAnyValue:StringNotLike (left out: the store would refuse the whole policy)",
       doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":")" + b +
           R"(","Condition":{"ForAnyValue:StringNotLike":{"s3:prefix":"tenant-b/*"}}})"),
       row({ok, ok, ok, D, D, D, D}), row({ok, ok, D, D, D, D, D})},
      {"Allow with a literal ${ in a value (left out: the store would read a variable)",
       doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":")" + b +
           R"(","Condition":{"StringEquals":{"s3:prefix":["tenant-a/","${$}{aws:username}"]}}})"),
       row({ok, ok, ok, D, D, D, D}), row({ok, ok, D, D, D, D, D})},
      {"Allow with a negated operator of two values (left out: the store allows less)",
       doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":")" +
           b + R"(","Condition":{"StringNotLike":{"s3:prefix":["tenant-b/*",")" + tag + R"(/secret/*"]}}})"),
       row({ok, ok, ok, D, ok, D, D}), row({ok, ok, D, D, D, D, D})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<policy::Document> role = {policy::parse_document(c.role_policy)};
    policy::SessionPolicy sp = policy::concrete_session_policy(role, principal);
    std::printf("  %s\n    session policy: %s\n", c.what, sp.json.c_str());
    for (const auto& o : sp.omitted) std::printf("    omitted: %s\n", o.c_str());
    auto s = open_as(auth::assume_role(request(sp.json)).credentials);
    std::vector<std::string> by_sluice, by_store;
    for (const auto& p : probes) {
      policy::Context ctx = p.keys;
      for (const auto& [k, v] : principal) ctx[k] = v;
      const bool allowed = policy::evaluate(role, {}, policy::Request{p.action, p.resource, ctx}).outcome == policy::Outcome::kAllow;
      by_sluice.push_back(allowed ? ok : D);
      by_store.push_back(outcome([&] { p.fn(*s); }));
      EXPECT_TRUE(by_store.back() != ok || allowed) << p.what << ": the store allows what Sluice denies\n" << sp.json;
      if (sp.omitted.empty()) {
        EXPECT_EQ(by_store.back(), by_sluice.back()) << p.what << "\n" << sp.json;
      }
    }
    for (const char* k : {"tenant-a/new", "tenant-b/new"}) {
      try {
        bucket_->store().remove(k);
      } catch (const std::exception&) {
      }
    }
    EXPECT_EQ(row(by_sluice), c.sluice);
    EXPECT_EQ(row(by_store), c.store) << sp.json;
    EXPECT_EQ(sp.omitted.empty(), c.sluice == c.store);
  }
  // A Deny with an Arn operator on a request key is refused before any AssumeRole: the store would
  // accept it and never apply it (RgwSessionPolicyEffects).
  const std::string arn_deny =
      doc(R"({"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"ArnLike":{"s3:prefix":"arn:aws:s3:::*"}}})");
  auto e = error_of([&] { policy::concrete_session_policy({policy::parse_document(arn_deny)}, principal); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput) << all_text(*e);
  EXPECT_NE(all_text(*e).find("uses an Arn operator"), std::string::npos) << all_text(*e);
  // So is a Deny with a set qualifier the store refuses (given as it is, AssumeRole fails with a
  // bare MalformedPolicyDocument: RgwSessionPolicyGrammar), and one with a literal ${ (the store
  // would read a variable: RgwSessionPolicyEffects), each named.
  struct Refused {
    std::string condition, why;
  };
  for (const auto& r : std::vector<Refused>{
           {R"("ForAnyValue:StringNotLike":{"s3:prefix":")" + tag + R"(/*"})", "has a set qualifier with an operator the store cannot take"},
           {R"("StringEquals":{"s3:prefix":"${$}{aws:username}"})", "would hold a literal ${"}}) {
    const std::string deny = doc(R"({"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoList","Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{)" +
                                 r.condition + "}}");
    auto refused = error_of([&] { policy::concrete_session_policy({policy::parse_document(deny)}, principal); });
    ASSERT_TRUE(refused.has_value()) << deny;
    show(*refused);
    EXPECT_EQ(refused->kind(), ErrorKind::kInvalidInput) << all_text(*refused);
    EXPECT_NE(all_text(*refused).find("policy 0 statement 1 (Sid NoList): a Deny statement whose condition"), std::string::npos)
        << all_text(*refused);
    EXPECT_NE(all_text(*refused).find(r.why), std::string::npos) << all_text(*refused);
  }
}

TEST_F(StsRgw, RgwDurationLimits) {
  auto code_of = [&](const auth::AssumeRoleRequest& r) {
    auto e = error_of([&] { auth::assume_role(r); });
    if (!e) return std::string("ok");
    EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput) << all_text(*e);
    return all_text(*e).find("InvalidArgument") != std::string::npos ? std::string("InvalidArgument") : all_text(*e);
  };
  // The role's MaxSessionDuration (default 3600) is the maximum, 900 the minimum.
  EXPECT_EQ(code_of(request("", 899)), "InvalidArgument");
  EXPECT_EQ(code_of(request("", 900)), "ok");
  EXPECT_EQ(code_of(request("", 3600)), "ok");
  EXPECT_EQ(code_of(request("", 3601)), "InvalidArgument");
  // A role made with MaxSessionDuration 43200 (the IAM maximum) allows 12 hours, not more.
  TestRole long_role(*iam_, "long", trust_for(store_uid()), true, "/sluice/", 43200);
  EXPECT_EQ(long_role.arn(), "arn:aws:iam:::role/sluice/" + long_role.name());  // the path is in the ARN
  auto r = request("", 43200);
  r.role_arn = long_role.arn();
  auto before = std::chrono::system_clock::now();
  auto got = auth::assume_role(r);
  EXPECT_NEAR(std::chrono::duration<double>(got.expiration - before).count(), 43200, 5);
  r.duration_seconds = 43201;
  EXPECT_EQ(code_of(r), "InvalidArgument");
  // CreateRole refuses MaxSessionDuration above 43200.
  const std::string too_long = unique_role_name("toolong");
  try {
    iam_->create_role(too_long, trust_for(store_uid()), "/", 43201);
    ADD_FAILURE() << "CreateRole accepted MaxSessionDuration 43201";
    iam_->delete_role(too_long);
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 400"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sluice::itest
