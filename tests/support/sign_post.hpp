// SigV4 headers for a `POST /` to a `sluice serve` API (the JSON 1.1 and query services' path
// rule), made by the project's own signer as boto3 would sign the request. Header-only, for the
// tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "auth/sigv4.hpp"
#include "core/hash.hpp"

namespace sluice::testing {

// The headers to add to `headers` (which must hold Host) for `body`, signed with `credentials`
// (a session token, when given, is sent as X-Amz-Security-Token) for `service` at `time`.
inline std::vector<auth::Header> sign_post(const std::vector<auth::Header>& headers, const std::string& body,
                                           const auth::Credentials& credentials, const std::string& service,
                                           std::chrono::system_clock::time_point time,
                                           const std::string& region = "us-east-1") {
  auth::Request req;
  req.method = "POST";
  req.wire_path = "/";
  req.headers = headers;
  req.payload_sha256_hex = sha256_hex(body);
  auth::SigningParams p;
  p.credentials = credentials;
  p.region = region;
  p.service = service;
  p.time = time;
  p.path_rule = auth::PathRule::kGeneric;
  return auth::sign_headers(req, p);
}

}  // namespace sluice::testing
