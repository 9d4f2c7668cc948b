// SigV4 against the aws-c-auth signing test suite (tests/vectors/sigv4/aws-c-auth/v4): every case,
// header signing and query (presign) signing, with the generic-service path rule; and the S3 path
// rule on the cases where both rules must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auth/sigv4.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "support/sigv4_vectors.hpp"

namespace sluice::auth {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using namespace sluice::auth::vectors;

std::string header_value(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

std::vector<QueryParam> sorted(std::vector<QueryParam> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string signature_from_authorization(const std::string& auth) {
  size_t p = auth.find("Signature=");
  return p == std::string::npos ? std::string() : auth.substr(p + 10);
}

class AwsSigningSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(AwsSigningSuite, HeaderSigning) {
  const Case c = load_case(GetParam());
  const fs::path dir = kSuite / c.name;
  const Request req = to_request(c, /*header_signing=*/true);

  SigningTrace trace;
  const std::vector<Header> added = sign_headers(req, c.params, &trace);
  EXPECT_EQ(trace.canonical_request, read_expected(dir / "header-canonical-request.txt"));
  EXPECT_EQ(trace.string_to_sign, read_expected(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(trace.signature, read_expected(dir / "header-signature.txt"));

  // The public pieces give the same strings.
  std::vector<Header> extra{{"X-Amz-Date", "20150830T123600Z"}};
  if (!c.params.credentials.session_token.empty() && !c.params.omit_session_token) {
    extra.emplace_back("X-Amz-Security-Token", c.params.credentials.session_token);
  }
  const std::string creq = canonical_request(req, c.params, extra);
  EXPECT_EQ(creq, read_expected(dir / "header-canonical-request.txt"));
  EXPECT_EQ(string_to_sign(creq, c.params), read_expected(dir / "header-string-to-sign.txt"));

  // The headers to add are those of the expected signed request.
  const HttpRequest expected = parse_request(read_file(dir / "header-signed-request.txt"));
  EXPECT_EQ(header_value(added, "Authorization"), header_value(expected.headers, "Authorization"));
  EXPECT_EQ(header_value(added, "X-Amz-Date"), header_value(expected.headers, "X-Amz-Date"));
  EXPECT_EQ(header_value(added, "X-Amz-Security-Token"), header_value(expected.headers, "X-Amz-Security-Token"));
  EXPECT_EQ(signature_from_authorization(header_value(added, "Authorization")),
            read_expected(dir / "header-signature.txt"));
  EXPECT_EQ(added.size(), c.params.credentials.session_token.empty() ? 2u : 3u);
}

TEST_P(AwsSigningSuite, QuerySigning) {
  const Case c = load_case(GetParam());
  const fs::path dir = kSuite / c.name;
  const Request req = to_request(c, /*header_signing=*/false);

  SigningTrace trace;
  const std::vector<QueryParam> added = presign_query(req, c.params, seconds(c.expires), &trace);
  EXPECT_EQ(trace.canonical_request, read_expected(dir / "query-canonical-request.txt"));
  EXPECT_EQ(trace.string_to_sign, read_expected(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(trace.signature, read_expected(dir / "query-signature.txt"));
  EXPECT_EQ(header_value(added, "X-Amz-Signature"), read_expected(dir / "query-signature.txt"));

  // The request's own parameters plus the added ones are those of the expected signed request.
  const HttpRequest expected = parse_request(read_file(dir / "query-signed-request.txt"));
  std::vector<QueryParam> all = req.query;
  all.insert(all.end(), added.begin(), added.end());
  EXPECT_EQ(sorted(all), sorted(expected.query));
  // canonical_query is what goes on the wire: it round-trips through a decoder.
  EXPECT_EQ(sorted(parse_query_string(canonical_query(all))), sorted(all));
}

INSTANTIATE_TEST_SUITE_P(AwsCAuthV4, AwsSigningSuite, ::testing::ValuesIn(list_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(AwsSigningSuiteInventory, HasAll38Cases) {
  ASSERT_TRUE(fs::is_directory(kSuite)) << kSuite;
  EXPECT_EQ(list_cases().size(), 38u);
}

// Under kS3 the wire path is the canonical URI. On the suite's unnormalised cases whose raw path
// needs no encoding, that is exactly what the generic rule gives, so the expected artifacts hold.
TEST(SigV4S3PathRule, AgreesWithSuiteOnUnnormalizedPlainPaths) {
  std::vector<std::string> used;
  for (const std::string& name : list_cases()) {
    Case c = load_case(name);
    if (c.params.normalize_path || uri_encode(c.http.path, false) != c.http.path) continue;
    SCOPED_TRACE(name);
    used.push_back(name);
    c.params.path_rule = PathRule::kS3;
    const fs::path dir = kSuite / name;

    SigningTrace h;
    sign_headers(to_request(c, true), c.params, &h);
    EXPECT_EQ(h.canonical_request, read_expected(dir / "header-canonical-request.txt"));
    EXPECT_EQ(h.string_to_sign, read_expected(dir / "header-string-to-sign.txt"));
    EXPECT_EQ(h.signature, read_expected(dir / "header-signature.txt"));

    SigningTrace q;
    presign_query(to_request(c, false), c.params, seconds(c.expires), &q);
    EXPECT_EQ(q.canonical_request, read_expected(dir / "query-canonical-request.txt"));
    EXPECT_EQ(q.string_to_sign, read_expected(dir / "query-string-to-sign.txt"));
    EXPECT_EQ(q.signature, read_expected(dir / "query-signature.txt"));
  }
  // get-relative-unnormalized, get-relative-relative-unnormalized, get-slash-dot-slash-unnormalized,
  // get-slash-pointless-dot-unnormalized, get-slash-unnormalized, get-slashes-unnormalized.
  EXPECT_EQ(used.size(), 6u) << ::testing::PrintToString(used);
}

SigningParams s3_params(PathRule rule, bool normalize = false) {
  SigningParams p;
  p.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test"};
  p.region = "us-east-1";
  p.service = "s3";
  p.time = std::chrono::sys_days{std::chrono::year{2015} / 8 / 30};
  p.path_rule = rule;
  p.normalize_path = normalize;
  return p;
}

std::string canonical_uri_of(const std::string& wire_path, const SigningParams& p) {
  Request r;
  r.method = "GET";
  r.wire_path = wire_path;
  r.headers = {{"Host", "bucket.example.com"}};
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  std::string creq = canonical_request(r, p);
  size_t a = creq.find('\n');
  size_t b = creq.find('\n', a + 1);
  return creq.substr(a + 1, b - a - 1);
}

TEST(SigV4S3PathRule, EncodedWirePathIsNotEncodedAgain) {
  EXPECT_EQ(canonical_uri_of("/example%20space/", s3_params(PathRule::kS3)), "/example%20space/");
  EXPECT_EQ(canonical_uri_of("/example%20space/", s3_params(PathRule::kGeneric)), "/example%2520space/");
  EXPECT_EQ(canonical_uri_of("/b/" + uri_encode("a b+c%é", false), s3_params(PathRule::kS3)),
            "/b/a%20b%2Bc%25%C3%A9");
}

TEST(SigV4S3PathRule, NoDotSegmentNormalisation) {
  // normalize_path is for kGeneric only: kS3 ignores it.
  for (bool normalize : {false, true}) {
    EXPECT_EQ(canonical_uri_of("/a/./b/../c", s3_params(PathRule::kS3, normalize)), "/a/./b/../c");
    EXPECT_EQ(canonical_uri_of("/bucket/../x", s3_params(PathRule::kS3, normalize)), "/bucket/../x");
  }
  EXPECT_EQ(canonical_uri_of("/a/./b/../c", s3_params(PathRule::kGeneric, true)), "/a/c");
  EXPECT_EQ(canonical_uri_of("/a/./b/../c", s3_params(PathRule::kGeneric, false)), "/a/./b/../c");
}

TEST(SigV4S3PathRule, DoubleSlashKept) {
  EXPECT_EQ(canonical_uri_of("//", s3_params(PathRule::kS3, true)), "//");
  EXPECT_EQ(canonical_uri_of("/bucket//key//", s3_params(PathRule::kS3, true)), "/bucket//key//");
  EXPECT_EQ(canonical_uri_of("/bucket//key//", s3_params(PathRule::kGeneric, true)), "/bucket/key/");
  EXPECT_EQ(canonical_uri_of("", s3_params(PathRule::kS3)), "/");
}

TEST(SigV4, HeaderSigningNeedsHostAndPayloadHash) {
  Request r;
  r.method = "GET";
  r.wire_path = "/";
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  EXPECT_THROW(sign_headers(r, s3_params(PathRule::kS3)), sluice::Error);
  r.headers = {{"Host", "h"}};
  r.payload_sha256_hex.clear();
  EXPECT_THROW(sign_headers(r, s3_params(PathRule::kS3)), sluice::Error);
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  EXPECT_NO_THROW(sign_headers(r, s3_params(PathRule::kS3)));
  SigningParams no_creds = s3_params(PathRule::kS3);
  no_creds.credentials.secret_access_key.clear();
  EXPECT_THROW(sign_headers(r, no_creds), sluice::Error);
}

TEST(SigV4, PresignExpiryLimits) {
  Request r;
  r.method = "GET";
  r.wire_path = "/b/k";
  r.headers = {{"Host", "h"}};
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  const SigningParams p = s3_params(PathRule::kS3);
  for (int64_t bad : {int64_t{0}, int64_t{-1}, int64_t{604801}}) {
    try {
      presign_query(r, p, seconds(bad));
      ADD_FAILURE() << "expires " << bad << " accepted";
    } catch (const sluice::Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    }
  }
  EXPECT_NO_THROW(presign_query(r, p, seconds(1)));
  EXPECT_NO_THROW(presign_query(r, p, seconds(604800)));
}

TEST(SigV4, UnsignedHeadersAreLeftOut) {
  Request r;
  r.method = "PUT";
  r.wire_path = "/b/k";
  r.headers = {{"Host", "h"}, {"User-Agent", "sluice/0.1"}, {"Expect", "100-continue"},
               {"Content-Length", "3"}, {"Authorization", "stale"}};
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  auto added = sign_headers(r, s3_params(PathRule::kS3));
  EXPECT_NE(header_value(added, "Authorization").find("SignedHeaders=content-length;host;x-amz-date,"),
            std::string::npos)
      << header_value(added, "Authorization");
}

TEST(SigV4, CallerDateHeaderIsReplacedNotDoubled) {
  Request r;
  r.method = "GET";
  r.wire_path = "/";
  r.headers = {{"Host", "h"}, {"X-Amz-Date", "19990101T000000Z"}};
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  SigningTrace t;
  sign_headers(r, s3_params(PathRule::kS3), &t);
  EXPECT_NE(t.canonical_request.find("\nx-amz-date:20150830T000000Z\n"), std::string::npos) << t.canonical_request;
  EXPECT_EQ(t.canonical_request.find("1999"), std::string::npos);
}

}  // namespace
}  // namespace sluice::auth
