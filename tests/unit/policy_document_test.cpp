// policy/document: parsing and validation of identity/session policy documents; malformed JSON
// reports byte offset and line:column, structural errors name the JSON path.
#include "policy/document.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"

namespace sluice::policy {
namespace {

Error refusal(const std::string& text) {
  try {
    parse_document(text);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-Error: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

void expect_refused(const std::string& text, const std::string& part) {
  SCOPED_TRACE(text);
  Error e = refusal(text);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
}

std::string stmt(const std::string& body) {
  return R"({"Version":"2012-10-17","Statement":[)" + body + "]}";
}

TEST(PolicyDocument, ParsesFullDocument) {
  Document d = parse_document(R"({
    "Version": "2012-10-17",
    "Id": "tenant-policy",
    "Statement": [
      {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
       "Resource": "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*",
       "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "s3:prefix": "x"},
                     "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "t*"},
                     "NumericLessThan": {"s3:max-keys": 10},
                     "Bool": {"aws:SecureTransport": true},
                     "Null": {"aws:PrincipalTag/tenant-id": "false"},
                     "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                     "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]},
                     "ArnLike": {"aws:SourceArn": "arn:aws:iam::*:role/*"}}},
      {"Effect": "Deny", "NotAction": "s3:*", "NotResource": ["arn:aws:s3:::a", "arn:aws:s3:::b/*"]}
    ]})");
  EXPECT_EQ(d.version, Version::k2012_10_17);
  EXPECT_EQ(d.id, "tenant-policy");
  ASSERT_EQ(d.statements.size(), 2u);
  const Statement& s = d.statements[0];
  EXPECT_EQ(s.sid, "Read");
  EXPECT_EQ(s.effect, Effect::kAllow);
  EXPECT_FALSE(s.not_action);
  EXPECT_EQ(s.actions, (std::vector<std::string>{"s3:GetObject", "s3:ListBucket"}));
  EXPECT_FALSE(s.not_resource);
  EXPECT_EQ(s.resources, (std::vector<std::string>{"arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*"}));
  ASSERT_EQ(s.conditions.size(), 9u);  // StringEquals has two keys
  bool saw_any = false, saw_num = false, saw_bool = false, saw_team = false;
  for (const Condition& c : s.conditions) {
    if (c.op_name == "ForAnyValue:StringLikeIfExists") {
      saw_any = true;
      EXPECT_EQ(c.op, Operator::kStringLike);
      EXPECT_EQ(c.qualifier, SetQualifier::kForAnyValue);
      EXPECT_TRUE(c.if_exists);
      EXPECT_EQ(c.key, "aws:TagKeys");
    }
    if (c.op == Operator::kNumericLessThan) {
      saw_num = true;
      EXPECT_EQ(c.values, (std::vector<std::string>{"10"}));
    }
    if (c.op == Operator::kBool) {
      saw_bool = true;
      EXPECT_EQ(c.values, (std::vector<std::string>{"true"}));
    }
    if (c.key == "aws:PrincipalTag/team") {
      saw_team = true;
      EXPECT_EQ(c.values, (std::vector<std::string>{"a", "b"}));
      EXPECT_EQ(c.qualifier, SetQualifier::kNone);
      EXPECT_FALSE(c.if_exists);
    }
  }
  EXPECT_TRUE(saw_any && saw_num && saw_bool && saw_team);
  const Statement& t = d.statements[1];
  EXPECT_EQ(t.sid, "");
  EXPECT_EQ(t.effect, Effect::kDeny);
  EXPECT_TRUE(t.not_action);
  EXPECT_TRUE(t.not_resource);
  EXPECT_EQ(t.resources.size(), 2u);
}

TEST(PolicyDocument, StatementAsSingleObjectAndVersions) {
  Document d = parse_document(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
  EXPECT_EQ(d.version, Version::k2008_10_17);  // missing Version: 2008 semantics
  ASSERT_EQ(d.statements.size(), 1u);
  EXPECT_EQ(d.statements[0].actions, (std::vector<std::string>{"*"}));
  Document e = parse_document(
      R"({"Version":"2008-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}})");
  EXPECT_EQ(e.version, Version::k2008_10_17);
  EXPECT_EQ(e.statements[0].effect, Effect::kDeny);
}

TEST(PolicyDocument, HugeNumberIsMalformedJson) {  // found by the policy fuzz target
  expect_refused(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",)"
                 R"("Condition":{"NumericEquals":{"k":1e999}}}]})",
                 "malformed JSON");
}

TEST(PolicyDocument, MalformedJsonNamesPosition) {
  // Missing comma after the Effect line: the error is at the end of the unexpected "Action" token.
  const std::string text = "{\n  \"Statement\": {\n    \"Effect\": \"Allow\"\n    \"Action\": \"*\"\n  }\n}";
  Error e = refusal(text);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  std::string w = e.what();
  EXPECT_NE(w.find("malformed JSON at byte 52 (line 4, column 12)"), std::string::npos) << w;
  EXPECT_EQ(text.substr(45, 8), "\"Action\"");
  EXPECT_NE(w.find("expected '}'"), std::string::npos) << w;
  expect_refused("", "malformed JSON at byte 0 (line 1, column 1)");
  expect_refused("{\"Version\": \"2012-10-17\",}", "line 1, column 26");
  expect_refused("{\"Statement\": [ {} ", "unexpected end of input");
}

// The tenant policy in the shape of the SageMaker ABAC guide's example, as published with a JSON
// syntax error (a trailing comma after the last statement): it must be rejected with a position,
// not repaired.
TEST(PolicyDocument, TenantExampleWithSyntaxErrorIsRejected) {
  const std::string text = R"({
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": "arn:aws:s3:::input-bucket/${aws:PrincipalTag/tenant-id}/*"
        },
    ]
})";
  Error e = refusal(text);
  std::string w = e.what();
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(w.find("malformed JSON at byte"), std::string::npos) << w;
  EXPECT_NE(w.find("(line 9, column 5)"), std::string::npos) << w;
  EXPECT_NE(w.find("unexpected ']'"), std::string::npos) << w;
}

TEST(PolicyDocument, StructuralErrorsNameThePath) {
  expect_refused("[]", "(document): must be a JSON object, got a list");
  expect_refused(R"({"Version":"2012-10-17"})", "Statement: missing");
  expect_refused(R"({"Version":"2012-10-18","Statement":[]})", "Version: must be \"2012-10-17\" or \"2008-10-17\", got \"2012-10-18\"");
  expect_refused(R"({"Version":"2012-10-17","Statement":[]})", "Statement: must not be an empty list");
  expect_refused(R"({"Statment":[]})", "Statment: unknown top-level element");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"allow","Action":"*","Resource":"*"})"),
                 R"(Statement[1].Effect: must be "Allow" or "Deny", got "allow")");
  expect_refused(stmt(R"({"Action":"*","Resource":"*"})"), "Statement[0].Effect: missing");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*","NotAction":"s3:x","Resource":"*"})"),
                 "Statement[0]: has both Action and NotAction");
  expect_refused(stmt(R"({"Effect":"Allow","Resource":"*"})"), "Statement[0]: has neither Action nor NotAction");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"})"),
                 "Statement[0]: has both Resource and NotResource");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*"})"), "Statement[0]: has neither Resource nor NotResource");
  expect_refused(stmt(R"({"Effect":"Allow","Action":["s3:a", 3],"Resource":"*"})"),
                 "Statement[0].Action[1]: must be a string, got a number (3)");
  expect_refused(stmt(R"({"Effect":"Allow","Action":[],"Resource":"*"})"), "Statement[0].Action: must not be an empty list");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"GetObject","Resource":"*"})"),
                 "Statement[0].Action: an action must be \"*\" or \"service:action\"");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*","Resource":["*","bucket/key"]})"),
                 "Statement[0].Resource[1]: a resource must be \"*\" or an ARN");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*","Resource":""})"), "Statement[0].Resource: must not be empty");
  expect_refused(stmt(R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"})"),
                 "Statement[0].Principal: not allowed");
  expect_refused(stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Foo":1})"), "Statement[0].Foo: unknown statement element");
  expect_refused(stmt(R"({"Sid":5,"Effect":"Allow","Action":"*","Resource":"*"})"), "Statement[0].Sid: must be a string");
  expect_refused(stmt(R"("Allow")"), "Statement[0]: a statement must be an object");
}

TEST(PolicyDocument, ConditionErrorsNameThePath) {
  auto cond = [](const std::string& c) {
    return stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":)" + c + "}");
  };
  expect_refused(cond(R"({"StringEqual":{"k":"v"}})"), "Statement[0].Condition.StringEqual: unknown condition operator \"StringEqual\"");
  expect_refused(cond(R"({"ForSomeValues:StringEquals":{"k":"v"}})"), "unknown condition operator");
  expect_refused(cond(R"({"stringequals":{"k":"v"}})"), "unknown condition operator");
  expect_refused(cond(R"({"BinaryEquals":{"k":"QmluYXJ5"}})"), "BinaryEquals: condition operator \"BinaryEquals\" is not supported");
  expect_refused(cond(R"({"NullIfExists":{"k":"true"}})"), "the Null operator takes no IfExists");
  expect_refused(cond(R"({"ForAnyValue:Null":{"k":"true"}})"), "the Null operator takes no IfExists");
  expect_refused(cond(R"([])"), "Statement[0].Condition: must be an object");
  expect_refused(cond(R"({"StringEquals":"v"})"), "Statement[0].Condition.StringEquals: must be an object of condition keys");
  expect_refused(cond(R"({"StringEquals":{}})"), "Statement[0].Condition.StringEquals: has no condition keys");
  expect_refused(cond(R"({"StringEquals":{"k":[]}})"), "Statement[0].Condition.StringEquals.k: has no values");
  expect_refused(cond(R"({"StringEquals":{"k":["a",null]}})"), "Statement[0].Condition.StringEquals.k[1]: must be a string, number or boolean, got null");
  expect_refused(cond(R"({"StringEquals":{"k":{"a":1}}})"), "got an object");
  expect_refused(cond(R"({"NumericEquals":{"k":"ten"}})"), "Statement[0].Condition.NumericEquals.k: not a number: \"ten\"");
  expect_refused(cond(R"({"NumericEquals":{"k":"${aws:x}"}})"), "not a number");
  expect_refused(cond(R"({"DateLessThan":{"k":["2020-01-01","2020-13-01"]}})"), "DateLessThan.k[1]: not a date: \"2020-13-01\"");
  expect_refused(cond(R"({"DateLessThan":{"k":"2021-02-29"}})"), "not a date");
  expect_refused(cond(R"({"DateLessThan":{"k":"2020-01-01T00:00:00*"}})"), "not a date");
  expect_refused(cond(R"({"Bool":{"k":"yes"}})"), "Bool.k: must be \"true\" or \"false\", got \"yes\"");
  expect_refused(cond(R"({"Null":{"k":"maybe"}})"), "Null.k: must be \"true\" or \"false\"");
  expect_refused(cond(R"({"IpAddress":{"k":"10.0.0.0/33"}})"), "IpAddress.k: not an IP address or CIDR block");
  expect_refused(cond(R"({"NotIpAddress":{"k":"host.example"}})"), "not an IP address");
}

TEST(PolicyDocument, ConditionValueForms) {
  Document d = parse_document(stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{
      "NumericGreaterThanEquals":{"n":[1.5,"-2","3e2"]},
      "DateEquals":{"d":["2020-02-29","2020-01-01T10:20Z","2020-01-01T10:20:30.5+02:00",1700000000]},
      "ForAllValues:StringNotEqualsIgnoreCase":{"t":"x"}}})"));
  ASSERT_EQ(d.statements[0].conditions.size(), 3u);
}

TEST(PolicyDates, Parse) {
  long long ms = 0;
  ASSERT_TRUE(parse_date("1970-01-01T00:00:00Z", ms));
  EXPECT_EQ(ms, 0);
  ASSERT_TRUE(parse_date("2020-01-01", ms));
  EXPECT_EQ(ms, 1577836800000LL);
  ASSERT_TRUE(parse_date("2020-01-01T02:00:00+02:00", ms));
  EXPECT_EQ(ms, 1577836800000LL);
  ASSERT_TRUE(parse_date("2020-01-01T00:00:00.250Z", ms));
  EXPECT_EQ(ms, 1577836800250LL);
  ASSERT_TRUE(parse_date("1577836800", ms));
  EXPECT_EQ(ms, 1577836800000LL);
  EXPECT_FALSE(parse_date("2020-1-01", ms));
  EXPECT_FALSE(parse_date("2020-01-01T25:00:00Z", ms));
  EXPECT_FALSE(parse_date("2020-01-01T00:00:00Q", ms));
  EXPECT_FALSE(parse_date("", ms));
  double n = 0;
  EXPECT_TRUE(parse_number("-1.25", n));
  EXPECT_EQ(n, -1.25);
  EXPECT_FALSE(parse_number("1.0x", n));
  EXPECT_FALSE(parse_number("", n));
}

}  // namespace
}  // namespace sluice::policy
