// S3 key and query encoding for SigV4, and full signatures against the worked examples published
// in the Amazon S3 API Reference ("Signature Calculations for the Authorization Header: Transferring
// Payload in a Single Chunk" and "Authenticating Requests: Using Query Parameters").
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "auth/sigv4.hpp"
#include "core/hash.hpp"

namespace sluice::auth {
namespace {

using std::chrono::seconds;

// ---- uri_encode -------------------------------------------------------------------------------

TEST(S3UriEncode, UnreservedKept) {
  const std::string unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  EXPECT_EQ(uri_encode(unreserved, true), unreserved);
  EXPECT_EQ(uri_encode(unreserved, false), unreserved);
  EXPECT_EQ(uri_encode("~user", true), "~user");  // '~' is never encoded
  EXPECT_EQ(uri_encode("", true), "");
}

TEST(S3UriEncode, SpacePlusPercent) {
  EXPECT_EQ(uri_encode("a b", false), "a%20b");  // never '+'
  EXPECT_EQ(uri_encode("a+b", false), "a%2Bb");
  EXPECT_EQ(uri_encode("100%", false), "100%25");
  EXPECT_EQ(uri_encode("%20", false), "%2520");  // a literal "%20" in a key is three characters
}

TEST(S3UriEncode, Unicode) {
  EXPECT_EQ(uri_encode("é", false), "%C3%A9");
  EXPECT_EQ(uri_encode("日本", false), "%E6%97%A5%E6%9C%AC");
  EXPECT_EQ(uri_encode("\xF0\x9F\x98\x80", false), "%F0%9F%98%80");  // U+1F600 😀
  EXPECT_EQ(uri_encode("caf\xC3\xA9/\xE6\x97\xA5.txt", false), "caf%C3%A9/%E6%97%A5.txt");
}

TEST(S3UriEncode, ReservedAndSubDelims) {
  EXPECT_EQ(uri_encode("=", true), "%3D");
  EXPECT_EQ(uri_encode("&", true), "%26");
  EXPECT_EQ(uri_encode("?", true), "%3F");
  EXPECT_EQ(uri_encode("#", true), "%23");
  EXPECT_EQ(uri_encode("a=b&c?d#e", false), "a%3Db%26c%3Fd%23e");
  // encodeURIComponent leaves these alone; SigV4 does not.
  EXPECT_EQ(uri_encode("!'()*", true), "%21%27%28%29%2A");
  EXPECT_EQ(uri_encode(":@,;$[]", true), "%3A%40%2C%3B%24%5B%5D");
  EXPECT_EQ(uri_encode("test$file.text", false), "test%24file.text");
}

TEST(S3UriEncode, SlashKeptOrEncoded) {
  EXPECT_EQ(uri_encode("dir/sub/key", false), "dir/sub/key");
  EXPECT_EQ(uri_encode("dir/sub/key", true), "dir%2Fsub%2Fkey");
  EXPECT_EQ(uri_encode("//", false), "//");
  EXPECT_EQ(uri_encode("//", true), "%2F%2F");
}

TEST(S3UriEncode, UpperCaseHexForEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string enc = uri_encode(all, true);
  // 66 unreserved bytes stay, the other 190 become three characters each.
  EXPECT_EQ(enc.size(), 66u + 190u * 3u);
  EXPECT_EQ(uri_encode(std::string("\0\x7f\xff", 3), true), "%00%7F%FF");
  EXPECT_EQ(uri_encode("\xab\xcd", true), "%AB%CD");
  for (size_t i = enc.find('%'); i != std::string::npos; i = enc.find('%', i + 1)) {
    ASSERT_LT(i + 2, enc.size());
    for (char h : {enc[i + 1], enc[i + 2]}) {
      EXPECT_TRUE((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F')) << "at " << i;
    }
  }
}

// ---- canonical_query --------------------------------------------------------------------------

TEST(S3CanonicalQuery, Empty) { EXPECT_EQ(canonical_query({}), ""); }

TEST(S3CanonicalQuery, SortedByName) {
  EXPECT_EQ(canonical_query({{"prefix", "J"}, {"max-keys", "2"}}), "max-keys=2&prefix=J");
  EXPECT_EQ(canonical_query({{"list-type", "2"}, {"delimiter", "/"}, {"continuation-token", "a+b/c="}}),
            "continuation-token=a%2Bb%2Fc%3D&delimiter=%2F&list-type=2");
  // Upper case sorts before lower case (byte order).
  EXPECT_EQ(canonical_query({{"a", "1"}, {"B", "2"}}), "B=2&a=1");
}

TEST(S3CanonicalQuery, EmptyValueKeepsEquals) {
  EXPECT_EQ(canonical_query({{"prefix", ""}}), "prefix=");
  EXPECT_EQ(canonical_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(canonical_query({{"uploadId", "x/y"}, {"partNumber", "3"}}), "partNumber=3&uploadId=x%2Fy");
}

TEST(S3CanonicalQuery, SortsByEncodedNameNotDecoded) {
  // Decoded, "~" (0x7E) sorts before "é" (0xC3 0xA9); encoded, "%C3%A9" ('%' is 0x25) sorts first.
  EXPECT_EQ(canonical_query({{"~", "1"}, {"é", "2"}}), "%C3%A9=2&~=1");
  // "a b" -> "a%20b" sorts before "a-b" and "a_b".
  EXPECT_EQ(canonical_query({{"a_b", "3"}, {"a-b", "2"}, {"a b", "1"}}), "a%20b=1&a-b=2&a_b=3");
}

TEST(S3CanonicalQuery, RepeatedNamesSortedByValue) {
  EXPECT_EQ(canonical_query({{"k", "b"}, {"k", "a"}, {"k", "c"}}), "k=a&k=b&k=c");
  EXPECT_EQ(canonical_query({{"k", "~"}, {"k", "é"}}), "k=%C3%A9&k=~");
  EXPECT_EQ(canonical_query({{"k", "b"}, {"j", "z"}, {"k", ""}}), "j=z&k=&k=b");
}

TEST(S3CanonicalQuery, ValuesFullyEncoded) {
  EXPECT_EQ(canonical_query({{"prefix", "a/b c+d=&?#%é"}}), "prefix=a%2Fb%20c%2Bd%3D%26%3F%23%25%C3%A9");
}

// ---- AWS S3 documentation examples ------------------------------------------------------------

constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";

SigningParams doc_params() {
  SigningParams p;
  p.credentials = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "test"};
  p.region = "us-east-1";
  p.service = "s3";
  p.time = std::chrono::sys_days{std::chrono::year{2013} / 5 / 24};
  p.path_rule = PathRule::kS3;
  return p;
}

// The first want.size() characters of s.
std::string head(const std::string& s, std::string_view want) { return s.substr(0, want.size()); }

std::string signature_of(const std::vector<Header>& added) {
  for (const auto& [n, v] : added) {
    if (n == "Authorization") return v.substr(v.find("Signature=") + 10);
  }
  return "";
}

TEST(S3DocExamples, GetObject) {
  Request r;
  r.method = "GET";
  r.wire_path = "/" + uri_encode("test.txt", false);
  r.headers = {{"Host", kHost}, {"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmptySha}};
  r.payload_sha256_hex = kEmptySha;
  SigningTrace t;
  const auto added = sign_headers(r, doc_params(), &t);
  EXPECT_EQ(t.canonical_request,
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(t.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[0], (Header{"X-Amz-Date", "20130524T000000Z"}));
  EXPECT_EQ(added[1].first, "Authorization");
  EXPECT_EQ(added[1].second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3DocExamples, PutObjectWithEncodedKey) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = sha256_hex(body);
  ASSERT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request r;
  r.method = "PUT";
  r.wire_path = "/" + uri_encode("test$file.text", false);
  r.headers = {{"Host", kHost},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", hash}};
  r.payload_sha256_hex = hash;
  SigningTrace t;
  const auto added = sign_headers(r, doc_params(), &t);
  EXPECT_EQ(head(t.canonical_request, "PUT\n/test%24file.text\n\n"), "PUT\n/test%24file.text\n\n");
  EXPECT_EQ(t.string_to_sign.substr(t.string_to_sign.rfind('\n') + 1),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signature_of(added), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(S3DocExamples, GetBucketLifecycle) {
  Request r;
  r.method = "GET";
  r.wire_path = "/";
  r.query = {{"lifecycle", ""}};
  r.headers = {{"Host", kHost}, {"x-amz-content-sha256", kEmptySha}};
  r.payload_sha256_hex = kEmptySha;
  SigningTrace t;
  const auto added = sign_headers(r, doc_params(), &t);
  EXPECT_EQ(head(t.canonical_request, "GET\n/\nlifecycle=\n"), "GET\n/\nlifecycle=\n");
  EXPECT_EQ(signature_of(added), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(S3DocExamples, ListObjects) {
  Request r;
  r.method = "GET";
  r.wire_path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  r.headers = {{"Host", kHost}, {"x-amz-content-sha256", kEmptySha}};
  r.payload_sha256_hex = kEmptySha;
  SigningTrace t;
  const auto added = sign_headers(r, doc_params(), &t);
  EXPECT_EQ(head(t.canonical_request, "GET\n/\nmax-keys=2&prefix=J\n"), "GET\n/\nmax-keys=2&prefix=J\n");
  EXPECT_EQ(signature_of(added), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3DocExamples, PresignedGetObject) {
  Request r;
  r.method = "GET";
  r.wire_path = "/test.txt";
  r.headers = {{"Host", kHost}};
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  SigningTrace t;
  const auto added = presign_query(r, doc_params(), seconds(86400), &t);
  EXPECT_EQ(t.canonical_request,
            "GET\n/test.txt\n"
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\n"
            "host\n"
            "UNSIGNED-PAYLOAD");
  EXPECT_EQ(t.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  const std::vector<QueryParam> want{
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"},
      {"X-Amz-Date", "20130524T000000Z"},
      {"X-Amz-Expires", "86400"},
      {"X-Amz-SignedHeaders", "host"},
      {"X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"},
  };
  EXPECT_EQ(added, want);
  // The URL's query is canonical_query of the params (the signature sorts last here).
  EXPECT_EQ(canonical_query(added),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            "&X-Amz-SignedHeaders=host");
}

// ---- session tokens under S3 ------------------------------------------------------------------

TEST(S3SessionToken, SignedInHeaderAndQuery) {
  SigningParams p = doc_params();
  p.credentials.session_token = "tok/en+==";
  Request r;
  r.method = "GET";
  r.wire_path = "/test.txt";
  r.headers = {{"Host", kHost}, {"x-amz-content-sha256", kEmptySha}};
  r.payload_sha256_hex = kEmptySha;

  SigningTrace t;
  const auto added = sign_headers(r, p, &t);
  ASSERT_EQ(added.size(), 3u);
  EXPECT_EQ(added[1], (Header{"X-Amz-Security-Token", "tok/en+=="}));
  EXPECT_NE(added[2].second.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  EXPECT_NE(t.canonical_request.find("\nx-amz-security-token:tok/en+==\n"), std::string::npos);

  Request q = r;
  q.headers = {{"Host", kHost}};
  q.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  const auto params = presign_query(q, p, seconds(60), &t);
  EXPECT_NE(t.canonical_request.find("&X-Amz-Security-Token=tok%2Fen%2B%3D%3D&"), std::string::npos)
      << t.canonical_request;
  EXPECT_EQ(params[5], (QueryParam{"X-Amz-Security-Token", "tok/en+=="}));
  EXPECT_EQ(params.back().first, "X-Amz-Signature");

  // omit_session_token: sent, but not signed.
  p.omit_session_token = true;
  const auto added2 = sign_headers(r, p, &t);
  EXPECT_EQ(t.canonical_request.find("x-amz-security-token"), std::string::npos);
  ASSERT_EQ(added2.size(), 3u);
  EXPECT_EQ(added2[1], (Header{"X-Amz-Security-Token", "tok/en+=="}));
  EXPECT_NE(added2[2].second.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"), std::string::npos);
  const auto params2 = presign_query(q, p, seconds(60), &t);
  EXPECT_EQ(t.canonical_request.find("X-Amz-Security-Token"), std::string::npos);
  ASSERT_EQ(params2.size(), 7u);
  EXPECT_EQ(params2[5], (QueryParam{"X-Amz-Security-Token", "tok/en+=="}));
}

}  // namespace
}  // namespace sluice::auth
