// The server side of SigV4 (auth/sigv4_verify.hpp): requests signed by the client side
// (sign_headers, presign_query) verify; every refusal has its kind and AWS code; the aws-c-auth
// suite's signed requests verify with their keys; and the replay cache.
#include "auth/sigv4_verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "auth/sigv4.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "support/sigv4_vectors.hpp"

namespace sluice::auth {
namespace {

using namespace std::chrono;
using TimePoint = system_clock::time_point;

constexpr std::string_view kAkid = "AKIDSLUICEUSER000001";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRET001";
constexpr std::string_view kTempAkid = "ASIASLUICETEMP000001";
constexpr std::string_view kTempSecret = "tEmPsEcReT/2+K7MDENGbPxRfiCYSECRET002";
constexpr std::string_view kToken = "FwoGZXIvYXdzEBYaDLUICE+SESSION/TOKEN==";
constexpr std::string_view kExpiredAkid = "ASIASLUICEEXPIRED001";

const TimePoint kT0 = sys_days{2024y / 3 / 14} + hours{12};  // 20240314T120000Z

// The keys the server knows; counts lookups.
struct Keys {
  std::map<std::string, KeyLookupResult, std::less<>> table;
  mutable int calls = 0;
  Keys() {
    table[std::string(kAkid)] = {KeyLookupResult::Status::kFound, std::string(kSecret), "",
                                 "arn:aws:iam::123456789012:user/alice"};
    table[std::string(kTempAkid)] = {KeyLookupResult::Status::kFound, std::string(kTempSecret),
                                     std::string(kToken),
                                     "arn:aws:sts::123456789012:assumed-role/Trainer/job-1"};
    table[std::string(kExpiredAkid)] = {KeyLookupResult::Status::kExpired, "", "", ""};
  }
  KeyLookup lookup() const {
    return [this](std::string_view akid) {
      ++calls;
      auto it = table.find(akid);
      return it == table.end() ? KeyLookupResult{} : it->second;
    };
  }
};

// A request as a client sends it and the server receives it.
struct Message {
  std::string method = "POST";
  std::string path = "/";
  std::string query;
  std::vector<Header> headers;
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
  void set_header(std::string_view name, std::string value) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        v = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::string(name), std::move(value));
  }
  void remove_header(std::string_view name) {
    std::erase_if(headers, [&](const Header& h) { return h.first == name; });
  }
};

Message sagemaker_request() {
  Message m;
  m.headers = {{"Host", "api.sagemaker.us-east-1.amazonaws.com"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "SageMaker.DescribeTrainingJob"},
               {"User-Agent", "Boto3/1.34.0 md/Botocore#1.34.0"}};
  m.body = R"({"TrainingJobName": "job-1"})";
  return m;
}

Message sts_request() {
  Message m;
  m.headers = {{"Host", "sts.us-east-1.amazonaws.com"},
               {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  m.body = "Action=GetCallerIdentity&Version=2011-06-15";
  return m;
}

struct SignAs {
  std::string_view akid = kAkid;
  std::string_view secret = kSecret;
  std::string_view token = {};
  std::string region = "us-east-1";
  std::string service = "sagemaker";
  TimePoint time = kT0;
};

SigningParams params_of(const SignAs& as) {
  SigningParams p;
  p.credentials = {std::string(as.akid), std::string(as.secret), std::string(as.token), "test"};
  p.region = as.region;
  p.service = as.service;
  p.time = as.time;
  p.path_rule = PathRule::kGeneric;
  p.normalize_path = true;
  return p;
}

Request request_of(const Message& m) {
  Request r;
  r.method = m.method;
  r.wire_path = m.path;
  r.query = parse_query_string(m.query);
  r.headers = m.headers;
  r.payload_sha256_hex = sha256_hex(m.body);
  return r;
}

// Signs `m` with the client side, adding X-Amz-Date, X-Amz-Security-Token and Authorization.
Message sign(Message m, const SignAs& as = {}) {
  for (auto& h : sign_headers(request_of(m), params_of(as))) m.headers.push_back(std::move(h));
  return m;
}

VerifyConfig config_for(std::string service, ErrorFlavour flavour) {
  VerifyConfig c;
  c.region = "us-east-1";
  c.service = std::move(service);
  c.flavour = flavour;
  return c;
}
VerifyConfig sagemaker_config() { return config_for("sagemaker", ErrorFlavour::kJson); }
VerifyConfig sts_config() { return config_for("sts", ErrorFlavour::kQuery); }

ReceivedRequest received(const Message& m) {
  ReceivedRequest r;
  r.method = m.method;
  r.path = m.path;
  r.query = m.query;
  r.headers = m.headers;
  r.body = m.body;
  return r;
}

VerifyResult verify(const Message& m, const VerifyConfig& config = sagemaker_config(), TimePoint now = kT0,
                    const Keys& keys = Keys()) {
  VerifyResult r = verify_sigv4(received(m), config, keys.lookup(), now);
  if (r.error) {
    // No refusal ever holds a secret, a token or a signature.
    for (std::string_view secret : {kSecret, kTempSecret, kToken}) {
      EXPECT_EQ(r.error->message.find(secret), std::string::npos) << r.error->message;
    }
    std::string auth = m.header("Authorization");
    size_t sig = auth.find("Signature=");
    if (sig != std::string::npos && auth.size() >= sig + 10 + 64) {
      EXPECT_EQ(r.error->message.find(auth.substr(sig + 10, 64)), std::string::npos) << r.error->message;
    }
  }
  return r;
}

// Expects a refusal of `kind` with `code`; returns its message.
std::string expect_refused(const VerifyResult& r, VerifyErrorKind kind, std::string_view code) {
  EXPECT_FALSE(r.ok());
  if (!r.error) {
    ADD_FAILURE() << "accepted";
    return "";
  }
  EXPECT_EQ(r.error->kind, kind) << r.error->aws_code << ": " << r.error->message;
  EXPECT_EQ(r.error->aws_code, code) << r.error->message;
  return r.error->message;
}

void expect_ok(const VerifyResult& r) {
  EXPECT_TRUE(r.ok()) << (r.error ? r.error->aws_code + ": " + r.error->message : "");
}

// ---- round trips with the signer -------------------------------------------------------------

TEST(SigV4Verify, SageMakerRequestSignedWithUserKeyVerifies) {
  const Message m = sign(sagemaker_request());
  Keys keys;
  VerifyResult r = verify(m, sagemaker_config(), kT0, keys);
  expect_ok(r);
  ASSERT_TRUE(r.verified);
  EXPECT_EQ(r.verified->access_key_id, kAkid);
  EXPECT_EQ(r.verified->principal, "arn:aws:iam::123456789012:user/alice");
  EXPECT_FALSE(r.verified->temporary);
  EXPECT_FALSE(r.verified->presigned);
  EXPECT_EQ(r.verified->request_time, kT0);
  EXPECT_EQ(r.verified->valid_until, kT0 + minutes(15));
  EXPECT_EQ(r.verified->signature.size(), 64u);
  EXPECT_NE(m.header("Authorization").find("Signature=" + r.verified->signature), std::string::npos);
  EXPECT_EQ(keys.calls, 1);
}

TEST(SigV4Verify, StsRequestWithSessionTokenVerifies) {
  const Message m =
      sign(sts_request(), {.akid = kTempAkid, .secret = kTempSecret, .token = kToken, .service = "sts"});
  ASSERT_EQ(m.header("X-Amz-Security-Token"), kToken);
  VerifyResult r = verify(m, sts_config());
  expect_ok(r);
  ASSERT_TRUE(r.verified);
  EXPECT_TRUE(r.verified->temporary);
  EXPECT_EQ(r.verified->principal, "arn:aws:sts::123456789012:assumed-role/Trainer/job-1");
}

TEST(SigV4Verify, SageMakerRequestWithSessionTokenVerifies) {
  const Message m = sign(sagemaker_request(), {.akid = kTempAkid, .secret = kTempSecret, .token = kToken});
  expect_ok(verify(m));
}

TEST(SigV4Verify, TokenAddedAfterSigningVerifies) {
  // Some clients sign without the token and add it after (the suite's post-sts-header-after).
  SigningParams p = params_of({.akid = kTempAkid, .secret = kTempSecret, .token = kToken});
  p.omit_session_token = true;
  Message m = sagemaker_request();
  for (auto& h : sign_headers(request_of(m), p)) m.headers.push_back(std::move(h));
  EXPECT_EQ(m.header("Authorization").find("x-amz-security-token"), std::string::npos);
  expect_ok(verify(m));
}

TEST(SigV4Verify, BodyHashGivenByTheCaller) {
  const Message m = sign(sagemaker_request());
  ReceivedRequest r = received(m);
  const std::string hash = sha256_hex(m.body);
  r.body = {};
  r.body_sha256_hex = hash;
  Keys keys;
  EXPECT_TRUE(verify_sigv4(r, sagemaker_config(), keys.lookup(), kT0).ok());
  const std::string upper = ascii_upper(hash);
  r.body_sha256_hex = upper;  // either hex case
  EXPECT_TRUE(verify_sigv4(r, sagemaker_config(), keys.lookup(), kT0).ok());
  const std::string other = sha256_hex("other body");
  r.body_sha256_hex = other;
  VerifyResult bad = verify_sigv4(r, sagemaker_config(), keys.lookup(), kT0);
  expect_refused(bad, VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
}

TEST(SigV4Verify, MatchingContentSha256HeaderVerifies) {
  Message m = sagemaker_request();
  m.headers.emplace_back("X-Amz-Content-Sha256", sha256_hex(m.body));
  expect_ok(verify(sign(m)));
}

TEST(SigV4Verify, PathAndQueryAreVerified) {
  Message m = sagemaker_request();
  m.method = "GET";
  m.path = "/a/./b/../c%20d";
  m.query = "b=2&a=1&c=x%2Fy&empty&plus=a+b";
  m.body.clear();
  const Message s = sign(m);
  expect_ok(verify(s));
  Message other_path = s;
  other_path.path = "/a/c%20e";
  expect_refused(verify(other_path), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
  Message other_query = s;
  other_query.query = "b=2&a=1&c=x%2Fy&empty&plus=a%20b";  // '+' is not a space
  expect_refused(verify(other_query), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
}

TEST(SigV4Verify, PresignedRequestVerifies) {
  Message m;
  m.method = "GET";
  m.query = "Action=GetCallerIdentity&Version=2011-06-15";
  m.headers = {{"Host", "sts.us-east-1.amazonaws.com"}};
  const SignAs as{.akid = kTempAkid, .secret = kTempSecret, .token = kToken, .service = "sts"};
  const auto added = presign_query(request_of(m), params_of(as), seconds(300));
  std::vector<QueryParam> all = parse_query_string(m.query);
  all.insert(all.end(), added.begin(), added.end());
  m.query = canonical_query(all);

  VerifyResult r = verify(m, sts_config(), kT0 + seconds(300));
  expect_ok(r);
  ASSERT_TRUE(r.verified);
  EXPECT_TRUE(r.verified->presigned);
  EXPECT_TRUE(r.verified->temporary);
  EXPECT_EQ(r.verified->valid_until, kT0 + seconds(300));

  std::string msg = expect_refused(verify(m, sts_config(), kT0 + seconds(301)), VerifyErrorKind::kSignatureExpired,
                                   "SignatureDoesNotMatch");
  EXPECT_EQ(msg, "Request has expired: signed at 20240314T120000Z for 300 seconds, now 20240314T120501Z.");
  expect_refused(verify(m, sts_config(), kT0 - minutes(15) - seconds(1)), VerifyErrorKind::kSignatureExpired,
                 "SignatureDoesNotMatch");

  VerifyConfig no_presign = sts_config();
  no_presign.allow_presigned = false;
  expect_refused(verify(m, no_presign), VerifyErrorKind::kMissingAuthentication, "MissingAuthenticationToken");

  Message tampered = m;
  tampered.query += "&Extra=1";
  expect_refused(verify(tampered, sts_config()), VerifyErrorKind::kSignatureMismatch, "SignatureDoesNotMatch");
}

TEST(SigV4Verify, MalformedPresignParametersAreIncomplete) {
  const std::string good =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSLUICEUSER000001%2F20240314%2Fus-east-1%2Fsts%2F"
      "aws4_request&X-Amz-Date=20240314T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" +
      std::string(64, 'a');
  Message m;
  m.method = "GET";
  m.headers = {{"Host", "sts.us-east-1.amazonaws.com"}};
  m.query = good;
  expect_refused(verify(m, sts_config()), VerifyErrorKind::kSignatureMismatch, "SignatureDoesNotMatch");
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string q = good;
    q.replace(q.find(from), from.size(), to);
    return q;
  };
  for (const std::string& q :
       {replaced("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), replaced("X-Amz-Expires=60", "X-Amz-Expires=0"),
        replaced("X-Amz-Expires=60", "X-Amz-Expires=604801"), replaced("X-Amz-Expires=60", "X-Amz-Expires=6x"),
        replaced("X-Amz-Expires=60&", ""), replaced("&X-Amz-SignedHeaders=host", ""),
        replaced("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=content-type"),
        replaced("X-Amz-Signature=", "X-Amz-Signature=A"), good + "&X-Amz-Expires=60",
        replaced("%2Faws4_request", "")}) {
    SCOPED_TRACE(q);
    m.query = q;
    expect_refused(verify(m, sts_config()), VerifyErrorKind::kIncompleteSignature, "IncompleteSignature");
  }
  m.query = replaced("X-Amz-Date=20240314T120000Z&", "");
  expect_refused(verify(m, sts_config()), VerifyErrorKind::kBadDate, "IncompleteSignature");
}

// ---- refusals, one check each ------------------------------------------------------------------

TEST(SigV4Verify, MissingAuthorization) {
  Message m = sign(sagemaker_request());
  m.remove_header("Authorization");
  Keys keys;
  EXPECT_EQ(expect_refused(verify(m, sagemaker_config(), kT0, keys), VerifyErrorKind::kMissingAuthentication,
                           "MissingAuthenticationTokenException"),
            "Missing Authentication Token");
  EXPECT_EQ(verify(m, sagemaker_config(), kT0, keys).error->http_status, 403);
  expect_refused(verify(m, sts_config()), VerifyErrorKind::kMissingAuthentication, "MissingAuthenticationToken");
  EXPECT_EQ(keys.calls, 0);
}

TEST(SigV4Verify, MalformedAuthorizationIsIncomplete) {
  const Message m = sign(sagemaker_request());
  const std::string auth = m.header("Authorization");
  const size_t cred = auth.find("Credential=");
  const size_t sh = auth.find(", SignedHeaders=");
  const size_t sig = auth.find(", Signature=");
  const std::string credential = auth.substr(cred, sh - cred);     // Credential=...
  const std::string signed_headers = auth.substr(sh + 2, sig - sh - 2);  // SignedHeaders=...
  const std::string signature = auth.substr(sig + 2);                // Signature=...
  const std::string alg = "AWS4-HMAC-SHA256 ";
  auto with_credential = [&](std::string_view c) { return alg + "Credential=" + std::string(c) + ", " + signed_headers + ", " + signature; };
  auto with_signed = [&](std::string_view s) { return alg + credential + ", SignedHeaders=" + std::string(s) + ", " + signature; };
  const std::string scope = "/20240314/us-east-1/sagemaker/aws4_request";
  const std::vector<std::string> bad = {
      "",
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA1 " + credential + ", " + signed_headers + ", " + signature,
      "AWS " + std::string(kAkid) + ":c2lnbmF0dXJl",
      "aws4-hmac-sha256 " + credential + ", " + signed_headers + ", " + signature,
      alg + signed_headers + ", " + signature,
      alg + credential + ", " + signature,
      alg + credential + ", " + signed_headers,
      alg + credential + ", " + credential + ", " + signed_headers + ", " + signature,
      alg + credential + ", " + signed_headers + ", " + signature + ", Extra=1",
      alg + credential + ", " + signed_headers + ", " + signature + ",",
      alg + credential + ",, " + signed_headers + ", " + signature,
      alg + credential + " " + signed_headers + " " + signature,
      with_credential(std::string(kAkid) + "/20240314/us-east-1/sagemaker"),
      with_credential(std::string(kAkid) + scope + "/x"),
      with_credential(std::string(kAkid) + "/20240314/us-east-1/sagemaker/aws4_requesT"),
      with_credential(std::string(kAkid) + "/2024031/us-east-1/sagemaker/aws4_request"),
      with_credential(std::string(kAkid) + "/2024-3-14/us-east-1/sagemaker/aws4_request"),
      with_credential(scope),
      with_credential(std::string(kAkid) + "//us-east-1/sagemaker/aws4_request"),
      with_signed("Content-Type;host;x-amz-date;x-amz-target"),
      with_signed("host;content-type;x-amz-date;x-amz-target"),
      with_signed("content-type;host;host;x-amz-date;x-amz-target"),
      with_signed("content-type;;host;x-amz-date;x-amz-target"),
      with_signed("content-type;host;x-amz-date;x-amz-target;"),
      with_signed(""),
      alg + credential + ", " + signed_headers + ", Signature=" + std::string(63, 'a'),
      alg + credential + ", " + signed_headers + ", Signature=" + std::string(64, 'A'),
      alg + credential + ", " + signed_headers + ", Signature=" + std::string(64, 'g'),
      alg + credential + ", " + signed_headers + ", Signature=",
  };
  for (const std::string& a : bad) {
    SCOPED_TRACE(a);
    Message x = m;
    x.set_header("Authorization", a);
    Keys keys;
    expect_refused(verify(x, sagemaker_config(), kT0, keys), VerifyErrorKind::kIncompleteSignature,
                   "IncompleteSignatureException");
    expect_refused(verify(x, sts_config()), VerifyErrorKind::kIncompleteSignature, "IncompleteSignature");
    EXPECT_EQ(keys.calls, 0);
  }
  // The components in another order, and spaces around them, are fine.
  Message reordered = m;
  reordered.set_header("Authorization", alg + " " + signature + " ,  " + credential + "," + signed_headers + " ");
  expect_ok(verify(reordered));
}

TEST(SigV4Verify, TwoAuthorizationHeadersAreIncomplete) {
  Message m = sign(sagemaker_request());
  m.headers.emplace_back("authorization", m.header("Authorization"));
  expect_refused(verify(m), VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException");
}

TEST(SigV4Verify, BothAuthMechanismsAreIncomplete) {
  Message m = sign(sagemaker_request());
  m.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
  EXPECT_NE(expect_refused(verify(m), VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException")
                .find("Only one auth mechanism"),
            std::string::npos);
}

// Signs `m` with exactly the headers named, as a client that chose them would.
Message sign_only(Message m, std::vector<std::string> only, const SignAs& as = {}) {
  Request r = request_of(m);
  r.headers.emplace_back("X-Amz-Date", amz_date(as.time));
  r.only_headers = std::move(only);
  for (auto& h : sign_headers(r, params_of(as))) m.headers.push_back(std::move(h));
  return m;
}

// `m` with its Authorization's SignedHeaders replaced (the signer always signs host and x-amz-date).
Message with_signed_headers(Message m, std::string_view list) {
  std::string auth = m.header("Authorization");
  const size_t from = auth.find("SignedHeaders=") + 14;
  auth.replace(from, auth.find(',', from) - from, list);
  m.set_header("Authorization", auth);
  return m;
}

TEST(SigV4Verify, HostMustBeSigned) {
  Message m = with_signed_headers(sign(sagemaker_request()), "content-type;x-amz-date;x-amz-target");
  ASSERT_NE(m.header("Authorization").find("SignedHeaders=content-type;x-amz-date;x-amz-target,"), std::string::npos);
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException"),
            "The host header must be signed (SignedHeaders).");
}

TEST(SigV4Verify, XAmzDateMustBeSigned) {
  Message m = with_signed_headers(sign(sagemaker_request()), "content-type;host;x-amz-target");
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException"),
            "The x-amz-date header must be signed (SignedHeaders).");
}

TEST(SigV4Verify, AmzHeadersMustBeSigned) {
  // X-Amz-Target picks the action of a JSON 1.1 request: an unsigned one is refused.
  Message m = sign_only(sagemaker_request(), {"content-type", "host", "x-amz-date"});
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException"),
            "There were headers present in the request which were not signed: x-amz-target.");
  // Other unsigned headers are the client's business.
  Message ua = sign_only(sagemaker_request(), {"content-type", "host", "x-amz-date", "x-amz-target"});
  ua.headers.emplace_back("X-Forwarded-For", "10.0.0.1");
  expect_ok(verify(ua));
}

TEST(SigV4Verify, SignedHeaderAbsentFromTheRequest) {
  Message m = sign(sagemaker_request());
  m.remove_header("Content-Type");
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException"),
            "SignedHeaders names 'content-type', which the request does not carry.");
}

TEST(SigV4Verify, XAmzDateMissing) {
  Message m = sign(sagemaker_request());
  m.remove_header("X-Amz-Date");
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kBadDate, "IncompleteSignatureException"),
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  expect_refused(verify(m, sts_config()), VerifyErrorKind::kBadDate, "IncompleteSignature");
}

TEST(SigV4Verify, XAmzDateUnparseable) {
  for (const char* bad : {"2024-03-14T12:00:00Z", "20240314T120000", "20240314t120000Z", "20240314T120000z",
                          "20241314T120000Z", "20240230T120000Z", "20240314T240000Z", "20240314T126000Z",
                          "20240314T120060Z", "2024031XT120000Z", "20240314T120000ZZ", "", "Thu, 14 Mar 2024 12:00:00 GMT"}) {
    SCOPED_TRACE(bad);
    Message m = sign(sagemaker_request());
    m.set_header("X-Amz-Date", bad);
    expect_refused(verify(m), VerifyErrorKind::kBadDate, "IncompleteSignatureException");
  }
  Message leap = sign(sagemaker_request(), {.time = sys_days{2024y / 2 / 29} + hours{23} + minutes{59} + seconds{59}});
  expect_ok(verify(leap, sagemaker_config(), sys_days{2024y / 2 / 29} + hours{23} + minutes{59} + seconds{59}));
}

TEST(SigV4Verify, XAmzDateRepeated) {
  Message m = sign(sagemaker_request());
  m.headers.emplace_back("x-amz-date", m.header("X-Amz-Date"));
  expect_refused(verify(m), VerifyErrorKind::kBadDate, "IncompleteSignatureException");
}

TEST(SigV4Verify, ScopeDateMustBeXAmzDateDate) {
  // Signed at 23:59:59 with the next day's date in the scope: date and scope disagree.
  const TimePoint t = sys_days{2024y / 3 / 14} + hours{23} + minutes{59} + seconds{59};
  Message m = sign(sagemaker_request(), {.time = t});
  std::string auth = m.header("Authorization");
  auth.replace(auth.find("/20240314/"), 10, "/20240315/");
  m.set_header("Authorization", auth);
  EXPECT_EQ(expect_refused(verify(m, sagemaker_config(), t), VerifyErrorKind::kScopeDateMismatch,
                           "InvalidSignatureException"),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            "'20240315' != '20240314', from '20240314T235959Z'.");
  expect_refused(verify(m, sts_config(), t), VerifyErrorKind::kScopeDateMismatch, "SignatureDoesNotMatch");
}

TEST(SigV4Verify, ScopeRegionMustBeTheServers) {
  Message m = sign(sagemaker_request(), {.region = "eu-west-1"});
  Keys keys;
  EXPECT_EQ(expect_refused(verify(m, sagemaker_config(), kT0, keys), VerifyErrorKind::kWrongRegion,
                           "InvalidSignatureException"),
            "Credential should be scoped to a valid region, not 'eu-west-1'.");
  EXPECT_EQ(keys.calls, 0);
}

TEST(SigV4Verify, ScopeServiceMustBeTheExpectedOne) {
  Message m = sign(sagemaker_request(), {.service = "sts"});
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kWrongService, "InvalidSignatureException"),
            "Credential should be scoped to correct service: 'sagemaker'.");
  Message s = sign(sts_request(), {.service = "sagemaker"});
  expect_refused(verify(s, sts_config()), VerifyErrorKind::kWrongService, "SignatureDoesNotMatch");
}

TEST(SigV4Verify, UnknownAccessKey) {
  Message m = sign(sagemaker_request(), {.akid = "AKIDNOBODYKNOWS00000"});
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kUnknownAccessKey, "UnrecognizedClientException"),
            "The security token included in the request is invalid.");
  Message s = sign(sts_request(), {.akid = "AKIDNOBODYKNOWS00000", .service = "sts"});
  VerifyResult r = verify(s, sts_config());
  expect_refused(r, VerifyErrorKind::kUnknownAccessKey, "InvalidClientTokenId");
  EXPECT_EQ(r.error->http_status, 403);
}

TEST(SigV4Verify, ExpiredTemporaryCredentials) {
  Message m = sign(sagemaker_request(), {.akid = kExpiredAkid, .secret = "gone", .token = "old-token"});
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kExpiredToken, "ExpiredTokenException"),
            "The security token included in the request is expired");
  Message s = sign(sts_request(), {.akid = kExpiredAkid, .secret = "gone", .token = "old-token", .service = "sts"});
  expect_refused(verify(s, sts_config()), VerifyErrorKind::kExpiredToken, "ExpiredToken");
}

TEST(SigV4Verify, SessionTokenMustMatch) {
  // Missing.
  Message missing = sign(sagemaker_request(), {.akid = kTempAkid, .secret = kTempSecret});
  expect_refused(verify(missing), VerifyErrorKind::kInvalidToken, "UnrecognizedClientException");
  // Another token.
  Message other = sign(sts_request(), {.akid = kTempAkid, .secret = kTempSecret, .token = "another", .service = "sts"});
  expect_refused(verify(other, sts_config()), VerifyErrorKind::kInvalidToken, "InvalidClientTokenId");
  // A prefix of the token.
  Message prefix = sign(sagemaker_request(), {.akid = kTempAkid, .secret = kTempSecret, .token = kToken.substr(0, 10)});
  expect_refused(verify(prefix), VerifyErrorKind::kInvalidToken, "UnrecognizedClientException");
  // A token with a long-term key.
  Message user = sign(sagemaker_request(), {.token = kToken});
  expect_refused(verify(user), VerifyErrorKind::kInvalidToken, "UnrecognizedClientException");
  // Twice.
  Message twice = sign(sagemaker_request(), {.akid = kTempAkid, .secret = kTempSecret, .token = kToken});
  twice.headers.emplace_back("X-Amz-Security-Token", std::string(kToken));
  expect_refused(verify(twice), VerifyErrorKind::kInvalidToken, "UnrecognizedClientException");
}

TEST(SigV4Verify, SignatureMismatch) {
  const Message m = sign(sagemaker_request(), {.secret = "not-the-secret-the-server-has"});
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException"),
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.");
  const Message s = sign(sts_request(), {.secret = "not-the-secret-the-server-has", .service = "sts"});
  VerifyResult r = verify(s, sts_config());
  expect_refused(r, VerifyErrorKind::kSignatureMismatch, "SignatureDoesNotMatch");
  EXPECT_EQ(r.error->http_status, 403);
}

TEST(SigV4Verify, TamperedRequestsAreMismatches) {
  const Message m = sign(sagemaker_request());
  std::vector<Message> tampered(6, m);
  tampered[0].body = R"({"TrainingJobName": "job-2"})";
  tampered[1].set_header("X-Amz-Target", "SageMaker.DeleteModel");
  tampered[2].method = "PUT";
  tampered[3].path = "/x";
  tampered[4].query = "a=b";
  std::string auth = m.header("Authorization");
  auth[auth.size() - 1] = auth.back() == '0' ? '1' : '0';
  tampered[5].set_header("Authorization", auth);
  for (size_t i = 0; i < tampered.size(); ++i) {
    SCOPED_TRACE(i);
    expect_refused(verify(tampered[i]), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
  }
}

TEST(SigV4Verify, ContentSha256MustMatchTheBody) {
  Message m = sagemaker_request();
  m.headers.emplace_back("X-Amz-Content-Sha256", sha256_hex("another body"));
  // The client signed a hash header that is not its body's: the header is never trusted.
  Request r = request_of(m);
  r.payload_sha256_hex = sha256_hex("another body");
  for (auto& h : sign_headers(r, params_of({}))) m.headers.push_back(std::move(h));
  EXPECT_EQ(expect_refused(verify(m), VerifyErrorKind::kContentHashMismatch, "InvalidSignatureException"),
            "The provided 'x-amz-content-sha256' header does not match what was computed.");
  expect_refused(verify(m, config_for("sagemaker", ErrorFlavour::kQuery)),
                 VerifyErrorKind::kContentHashMismatch, "SignatureDoesNotMatch");

  Message unsigned_payload = sagemaker_request();
  unsigned_payload.headers.emplace_back("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
  Request u = request_of(unsigned_payload);
  u.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  for (auto& h : sign_headers(u, params_of({}))) unsigned_payload.headers.push_back(std::move(h));
  expect_refused(verify(unsigned_payload), VerifyErrorKind::kContentHashMismatch, "InvalidSignatureException");
}

// ---- clock skew --------------------------------------------------------------------------------

TEST(SigV4Verify, ClockSkewBoundaries) {
  const Message m = sign(sagemaker_request());
  expect_ok(verify(m, sagemaker_config(), kT0 + minutes(15)));
  expect_ok(verify(m, sagemaker_config(), kT0 - minutes(15)));
  EXPECT_EQ(expect_refused(verify(m, sagemaker_config(), kT0 + minutes(15) + seconds(1)),
                           VerifyErrorKind::kSignatureExpired, "InvalidSignatureException"),
            "Signature expired: 20240314T120000Z is now earlier than 20240314T120001Z (20240314T121501Z - 15 min.)");
  EXPECT_EQ(expect_refused(verify(m, sagemaker_config(), kT0 - minutes(15) - seconds(1)),
                           VerifyErrorKind::kSignatureExpired, "InvalidSignatureException"),
            "Signature not yet current: 20240314T120000Z is still later than 20240314T115959Z (20240314T114459Z + 15 min.)");
  // Sub-second clocks: 15 min and a millisecond is past the window.
  expect_refused(verify(m, sagemaker_config(), kT0 + minutes(15) + milliseconds(1)),
                 VerifyErrorKind::kSignatureExpired, "InvalidSignatureException");

  const Message s = sign(sts_request(), {.service = "sts"});
  expect_ok(verify(s, sts_config(), kT0 + minutes(15)));
  expect_refused(verify(s, sts_config(), kT0 + minutes(15) + seconds(1)), VerifyErrorKind::kSignatureExpired,
                 "SignatureDoesNotMatch");

  Keys keys;
  verify(m, sagemaker_config(), kT0 + hours(1), keys);
  EXPECT_EQ(keys.calls, 0);  // refused before the lookup

  VerifyConfig tight = sagemaker_config();
  tight.max_skew = seconds(30);
  expect_ok(verify(m, tight, kT0 + seconds(30)));
  EXPECT_EQ(expect_refused(verify(m, tight, kT0 + seconds(31)), VerifyErrorKind::kSignatureExpired,
                           "InvalidSignatureException"),
            "Signature expired: 20240314T120000Z is now earlier than 20240314T120001Z (20240314T120031Z - 30 sec.)");
}

// ---- header normalisation ------------------------------------------------------------------------

TEST(SigV4Verify, HeaderValueWhitespaceIsTrimmedAndCollapsed) {
  Message m = sagemaker_request();
  m.headers.emplace_back("X-Custom", "a  b   c");
  const Message s = sign(m);
  // What arrives has other runs of spaces and tabs: the canonical value is the same.
  for (const char* arrived : {"a b c", "  a b c  ", "\ta \t b\t\tc ", "a b     c"}) {
    SCOPED_TRACE(arrived);
    Message x = s;
    x.set_header("X-Custom", arrived);
    expect_ok(verify(x));
  }
  Message other = s;
  other.set_header("X-Custom", "a bc");
  expect_refused(verify(other), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
}

TEST(SigV4Verify, RepeatedHeadersAreJoinedInOrder) {
  Message m = sagemaker_request();
  m.headers.emplace_back("X-Custom", "one");
  m.headers.emplace_back("x-custom", " two ");
  const Message s = sign(m);
  EXPECT_NE(s.header("Authorization").find("x-custom"), std::string::npos);
  expect_ok(verify(s));
  Message swapped = s;
  for (auto& [n, v] : swapped.headers) {
    if (n == "X-Custom") v = "two";
    else if (n == "x-custom") v = "one";
  }
  expect_refused(verify(swapped), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
  Message dropped = s;
  dropped.remove_header("x-custom");
  expect_refused(verify(dropped), VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException");
}

TEST(SigV4Verify, HeaderNamesAreCaseInsensitive) {
  const Message s = sign(sagemaker_request(), {.akid = kTempAkid, .secret = kTempSecret, .token = kToken});
  Message upper = s;
  for (auto& [n, v] : upper.headers) n = ascii_upper(n);
  expect_ok(verify(upper));
  Message lower = s;
  for (auto& [n, v] : lower.headers) n = ascii_lower(n);
  expect_ok(verify(lower));
}

TEST(SigV4Verify, UnsignedHeadersDoNotCount) {
  const Message s = sign(sagemaker_request());
  Message x = s;
  x.set_header("User-Agent", "something else");
  x.headers.emplace_back("X-Amzn-Trace-Id", "Root=1-abc");
  x.headers.emplace_back("Connection", "keep-alive");
  expect_ok(verify(x));
}

// ---- the aws-c-auth suite --------------------------------------------------------------------------

class VerifySuite : public ::testing::TestWithParam<std::string> {};

struct SuiteCase {
  vectors::Case c;
  vectors::HttpRequest signed_request;
  VerifyConfig config;
  Keys keys;
};

SuiteCase suite_case(const std::string& name, const char* signed_file) {
  SuiteCase s;
  s.c = vectors::load_case(name);
  s.signed_request = vectors::parse_request(vectors::read_file(vectors::kSuite / name / signed_file));
  s.config.region = s.c.params.region;
  s.config.service = s.c.params.service;
  s.config.normalize_path = s.c.params.normalize_path;
  const Credentials& cr = s.c.params.credentials;
  s.keys.table[cr.access_key_id] = {KeyLookupResult::Status::kFound, cr.secret_access_key, cr.session_token, "suite"};
  return s;
}

// The signed request's target, raw: the helper decodes the query, the server sees it encoded.
std::pair<std::string, std::string> raw_target(const std::string& name, const char* signed_file) {
  std::string text = vectors::read_file(vectors::kSuite / name / signed_file);
  std::string line = text.substr(0, text.find('\n'));
  std::string target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
  size_t qm = target.find('?');
  return {target.substr(0, qm), qm == std::string::npos ? "" : target.substr(qm + 1)};
}

VerifyResult verify_suite(const SuiteCase& s, const std::string& path, const std::string& query,
                          TimePoint now) {
  ReceivedRequest r;
  r.method = s.signed_request.method;
  r.path = path;
  r.query = query;
  r.headers = s.signed_request.headers;
  r.body = s.signed_request.body;
  return verify_sigv4(r, s.config, s.keys.lookup(), now);
}

TEST_P(VerifySuite, HeaderSignedRequestVerifies) {
  SuiteCase s = suite_case(GetParam(), "header-signed-request.txt");
  auto [path, query] = raw_target(GetParam(), "header-signed-request.txt");
  expect_ok(verify_suite(s, path, query, s.c.params.time));
  expect_ok(verify_suite(s, path, query, s.c.params.time + minutes(15)));
  expect_refused(verify_suite(s, path, query, s.c.params.time + minutes(15) + seconds(1)),
                 VerifyErrorKind::kSignatureExpired, "InvalidSignatureException");
  s.keys.table[s.c.params.credentials.access_key_id].secret_access_key += "x";
  expect_refused(verify_suite(s, path, query, s.c.params.time), VerifyErrorKind::kSignatureMismatch,
                 "InvalidSignatureException");
}

TEST_P(VerifySuite, QuerySignedRequestVerifies) {
  if (vectors::load_case(GetParam()).params.omit_session_token) {
    // post-sts-header-after: the token is put in the query after signing, so the signed
    // canonical query lacks it. AWS's services sign the token (X-Amz-Security-Token is part of
    // the canonical query), and so does this verifier: the case is not verified.
    GTEST_SKIP() << "token added to the query after signing";
  }
  SuiteCase s = suite_case(GetParam(), "query-signed-request.txt");
  auto [path, query] = raw_target(GetParam(), "query-signed-request.txt");
  VerifyResult r = verify_suite(s, path, query, s.c.params.time + seconds(s.c.expires));
  expect_ok(r);
  ASSERT_TRUE(r.verified);
  EXPECT_TRUE(r.verified->presigned);
  expect_refused(verify_suite(s, path, query, s.c.params.time + seconds(s.c.expires + 1)),
                 VerifyErrorKind::kSignatureExpired, "InvalidSignatureException");
}

INSTANTIATE_TEST_SUITE_P(AwsCAuthV4, VerifySuite, ::testing::ValuesIn(vectors::list_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- replay cache ------------------------------------------------------------------------------

TEST(ReplayCache, SameRequestTwiceIsRefused) {
  const Message m = sign(sagemaker_request());
  ReplayCache cache(100);
  VerifyResult first = verify(m);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(cache.admit(*first.verified, ErrorFlavour::kJson, kT0), std::nullopt);
  VerifyResult again = verify(m, sagemaker_config(), kT0 + seconds(5));
  ASSERT_TRUE(again.ok());  // verify_sigv4 alone accepts a replay, as AWS does
  auto refused = cache.admit(*again.verified, ErrorFlavour::kJson, kT0 + seconds(5));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, VerifyErrorKind::kReplayed);
  EXPECT_EQ(refused->aws_code, "InvalidSignatureException");
  EXPECT_EQ(refused->message.find(again.verified->signature), std::string::npos);
  auto refused_query = cache.admit(*again.verified, ErrorFlavour::kQuery, kT0 + seconds(6));
  ASSERT_TRUE(refused_query);
  EXPECT_EQ(refused_query->aws_code, "SignatureDoesNotMatch");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ReplayCache, DifferentRequestsAreAccepted) {
  ReplayCache cache(100);
  Message a = sagemaker_request();
  Message b = sagemaker_request();
  b.body = R"({"TrainingJobName": "job-2"})";
  // The same request signed a second later (a retry) is another signature.
  for (const Message& m : {sign(a), sign(b), sign(a, {.time = kT0 + seconds(1)})}) {
    VerifyResult r = verify(m, sagemaker_config(), kT0 + seconds(1));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(cache.admit(*r.verified, ErrorFlavour::kJson, kT0 + seconds(1)), std::nullopt);
  }
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ReplayCache, EntriesExpireWithTheWindow) {
  ReplayCache cache(100);
  const TimePoint until = kT0 + minutes(15);
  EXPECT_EQ(cache.check_and_remember("sig-a", until, kT0), ReplayCache::Verdict::kFresh);
  EXPECT_EQ(cache.check_and_remember("sig-b", kT0 + minutes(20), kT0), ReplayCache::Verdict::kFresh);
  EXPECT_EQ(cache.check_and_remember("sig-a", until, until), ReplayCache::Verdict::kReplayed);  // still valid
  EXPECT_EQ(cache.size(), 2u);
  // Past valid_until the entry is gone (and verify_sigv4 refuses the request on time anyway).
  EXPECT_EQ(cache.check_and_remember("sig-c", kT0 + minutes(30), until + seconds(1)), ReplayCache::Verdict::kFresh);
  EXPECT_EQ(cache.size(), 2u);  // sig-b and sig-c
  EXPECT_EQ(cache.check_and_remember("sig-a", until + minutes(15), until + seconds(1)), ReplayCache::Verdict::kFresh);
  EXPECT_EQ(cache.check_and_remember("sig-b", kT0 + minutes(20), kT0 + minutes(20)), ReplayCache::Verdict::kReplayed);

  // With verify_sigv4's valid_until: a replay inside the window is refused, after it the verifier
  // refuses it, and the cache no longer holds it.
  const Message m = sign(sagemaker_request());
  ReplayCache c2(10);
  VerifyResult r = verify(m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(c2.admit(*r.verified, ErrorFlavour::kJson, kT0), std::nullopt);
  EXPECT_TRUE(c2.admit(*r.verified, ErrorFlavour::kJson, kT0 + minutes(15)));
  expect_refused(verify(m, sagemaker_config(), kT0 + minutes(15) + seconds(1)), VerifyErrorKind::kSignatureExpired,
                 "InvalidSignatureException");
  EXPECT_EQ(c2.check_and_remember("other", kT0 + hours(1), kT0 + minutes(15) + seconds(1)),
            ReplayCache::Verdict::kFresh);
  EXPECT_EQ(c2.size(), 1u);
}

TEST(ReplayCache, CapacityIsBounded) {
  ReplayCache cache(3);
  EXPECT_EQ(cache.capacity(), 3u);
  for (const char* s : {"s1", "s2", "s3"}) {
    EXPECT_EQ(cache.check_and_remember(s, kT0 + minutes(15), kT0), ReplayCache::Verdict::kFresh);
  }
  EXPECT_EQ(cache.check_and_remember("s4", kT0 + minutes(15), kT0), ReplayCache::Verdict::kFull);
  EXPECT_EQ(cache.check_and_remember("s1", kT0 + minutes(15), kT0), ReplayCache::Verdict::kReplayed);  // still known
  EXPECT_EQ(cache.size(), 3u);

  VerifiedRequest v;
  v.signature = "s5";
  v.valid_until = kT0 + minutes(15);
  auto full = cache.admit(v, ErrorFlavour::kJson, kT0);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->kind, VerifyErrorKind::kReplayCacheFull);
  EXPECT_EQ(full->aws_code, "ThrottlingException");
  EXPECT_EQ(cache.admit(v, ErrorFlavour::kQuery, kT0)->aws_code, "Throttling");

  // Once entries expire there is room again.
  EXPECT_EQ(cache.admit(v, ErrorFlavour::kJson, kT0 + minutes(15) + seconds(1)), std::nullopt);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ReplayCache, ConcurrentAdmissionsAcceptEachSignatureOnce) {
  ReplayCache cache(10000);
  constexpr int kThreads = 8, kSignatures = 500;
  std::atomic<int> fresh{0}, replayed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kSignatures; ++i) {
        auto v = cache.check_and_remember("sig-" + std::to_string(i), kT0 + minutes(15), kT0);
        (v == ReplayCache::Verdict::kFresh ? fresh : replayed)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fresh.load(), kSignatures);
  EXPECT_EQ(replayed.load(), (kThreads - 1) * kSignatures);
  EXPECT_EQ(cache.size(), static_cast<size_t>(kSignatures));
}

TEST(VerifyErrorCodes, EveryKindHasBothFlavours) {
  struct Row {
    VerifyErrorKind kind;
    const char* json;
    int json_status;
    const char* query;
    int query_status;
  };
  for (const Row& row : std::vector<Row>{
           {VerifyErrorKind::kMissingAuthentication, "MissingAuthenticationTokenException", 403, "MissingAuthenticationToken", 403},
           {VerifyErrorKind::kIncompleteSignature, "IncompleteSignatureException", 400, "IncompleteSignature", 400},
           {VerifyErrorKind::kBadDate, "IncompleteSignatureException", 400, "IncompleteSignature", 400},
           {VerifyErrorKind::kScopeDateMismatch, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kWrongRegion, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kWrongService, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kSignatureExpired, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kUnknownAccessKey, "UnrecognizedClientException", 400, "InvalidClientTokenId", 403},
           {VerifyErrorKind::kExpiredToken, "ExpiredTokenException", 400, "ExpiredToken", 400},
           {VerifyErrorKind::kInvalidToken, "UnrecognizedClientException", 400, "InvalidClientTokenId", 403},
           {VerifyErrorKind::kContentHashMismatch, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kSignatureMismatch, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kReplayed, "InvalidSignatureException", 400, "SignatureDoesNotMatch", 403},
           {VerifyErrorKind::kReplayCacheFull, "ThrottlingException", 400, "Throttling", 400},
       }) {
    VerifyError j = make_verify_error(row.kind, ErrorFlavour::kJson, "m");
    VerifyError q = make_verify_error(row.kind, ErrorFlavour::kQuery, "m");
    EXPECT_EQ(j.aws_code, row.json);
    EXPECT_EQ(j.http_status, row.json_status) << row.json;
    EXPECT_EQ(q.aws_code, row.query);
    EXPECT_EQ(q.http_status, row.query_status) << row.query;
    EXPECT_EQ(j.message, "m");
  }
}

}  // namespace
}  // namespace sluice::auth
