// serve/aws_protocol: which operation a request calls, and the answers and errors of each protocol.
#include "serve/aws_protocol.hpp"

#include <gtest/gtest.h>

namespace sluice::serve {
namespace {

ApiCall call_of(std::string_view target, std::string_view type, std::string_view body) {
  auto r = parse_call(target, type, body);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << e->code << ": " << e->message;
  return std::get<ApiCall>(r);
}
ApiError error_of(std::string_view target, std::string_view type, std::string_view body) {
  auto r = parse_call(target, type, body);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r));
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(AwsProtocol, JsonTargetsNameTheServiceAndOperation) {
  auto c = call_of("SageMaker.CreateTrainingJob", "application/x-amz-json-1.1", R"({"TrainingJobName":"j"})");
  EXPECT_EQ(c.protocol, Protocol::kJson11);
  EXPECT_EQ(c.service, "sagemaker");
  EXPECT_EQ(c.operation, "CreateTrainingJob");
  EXPECT_EQ(c.input["TrainingJobName"], "j");
  auto l = call_of("Logs_20140328.GetLogEvents", "application/x-amz-json-1.1", "");
  EXPECT_EQ(l.service, "logs");
  EXPECT_EQ(l.operation, "GetLogEvents");
  EXPECT_TRUE(l.input.is_object() && l.input.empty());
}

TEST(AwsProtocol, BadJsonRequestsAreRefusedInJsonTerms) {
  EXPECT_EQ(error_of("Kinesis_20131202.PutRecord", "", "{}").code, "UnknownOperationException");
  EXPECT_EQ(error_of("SageMaker.", "", "{}").code, "UnknownOperationException");
  EXPECT_EQ(error_of("SageMaker", "", "{}").code, "UnknownOperationException");
  EXPECT_EQ(error_of("SageMaker.ListTrainingJobs", "", "{").code, "SerializationException");
  EXPECT_EQ(error_of("SageMaker.ListTrainingJobs", "", "[1]").code, "SerializationException");
  EXPECT_EQ(protocol_of("SageMaker.X"), Protocol::kJson11);
}

TEST(AwsProtocol, QueryBodiesAreFormDecoded) {
  auto c = call_of("", "application/x-www-form-urlencoded; charset=utf-8",
                   "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
                   "&RoleSessionName=a+b&Tags.member.1.Key=tenant-id");
  EXPECT_EQ(c.protocol, Protocol::kQuery);
  EXPECT_EQ(c.service, "sts");
  EXPECT_EQ(c.operation, "AssumeRole");
  EXPECT_EQ(c.input["RoleArn"], "arn:aws:iam::1:role/r");
  EXPECT_EQ(c.input["RoleSessionName"], "a b");
  EXPECT_EQ(c.input["Tags.member.1.Key"], "tenant-id");
  EXPECT_FALSE(c.input.contains("Action"));
  EXPECT_FALSE(c.input.contains("Version"));
}

TEST(AwsProtocol, BadQueryRequestsAreRefused) {
  EXPECT_EQ(error_of("", "application/json", "Action=X&Version=2011-06-15").code, "MissingAction");
  EXPECT_EQ(error_of("", "application/x-www-form-urlencoded", "Version=2011-06-15").code, "MissingAction");
  EXPECT_EQ(error_of("", "application/x-www-form-urlencoded", "Action=&Version=2011-06-15").code, "MissingAction");
  EXPECT_EQ(error_of("", "application/x-www-form-urlencoded", "Action=AssumeRole").code, "InvalidParameterValue");
  EXPECT_EQ(error_of("", "application/x-www-form-urlencoded", "Action=AssumeRole&Version=2010").code,
            "InvalidParameterValue");
  EXPECT_EQ(protocol_of(""), Protocol::kQuery);
}

TEST(AwsProtocol, JsonErrorsCarryTypeMessageAndRequestId) {
  auto r = error_reply(Protocol::kJson11, {"ValidationException", 400, "Requested resource not found"}, "rid-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/x-amz-json-1.1");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["__type"], "ValidationException");
  EXPECT_EQ(j["message"], "Requested resource not found");
  EXPECT_NE(std::find(r.headers.begin(), r.headers.end(), std::pair<std::string, std::string>{"x-amzn-RequestId", "rid-1"}),
            r.headers.end());
}

TEST(AwsProtocol, QueryErrorsAreErrorResponsesWithEscapedText) {
  auto r = error_reply(Protocol::kQuery, {"AccessDenied", 403, "User <x> & 'y'"}, "rid-2");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.content_type, "text/xml");
  EXPECT_NE(r.body.find("<Type>Sender</Type>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<Code>AccessDenied</Code>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<Message>User &lt;x&gt; &amp; &apos;y&apos;</Message>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<RequestId>rid-2</RequestId>"), std::string::npos) << r.body;
  auto s = error_reply(Protocol::kQuery, {"InternalFailure", 500, "x"}, "r");
  EXPECT_NE(s.body.find("<Type>Receiver</Type>"), std::string::npos) << s.body;
}

TEST(AwsProtocol, AnswersOfBothProtocols) {
  auto j = json_reply({{"TrainingJobArn", "arn"}}, "rid");
  EXPECT_EQ(j.status, 200);
  EXPECT_EQ(nlohmann::json::parse(j.body)["TrainingJobArn"], "arn");
  auto q = query_reply("GetCallerIdentity", "<Arn>a</Arn>", "rid");
  EXPECT_NE(q.body.find("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
            std::string::npos)
      << q.body;
  EXPECT_NE(q.body.find("<GetCallerIdentityResult><Arn>a</Arn></GetCallerIdentityResult>"), std::string::npos) << q.body;
  EXPECT_NE(q.body.find("<RequestId>rid</RequestId>"), std::string::npos) << q.body;
}

}  // namespace
}  // namespace sluice::serve
