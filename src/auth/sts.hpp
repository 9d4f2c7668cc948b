// STS AssumeRole: temporary credentials for a role, optionally narrowed by a session policy.
//
// The request is the AWS query protocol: POST / with an application/x-www-form-urlencoded body
// "Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...&DurationSeconds=...
// [&Policy=...]", signed with SigV4 for service "sts". Against Ceph RGW the STS endpoint is the S3
// endpoint (rgw s3 auth use sts = true).
//
// What RGW 16 does (pinned by tests/integration/sts_rgw_test.cpp):
//  - role ARNs have no account: arn:aws:iam:::role/NAME, or arn:aws:iam:::role/PATH/NAME;
//  - DurationSeconds 900..the role's MaxSessionDuration (default 3600, at most 43200), else
//    InvalidArgument; RoleSessionName 2-64 characters of [\w+=,.@-], else InvalidArgument;
//  - session policy: at most 2048 bytes of text (whitespace counts), else PackedPolicyTooLarge;
//    only s3:, iam: and sts: actions (elasticfilesystem:*, sagemaker:* are MalformedPolicyDocument),
//    Resources must be ARNs of those services, no policy variables (${...}); Condition on s3:prefix
//    works; NotResource works; NotAction is accepted but evaluated wrongly (Allow+NotAction grants
//    nothing, Deny+NotAction is ignored), so never generate it;
//  - errors come as S3-style <Error><Code>…</Code><Message/></Error>, with an empty Message;
//  - the form body must not encode a space as '+' (RGW does not decode it: botocore's '+' turns a
//    JSON policy with spaces into MalformedPolicyDocument); form_encode uses %20.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/credentials.hpp"
#include "http/client.hpp"
#include "http/retry.hpp"

namespace sluice::auth {

struct AssumeRoleRequest {
  std::string endpoint;          // http(s)://host[:port], e.g. http://127.0.0.1:PORT (RGW: the S3 endpoint)
  std::string region;            // for SigV4 (service "sts"); empty = "us-east-1"
  Credentials caller;            // who calls AssumeRole (its session token is sent when set)
  std::string role_arn;          // e.g. arn:aws:iam:::role/sluice-jobs (RGW role ARNs have no account)
  std::string session_name;      // 2-64 chars [A-Za-z0-9_+=,.@-]
  std::string policy;            // session policy, compact JSON; empty = none
  int duration_seconds = 3600;   // > 0 (AWS and RGW: 900..the role's MaxSessionDuration)
};

struct AssumedRole {
  Credentials credentials;  // source "sts:AssumeRole <role arn>"
  std::chrono::system_clock::time_point expiration;
};

// Calls AssumeRole and returns the temporary credentials. Throws sluice::Error:
//  - kInvalidInput: a bad request field (checked before sending: endpoint, role ARN, session name,
//    duration), or the STS answer MalformedPolicyDocument / ValidationError /
//    PackedPolicyTooLarge / any other 400 (the message carries the STS Code and Message);
//  - kAccessDenied: 403 (the trust policy does not allow the caller, unknown or wrong key); the
//    message names the role and the caller's access key id, never a secret;
//  - kNotFound: NoSuchEntity or 404 (the role does not exist);
//  - kRetryable: 5xx, throttling or connection errors once the retry policy is spent;
//  - kInternal: a 2xx answer without credentials, or any other unexpected answer.
// Never puts a secret or session token in a message or a log line.
AssumedRole assume_role(const AssumeRoleRequest& request);

// The same with the caller's transport and retry policy (tests use a short one).
AssumedRole assume_role(const AssumeRoleRequest& request, http::Client& client, const http::RetryPolicy& retry,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Form encoding as the query protocol wants it: name=value pairs joined with '&', each encoded with
// uri_encode(…, true) (so a JSON policy's '{', '"', ':', ' ', '*' and '/' are all %XX-encoded).
// Exposed for tests.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// Parses "2026-11-25T22:35:01Z" (optionally with fractional seconds, or a +00:00 offset) as UTC.
// kInternal when it does not parse. Exposed for tests.
std::chrono::system_clock::time_point parse_iso8601_utc(std::string_view text);

}  // namespace sluice::auth
