// AWS Signature Version 4 (AWS4-HMAC-SHA256): header signing and presigning.
//
// Two path rules:
//  - kS3: the wire path is already URI-encoded once (each key byte encoded except unreserved
//    characters and '/'); the canonical URI is the wire path unchanged, never normalised.
//  - kGeneric: the rule of the other AWS services and of the aws-c-auth test suite: the wire path
//    is (optionally) normalised (remove "." and ".." segments, collapse "//") and URI-encoded
//    again, so "%20" on the wire becomes "%2520" in the canonical request.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/credentials.hpp"

namespace sluice::auth {

using Header = std::pair<std::string, std::string>;
using QueryParam = std::pair<std::string, std::string>;  // decoded name and value

enum class PathRule { kS3, kGeneric };

// RFC 3986 encoding as SigV4 wants it: unreserved A-Z a-z 0-9 - . _ ~ are kept, every other
// byte becomes %XX (upper-case hex); '/' is kept only when encode_slash is false.
std::string uri_encode(std::string_view s, bool encode_slash);

// The canonical query string: params encoded with uri_encode(…, true), sorted by encoded name
// then value, joined with '&'. The same string is what goes on the wire.
std::string canonical_query(const std::vector<QueryParam>& params);

// A raw query string ("a=1&b=%2F", without the '?') as a server receives it, decoded: split on
// '&' (empty parts skipped), name and value split at the first '=' (a part without one has an
// empty value), %XX decoded once, '+' kept literal as SigV4 does.
std::vector<QueryParam> parse_query_string(std::string_view raw);

// "YYYYMMDDTHHMMSSZ" (UTC), the X-Amz-Date format.
std::string amz_date(std::chrono::system_clock::time_point t);

// The SigV4 signing key (raw 32 bytes): the HMAC chain "AWS4"+secret, date8, region, service,
// "aws4_request". A secret: never log it.
std::string signing_key(std::string_view secret_access_key, std::string_view date8,
                        std::string_view region, std::string_view service);

struct SigningParams {
  Credentials credentials;
  std::string region;
  std::string service;  // "s3"
  std::chrono::system_clock::time_point time;
  PathRule path_rule = PathRule::kS3;
  bool normalize_path = false;      // kGeneric only
  bool omit_session_token = false;  // sign without the token, add it after (some services)
};

struct Request {
  std::string method;
  std::string wire_path;            // as on the request line, without the query
  std::vector<QueryParam> query;    // decoded
  std::vector<Header> headers;      // must include Host; all are signed except Authorization,
                                    // User-Agent, Expect, X-Amzn-Trace-Id and hop-by-hop ones
  std::string payload_sha256_hex;   // or "UNSIGNED-PAYLOAD"
  // When not empty: exactly the headers of these (lower-case) names are signed, whatever their
  // name; the verifier's case, which signs what the client's SignedHeaders list names.
  std::vector<std::string> only_headers;
};

// Intermediate strings, exposed for tests and debugging (they hold no secret).
std::string canonical_request(const Request& req, const SigningParams& p,
                              const std::vector<Header>& extra_signed_headers = {});
std::string string_to_sign(const std::string& canonical_request, const SigningParams& p);

// What a signing call computed, for tests and debugging (holds no secret). Optional out-param.
struct SigningTrace {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
};

// Header signing: returns the headers to add to the request: X-Amz-Date, X-Amz-Security-Token
// when there is a session token, and Authorization. (x-amz-content-sha256 is the caller's: S3
// requests put it in req.headers before signing.)
std::vector<Header> sign_headers(const Request& req, const SigningParams& p,
                                 SigningTrace* trace = nullptr);

// Presigning: returns the query parameters to append (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token, X-Amz-Signature).
// expires must be 1..604800 seconds (kInvalidInput otherwise).
std::vector<QueryParam> presign_query(const Request& req, const SigningParams& p,
                                      std::chrono::seconds expires, SigningTrace* trace = nullptr);

}  // namespace sluice::auth
