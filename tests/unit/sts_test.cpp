// auth::assume_role against a scripted STS endpoint on 127.0.0.1: the request (form fields, the
// url-encoded Policy JSON, SigV4 with service "sts", the caller's session token), the
// AssumeRoleResponse (AWS and RGW shapes), and the mapping of STS errors to sluice::Error kinds,
// with no secret or session token in any message.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "auth/sigv4.hpp"
#include "auth/sts.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "support/scripted_server.hpp"

namespace sluice::auth {
namespace {

using namespace std::chrono_literals;
using sluice::testing::ScriptedServer;
using Reply = ScriptedServer::Reply;
using Seen = ScriptedServer::Seen;

const char* kCallerSecret = "CallerSecretKeyDoNotLeak0123456789abcdef";
const char* kCallerToken = "CallerSessionTokenDoNotLeak";
const char* kTempSecret = "TempSecretKeyDoNotLeak";
const char* kTempToken = "TempSessionTokenDoNotLeak";
const std::string kRole = "arn:aws:iam:::role/sluice-jobs";

std::string ok_body(const std::string& expiration = "2026-11-25T22:37:54.268354Z", bool aws_namespace = false) {
  std::string ns = aws_namespace ? " xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"" : "";
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><AssumeRoleResponse" + ns +
         "><AssumeRoleResult><Credentials><AccessKeyId>ASIATEMPKEY</AccessKeyId><Expiration>" + expiration +
         "</Expiration><SecretAccessKey>" + kTempSecret + "</SecretAccessKey><SessionToken>" + kTempToken +
         "</SessionToken></Credentials><AssumedRoleUser><Arn>arn:aws:sts:::assumed-role/sluice-jobs/s1</Arn>"
         "</AssumedRoleUser><PackedPolicySize>6</PackedPolicySize></AssumeRoleResult></AssumeRoleResponse>";
}

Reply reply(int status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/xml");
  return r;
}

// RGW's error shape (S3 style, empty Message) and AWS's (ErrorResponse/Error, with a Message).
std::string rgw_error(const std::string& code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
         "</Code><Message></Message><RequestId>tx1</RequestId><HostId>h</HostId></Error>";
}
std::string aws_error(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" + code +
         "</Code><Message>" + message + "</Message></Error><RequestId>r1</RequestId></ErrorResponse>";
}

AssumeRoleRequest request_to(const ScriptedServer& s) {
  AssumeRoleRequest r;
  r.endpoint = "http://127.0.0.1:" + std::to_string(s.port());
  r.region = "us-west-2";
  r.caller = Credentials{"AKIDCALLER", kCallerSecret, "", "test caller"};
  r.role_arn = kRole;
  r.session_name = "job-42@tenant-a";
  r.duration_seconds = 900;
  return r;
}

http::RetryPolicy quick_retry(int attempts = 3) {
  http::RetryPolicy p;
  p.max_attempts = attempts;
  p.base = 1ms;
  p.cap = 2ms;
  return p;
}

AssumedRole assume(const AssumeRoleRequest& r, int attempts = 3) {
  http::Client client;
  return assume_role(r, client, quick_retry(attempts), 5s);
}

// Decodes %XX (and nothing else: the form encoding never emits '+').
std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> form_fields(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    std::string part = body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    size_t eq = part.find('=');
    out.emplace_back(percent_decode(part.substr(0, eq)), eq == std::string::npos ? "" : percent_decode(part.substr(eq + 1)));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

// The Error fn throws; a failure when it throws none or something else.
template <class F>
Error error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected sluice::Error, got: " << e.what();
    return Error(ErrorKind::kInternal, "wrong exception");
  }
  ADD_FAILURE() << "expected an Error, got none";
  return Error(ErrorKind::kInternal, "no exception");
}

std::string all_text(const Error& e) { return std::string(e.what()) + " | " + e.message() + " | " + e.cause(); }

void expect_no_secret(const Error& e) {
  std::string text = all_text(e);
  for (const char* secret : {kCallerSecret, kCallerToken, kTempSecret, kTempToken}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "secret in: " << text;
  }
}

// ---- the request -----------------------------------------------------------------------------------

TEST(Sts, RequestIsAFormPostSignedForSts) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body()); });
  AssumeRoleRequest req = request_to(server);
  req.policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/tenant-a/*"]},)"
      R"({"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::b"],"Condition":{"StringLike":{"s3:prefix":["tenant-a/*"]}}}]})";
  AssumedRole got = assume(req);
  EXPECT_EQ(got.credentials.access_key_id, "ASIATEMPKEY");

  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  const Seen& s = seen[0];
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.target, "/");
  EXPECT_EQ(s.header("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(s.header("x-amz-content-sha256"), sha256_hex(s.body));
  EXPECT_EQ(s.header("x-amz-security-token"), "");  // the caller has no session token

  // The fields, in order, and the Policy exactly as given once decoded.
  auto fields = form_fields(s.body);
  std::vector<std::pair<std::string, std::string>> want = {
      {"Action", "AssumeRole"}, {"Version", "2011-06-15"},   {"RoleArn", kRole},
      {"RoleSessionName", "job-42@tenant-a"}, {"DurationSeconds", "900"}, {"Policy", req.policy}};
  EXPECT_EQ(fields, want);
  // The JSON's reserved characters are %-encoded, never '+' (RGW does not decode '+' to a space).
  EXPECT_NE(s.body.find("&Policy=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B"), std::string::npos)
      << s.body;
  EXPECT_NE(s.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A%3Arole%2Fsluice-jobs"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find("RoleSessionName=job-42%40tenant-a"), std::string::npos) << s.body;
  for (char c : s.body) EXPECT_TRUE(c != '+' && c != ' ' && c != '"' && c != '{') << s.body;

  // Authorization: SigV4 scoped to the region and service "sts", and the signature is the one the
  // signer computes for this exact request at the X-Amz-Date it carries.
  std::string authz = s.header("authorization");
  std::string date = s.header("x-amz-date");
  ASSERT_EQ(date.size(), 16u) << date;
  EXPECT_EQ(authz.rfind("AWS4-HMAC-SHA256 Credential=AKIDCALLER/" + date.substr(0, 8) + "/us-west-2/sts/aws4_request, ", 0), 0u)
      << authz;
  EXPECT_NE(authz.find("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"), std::string::npos) << authz;
  std::tm tm{};
  ASSERT_NE(strptime(date.c_str(), "%Y%m%dT%H%M%SZ", &tm), nullptr);
  Request sreq;
  sreq.method = "POST";
  sreq.wire_path = "/";
  sreq.headers = {{"Host", s.header("host")},
                  {"Content-Type", s.header("content-type")},
                  {"x-amz-content-sha256", s.header("x-amz-content-sha256")}};
  sreq.payload_sha256_hex = sha256_hex(s.body);
  SigningParams p;
  p.credentials = req.caller;
  p.region = "us-west-2";
  p.service = "sts";
  p.time = std::chrono::system_clock::from_time_t(timegm(&tm));
  p.path_rule = PathRule::kGeneric;
  std::string expected;
  for (const auto& [n, v] : sign_headers(sreq, p)) {
    if (n == "Authorization") expected = v;
  }
  EXPECT_EQ(authz, expected);
  EXPECT_EQ(authz.find(kCallerSecret), std::string::npos);
}

TEST(Sts, NoPolicyFieldWhenEmptyAndCallerTokenSent) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body()); });
  AssumeRoleRequest req = request_to(server);
  req.caller.session_token = kCallerToken;
  req.region = "";  // defaults to us-east-1
  assume(req);
  auto s = server.seen().at(0);
  EXPECT_EQ(s.body.find("Policy"), std::string::npos) << s.body;
  EXPECT_EQ(s.header("x-amz-security-token"), kCallerToken);
  EXPECT_NE(s.header("authorization").find("/us-east-1/sts/aws4_request"), std::string::npos);
}

TEST(Sts, EndpointWithPathAndTrailingSlash) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body()); });
  AssumeRoleRequest req = request_to(server);
  req.endpoint += "/sts/";
  assume(req);
  EXPECT_EQ(server.seen().at(0).target, "/sts");
}

// ---- the response -----------------------------------------------------------------------------------

TEST(Sts, ParsesRgwResponse) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body("2026-11-25T22:37:54.268354Z")); });
  AssumedRole got = assume(request_to(server));
  EXPECT_EQ(got.credentials.access_key_id, "ASIATEMPKEY");
  EXPECT_EQ(got.credentials.secret_access_key, kTempSecret);
  EXPECT_EQ(got.credentials.session_token, kTempToken);
  EXPECT_EQ(got.credentials.source, "sts:AssumeRole " + kRole);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(got.expiration), 1795646274);  // 2026-11-25T22:37:54Z
}

TEST(Sts, ParsesAwsResponseWithNamespace) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body("2011-07-15T23:28:33Z", true)); });
  AssumedRole got = assume(request_to(server));
  EXPECT_EQ(got.credentials.session_token, kTempToken);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(got.expiration), 1310772513);
}

TEST(Sts, ResponseWithoutCredentialsIsInternal) {
  std::string no_token = ok_body();
  size_t from = no_token.find("<SessionToken>"), to = no_token.find("</SessionToken>") + 15;
  no_token.erase(from, to - from);
  for (std::string body : {std::string("<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>"),
                           std::string("not xml at all <"), std::string(""), no_token}) {
    ScriptedServer server([&](const Seen&, int) { return reply(200, body); });
    Error e = error_of([&] { assume(request_to(server)); });
    EXPECT_EQ(e.kind(), ErrorKind::kInternal) << all_text(e);
    EXPECT_NE(all_text(e).find(kRole), std::string::npos) << all_text(e);
    expect_no_secret(e);
  }
}

TEST(Sts, BadExpirationIsInternal) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body("tomorrow")); });
  Error e = error_of([&] { assume(request_to(server)); });
  EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  EXPECT_NE(all_text(e).find("tomorrow"), std::string::npos) << all_text(e);
  expect_no_secret(e);
}

TEST(Sts, Iso8601) {
  using std::chrono::system_clock;
  EXPECT_EQ(system_clock::to_time_t(parse_iso8601_utc("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(system_clock::to_time_t(parse_iso8601_utc("2026-11-25T22:37:54.268354Z")), 1795646274);
  EXPECT_EQ(system_clock::to_time_t(parse_iso8601_utc("2026-11-25T22:37:54+00:00")), 1795646274);
  for (const char* bad : {"", "2026-11-25", "2026-11-25T22:37:54", "2026-11-25T22:37:54+02:00", "2026-13-25T22:37:54Z",
                          "2026-11-25 22:37:54Z", "2026-11-25T22:37:5xZ"}) {
    EXPECT_THROW(parse_iso8601_utc(bad), Error) << bad;
  }
}

TEST(Sts, FormEncode) {
  EXPECT_EQ(form_encode({{"a", "b c+d"}, {"P", R"({"k":"v/*"})"}}), "a=b%20c%2Bd&P=%7B%22k%22%3A%22v%2F%2A%22%7D");
  EXPECT_EQ(form_encode({}), "");
}

// ---- errors ------------------------------------------------------------------------------------------

struct ErrorCase {
  int status;
  std::string body;
  ErrorKind kind;
  std::string must_contain;
};

TEST(Sts, ErrorsMapToKinds) {
  std::vector<ErrorCase> cases = {
      {403, rgw_error("AccessDenied"), ErrorKind::kAccessDenied, "AKIDCALLER"},
      {403, aws_error("AccessDenied", "User is not authorized to perform: sts:AssumeRole"), ErrorKind::kAccessDenied,
       "not authorized"},
      {403, rgw_error("SignatureDoesNotMatch"), ErrorKind::kAccessDenied, "SignatureDoesNotMatch"},
      {403, "", ErrorKind::kAccessDenied, "HTTP 403"},
      {400, rgw_error("MalformedPolicyDocument"), ErrorKind::kInvalidInput, "MalformedPolicyDocument (HTTP 400)"},
      {400, aws_error("MalformedPolicyDocument", "Syntax errors in policy."), ErrorKind::kInvalidInput,
       "Syntax errors in policy."},
      {400, aws_error("ValidationError", "1 validation error detected"), ErrorKind::kInvalidInput, "ValidationError"},
      {400, rgw_error("PackedPolicyTooLarge"), ErrorKind::kInvalidInput, "PackedPolicyTooLarge"},
      {400, rgw_error("InvalidArgument"), ErrorKind::kInvalidInput, "InvalidArgument"},
      {400, "", ErrorKind::kInvalidInput, "HTTP 400"},
      {404, rgw_error("NoSuchEntity"), ErrorKind::kNotFound, "does not exist"},
      {404, aws_error("NoSuchEntity", "The role cannot be found"), ErrorKind::kNotFound, "cannot be found"},
      {409, rgw_error("Conflict"), ErrorKind::kInternal, "Conflict"},
  };
  for (const auto& c : cases) {
    ScriptedServer server([&](const Seen&, int) { return reply(c.status, c.body); });
    Error e = error_of([&] { assume(request_to(server)); });
    SCOPED_TRACE(c.body);
    EXPECT_EQ(e.kind(), c.kind) << all_text(e);
    EXPECT_NE(all_text(e).find(c.must_contain), std::string::npos) << all_text(e);
    EXPECT_NE(all_text(e).find(kRole), std::string::npos) << all_text(e);  // names the role
    EXPECT_EQ(server.requests(), 1) << "4xx must not be retried";
    expect_no_secret(e);
  }
}

TEST(Sts, ServerErrorsRetriedThenRetryable) {
  ScriptedServer server([](const Seen&, int) { return reply(503, rgw_error("ServiceUnavailable")); });
  Error e = error_of([&] { assume(request_to(server), 3); });
  EXPECT_EQ(e.kind(), ErrorKind::kRetryable) << all_text(e);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_NE(all_text(e).find("after 3 attempts"), std::string::npos) << all_text(e);
  expect_no_secret(e);
}

TEST(Sts, ThrottlingIsRetried) {
  ScriptedServer server([](const Seen&, int) { return reply(400, aws_error("Throttling", "Rate exceeded")); });
  Error e = error_of([&] { assume(request_to(server), 2); });
  EXPECT_EQ(e.kind(), ErrorKind::kRetryable) << all_text(e);
  EXPECT_EQ(server.requests(), 2);
}

TEST(Sts, TransientErrorThenSuccessResignsEachAttempt) {
  ScriptedServer server([](const Seen&, int i) { return i < 2 ? reply(500, rgw_error("InternalError")) : reply(200, ok_body()); });
  AssumedRole got = assume(request_to(server), 5);
  EXPECT_EQ(got.credentials.session_token, kTempToken);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& s : seen) EXPECT_EQ(s.body, seen[0].body);
  for (const auto& s : seen) EXPECT_FALSE(s.header("authorization").empty());
}

TEST(Sts, ConnectionRefusedIsRetryable) {
  AssumeRoleRequest req;
  {
    ScriptedServer server([](const Seen&, int) { return reply(200, ok_body()); });
    req = request_to(server);
  }  // stopped: nothing listens on the port now
  Error e = error_of([&] { assume(req, 2); });
  EXPECT_EQ(e.kind(), ErrorKind::kRetryable) << all_text(e);
  EXPECT_NE(all_text(e).find("cannot reach"), std::string::npos) << all_text(e);
  expect_no_secret(e);
}

TEST(Sts, BadInputRefusedBeforeSending) {
  ScriptedServer server([](const Seen&, int) { return reply(200, ok_body()); });
  struct Case {
    std::function<void(AssumeRoleRequest&)> change;
    ErrorKind kind;
    std::string names;
  };
  std::vector<Case> cases = {
      {[](AssumeRoleRequest& r) { r.session_name = "a"; }, ErrorKind::kInvalidInput, "'a'"},
      {[](AssumeRoleRequest& r) { r.session_name = std::string(65, 'x'); }, ErrorKind::kInvalidInput, "2-64"},
      {[](AssumeRoleRequest& r) { r.session_name = "job 1"; }, ErrorKind::kInvalidInput, "'job 1'"},
      {[](AssumeRoleRequest& r) { r.session_name = "tenant/a"; }, ErrorKind::kInvalidInput, "'tenant/a'"},
      {[](AssumeRoleRequest& r) { r.role_arn = "sluice-jobs"; }, ErrorKind::kInvalidInput, "'sluice-jobs'"},
      {[](AssumeRoleRequest& r) { r.endpoint = "127.0.0.1:9000"; }, ErrorKind::kInvalidInput, "'127.0.0.1:9000'"},
      {[](AssumeRoleRequest& r) { r.endpoint = "http://"; }, ErrorKind::kInvalidInput, "no host"},
      {[](AssumeRoleRequest& r) { r.duration_seconds = 0; }, ErrorKind::kInvalidInput, "duration 0"},
      {[](AssumeRoleRequest& r) { r.caller.secret_access_key.clear(); }, ErrorKind::kAccessDenied, "caller"},
  };
  for (const auto& c : cases) {
    AssumeRoleRequest req = request_to(server);
    c.change(req);
    Error e = error_of([&] { assume(req); });
    EXPECT_EQ(e.kind(), c.kind) << all_text(e);
    EXPECT_NE(all_text(e).find(c.names), std::string::npos) << all_text(e);
    expect_no_secret(e);
  }
  EXPECT_EQ(server.requests(), 0);
}

}  // namespace
}  // namespace sluice::auth
