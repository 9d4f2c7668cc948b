// policy/session_policy: the concrete session policy handed to the store. Checked by evaluating
// it, as the store would (request keys only, no principal context), against the original policy
// evaluated with the session's principal context, over many requests.
#include "policy/session_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
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

// How Ceph RGW 16 evaluates a condition (rgw_iam_policy.cc, Condition::eval) where it differs
// from AWS and Sluice: it looks the key up case-sensitively (rgw::IAM::Environment is a
// std::unordered_multimap<std::string, std::string>); Null is true exactly when the key is
// missing, whatever its value; a missing key makes any other operator false unless it ends in
// IfExists (ForAllValues: true); the Arn operators are never true; a negated operator other than
// NotIpAddress is true when any one of its values does not match. Otherwise as Sluice
// (single-valued request keys only).
bool rgw_condition_holds(const Condition& c, Version v, const Context& request) {
  Context ctx;  // the request's values of c.key, spelled exactly as c.key
  if (auto it = request.find(c.key); it != request.end()) ctx.insert(*it);
  const bool present = !context_values(ctx, c.key).empty();
  if (c.op == Operator::kNull) return !present;
  if (!present) return c.if_exists || c.qualifier == SetQualifier::kForAllValues;
  switch (c.op) {
    case Operator::kArnEquals:
    case Operator::kArnLike:
    case Operator::kArnNotEquals:
    case Operator::kArnNotLike: return false;
    case Operator::kNotIpAddress: return condition_holds(c, v, ctx);
    default: break;
  }
  if (!is_negated(c.op)) return condition_holds(c, v, ctx);
  return std::any_of(c.values.begin(), c.values.end(), [&](const std::string& value) {
    Condition one = c;
    one.values = {value};
    return condition_holds(one, v, ctx);
  });
}

// What RGW 16 refuses or reads otherwise in a session policy (tests/integration/sts_rgw_test.cpp,
// RgwSessionPolicyGrammar and RgwSessionPolicyEffects) that a concrete session policy could
// otherwise hold: a set qualifier with an operator other than StringEquals, StringEqualsIgnoreCase
// and StringLike (refused); `${` in a resource or a condition value, or a condition value that
// begins with `$` (read as a policy variable, or refused).
void expect_store_accepts(const std::vector<Document>& p) {
  for (const auto& doc : p) {
    for (const auto& st : doc.statements) {
      for (const auto& r : st.resources) EXPECT_EQ(r.find("${"), std::string::npos) << r;
      for (const auto& c : st.conditions) {
        if (c.qualifier != SetQualifier::kNone) {
          EXPECT_TRUE(c.op == Operator::kStringEquals || c.op == Operator::kStringEqualsIgnoreCase ||
                      c.op == Operator::kStringLike)
              << "RGW 16 refuses " << c.op_name;
        }
        for (const auto& v : c.values) {
          EXPECT_TRUE(v.find("${") == std::string::npos && !v.starts_with('$')) << c.op_name << " " << v;
        }
      }
    }
  }
}

// The store's decision on a concrete session policy (which holds no NotAction), per the model above.
Outcome store_decide(const std::vector<Document>& p, const std::string& action, const std::string& resource,
                     const Context& ctx) {
  expect_store_accepts(p);
  bool deny = false, allow = false;
  for (const auto& doc : p) {
    for (const auto& st : doc.statements) {
      Statement bare = st;
      bare.conditions.clear();
      if (!statement_applies(bare, doc.version, Request{action, resource, ctx})) continue;
      if (!std::all_of(st.conditions.begin(), st.conditions.end(),
                       [&](const Condition& c) { return rgw_condition_holds(c, doc.version, ctx); })) {
        continue;
      }
      (st.effect == Effect::kDeny ? deny : allow) = true;
    }
  }
  return deny ? Outcome::kExplicitDeny : allow ? Outcome::kAllow : Outcome::kImplicitDeny;
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

TEST(SessionPolicy, AllowOmissionsAreListed) {
  SessionPolicy sp = concrete_session_policy(docs({R"({"Version": "2012-10-17", "Statement": [
      {"Sid": "NA", "Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"},
      {"Sid": "NR", "Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"},
      {"Sid": "Gone", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:PrincipalTag/nope}/*"},
      {"Sid": "Star", "Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${*}"},
      {"Sid": "Like", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
       "Condition": {"StringLike": {"s3:prefix": ["a/*", "${?}/*"]}}},
      {"Sid": "OtherTenant", "Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*",
       "Condition": {"StringEquals": {"aws:PrincipalTag/tenant-id": "tenant-b"}}}]})"}),
                                             kTenantA);
  // "Gone" is not an omission: with no tag it matches nothing, in the original too; nor is
  // "OtherTenant", which never applies to tenant-a.
  ASSERT_EQ(sp.omitted.size(), 4u) << ::testing::PrintToString(sp.omitted);
  EXPECT_EQ(sp.omitted[0], "policy 0 statement 0 (Sid NA): NotAction");
  EXPECT_EQ(sp.omitted[1], "policy 0 statement 1 (Sid NR): NotResource");
  EXPECT_EQ(sp.omitted[2], "policy 0 statement 3 (Sid Star): a resource holds a literal * or ?");
  EXPECT_EQ(sp.omitted[3], "policy 0 statement 4 (Sid Like): a value of condition StringLike on s3:prefix holds a literal * or ?");
  EXPECT_EQ(sp.json, R"({"Statement":[{"Action":"s3:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"})");
}

// The message of the kInvalidInput error concrete_session_policy throws; "" (and a failure) when
// it does not throw.
std::string refusal(const std::vector<std::string>& texts, const Context& principal = kTenantA) {
  try {
    SessionPolicy sp = concrete_session_policy(docs(texts), principal);
    ADD_FAILURE() << "not refused: " << sp.json;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
    return e.message();
  }
  return "";
}

std::string one_statement(const std::string& statement) {
  return R"({"Version": "2012-10-17", "Statement": [)" + statement + "]}";
}

// Each kind of Deny that cannot be given to the store refuses the whole policy, naming the policy,
// the statement, its Sid and why; never is it left out (that would widen what the store allows).
TEST(SessionPolicy, UnexpressibleDenyIsRefused) {
  struct Case {
    std::string statement, why;
  };
  const std::vector<Case> cases = {
      {R"({"Sid": "NA", "Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})",
       "with NotAction that leaves out S3 actions (s3:GetObject)"},
      {R"({"Sid": "NA2", "Effect": "Deny", "NotAction": ["iam:*", "s3:Get*", "*:*Object"], "Resource": "arn:aws:s3:::in/*"})",
       "with NotAction that leaves out S3 actions (s3:Get*, s3:*Object)"},
      {R"({"Sid": "NA3", "Effect": "Deny", "NotAction": "*:ListBucket", "Resource": "*"})",
       "with NotAction that leaves out S3 actions (s3:ListBucket)"},
      {R"({"Sid": "R", "Effect": "Deny", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::in/x", "arn:aws:s3:::b/${*}"]})",
       "whose Resource arn:aws:s3:::b/${*} would hold a literal * or ?"},
      {R"({"Sid": "R2", "Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/tenant-id}${?}"})",
       "whose Resource arn:aws:s3:::b/${aws:PrincipalTag/tenant-id}${?} would hold a literal * or ?"},
      {R"({"Sid": "NR", "Effect": "Deny", "Action": "s3:GetObject", "NotResource": ["arn:aws:s3:::in/${*}"]})",
       "whose NotResource arn:aws:s3:::in/${*} would hold a literal * or ?"},
      {R"({"Sid": "C", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringNotLike": {"s3:prefix": ["${aws:PrincipalTag/tenant-id}/*", "${*}"]}}})",
       "whose condition StringNotLike on s3:prefix has a value that would hold a literal * or ?"},
      {R"({"Sid": "C2", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringLike": {"s3:prefix": "${?}"}}})",
       "whose condition StringLike on s3:prefix has a value that would hold a literal * or ?"},
      {R"({"Sid": "C3", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
          "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::${*}"}}})",
       "whose condition ArnLike on aws:SourceArn has a value that would hold a literal * or ?"},
      {R"({"Sid": "Arn", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
          "Condition": {"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::in/*"}}})",
       "whose condition ArnNotLike on aws:SourceArn uses an Arn operator (the store, Ceph RGW 16, does not implement"},
      {R"({"Sid": "Arn2", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringLike": {"s3:prefix": "a/*"},
                        "ArnEqualsIfExists": {"aws:SourceArn": "arn:aws:s3:::${aws:PrincipalTag/tenant-id}"}}})",
       "whose condition ArnEqualsIfExists on aws:SourceArn uses an Arn operator"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.statement);
    // Second policy, second statement: the indexes are named.
    const std::string text = one_statement(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, )" + c.statement);
    std::string m = refusal({one_statement(R"({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})"), text});
    const std::string sid = c.statement.substr(9, c.statement.find('"', 9) - 9);
    EXPECT_EQ(m.rfind("policy 1 statement 1 (Sid " + sid + "): a Deny statement " + c.why, 0), 0u) << m;
    EXPECT_NE(m.find("cannot be given to the store; leaving it out would widen what the job's credentials allow: "
                     "remove StoreRoleArn or rewrite the statement"),
              std::string::npos)
        << m;
    // The same statement as an Allow is left out and listed instead.
    std::string allow = text;
    allow.replace(allow.rfind("\"Deny\""), 6, "\"Allow\"");
    SessionPolicy sp = concrete_session_policy(docs({allow}), kTenantA);
    ASSERT_EQ(sp.omitted.size(), 1u) << sp.json;
    EXPECT_EQ(sp.omitted[0].rfind("policy 0 statement 1 (Sid " + sid + "): ", 0), 0u) << sp.omitted[0];
  }
  // Without a Sid: the indexes alone.
  std::string m = refusal({one_statement(R"({"Effect": "Deny", "NotAction": "s3:PutObject", "Resource": "*"})")});
  EXPECT_EQ(m.rfind("policy 0 statement 0: a Deny statement with NotAction", 0), 0u) << m;
}

// A Deny that never applies to this session is left out, whatever it holds; for a session it does
// apply to, it is refused.
TEST(SessionPolicy, UnexpressibleDenyThatNeverAppliesIsLeftOut) {
  const std::string text = one_statement(R"(
      {"Sid": "B", "Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*",
       "Condition": {"StringEquals": {"aws:PrincipalTag/tenant-id": "tenant-b"}}},
      {"Sid": "Missing", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::${aws:PrincipalTag/nope}/${*}"]},
      {"Sid": "Never", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::b/${*}"],
       "Condition": {"StringLike": {"s3:prefix": "${aws:PrincipalTag/nope}"}}},
      {"Sid": "OnlyIam", "Effect": "Deny", "Action": "iam:*", "Resource": ["arn:aws:s3:::b/${*}"]})");
  SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  EXPECT_EQ(sp.json, R"({"Statement":[{"Action":"s3:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"})");
  std::string m = refusal({text}, Context{{"aws:PrincipalTag/tenant-id", {"tenant-b"}}});
  EXPECT_EQ(m.rfind("policy 0 statement 0 (Sid B): a Deny statement with NotAction", 0), 0u) << m;
}

// What RGW 16 can be given instead: a Deny with NotAction that leaves out no S3 action denies them
// all (Action s3:*); one that leaves out every S3 action is not about the store; NotResource is
// written as it is (RGW applies it), entries without a value dropped.
TEST(SessionPolicy, ExpressibleDenyFormsAreKept) {
  SessionPolicy sp = concrete_session_policy(docs({one_statement(R"(
      {"Sid": "NonS3", "Effect": "Deny", "NotAction": ["iam:*", "elasticfilesystem:ClientMount", "*:*:x"], "Resource": "arn:aws:s3:::in/*"},
      {"Sid": "AllS3", "Effect": "Deny", "NotAction": ["s3:GetObject", "s*:*"], "Resource": "*"},
      {"Sid": "Every", "Effect": "Deny", "NotAction": "*", "Resource": "*"},
      {"Sid": "NR", "Effect": "Deny", "Action": ["s3:GetObject", "s3:PutObject"],
       "NotResource": ["arn:aws:s3:::in/${aws:PrincipalTag/tenant-id}/*", "arn:aws:s3:::x/${aws:PrincipalTag/nope}/*"]},
      {"Sid": "NRNone", "Effect": "Deny", "Action": "s3:DeleteObject", "NotResource": "arn:aws:s3:::x/${aws:PrincipalTag/nope}"},
      {"Sid": "Eq", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringEquals": {"s3:prefix": "${*}"}, "StringNotEqualsIgnoreCase": {"s3:delimiter": "${?}"}}})")}),
                                             kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  auto j = nlohmann::json::parse(sp.json)["Statement"];
  ASSERT_EQ(j.size(), 4u) << sp.json;
  EXPECT_EQ(j[0], nlohmann::json::parse(R"({"Sid": "NonS3", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::in/*"})"));
  EXPECT_EQ(j[1], nlohmann::json::parse(R"({"Sid": "NR", "Effect": "Deny", "Action": ["s3:GetObject", "s3:PutObject"],
                                           "NotResource": "arn:aws:s3:::in/tenant-a/*"})"));
  EXPECT_EQ(j[2], nlohmann::json::parse(R"({"Sid": "NRNone", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})"));
  // StringEquals does not read * and ? as wildcards: the literal is written as it is (the negated
  // operator of a Deny with IfExists, so that RGW 16 denies on a missing key too).
  EXPECT_EQ(j[3]["Condition"], nlohmann::json::parse(R"({"StringEquals": {"s3:prefix": "*"},
                                                         "StringNotEqualsIgnoreCaseIfExists": {"s3:delimiter": "?"}})"));
  EXPECT_EQ(sp.json.find("NotAction"), std::string::npos);
}

// For each request, Sluice's decision on the original policies (with the principal's context) and
// on the concrete session policy, and the store's on the concrete one (rgw_condition_holds), are
// the same.
void expect_same_decisions(const std::vector<std::string>& texts, const SessionPolicy& sp,
                           const std::vector<Request>& requests, const Context& principal = kTenantA) {
  const auto original = docs(texts);
  const auto concrete = docs({sp.json});
  for (const auto& r : requests) {
    Context full = r.context;
    for (const auto& [k, v] : principal) full[k] = v;
    const Outcome want = decide(original, r.action, r.resource, full);
    SCOPED_TRACE(r.action + " " + r.resource + " " + ::testing::PrintToString(r.context) + "\n" + sp.json);
    EXPECT_EQ(decide(concrete, r.action, r.resource, r.context), want);
    EXPECT_EQ(store_decide(concrete, r.action, r.resource, r.context), want);
  }
}

// RGW 16 takes a condition on a missing key as false unless its operator ends in IfExists, where
// AWS and Sluice take a negated one as true: a Deny with a negated operator would not deny there.
// So a Deny's negated operator (no set qualifier) is written with IfExists, which Sluice decides
// as the plain one, key present or missing; an Allow's is kept (RGW's false only narrows it).
TEST(SessionPolicy, NegatedDenyConditionsHoldOnAMissingKeyAtTheStore) {
  struct Case {
    std::string op, key, value, written, differs, matches;  // a present value that differs, one that matches
  };
  const std::vector<Case> cases = {
      {"StringNotEquals", "s3:prefix", "${aws:PrincipalTag/tenant-id}/", "StringNotEqualsIfExists", "tenant-b/", "tenant-a/"},
      {"StringNotEqualsIgnoreCase", "s3:delimiter", "/", "StringNotEqualsIgnoreCaseIfExists", "|", "/"},
      {"StringNotLike", "s3:prefix", "tenant-a/*", "StringNotLikeIfExists", "b/x", "tenant-a/x"},
      {"NumericNotEquals", "s3:max-keys", "10", "NumericNotEqualsIfExists", "5", "10"},
      {"DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z", "DateNotEqualsIfExists", "2021-01-01T00:00:00Z",
       "2020-01-01T00:00:00Z"},
      {"NotIpAddress", "aws:SourceIp", "10.0.0.0/8", "NotIpAddressIfExists", "192.168.0.1", "10.1.2.3"},
      // Already IfExists: as it is.
      {"StringNotLikeIfExists", "s3:prefix", "tenant-a/*", "StringNotLikeIfExists", "b/x", "tenant-a/x"},
      // A negated operator with a set qualifier (ForAllValues:, ForAnyValue:) is not written at
      // all: RGW 16 refuses the whole policy with one (SetQualifierTheStoreRefusesIsNeverWritten).
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.op);
    const std::string condition = R"("Condition": {")" + c.op + R"(": {")" + c.key + R"(": ")" + c.value + R"("}})";
    const std::string text = one_statement(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "D", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::in", )" + condition + "}");
    SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
    EXPECT_TRUE(sp.omitted.empty());
    const auto written = nlohmann::json::parse(sp.json)["Statement"][1]["Condition"];
    ASSERT_EQ(written.size(), 1u) << sp.json;
    EXPECT_EQ(written.begin().key(), c.written) << sp.json;
    EXPECT_EQ(written.begin().value(), nlohmann::json::parse(R"({")" + c.key + R"(": ")" +
                                                              (c.key == "s3:prefix" && c.value[0] == '$' ? "tenant-a/" : c.value) +
                                                              R"("})"));
    std::vector<Request> requests;
    for (const std::string& v : {std::string(), c.differs, c.matches}) {
      Context ctx;
      if (!v.empty()) ctx[c.key] = {v};
      requests.push_back({"s3:ListBucket", "arn:aws:s3:::in", ctx});
    }
    expect_same_decisions({text}, sp, requests);

    // In an Allow, the operator is kept as it is: RGW allows less on a missing key, never more.
    const std::string allow = one_statement(R"({"Sid": "A", "Effect": "Allow", "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::in", )" + condition + "}");
    SessionPolicy asp = concrete_session_policy(docs({allow}), kTenantA);
    EXPECT_TRUE(asp.omitted.empty());
    EXPECT_EQ(nlohmann::json::parse(asp.json)["Statement"][0]["Condition"].begin().key(), c.op) << asp.json;
  }

  // Written with IfExists, a plain negated operator may meet the same operator with IfExists on
  // the same key: one condition of both values (neither may match), as Sluice decides both.
  const std::string both = one_statement(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringNotLike": {"s3:prefix": "a/*"}, "StringNotLikeIfExists": {"s3:prefix": ["b/*", "a/*"]}}})");
  SessionPolicy sp = concrete_session_policy(docs({both}), kTenantA);
  EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"][1]["Condition"],
            nlohmann::json::parse(R"({"StringNotLikeIfExists": {"s3:prefix": ["a/*", "b/*"]}})"));
  const auto original = docs({both});
  const auto concrete = docs({sp.json});
  for (const char* prefix : {"", "a/x", "b/x", "c/x"}) {
    Context ctx;
    if (*prefix) ctx["s3:prefix"] = {prefix};
    EXPECT_EQ(decide(concrete, "s3:ListBucket", "arn:aws:s3:::in", ctx),
              decide(original, "s3:ListBucket", "arn:aws:s3:::in", ctx))
        << prefix;
    // RGW 16 takes a negated operator with several values as true when any one does not match: it
    // denies more (here every request with a prefix), never less.
    if (decide(original, "s3:ListBucket", "arn:aws:s3:::in", ctx) == Outcome::kExplicitDeny) {
      EXPECT_EQ(store_decide(concrete, "s3:ListBucket", "arn:aws:s3:::in", ctx), Outcome::kExplicitDeny) << prefix;
    }
  }
}

// RGW 16 never matches the Arn operators (ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, with or
// without IfExists, are not implemented: false on a present key): a Deny that keeps one would not
// deny there, so it is refused; an Allow that keeps one is left out and listed. A condition on a
// principal key is decided now and is gone, and so is one decided by the key's presence alone.
TEST(SessionPolicy, ArnConditionsAreNeverGivenToTheStore) {
  for (const std::string op : {"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "ArnEqualsIfExists",
                               "ArnLikeIfExists", "ArnNotEqualsIfExists", "ArnNotLikeIfExists", "ForAnyValue:ArnLike"}) {
    SCOPED_TRACE(op);
    std::string m = refusal({one_statement(R"({"Sid": "Src", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {")" + op + R"(": {"aws:SourceArn": ["arn:aws:s3:::in/*", "${aws:PrincipalTag/nope}"]}}})")});
    EXPECT_EQ(m.rfind("policy 0 statement 0 (Sid Src): a Deny statement whose condition " + op +
                          " on aws:SourceArn uses an Arn operator (the store, Ceph RGW 16, does not implement "
                          "ArnEquals, ArnLike, ArnNotEquals or ArnNotLike and takes them as false whenever the key is "
                          "present, so it would not deny where Sluice does) cannot be given to the store; leaving it "
                          "out would widen what the job's credentials allow: remove StoreRoleArn or rewrite the statement",
                      0),
              0u)
        << m;
    SessionPolicy sp = concrete_session_policy(docs({one_statement(R"({"Sid": "Src", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": "*", "Condition": {")" + op + R"(": {"aws:SourceArn": "arn:aws:s3:::in/*"}}})")}),
                                               kTenantA);
    ASSERT_EQ(sp.omitted.size(), 1u) << sp.json;
    EXPECT_EQ(sp.omitted[0], "policy 0 statement 0 (Sid Src): condition " + op +
                                 " on aws:SourceArn: the store (Ceph RGW 16) never matches an Arn operator");
    EXPECT_EQ(sp.json, R"({"Statement":[{"Action":"s3:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"})");
  }
  const std::string text = one_statement(R"(
      {"Sid": "Mine", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
       "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}},
      {"Sid": "Other", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
       "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Jobs"}}},
      {"Sid": "NoValue", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
       "Condition": {"ArnLikeIfExists": {"aws:SourceArn": "${aws:PrincipalTag/nope}"}}},
      {"Sid": "Never", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"ArnEquals": {"aws:SourceArn": "${aws:PrincipalTag/nope}"}}},
      {"Sid": "Always", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"ArnNotLike": {"aws:SourceArn": "${aws:PrincipalTag/nope}"}}},
      {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})");
  SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"], nlohmann::json::parse(R"([
      {"Sid": "Mine", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
      {"Sid": "NoValue", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
       "Condition": {"Null": {"aws:SourceArn": "true"}}},
      {"Sid": "Always", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*"},
      {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])"))
      << sp.json;
  std::vector<Request> requests;
  for (const std::string action : {"s3:PutObject", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket"}) {
    requests.push_back({action, "arn:aws:s3:::in/x", {}});
    requests.push_back({action, "arn:aws:s3:::in/x", {{"aws:SourceArn", {"arn:aws:s3:::in/x"}}}});
  }
  expect_same_decisions({text}, sp, requests);
}

// RGW 16 takes Null as true exactly when the key is missing, whatever its value ("false" too):
// "the key is present" is written StringLike "*", which both take as false on a missing key and
// true on any value; "true" is kept; a Null both ways holds always.
TEST(SessionPolicy, NullIsWrittenAsTheStoreReadsIt) {
  const std::string text = one_statement(R"(
      {"Sid": "Present", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::secret",
       "Condition": {"Null": {"s3:prefix": "false"}}},
      {"Sid": "Absent", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::private",
       "Condition": {"Null": {"s3:prefix": "true"}}},
      {"Sid": "Either", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
       "Condition": {"Null": {"s3:x-amz-acl": ["true", "false"]}}},
      {"Sid": "Never", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
       "Condition": {"Null": {"s3:prefix": "true"}, "ForAnyValue:StringNotLike": {"s3:prefix": "${aws:PrincipalTag/nope}"}}},
      {"Sid": "Listed", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::in",
       "Condition": {"Null": {"s3:prefix": "false"}, "StringLike": {"s3:prefix": "${aws:PrincipalTag/tenant-id}/*"}}},
      {"Sid": "AnyPrefix", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::shared", "arn:aws:s3:::secret"],
       "Condition": {"ForAnyValue:StringNotLike": {"s3:prefix": "${aws:PrincipalTag/nope}"}}},
      {"Sid": "All", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::private"})");
  SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"], nlohmann::json::parse(R"([
      {"Sid": "Present", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::secret",
       "Condition": {"StringLike": {"s3:prefix": "*"}}},
      {"Sid": "Absent", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::private",
       "Condition": {"Null": {"s3:prefix": "true"}}},
      {"Sid": "Either", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
      {"Sid": "Listed", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::in",
       "Condition": {"StringLike": {"s3:prefix": "tenant-a/*"}}},
      {"Sid": "AnyPrefix", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::shared", "arn:aws:s3:::secret"],
       "Condition": {"StringLike": {"s3:prefix": "*"}}},
      {"Sid": "All", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::private"}])"))
      << sp.json;
  std::vector<Request> requests;
  for (const std::string bucket : {"in", "shared", "secret", "private"}) {
    for (const std::string prefix : {"", "tenant-a/x", "tenant-b/x"}) {
      Context ctx;
      if (!prefix.empty()) ctx["s3:prefix"] = {prefix};
      requests.push_back({"s3:ListBucket", "arn:aws:s3:::" + bucket, ctx});
    }
  }
  expect_same_decisions({text}, sp, requests);
}

// RGW 16 takes a negated operator with several values (NotIpAddress excepted) as true when any one
// of them does not match, where AWS and Sluice want none to match: an Allow would then allow more
// (here tenant-b's listing), so it is left out and listed. A Deny only denies more: kept.
TEST(SessionPolicy, NegatedConditionWithSeveralValuesInAnAllowIsLeftOut) {
  const std::string text = one_statement(R"(
      {"Sid": "Several", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::in",
       "Condition": {"StringNotLike": {"s3:prefix": ["tenant-b/*", "tenant-c/*"]}}},
      {"Sid": "OneLeft", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared",
       "Condition": {"StringNotEquals": {"s3:prefix": ["${aws:PrincipalTag/tenant-id}/", "tenant-a/", "${aws:PrincipalTag/nope}"]}}},
      {"Sid": "Ip", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}},
      {"Sid": "Deny", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::other",
       "Condition": {"StringNotLike": {"s3:prefix": ["tenant-b/*", "tenant-c/*"]}}})");
  SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
  ASSERT_EQ(sp.omitted.size(), 1u) << ::testing::PrintToString(sp.omitted);
  EXPECT_EQ(sp.omitted[0], "policy 0 statement 0 (Sid Several): condition StringNotLike on s3:prefix has several values: "
                           "the store (Ceph RGW 16) takes a negated operator as true when any one value does not match, "
                           "not only when none does");
  const auto j = nlohmann::json::parse(sp.json)["Statement"];
  ASSERT_EQ(j.size(), 3u) << sp.json;
  EXPECT_EQ(j[0]["Condition"], nlohmann::json::parse(R"({"StringNotEquals": {"s3:prefix": "tenant-a/"}})"));
  EXPECT_EQ(j[1]["Sid"], "Ip");
  EXPECT_EQ(j[2]["Condition"], nlohmann::json::parse(R"({"StringNotLikeIfExists": {"s3:prefix": ["tenant-b/*", "tenant-c/*"]}})"));
  const auto original = docs({text});
  const auto concrete = docs({sp.json});
  for (const std::string bucket : {"in", "shared", "other"}) {
    for (const std::string prefix : {"", "tenant-a/x", "tenant-b/x", "tenant-c/x"}) {
      Context ctx;
      if (!prefix.empty()) ctx["s3:prefix"] = {prefix};
      const std::string resource = "arn:aws:s3:::" + bucket;
      const Outcome want = decide(original, "s3:ListBucket", resource, ctx);
      const Outcome store = store_decide(concrete, "s3:ListBucket", resource, ctx);
      EXPECT_TRUE(want == Outcome::kAllow || store != Outcome::kAllow) << resource << " " << prefix << "\n" << sp.json;
      if (want == Outcome::kExplicitDeny) {
        EXPECT_EQ(store, Outcome::kExplicitDeny) << resource << " " << prefix;
      }
    }
  }
  for (const std::string ip : {"10.1.2.3", "192.168.1.1", "172.16.0.1"}) {
    const Context ctx{{"aws:SourceIp", {ip}}};
    EXPECT_EQ(store_decide(concrete, "s3:GetObject", "arn:aws:s3:::in/x", ctx),
              decide(original, "s3:GetObject", "arn:aws:s3:::in/x", ctx))
        << ip;
  }
}

// RGW 16 takes a set qualifier (ForAllValues:, ForAnyValue:) only with StringEquals,
// StringEqualsIgnoreCase and StringLike (IfExists or not), and refuses the whole policy
// (MalformedPolicyDocument) with any other operator, the negated ones included
// (tests/integration/sts_rgw_test.cpp, RgwSessionPolicyGrammar): AssumeRole would fail with a bare
// error. So a Deny with one is refused, naming it, and an Allow is left out and listed; a
// condition that only the key's presence decides is written without its qualifier, and one on a
// principal key is decided now: neither reaches the store.
TEST(SessionPolicy, SetQualifierTheStoreRefusesIsNeverWritten) {
  struct Case {
    std::string op, key, value;
  };
  const std::vector<Case> refused = {
      {"ForAllValues:StringNotLike", "s3:prefix", "tenant-a/*"},
      {"ForAnyValue:StringNotLike", "s3:prefix", "${aws:PrincipalTag/tenant-id}/*"},
      {"ForAnyValue:StringNotEquals", "s3:prefix", "tenant-a/"},
      {"ForAllValues:StringNotEqualsIgnoreCaseIfExists", "s3:delimiter", "/"},
      {"ForAnyValue:StringNotLikeIfExists", "s3:prefix", "tenant-a/*"},
      {"ForAllValues:NumericNotEquals", "s3:max-keys", "10"},
      {"ForAnyValue:NumericLessThan", "s3:max-keys", "10"},
      {"ForAnyValue:DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z"},
      {"ForAllValues:DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:00Z"},
      {"ForAnyValue:NotIpAddress", "aws:SourceIp", "10.0.0.0/8"},
      {"ForAnyValue:IpAddress", "aws:SourceIp", "10.0.0.0/8"},
      {"ForAllValues:Bool", "aws:SecureTransport", "true"},
  };
  for (const auto& c : refused) {
    SCOPED_TRACE(c.op);
    const std::string condition = R"("Condition": {")" + c.op + R"(": {")" + c.key + R"(": ")" + c.value + R"("}})";
    std::string m = refusal({one_statement(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "Q", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*", )" + condition + "}")});
    EXPECT_EQ(m, "policy 0 statement 1 (Sid Q): a Deny statement whose condition " + c.op + " on " + c.key +
                     " has a set qualifier with an operator the store cannot take (the store (Ceph RGW 16) takes "
                     "ForAllValues: and ForAnyValue: only with StringEquals, StringEqualsIgnoreCase and StringLike, "
                     "and refuses the whole policy (MalformedPolicyDocument) with any other operator, negated ones "
                     "included) cannot be given to the store; leaving it out would widen what the job's credentials "
                     "allow: remove StoreRoleArn or rewrite the statement");
    SessionPolicy sp = concrete_session_policy(docs({one_statement(R"({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "Q", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", )" + condition + "}")}),
                                               kTenantA);
    ASSERT_EQ(sp.omitted.size(), 1u) << sp.json;
    EXPECT_EQ(sp.omitted[0], "policy 0 statement 1 (Sid Q): condition " + c.op + " on " + c.key +
                                 ": the store (Ceph RGW 16) takes ForAllValues: and ForAnyValue: only with StringEquals, "
                                 "StringEqualsIgnoreCase and StringLike, and refuses the whole policy "
                                 "(MalformedPolicyDocument) with any other operator, negated ones included");
    EXPECT_EQ(sp.json, R"({"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"})");
  }
  // What the store takes is written as it is.
  for (const std::string op : {"ForAllValues:StringEquals", "ForAnyValue:StringEqualsIgnoreCase", "ForAnyValue:StringLike",
                               "ForAllValues:StringLikeIfExists", "ForAnyValue:StringEqualsIfExists"}) {
    SCOPED_TRACE(op);
    for (const std::string effect : {"Allow", "Deny"}) {
      SessionPolicy sp = concrete_session_policy(docs({one_statement(R"({"Effect": ")" + effect + R"(", "Action": "s3:ListBucket",
          "Resource": "*", "Condition": {")" + op + R"(": {"s3:prefix": "tenant-a/"}}})")}),
                                                 kTenantA);
      EXPECT_TRUE(sp.omitted.empty());
      EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"][0]["Condition"],
                nlohmann::json::parse(R"({")" + op + R"(": {"s3:prefix": "tenant-a/"}})"));
    }
  }
  // Decided by the key's presence alone, or on a principal key: nothing with a qualifier is written.
  const std::string text = one_statement(R"(
      {"Sid": "Presence", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"ForAnyValue:StringNotLike": {"s3:prefix": "${aws:PrincipalTag/nope}"}}},
      {"Sid": "Principal", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
       "Condition": {"ForAllValues:StringNotEquals": {"aws:PrincipalTag/tenant-id": "tenant-b"}}})");
  SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  EXPECT_EQ(sp.json.find("ForA"), std::string::npos) << sp.json;
  std::vector<Request> requests;
  for (const std::string prefix : {"", "a/"}) {
    Context ctx;
    if (!prefix.empty()) ctx["s3:prefix"] = {prefix};
    requests.push_back({"s3:ListBucket", "arn:aws:s3:::in", ctx});
    requests.push_back({"s3:PutObject", "arn:aws:s3:::in/x", ctx});
  }
  expect_same_decisions({text}, sp, requests);
}

// RGW 16 looks condition keys up case-sensitively (rgw::IAM::Environment is an unordered_multimap),
// where AWS and Sluice do not: a Deny on "S3:Prefix" would never deny at the store, and an Allow
// with IfExists (or Null "true") on it would always hold there. Each known key is written as RGW
// spells it (AWS's spelling for the keys RGW 16 does not set; the tag key after a tag prefix as
// it is); an unknown key as it is.
TEST(SessionPolicy, ConditionKeysAreWrittenInTheStoreSpelling) {
  const std::string text = one_statement(R"(
      {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"S3:Prefix": "open/"}}},
      {"Sid": "Prefix", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringEquals": {"S3:PREFIX": "secret/"}, "StringEqualsIgnoreCase": {"s3:Delimiter": "|"}}},
      {"Sid": "Max", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"NumericGreaterThan": {"S3:Max-Keys": "500"}}},
      {"Sid": "Ip", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}, "DateGreaterThan": {"aws:currenttime": "2020-01-01T00:00:00Z"}}},
      {"Sid": "Agent", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"StringLike": {"aws:useragent": "curl/*"}, "Bool": {"AWS:SecureTransport": "false"}}},
      {"Sid": "Acl", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
       "Condition": {"StringEquals": {"S3:X-Amz-Acl": "public-read"}, "StringLike": {"s3:existingobjecttag/Team": "red"},
                     "Null": {"STS:Authentication": "false", "Vendor:Custom": "true"}}})");
  SessionPolicy sp = concrete_session_policy(docs({text}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"], nlohmann::json::parse(R"([
      {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"s3:prefix": "open/"}}},
      {"Sid": "Prefix", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringEquals": {"s3:prefix": "secret/"}, "StringEqualsIgnoreCase": {"s3:delimiter": "|"}}},
      {"Sid": "Max", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"NumericGreaterThan": {"s3:max-keys": "500"}}},
      {"Sid": "Ip", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
      {"Sid": "Agent", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"StringLike": {"aws:UserAgent": "curl/*"}, "Bool": {"aws:SecureTransport": "false"}}},
      {"Sid": "Acl", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
       "Condition": {"StringEquals": {"s3:x-amz-acl": "public-read"}, "StringLike": {"s3:ExistingObjectTag/Team": "red", "sts:authentication": "*"},
                     "Null": {"Vendor:Custom": "true"}}}])"))
      << sp.json;
  // Requests as the store sees them: keys in its spelling.
  std::vector<Request> requests;
  for (const std::string prefix : {"", "open/", "secret/", "other/"}) {
    for (const std::string delimiter : {"", "|"}) {
      for (const std::string max : {"", "1000"}) {
        Context ctx;
        if (!prefix.empty()) ctx["s3:prefix"] = {prefix};
        if (!delimiter.empty()) ctx["s3:delimiter"] = {delimiter};
        if (!max.empty()) ctx["s3:max-keys"] = {max};
        requests.push_back({"s3:ListBucket", "arn:aws:s3:::in", ctx});
      }
    }
  }
  for (const std::string ip : {"10.1.2.3", "127.0.0.1"}) {
    for (const std::string agent : {"curl/8", "sluice/1"}) {
      requests.push_back({"s3:GetObject", "arn:aws:s3:::in/x",
                          {{"aws:SourceIp", {ip}}, {"aws:CurrentTime", {"2026-01-01T00:00:00Z"}}, {"aws:UserAgent", {agent}},
                           {"aws:SecureTransport", {"false"}}}});
    }
  }
  for (const std::string acl : {"public-read", "private"}) {
    for (const std::string team : {"red", "blue"}) {
      requests.push_back({"s3:PutObject", "arn:aws:s3:::in/x",
                          {{"s3:x-amz-acl", {acl}}, {"s3:ExistingObjectTag/Team", {team}}, {"sts:authentication", {"true"}}}});
    }
  }
  expect_same_decisions({text}, sp, requests);

  // Two conditions under one operator on keys that differ only in case are one condition to Sluice
  // and AWS, and one key in the store's spelling. Negated, with no set qualifier, their values
  // merge exactly (no value may match); otherwise the store would take either one's values where
  // both must hold: a Deny is refused, an Allow left out. An Allow whose merged negated condition
  // has several values is left out as any other (NegatedConditionWithSeveralValuesInAnAllowIsLeftOut).
  const std::string merged = one_statement(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringNotLike": {"s3:prefix": "a/*", "S3:Prefix": "b/*"}, "StringNotLikeIfExists": {"S3:PREFIX": "c/*"}}})");
  sp = concrete_session_policy(docs({merged}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  EXPECT_EQ(nlohmann::json::parse(sp.json)["Statement"][1]["Condition"],
            nlohmann::json::parse(R"({"StringNotLikeIfExists": {"s3:prefix": ["b/*", "a/*", "c/*"]}})"));  // S3:Prefix sorts first
  for (const char* prefix : {"", "a/x", "b/x", "c/x", "d/x"}) {
    Context ctx;
    if (*prefix) ctx["s3:prefix"] = {prefix};
    const Outcome want = decide(docs({merged}), "s3:ListBucket", "arn:aws:s3:::in", ctx);
    EXPECT_EQ(decide(docs({sp.json}), "s3:ListBucket", "arn:aws:s3:::in", ctx), want) << prefix;
    if (want == Outcome::kExplicitDeny) {
      EXPECT_EQ(store_decide(docs({sp.json}), "s3:ListBucket", "arn:aws:s3:::in", ctx), Outcome::kExplicitDeny) << prefix;
    }
  }
  std::string m = refusal({one_statement(R"({"Sid": "Both", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
      "Condition": {"StringLike": {"s3:prefix": "a/*", "S3:Prefix": "*/x"}}})")});
  EXPECT_EQ(m.rfind("policy 0 statement 0 (Sid Both): a Deny statement whose conditions StringLike on S3:Prefix and "
                    "StringLike on s3:prefix are on the same key under the same operator once the key is written in "
                    "the store's spelling",
                    0),
            0u)
      << m;
  sp = concrete_session_policy(docs({one_statement(R"(
      {"Sid": "Both", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringLike": {"s3:prefix": "a/*", "S3:Prefix": "*/x"}}},
      {"Sid": "Two", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringNotLike": {"s3:prefix": "a/*", "S3:Prefix": "b/*"}}})")}),
                               kTenantA);
  ASSERT_EQ(sp.omitted.size(), 2u) << sp.json;
  EXPECT_EQ(sp.omitted[0].rfind("policy 0 statement 0 (Sid Both): conditions StringLike on S3:Prefix and StringLike on "
                                "s3:prefix are on the same key",
                                0),
            0u)
      << sp.omitted[0];
  EXPECT_EQ(sp.omitted[1], "policy 0 statement 1 (Sid Two): condition StringNotLike on S3:Prefix with StringNotLike on "
                           "s3:prefix has several values: the store (Ceph RGW 16) takes a negated operator as true when "
                           "any one value does not match, not only when none does");
}

// Sluice takes `${$}` as a literal `$`, a value substituted for a variable as it is, an unclosed
// `${` as text, and the whole text of a 2008-10-17 policy as it is. Written to the store, a `${`
// in a resource, or a condition value that begins with `$`, would be read there as a policy
// variable or refused (RGW 16 substitutes a condition value ${aws:username}, refuses one that
// begins with `$` otherwise, such as "$x" or "${x", and refuses ${aws:username} in a resource:
// tests/integration/sts_rgw_test.cpp); so would, to no store's reading, a `${` later in a
// condition value. A Deny holding one is refused, an Allow left out and listed; any other `$` is
// written as it is.
TEST(SessionPolicy, LiteralVariableIsNeverGivenToTheStore) {
  struct Case {
    std::string statement, why;
    Context principal = kTenantA;
  };
  const std::string resource_why =
      " would hold a literal ${ (from ${$}, a value substituted for a variable or text taken as it is), which the store "
      "(Ceph RGW 16) reads as a policy variable";
  const std::string condition_why =
      " has a value that would hold a literal ${ or begin with $ (from ${$}, a value substituted for a variable or text "
      "taken as it is), which the store (Ceph RGW 16) reads as a policy variable (it substitutes ${aws:username} there, "
      "for one) or refuses";
  const Context odd_tag{{"aws:PrincipalTag/tenant-id", {"${aws:username}"}}};
  const Context dollar_tag{{"aws:PrincipalTag/tenant-id", {"$a"}}};
  const std::vector<Case> cases = {
      {R"({"Sid": "R", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${$}{aws:username}/*"})",
       "whose Resource arn:aws:s3:::b/${$}{aws:username}/*" + resource_why},
      {R"({"Sid": "NR", "Effect": "Deny", "Action": "s3:GetObject", "NotResource": ["arn:aws:s3:::b/x", "arn:aws:s3:::b/${$}{x}"]})",
       "whose NotResource arn:aws:s3:::b/${$}{x}" + resource_why},
      {R"({"Sid": "C", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringEquals": {"s3:prefix": ["a/", "${$}{aws:username}"]}}})",
       "whose condition StringEquals on s3:prefix" + condition_why},
      {R"({"Sid": "Lead", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringEquals": {"s3:prefix": "${$}x"}}})",
       "whose condition StringEquals on s3:prefix" + condition_why},
      {R"({"Sid": "Open", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringNotLike": {"s3:prefix": "a${b"}}})",
       "whose condition StringNotLike on s3:prefix" + condition_why},
      {R"({"Sid": "Tag", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/tenant-id}/*"})",
       "whose Resource arn:aws:s3:::b/${aws:PrincipalTag/tenant-id}/*" + resource_why, odd_tag},
      {R"({"Sid": "TagC", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringEquals": {"s3:prefix": "${aws:PrincipalTag/tenant-id}"}}})",
       "whose condition StringEquals on s3:prefix" + condition_why, odd_tag},
      {R"({"Sid": "TagD", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
          "Condition": {"StringNotEquals": {"s3:prefix": "${aws:PrincipalTag/tenant-id}/"}}})",
       "whose condition StringNotEquals on s3:prefix" + condition_why, dollar_tag},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.statement);
    const std::string text = one_statement(c.statement);
    std::string m = refusal({text}, c.principal);
    const std::string sid = c.statement.substr(9, c.statement.find('"', 9) - 9);
    EXPECT_EQ(m.rfind("policy 0 statement 0 (Sid " + sid + "): a Deny statement " + c.why + " cannot be given", 0), 0u)
        << m;
    std::string allow = text;
    allow.replace(allow.find("\"Deny\""), 6, "\"Allow\"");
    SessionPolicy sp = concrete_session_policy(docs({allow}), c.principal);
    ASSERT_EQ(sp.omitted.size(), 1u) << sp.json;
    if (sid == "NR") continue;  // an Allow with NotResource is left out for that
    const std::string what = c.statement.find("Condition") == std::string::npos
                                 ? "a resource holds a literal ${"
                                 : "a value of condition " + c.why.substr(16, c.why.find(" has ") - 16) +
                                       " holds a literal ${ or begins with $";
    EXPECT_EQ(sp.omitted[0], "policy 0 statement 0 (Sid " + sid + "): " + what + ", which the store reads as a policy variable");
  }
  // A 2008-10-17 policy: its text is taken as it is, by Sluice and (without `${`) by the store.
  std::string m = refusal({R"({"Version": "2008-10-17", "Statement": [{"Sid": "Old", "Effect": "Deny",
      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]})"});
  EXPECT_EQ(m.rfind("policy 0 statement 0 (Sid Old): a Deny statement whose Resource arn:aws:s3:::b/${aws:username}/*" +
                        resource_why,
                    0),
            0u)
      << m;
  // Any other `$`: as it is (the store reads each so).
  const std::string dollars = one_statement(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/a$b{c}"]},
      {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringEquals": {"s3:prefix": ["x${$}", "a$b", "${aws:PrincipalTag/tenant-id}$"]}}})");
  SessionPolicy sp = concrete_session_policy(docs({dollars}), kTenantA);
  EXPECT_TRUE(sp.omitted.empty());
  const auto j = nlohmann::json::parse(sp.json)["Statement"];
  EXPECT_EQ(j[1]["Resource"], nlohmann::json::parse(R"(["arn:aws:s3:::b/$x", "arn:aws:s3:::b/a$b{c}"])"));
  EXPECT_EQ(j[2]["Condition"]["StringEquals"]["s3:prefix"], nlohmann::json::parse(R"(["x$", "a$b", "tenant-a$"])"));
}

// Action entries are narrowed to the S3 actions they match, as patterns RGW matches the same way.
TEST(SessionPolicy, ActionPatternsAreNarrowedToS3) {
  auto actions = [](const std::string& list) {
    SessionPolicy sp = concrete_session_policy(
        docs({one_statement(R"({"Effect": "Deny", "Action": )" + list + R"(, "Resource": "*"})")}), kTenantA);
    EXPECT_TRUE(sp.omitted.empty());
    return nlohmann::json::parse(sp.json)["Statement"][0]["Action"].dump();
  };
  EXPECT_EQ(actions(R"("*")"), R"("s3:*")");
  EXPECT_EQ(actions(R"("s*:*")"), R"("s3:*")");
  EXPECT_EQ(actions(R"("S3:**")"), R"("s3:*")");
  EXPECT_EQ(actions(R"(["s3:GetObject", "s3:*"])"), R"("s3:*")");
  EXPECT_EQ(actions(R"("S3:getobject")"), R"("s3:getobject")");
  EXPECT_EQ(actions(R"("s3:Get*")"), R"("s3:Get*")");
  EXPECT_EQ(actions(R"("*:GetObject")"), R"("s3:GetObject")");
  EXPECT_EQ(actions(R"("*:*Object")"), R"("s3:*Object")");
  EXPECT_EQ(actions(R"("s?:Put*")"), R"("s3:Put*")");
  EXPECT_EQ(actions(R"("*3:*Object")"), R"("s3:*Object")");
  EXPECT_EQ(actions(R"(["*:GetObject", "s3:GetObject", "iam:*", "s3:ListBucket"])"), R"(["s3:GetObject","s3:ListBucket"])");
  // Nothing of S3: the statement is not about the store.
  SessionPolicy sp = concrete_session_policy(
      docs({one_statement(R"({"Effect": "Deny", "Action": ["iam:*", "s3x:GetObject", "s4:*", "*:*:x"], "Resource": "*"})")}), kTenantA);
  EXPECT_EQ(sp.json, R"({"Statement":[{"Action":"s3:*","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"})");
  EXPECT_TRUE(sp.omitted.empty());
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
      {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*", "Condition": {"StringLikeIfExists": {"s3:prefix": "${aws:PrincipalTag/nope}"}}}]})",
      // Deny forms written differently for the store: NotAction without S3 actions, a pattern
      // action, NotResource; an Allow whose pattern action is narrowed to S3.
      R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Deny", "NotAction": ["iam:*", "sts:AssumeRole"], "Resource": "arn:aws:s3:::other/tenant-b/*"},
      {"Effect": "Deny", "Action": "*:DeleteObject", "NotResource": ["arn:aws:s3:::shared/${aws:PrincipalTag/tenant-id}/*", "arn:aws:s3:::x/${aws:PrincipalTag/nope}"]},
      {"Effect": "Allow", "Action": "*:*Object", "Resource": "arn:aws:s3:::other/*"}]})"};
  const auto original = docs(texts);
  std::mt19937 rng(7);
  const std::vector<std::string> actions = {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"};
  const std::vector<std::string> buckets = {"in", "out", "shared", "other"};
  const std::vector<std::string> tenants = {"tenant-a", "tenant-b", "common", "tenant-a-x", ""};
  int deny_applied = 0;
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
      // RGW 16 (store_decide) decides the same here, except on an Allow's negated operator on a
      // missing key (none here: every listing has a prefix).
      ASSERT_EQ(store_decide(concrete, action, resource, request) == Outcome::kAllow, want)
          << action << " " << resource << "\n" << sp.json;
      deny_applied += decide(original, action, resource, full) == Outcome::kExplicitDeny;
    }
  }
  EXPECT_GT(deny_applied, 1000);  // the Denies are exercised, not only the Allows
}

// Random policies from parts that cover every form (Allow/Deny, Action/NotAction with S3, non-S3
// and pattern entries, Resource/NotResource with variables, missing tags and ${*}/${?}, conditions
// on principal and request keys). For each policy set and principal, the result is one of:
// - refused: only for a Deny that holds an unexpressible part (NotAction leaving out S3 actions,
//   a literal * or ? in a resource or a Like/Arn condition value, an Arn operator on a request
//   key), named by its Sid;
// - some Allows omitted (never a Deny): the store allows no request the original does not;
// - nothing omitted: the store allows exactly what the original allows.
// And evaluated as RGW 16 does (store_decide), the concrete policy never allows a request the
// original does not, and denies every request one of the original's Denies denies.
TEST(SessionPolicy, RandomPoliciesNeverWidenAndRefuseOnlyUnexpressibleDenies) {
  struct Part {
    std::string text;
    bool unexpressible;  // actions: may match an S3 action; resources: may hold a literal * or ?
    bool all_s3 = false;  // actions: matches every S3 action
  };
  const std::vector<Part> action_parts = {
      {"s3:GetObject", true}, {"s3:ListBucket", true}, {"s3:PutObject", true}, {"s3:*", true, true},
      {"*", true, true},      {"s3:Get*", true},       {"*:GetObject", true},  {"*:*Object", true},
      {"iam:*", false},       {"elasticfilesystem:ClientMount", false},      {"S3:listbucket", true},
      {"s?:PutObject", true}, {"s*:*", true, true},     {"*:DeleteObject", true}};
  const std::vector<Part> resource_parts = {
      {"*", false},
      {"arn:aws:s3:::in/*", false},
      {"arn:aws:s3:::in/${aws:PrincipalTag/tenant-id}/*", false},
      {"arn:aws:s3:::${aws:PrincipalTag/missing}/*", false},
      {"arn:aws:s3:::shared", false},
      {"arn:aws:s3:::in", false},
      {"arn:aws:s3:::out/${aws:PrincipalTag/tenant-id, 'common'}/*", false},
      {"arn:aws:s3:::b/${*}", true},
      {"arn:aws:s3:::*/secret*", false},
      {"arn:aws:s3:::b/${aws:PrincipalTag/tenant-id}/${?}", true},
      {"arn:aws:s3:::in/${$}{aws:PrincipalTag/tenant-id}/*", true}};
  struct CondPart {
    std::string op, key;
    std::vector<std::string> values;
    bool unexpressible;
  };
  const std::vector<CondPart> condition_parts = {
      {"StringLike", "s3:prefix", {"${aws:PrincipalTag/tenant-id}/*"}, false},
      {"StringNotLike", "s3:prefix", {"${aws:PrincipalTag/tenant-id}/*", "common/*"}, false},
      {"StringEquals", "aws:PrincipalTag/tenant-id", {"tenant-a"}, false},
      {"StringLikeIfExists", "s3:prefix", {"${aws:PrincipalTag/nope}"}, false},
      {"StringEquals", "s3:prefix", {"${*}", "tenant-a/x"}, false},
      {"ForAnyValue:StringLike", "s3:prefix", {"a${?}*"}, true},
      {"Null", "s3:prefix", {"true"}, false},
      {"StringNotEquals", "aws:PrincipalTag/tenant-id", {"tenant-b"}, false},
      // Written as RGW 16 evaluates them: "present" for Null false, IfExists on a Deny's negated
      // operator (meeting the one written with it), an Allow with a negated operator of several
      // values left out, an Arn operator refused in a Deny (unless decided now) and left out of an Allow.
      {"Null", "s3:prefix", {"false"}, false},
      {"StringNotLikeIfExists", "s3:prefix", {"tenant-b/*"}, false},
      {"NumericNotEquals", "s3:max-keys", {"10"}, false},
      {"StringNotEquals", "s3:prefix", {"${aws:PrincipalTag/nope}", "tenant-b/x", "common/x"}, false},
      {"ArnLike", "aws:SourceArn", {"arn:aws:s3:::in/*"}, true},
      {"ArnNotEquals", "aws:PrincipalArn", {"arn:aws:iam::123456789012:role/Jobs"}, false},
      // Written in the store's key spelling (the store looks keys up case-sensitively); a set
      // qualifier the store refuses, and a literal ${, are never written.
      {"StringNotLike", "S3:Prefix", {"tenant-b/*"}, false},
      {"StringLike", "S3:PREFIX", {"${aws:PrincipalTag/tenant-id}/*", "common/*"}, false},
      {"NumericGreaterThan", "S3:Max-Keys", {"7"}, false},
      {"ForAnyValue:StringNotLike", "s3:prefix", {"tenant-b/*"}, true},
      {"ForAllValues:NumericLessThan", "s3:max-keys", {"8"}, true},
      {"ForAnyValue:StringLike", "s3:prefix", {"common/*"}, false},
      {"StringEquals", "s3:prefix", {"${$}{aws:PrincipalTag/tenant-id}/x"}, true}};
  const std::vector<Context> principals = {kTenantA, Context{{"aws:PrincipalTag/tenant-id", {"tenant-b"}}}, Context{}};
  const std::vector<std::string> actions = {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"};
  const std::vector<std::string> buckets = {"in", "out", "shared", "other", "b"};
  const std::vector<std::string> tenants = {"tenant-a", "tenant-b", "common", "*", ""};
  const std::vector<std::string> names = {"x", "secret.bin", "a/b", "", "*", "?"};

  std::mt19937 rng(12);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  int refused = 0, narrowed = 0, exact = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<std::string> texts;
    std::set<std::string> refusable;  // Sids of the Denies that may be refused
    int next_sid = 0;
    for (std::size_t p = 0, np = 1 + pick(2); p < np; ++p) {
      nlohmann::json statements = nlohmann::json::array();
      for (std::size_t k = 0, nk = 1 + pick(4); k < nk; ++k) {
        const bool deny = pick(2) == 0;
        nlohmann::json st;
        const std::string sid = (deny ? "D" : "A") + std::to_string(next_sid++);
        st["Sid"] = sid;
        st["Effect"] = deny ? "Deny" : "Allow";
        const bool not_action = pick(4) == 0;
        bool any_s3 = false, all_s3 = false, literal = false;
        nlohmann::json list = nlohmann::json::array();
        for (std::size_t a = 0, na = 1 + pick(2); a < na; ++a) {
          const Part& part = action_parts[pick(action_parts.size())];
          list.push_back(part.text);
          any_s3 = any_s3 || part.unexpressible;
          all_s3 = all_s3 || part.all_s3;
        }
        st[not_action ? "NotAction" : "Action"] = list;
        list = nlohmann::json::array();
        for (std::size_t r = 0, nr = 1 + pick(2); r < nr; ++r) {
          const Part& part = resource_parts[pick(resource_parts.size())];
          list.push_back(part.text);
          literal = literal || part.unexpressible;
        }
        st[pick(5) == 0 ? "NotResource" : "Resource"] = list;
        for (std::size_t c = 0, nc = pick(3); c < nc; ++c) {
          const CondPart& part = condition_parts[pick(condition_parts.size())];
          // One condition per operator and key, keys compared as Sluice and AWS do (case-insensitively).
          if (st.contains("Condition") && st["Condition"].contains(part.op) &&
              std::any_of(st["Condition"][part.op].items().begin(), st["Condition"][part.op].items().end(),
                          [&](const auto& kv) { return iequals(kv.key(), part.key); })) {
            continue;
          }
          st["Condition"][part.op][part.key] = part.values;
          literal = literal || part.unexpressible;
        }
        if (deny && ((not_action && any_s3 && !all_s3) || literal)) refusable.insert(sid);
        statements.push_back(st);
      }
      texts.push_back(nlohmann::json{{"Version", "2012-10-17"}, {"Statement", statements}}.dump());
    }
    const auto original = docs(texts);
    for (const Context& principal : principals) {
      SCOPED_TRACE(::testing::PrintToString(texts));
      SessionPolicy sp;
      try {
        sp = concrete_session_policy(original, principal);
      } catch (const Error& e) {
        ++refused;
        EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
        const std::string m = e.message();
        auto at = m.find("(Sid ");
        ASSERT_NE(at, std::string::npos) << m;
        const std::string sid = m.substr(at + 5, m.find(')', at) - at - 5);
        EXPECT_TRUE(refusable.count(sid)) << "refused a Deny that can be expressed: " << m;
        EXPECT_NE(m.find("): a Deny statement "), std::string::npos) << m;
        continue;
      }
      for (const auto& o : sp.omitted) EXPECT_NE(o.find("(Sid A"), std::string::npos) << "a Deny was left out: " << o;
      EXPECT_EQ(sp.json.find("NotAction"), std::string::npos) << sp.json;  // RGW 16 never applies it
      EXPECT_EQ(sp.json.find("${"), std::string::npos) << sp.json;         // RGW 16 refuses variables
      (sp.omitted.empty() ? exact : narrowed)++;
      const auto concrete = docs({sp.json});
      for (int i = 0; i < 150; ++i) {
        const std::string action = actions[pick(actions.size())];
        std::string resource = "arn:aws:s3:::" + buckets[pick(buckets.size())];
        Context request;
        if (action == "s3:ListBucket") {
          switch (pick(8)) {
            case 0: break;  // no prefix
            case 1: request["s3:prefix"] = {"*"}; break;
            default: request["s3:prefix"] = {tenants[pick(tenants.size())] + "/" + names[pick(names.size())]};
          }
          if (pick(2) == 0) request["s3:max-keys"] = {pick(2) == 0 ? "10" : "5"};
        } else {
          resource += "/" + tenants[pick(tenants.size())] + "/" + names[pick(names.size())];
          if (pick(2) == 0) request["aws:SourceArn"] = {resource};
        }
        Context full = request;
        for (const auto& [k, v] : principal) full[k] = v;
        const Outcome original_outcome = decide(original, action, resource, full);
        const bool want = original_outcome == Outcome::kAllow;
        const bool got = decide(concrete, action, resource, request) == Outcome::kAllow;
        if (sp.omitted.empty()) {
          ASSERT_EQ(got, want) << action << " " << resource << "\n" << sp.json;
        } else {
          ASSERT_TRUE(want || !got) << "the store allows more: " << action << " " << resource << "\n" << sp.json;
        }
        // As RGW 16 evaluates the concrete policy: it never allows more, and a Deny is never weaker.
        const Outcome store = store_decide(concrete, action, resource, request);
        ASSERT_TRUE(want || store != Outcome::kAllow)
            << "RGW allows more: " << action << " " << resource << " " << ::testing::PrintToString(request) << "\n" << sp.json;
        if (original_outcome == Outcome::kExplicitDeny) {
          ASSERT_EQ(store, Outcome::kExplicitDeny)
              << "RGW does not deny: " << action << " " << resource << " " << ::testing::PrintToString(request) << "\n"
              << sp.json;
        }
      }
    }
  }
  // Every outcome is exercised.
  EXPECT_GT(refused, 50);
  EXPECT_GT(narrowed, 50);
  EXPECT_GT(exact, 50);
}

}  // namespace
}  // namespace sluice::policy
