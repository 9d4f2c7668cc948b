// auth/json_api against a real serve::ApiServer on loopback: the server verifies every request's
// SigV4 signature for the service it calls, so an answer at all means the client signed it right.
// Errors of the JSON 1.1 protocol become sluice::Error kinds naming the operation and the code.
#include "auth/json_api.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "serve/api_server.hpp"
#include "support/expect_error.hpp"

namespace sluice::auth {
namespace {

using sluice::testing::expect_error;

constexpr char kKey[] = "AKIDJSONAPITEST00001";
constexpr char kSecret[] = "json-api-test-secret-0000000000000000000";
constexpr char kTempKey[] = "ASIAJSONAPITEST00002";
constexpr char kToken[] = "json-api-session-token";

KeyLookupResult lookup(std::string_view id) {
  KeyLookupResult r;
  if (id == kKey || id == kTempKey) {
    r.status = KeyLookupResult::Status::kFound;
    r.secret_access_key = kSecret;
    r.principal = id == kKey ? "arn:aws:iam::123456789012:user/alice" : "arn:aws:sts::123456789012:assumed-role/R/s";
    if (id == kTempKey) r.session_token = kToken;
  }
  return r;
}

serve::ApiFailure failure(const std::string& code, const std::string& message, int status = 400) {
  return serve::ApiFailure(serve::ApiError{code, status, message});
}

class JsonApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, serve::Operation> ops;
    ops["sagemaker.DescribeTrainingJob"] = [](const serve::ApiCall& call, const serve::Caller& caller) {
      const std::string name = call.input.value("TrainingJobName", "");
      if (name == "missing") throw failure("ValidationException", "Requested resource not found.");
      if (name == "bad") throw failure("ValidationException", "TrainingJobName: 1 validation error");
      if (name == "theirs") throw failure("AccessDeniedException", "not authorized to perform sagemaker:DescribeTrainingJob");
      if (name == "taken") throw failure("ResourceInUse", "Training job names must be unique");
      if (name == "full") throw failure("ResourceLimitExceeded", "the queue is full");
      serve::OperationResult r;
      r.output = {{"TrainingJobName", name}, {"Caller", caller.principal}};
      return r;
    };
    ops["sagemaker.ListTrainingJobs"] = [this](const serve::ApiCall&, const serve::Caller&) {
      if (throttle_.fetch_sub(1) > 0) throw failure("ThrottlingException", "Rate exceeded");
      serve::OperationResult r;
      r.output = {{"TrainingJobSummaries", nlohmann::json::array()}};
      return r;
    };
    ops["logs.GetLogEvents"] = [](const serve::ApiCall& call, const serve::Caller&) {
      serve::OperationResult r;
      r.output = {{"events", nlohmann::json::array()}, {"stream", call.input["logStreamName"]}};
      return r;
    };
    server_ = std::make_unique<serve::ApiServer>(serve::ApiServerOptions{}, lookup, std::move(ops));
    server_->start();
  }

  JsonApiOptions options(const std::string& key = kKey, const std::string& secret = kSecret) const {
    JsonApiOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(server_->port()) + "/";
    o.credentials = {key, secret, "", "test"};
    o.retry.max_attempts = 3;
    o.retry.base = std::chrono::milliseconds(1);
    return o;
  }

  std::atomic<int> throttle_{0};
  std::unique_ptr<serve::ApiServer> server_;
};

TEST_F(JsonApiTest, ASignedCallReachesTheOperationAsTheCaller) {
  JsonApiClient client(options());
  auto out = client.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", "job-1"}});
  EXPECT_EQ(out["TrainingJobName"], "job-1");
  EXPECT_EQ(out["Caller"], "arn:aws:iam::123456789012:user/alice");
  // Signed for "logs" with the Logs target prefix.
  auto logs = client.call(kLogsService, "GetLogEvents", {{"logStreamName", "job-1/algo-1-1"}});
  EXPECT_EQ(logs["stream"], "job-1/algo-1-1");
}

TEST_F(JsonApiTest, TemporaryCredentialsSendTheirSessionToken) {
  auto o = options(kTempKey);
  o.credentials.session_token = kToken;
  JsonApiClient client(o);
  auto out = client.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", "job-1"}});
  EXPECT_EQ(out["Caller"], "arn:aws:sts::123456789012:assumed-role/R/s");
}

TEST_F(JsonApiTest, TheSameCallTwiceAtOnceIsNoReplay) {
  JsonApiClient client(options());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", "job-1"}})["TrainingJobName"],
              "job-1");
  }
}

TEST_F(JsonApiTest, ThrottlingIsRetried) {
  throttle_ = 2;
  JsonApiClient client(options());
  EXPECT_TRUE(client.call(kSageMakerService, "ListTrainingJobs", nlohmann::json::object())["TrainingJobSummaries"].is_array());
  throttle_ = 5;
  expect_error([&] { client.call(kSageMakerService, "ListTrainingJobs", nlohmann::json::object()); }, ErrorKind::kRetryable,
               {"sagemaker ListTrainingJobs at http://127.0.0.1:", "ThrottlingException (HTTP 400): Rate exceeded",
                "after 3 attempts"});
}

TEST_F(JsonApiTest, ErrorAnswersBecomeErrorKinds) {
  JsonApiClient client(options());
  auto describe = [&](const std::string& name) {
    return [&client, name] { client.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", name}}); };
  };
  expect_error(describe("missing"), ErrorKind::kNotFound,
               {"sagemaker DescribeTrainingJob at", "ValidationException (HTTP 400): Requested resource not found."});
  expect_error(describe("bad"), ErrorKind::kInvalidInput, {"ValidationException", "1 validation error"});
  expect_error(describe("theirs"), ErrorKind::kAccessDenied, {"AccessDeniedException"});
  expect_error(describe("taken"), ErrorKind::kConflict, {"ResourceInUse"});
  expect_error(describe("full"), ErrorKind::kRetryable, {"ResourceLimitExceeded"});
  expect_error([&] { client.call(kSageMakerService, "CreateEndpoint", nlohmann::json::object()); },
               ErrorKind::kInvalidInput, {"sagemaker CreateEndpoint", "UnknownOperationException"});
}

TEST_F(JsonApiTest, AWrongSecretOrUnknownKeyIsAccessDeniedWithoutTheSecret) {
  JsonApiClient wrong(options(kKey, "not-the-secret-at-all"));
  auto e = expect_error([&] { wrong.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", "j"}}); },
                        ErrorKind::kAccessDenied, {"InvalidSignatureException"});
  EXPECT_EQ(std::string(e.what()).find("not-the-secret-at-all"), std::string::npos);
  JsonApiClient unknown(options("AKIDUNKNOWN000000000"));
  expect_error([&] { unknown.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", "j"}}); },
               ErrorKind::kAccessDenied, {"UnrecognizedClientException"});
}

TEST_F(JsonApiTest, AnotherRegionIsRefused) {
  auto o = options();
  o.region = "eu-west-1";
  JsonApiClient client(o);
  expect_error([&] { client.call(kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", "j"}}); },
               ErrorKind::kAccessDenied, {"InvalidSignatureException"});
}

TEST(JsonApi, BadEndpointsAndMissingCredentialsAreRefusedBeforeSending) {
  JsonApiOptions o;
  o.credentials = {kKey, kSecret, "", "test"};
  for (const char* bad : {"", "127.0.0.1:8080", "ftp://host", "http://", "http://a b"}) {
    o.endpoint = bad;
    expect_error([&] { JsonApiClient c(o); }, ErrorKind::kInvalidInput, {"endpoint"});
  }
  o.endpoint = "http://127.0.0.1:1";
  o.credentials.secret_access_key.clear();
  expect_error([&] { JsonApiClient c(o); }, ErrorKind::kAccessDenied, {"no access key id or secret"});
}

TEST(JsonApi, AnUnreachableServerIsRetryable) {
  // A port nobody listens on: bound, then closed.
  int port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  JsonApiOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.credentials = {kKey, kSecret, "", "test"};
  o.retry.max_attempts = 2;
  o.retry.base = std::chrono::milliseconds(1);
  o.timeout = std::chrono::seconds(5);
  JsonApiClient client(o);
  expect_error([&] { client.call(kSageMakerService, "ListTrainingJobs", nlohmann::json::object()); },
               ErrorKind::kRetryable, {"sagemaker ListTrainingJobs", "cannot reach the server"});
}

TEST(JsonApi, ErrorCodesAndStatusesMapToKinds) {
  http::Response r;
  r.body = R"({"__type":"com.amazonaws.sagemaker#ResourceNotFound:http://internal","message":"x"})";
  EXPECT_EQ(json_error_code(r), "ResourceNotFound");
  r.body = "not json";
  r.headers = {{"x-amzn-errortype", "ThrottlingException:http://internal.amazon.com/"}};
  EXPECT_EQ(json_error_code(r), "ThrottlingException");
  EXPECT_EQ(json_api_error("op", 503, "", "").kind(), ErrorKind::kRetryable);
  EXPECT_EQ(json_api_error("op", 404, "", "").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(json_api_error("op", 403, "", "").kind(), ErrorKind::kAccessDenied);
  EXPECT_EQ(json_api_error("op", 409, "", "").kind(), ErrorKind::kConflict);
  EXPECT_EQ(json_api_error("op", 418, "", "").kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(json_api_error("op", 302, "", "").kind(), ErrorKind::kInternal);
  EXPECT_EQ(json_api_error("op", 400, "ExpiredTokenException", "").kind(), ErrorKind::kAccessDenied);
  EXPECT_EQ(json_api_error("op", 400, "ResourceNotFoundException", "").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(json_api_error("op", 500, "InternalFailure", "").kind(), ErrorKind::kRetryable);
  EXPECT_EQ(std::string(json_api_error("logs GetLogEvents at U", 400, "InvalidParameterException", "bad token").what()),
            "logs GetLogEvents at U: InvalidParameterException (HTTP 400): bad token");
}

}  // namespace
}  // namespace sluice::auth
