// The server side of AWS Signature Version 4: is a request, as the server received it, signed by
// a key the server knows, for this server's region and service, recently enough?
//
// Pure logic: the caller gives the request, its clock and a key lookup; nothing here does I/O,
// reads a clock or logs. The canonical request and the string to sign are those of the signer
// (auth/sigv4.hpp, PathRule::kGeneric: the rule of the JSON and query services, whose path is
// "/"), built over exactly the headers the client's SignedHeaders names.
//
// Two forms are verified:
//  - header: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request,
//    SignedHeaders=a;b;c, Signature=<64 hex>` with an X-Amz-Date header (what boto3, the aws CLI
//    and the SageMaker SDK send); SignedHeaders must name host and x-amz-date, and every x-amz-*
//    header of the request but X-Amz-Security-Token must be signed (X-Amz-Target picks the action
//    of a JSON 1.1 request; an unsigned one could be changed in flight);
//  - presigned query: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires (1..604800),
//    X-Amz-SignedHeaders (must name host), X-Amz-Signature, optional X-Amz-Security-Token.
// Only X-Amz-Date is taken as the request time (the HTTP Date header is not).
//
// The payload hash is always computed over the body (or given by the caller, who computed it over
// the body): an X-Amz-Content-Sha256 header is never trusted, only compared with it, and
// UNSIGNED-PAYLOAD or a streaming hash is refused.
//
// Refusals are VerifyErrors: a kind, and the AWS error code and HTTP status that the real service
// of the chosen flavour returns (JSON 1.1 services such as SageMaker and CloudWatch Logs, or the
// query protocol of STS), and a message in AWS's words. No message holds a secret key, a session
// token or a signature.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "auth/sigv4.hpp"

namespace sluice::auth {

// Which protocol's error codes a refusal carries.
enum class ErrorFlavour {
  kJson,   // JSON 1.1 (SageMaker, CloudWatch Logs): "...Exception" codes, e.g. InvalidSignatureException
  kQuery,  // query protocol (STS): e.g. SignatureDoesNotMatch, InvalidClientTokenId
};

enum class VerifyErrorKind {
  kMissingAuthentication,  // neither an Authorization header nor X-Amz-Algorithm in the query
  kIncompleteSignature,    // the Authorization header or the presign parameters are malformed, host
                           // (or x-amz-date, or an x-amz-* header) is not signed, a signed header is
                           // absent, both forms are used
  kBadDate,                // X-Amz-Date missing, repeated, or not YYYYMMDDTHHMMSSZ
  kScopeDateMismatch,      // the credential scope's date is not X-Amz-Date's
  kWrongRegion,            // the credential scope's region is not the server's
  kWrongService,           // the credential scope's service is not the expected one
  kSignatureExpired,       // the request time is outside the allowed skew of the server's clock
                           // (or a presigned request is past X-Amz-Expires)
  kUnknownAccessKey,       // the lookup does not know the access key id
  kExpiredToken,           // the lookup says the (temporary) credentials have expired
  kInvalidToken,           // session token missing, wrong, or sent with a long-term key
  kContentHashMismatch,    // X-Amz-Content-Sha256 is not the body's SHA-256
  kSignatureMismatch,      // the signature is not the one the key gives
  kReplayed,               // ReplayCache: the same signature was accepted before (not an AWS check)
  kReplayCacheFull,        // ReplayCache: no room until entries expire; try again later
};

struct VerifyError {
  VerifyErrorKind kind;
  std::string aws_code;  // e.g. "InvalidSignatureException" (kJson) or "SignatureDoesNotMatch" (kQuery)
  int http_status;       // 400 or 403, as the service answers
  std::string message;   // AWS's wording; never a secret, a session token or a signature
};

// The error of `kind` in `flavour`:
//   kind                                  kJson                                 kQuery
//   kMissingAuthentication                MissingAuthenticationTokenException   MissingAuthenticationToken (403)
//   kIncompleteSignature, kBadDate        IncompleteSignatureException          IncompleteSignature
//   kScopeDateMismatch, kWrongRegion,     InvalidSignatureException             SignatureDoesNotMatch (403)
//   kWrongService, kSignatureExpired,
//   kContentHashMismatch,
//   kSignatureMismatch, kReplayed
//   kUnknownAccessKey, kInvalidToken      UnrecognizedClientException           InvalidClientTokenId (403)
//   kExpiredToken                         ExpiredTokenException                 ExpiredToken
//   kReplayCacheFull                      ThrottlingException                   Throttling
// HTTP status 400 unless marked (kMissingAuthentication is 403 in both flavours).
VerifyError make_verify_error(VerifyErrorKind kind, ErrorFlavour flavour, std::string message);

// What the server knows about an access key id.
struct KeyLookupResult {
  enum class Status { kFound, kUnknown, kExpired };
  Status status = Status::kUnknown;
  std::string secret_access_key;  // kFound; never log it
  std::string session_token;      // kFound; "" for a long-term (IAM user) key, otherwise the request
                                  // must carry exactly this as X-Amz-Security-Token
  std::string principal;          // kFound; who the key stands for (e.g. a user or assumed-role ARN)
};
using KeyLookup = std::function<KeyLookupResult(std::string_view access_key_id)>;

// The request as received. Views: they must outlive the verify_sigv4 call only.
struct ReceivedRequest {
  std::string_view method;
  std::string_view path;            // raw, as on the request line, without '?' and the query
  std::string_view query;           // raw, after the '?'; "" when none
  std::span<const Header> headers;  // in the order received; names in any case; repeats kept;
                                    // values untrimmed (SigV4's trimming is done here)
  std::string_view body;            // the body; not read when body_sha256_hex is given
  std::string_view body_sha256_hex; // optional: the SHA-256 (lower-case hex) that the server
                                    // computed over the body as it arrived
};

struct VerifyConfig {
  std::string region;   // the server's region, e.g. "us-east-1"
  std::string service;  // the expected signing name: "sagemaker", "sts", "logs"
  ErrorFlavour flavour = ErrorFlavour::kJson;
  std::chrono::seconds max_skew{900};  // AWS's 15 minutes, inclusive
  bool normalize_path = true;          // remove "." / ".." / "//" segments first, as AWS's non-S3
                                       // services do
  bool allow_presigned = true;
};

struct VerifiedRequest {
  std::string access_key_id;
  std::string principal;  // from the lookup
  bool temporary = false; // a session token was given (and matched)
  bool presigned = false;
  std::string signature;  // lower-case hex; the ReplayCache's key (public: it is on the wire)
  std::chrono::system_clock::time_point request_time;  // X-Amz-Date
  // After this instant the same signature is refused by verify_sigv4 anyway: request_time +
  // max_skew (header form) or request_time + X-Amz-Expires (presigned).
  std::chrono::system_clock::time_point valid_until;
};

struct VerifyResult {
  std::optional<VerifiedRequest> verified;  // set when the request is authentic
  std::optional<VerifyError> error;         // set otherwise
  bool ok() const { return verified.has_value(); }
};

// Verifies `req` at the server's time `now`. Checks, in this order: the form and its syntax;
// the signed headers; X-Amz-Date; the scope's date, region and service; the request time against
// `now` (|now - time| <= max_skew; presigned: time - max_skew <= now <= time + expires); the key
// (lookup) and its session token; X-Amz-Content-Sha256 against the body; the signature (derived
// key computed once, compared in constant time). Calls `lookup` at most once, and only for a
// well-formed request in scope and in time.
VerifyResult verify_sigv4(const ReceivedRequest& req, const VerifyConfig& config, const KeyLookup& lookup,
                          std::chrono::system_clock::time_point now);

// Refuses a signature seen before, while the request it signs could still be accepted.
//
// AWS itself does NOT refuse a replay within the 15-minute window: any copy of a signed request
// is accepted until its time is out of skew. Sluice's server must refuse a replayed request, so
// it puts this cache after verify_sigv4 (and only after a successful one: an unauthenticated
// client must not fill it). A client's retry is signed again (new X-Amz-Date, amz-sdk-request
// attempt number), so it is not a replay.
//
// An entry lives until the request's valid_until (then verify_sigv4 refuses it on time anyway),
// so memory is bounded by `capacity` entries; when the cache is full of live entries, new
// requests are refused (kReplayCacheFull, a throttling error) rather than forgetting an entry,
// which would let its replay through. Thread-safe.
class ReplayCache {
 public:
  explicit ReplayCache(size_t capacity);

  enum class Verdict { kFresh, kReplayed, kFull };
  // Remembers `signature` until `valid_until` unless it is remembered already. Entries whose
  // valid_until is before `now` are forgotten first.
  Verdict check_and_remember(std::string_view signature, std::chrono::system_clock::time_point valid_until,
                             std::chrono::system_clock::time_point now);

  // The same for a verified request: nullopt when fresh, else the error (kReplayed or
  // kReplayCacheFull) in `flavour`.
  std::optional<VerifyError> admit(const VerifiedRequest& request, ErrorFlavour flavour,
                                   std::chrono::system_clock::time_point now);

  size_t size() const;  // live and not yet purged entries
  size_t capacity() const { return capacity_; }

 private:
  void purge(std::chrono::system_clock::time_point now);  // mu_ held

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::chrono::system_clock::time_point> seen_;  // signature -> valid_until
  std::set<std::pair<std::chrono::system_clock::time_point, std::string>> by_expiry_;
};

}  // namespace sluice::auth
