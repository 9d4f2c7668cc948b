// serve/api_server over a real socket: requests signed by the project's own signer (as boto3 would
// sign them) reach the operation with the caller's identity; unsigned, wrongly signed, unknown-key
// and replayed requests get the AWS error of their protocol.
#include "serve/api_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>

#include "auth/sigv4.hpp"
#include "core/error.hpp"
#include "support/sign_post.hpp"

namespace sluice::serve {
namespace {

constexpr char kKey[] = "AKIDSERVETEST0000001";
constexpr char kSecret[] = "serve-test-secret-key-0000000000000000000";

auth::KeyLookupResult lookup(std::string_view id) {
  auth::KeyLookupResult r;
  if (id == kKey) {
    r.status = auth::KeyLookupResult::Status::kFound;
    r.secret_access_key = kSecret;
    r.principal = "arn:aws:iam::123456789012:user/alice";
  }
  return r;
}

struct Sent {
  int status = 0;
  std::string body;
};

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, Operation> ops;
    ops["sts.GetCallerIdentity"] = [](const ApiCall&, const Caller& c) {
      OperationResult r;
      r.result_xml = "<Arn>" + xml_escape(c.principal) + "</Arn>";
      return r;
    };
    ops["sagemaker.DescribeTrainingJob"] = [](const ApiCall& call, const Caller&) -> OperationResult {
      throw ApiFailure({"ValidationException", 400,
                        "Requested resource not found: " + call.input.value("TrainingJobName", std::string())});
    };
    server_ = std::make_unique<ApiServer>(ApiServerOptions{}, lookup, std::move(ops));
    server_->start();
  }

  // POST / signed for `service` (unsigned when `sign` is false); `tamper` changes the body after signing.
  Sent post(const std::string& service, std::vector<auth::Header> headers, const std::string& body, bool sign = true,
            const std::string& secret = kSecret, const std::string& tamper = "") {
    const std::string host = "127.0.0.1:" + std::to_string(server_->port());
    headers.emplace_back("Host", host);
    if (sign) {
      const auth::Credentials creds{kKey, secret, "", "test"};
      for (auto& h : testing::sign_post(headers, body, creds, service, std::chrono::system_clock::now())) {
        headers.push_back(h);
      }
    }
    last_headers_ = headers;
    last_body_ = tamper.empty() ? body : tamper;
    return resend();
  }
  Sent resend() {
    httplib::Client client("127.0.0.1", server_->port());
    httplib::Headers hs;
    std::string type;
    for (auto& [k, v] : last_headers_) {
      if (k == "Content-Type") type = v;
      else if (k != "Host") hs.emplace(k, v);
    }
    auto res = client.Post("/", hs, last_body_, type.c_str());
    if (!res) return {};
    return {res->status, res->body};
  }

  std::unique_ptr<ApiServer> server_;
  std::vector<auth::Header> last_headers_;
  std::string last_body_;
};

const std::vector<auth::Header> kStsForm{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
const std::string kGetCaller = "Action=GetCallerIdentity&Version=2011-06-15";

TEST_F(ApiServerTest, ASignedQueryCallReachesItsOperationWithTheCaller) {
  auto r = post("sts", kStsForm, kGetCaller);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<Arn>arn:aws:iam::123456789012:user/alice</Arn>"), std::string::npos) << r.body;
}

TEST_F(ApiServerTest, AJsonOperationsErrorIsAJsonError) {
  auto r = post("sagemaker", {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "SageMaker.DescribeTrainingJob"}},
                R"({"TrainingJobName":"nope"})");
  EXPECT_EQ(r.status, 400) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["__type"], "ValidationException");
  EXPECT_EQ(j["message"], "Requested resource not found: nope");
}

TEST_F(ApiServerTest, UnsignedWrongAndUnknownRequestsAreRefused) {
  auto unsigned_ = post("sts", kStsForm, kGetCaller, false);
  EXPECT_EQ(unsigned_.status, 403) << unsigned_.body;
  EXPECT_NE(unsigned_.body.find("<Code>MissingAuthenticationToken</Code>"), std::string::npos) << unsigned_.body;
  auto wrong = post("sts", kStsForm, kGetCaller, true, "another-secret");
  EXPECT_NE(wrong.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << wrong.body;
  auto tampered = post("sts", kStsForm, kGetCaller, true, kSecret, kGetCaller + "&X=1");
  EXPECT_NE(tampered.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << tampered.body;
  auto other_service = post("sagemaker", kStsForm, kGetCaller);  // signed for sagemaker, sent to STS
  EXPECT_NE(other_service.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << other_service.body;
  auto json = post("sagemaker", {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "SageMaker.ListTrainingJobs"}},
                   "{}");
  EXPECT_EQ(nlohmann::json::parse(json.body)["__type"], "UnknownOperationException") << json.body;
}

TEST_F(ApiServerTest, AReplayedRequestThatChangesSomethingIsRefused) {
  const std::string assume = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr";
  auto first = post("sts", kStsForm, assume);
  EXPECT_EQ(first.status, 400) << first.body;  // no such operation here: it reached the operation table
  EXPECT_NE(first.body.find("<Code>InvalidAction</Code>"), std::string::npos) << first.body;
  auto again = resend();
  EXPECT_EQ(again.status, 403) << again.body;
  EXPECT_NE(again.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << again.body;
}

TEST_F(ApiServerTest, AnIdenticalReadIsAnsweredAgain) {
  // SDKs sign nothing finer than the second: a waiter's two polls in one second are the same bytes.
  EXPECT_EQ(post("sts", kStsForm, kGetCaller).status, 200);
  auto again = resend();
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST(AwsProtocol, ReadOnlyOperationsAreNamedSo) {
  for (const char* op : {"DescribeTrainingJob", "ListTrainingJobs", "GetCallerIdentity", "GetLogEvents",
                         "FilterLogEvents", "DescribeLogStreams"}) {
    EXPECT_TRUE(is_read_only(op)) << op;
  }
  for (const char* op : {"CreateTrainingJob", "StopTrainingJob", "UpdateTrainingJob", "AssumeRole", "Getaway",
                         "List", "Describe", ""}) {
    EXPECT_FALSE(is_read_only(op)) << op;
  }
}

TEST(ApiServer, APortInUseIsAClearError) {
  ApiServer first(ApiServerOptions{}, lookup, {});
  ApiServerOptions o;
  o.port = first.port();
  try {
    ApiServer second(o, lookup, {});
    ADD_FAILURE() << "bound twice";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << e.what();
  }
}

// `sluice serve` stops its server and then destroys it: that must end at once (the destructor
// once started a stopped server again and waited for a loop that had already ended, so the
// server hung on SIGTERM whenever it missed the loop's instant).
TEST(ApiServer, AStoppedServerIsDestroyedAtOnce) {
  for (int i = 0; i < 20; ++i) {
    auto done = std::async(std::launch::async, [] {
      ApiServer s(ApiServerOptions{}, lookup, {});
      s.start();
      s.stop();
    });
    if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      std::fprintf(stderr, "a stopped ApiServer was not destroyed within 10 s (round %d)\n", i);
      std::_Exit(1);  // the hung destructor would keep the test from ending
    }
  }
}

// A server bound but never started gives its port back when it is destroyed.
TEST(ApiServer, ANeverStartedServerFreesItsPort) {
  int port = 0;
  {
    ApiServer s(ApiServerOptions{}, lookup, {});
    port = s.port();
  }
  ApiServerOptions o;
  o.port = port;
  ApiServer again(o, lookup, {});
  EXPECT_EQ(again.port(), port);
}

}  // namespace
}  // namespace sluice::serve
