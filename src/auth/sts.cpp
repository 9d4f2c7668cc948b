#include "auth/sts.hpp"

#include <curl/curl.h>
#include <pugixml.hpp>

#include <cctype>
#include <charconv>
#include <ctime>

#include "auth/sigv4.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/iso8601.hpp"
#include "core/log.hpp"

namespace sluice::auth {
namespace {

struct StsError {
  std::string code;
  std::string message;
};

// The first <Code> and <Message> anywhere in the body: the query protocol's
// <ErrorResponse><Error><Code>…, or an S3-style <Error><Code>… (RGW answers either way).
StsError parse_sts_error(const std::string& body) {
  StsError e;
  if (body.empty()) return e;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return e;
  auto named = [](const char* name) { return [name](pugi::xml_node n) { return std::string_view(n.name()) == name; }; };
  e.code = doc.find_node(named("Code")).text().as_string();
  e.message = doc.find_node(named("Message")).text().as_string();
  return e;
}

// The code the retry policy looks at: STS throttling is retried like S3's SlowDown.
std::string retry_code_of(const http::Outcome& o) {
  std::string code = parse_sts_error(o.response.body).code;
  if (code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded") return "SlowDown";
  return code;
}

bool valid_session_name(const std::string& s) {
  if (s.size() < 2 || s.size() > 64) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_+=,.@-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void validate(const AssumeRoleRequest& r) {
  if (!r.endpoint.starts_with("http://") && !r.endpoint.starts_with("https://")) {
    throw Error(ErrorKind::kInvalidInput, "STS endpoint '" + r.endpoint + "' is not an http:// or https:// URL");
  }
  if (r.endpoint.size() <= r.endpoint.find("://") + 3) {
    throw Error(ErrorKind::kInvalidInput, "STS endpoint '" + r.endpoint + "' has no host");
  }
  if (r.role_arn.size() < 20 || r.role_arn.size() > 2048 || !r.role_arn.starts_with("arn:")) {
    throw Error(ErrorKind::kInvalidInput,
                "role ARN '" + r.role_arn + "' is not an ARN (expected e.g. arn:aws:iam:::role/NAME)");
  }
  if (!valid_session_name(r.session_name)) {
    throw Error(ErrorKind::kInvalidInput, "role session name '" + r.session_name +
                                              "' must be 2-64 characters of A-Z a-z 0-9 _ + = , . @ -");
  }
  if (r.duration_seconds <= 0) {
    throw Error(ErrorKind::kInvalidInput,
                "session duration " + std::to_string(r.duration_seconds) + " s must be positive");
  }
  if (r.caller.access_key_id.empty() || r.caller.secret_access_key.empty()) {
    throw Error(ErrorKind::kAccessDenied, "assuming role " + r.role_arn + " needs caller credentials",
                "the caller's access key id or secret is empty (" + r.caller.source + ")");
  }
}

Error error_for(const AssumeRoleRequest& r, const http::Outcome& o, int attempts) {
  std::string what = "assuming role " + r.role_arn + " (session '" + r.session_name + "') at " + r.endpoint;
  std::string tries = attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
  if (o.curl_code != CURLE_OK) {
    return Error(ErrorKind::kRetryable, what, "cannot reach the STS endpoint: " + o.curl_message + tries);
  }
  StsError e = parse_sts_error(o.response.body);
  long status = o.response.status;
  std::string detail = (e.code.empty() ? std::string() : e.code + " ") + "(HTTP " + std::to_string(status) + ")";
  if (!e.message.empty()) detail += ": " + e.message;
  detail += tries;
  const std::string& c = e.code;
  if (c == "NoSuchEntity" || status == 404) {
    return Error(ErrorKind::kNotFound, what, detail + ": the role does not exist");
  }
  if (c == "MalformedPolicyDocument" || c == "PackedPolicyTooLarge" || c == "ValidationError" ||
      c == "InvalidParameterValue" || c == "InvalidInput" || c == "InvalidArgument") {
    return Error(ErrorKind::kInvalidInput, what, detail);
  }
  if (status == 403 || c == "AccessDenied" || c == "InvalidClientTokenId" || c == "SignatureDoesNotMatch" ||
      c == "ExpiredToken" || c == "InvalidAccessKeyId") {
    return Error(ErrorKind::kAccessDenied, what,
                 detail + ": the STS endpoint refused caller access key id '" + r.caller.access_key_id + "' (" +
                     r.caller.source + "); the role's trust policy may not allow it, or the key is wrong");
  }
  if (status >= 500 || c == "SlowDown" || c == "Throttling" || c == "ServiceUnavailable" ||
      c == "InternalError" || c == "RequestLimitExceeded") {
    return Error(ErrorKind::kRetryable, what, detail);
  }
  if (status == 400) return Error(ErrorKind::kInvalidInput, what, detail);
  return Error(ErrorKind::kInternal, what, "unexpected answer " + detail);
}

}  // namespace

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += uri_encode(name, true);
    out += '=';
    out += uri_encode(value, true);
  }
  return out;
}

std::chrono::system_clock::time_point parse_iso8601_utc(std::string_view t) {
  const auto ns = ::sluice::parse_iso8601_ns(t);
  if (!ns) throw Error(ErrorKind::kInternal, "cannot parse the time '" + std::string(t) + "' (expected ISO 8601 UTC)");
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(*ns / 1'000'000'000 * 1'000'000'000)));
}

AssumedRole assume_role(const AssumeRoleRequest& request) {
  http::ClientOptions options;
  options.loops = 1;
  options.max_connections = 2;
  http::Client client(options);
  return assume_role(request, client, http::RetryPolicy::from_env());
}

AssumedRole assume_role(const AssumeRoleRequest& request, http::Client& client, const http::RetryPolicy& retry,
                        std::chrono::milliseconds timeout) {
  validate(request);
  std::string base = request.endpoint;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  size_t host_begin = base.find("://") + 3;
  size_t path_begin = base.find('/', host_begin);
  std::string host = base.substr(host_begin, path_begin == std::string::npos ? std::string::npos : path_begin - host_begin);
  std::string origin = base.substr(0, path_begin);
  std::string path = path_begin == std::string::npos ? "/" : base.substr(path_begin);

  std::vector<std::pair<std::string, std::string>> fields = {
      {"Action", "AssumeRole"},
      {"Version", "2011-06-15"},
      {"RoleArn", request.role_arn},
      {"RoleSessionName", request.session_name},
      {"DurationSeconds", std::to_string(request.duration_seconds)},
  };
  if (!request.policy.empty()) fields.emplace_back("Policy", request.policy);
  auto body = std::make_shared<const std::string>(form_encode(fields));
  const std::string payload_hash = sha256_hex(*body);
  const std::string content_type = "application/x-www-form-urlencoded; charset=utf-8";

  auto make = [&](int) {
    Request sreq;
    sreq.method = "POST";
    sreq.wire_path = path;
    sreq.headers = {{"Host", host}, {"Content-Type", content_type}, {"x-amz-content-sha256", payload_hash}};
    sreq.payload_sha256_hex = payload_hash;
    SigningParams params;
    params.credentials = request.caller;
    params.region = request.region.empty() ? "us-east-1" : request.region;
    params.service = "sts";
    params.time = std::chrono::system_clock::now();
    params.path_rule = PathRule::kGeneric;
    http::Request r;
    r.method = "POST";
    r.url = origin + path;
    r.headers = {{"Content-Type", content_type}, {"x-amz-content-sha256", payload_hash}};
    for (auto& h : sign_headers(sreq, params)) r.headers.push_back(std::move(h));
    r.body.bytes = body;
    r.timeout = timeout;
    return r;
  };

  log::debug("sts: AssumeRole {} session '{}' for {} s as access key id {} at {}", request.role_arn,
             request.session_name, request.duration_seconds, request.caller.access_key_id, request.endpoint);
  auto [o, attempts] = http::execute_sync(client, retry, make, retry_code_of);
  if (http::classify(o, o.curl_code == CURLE_OK ? retry_code_of(o) : "") != http::Verdict::kSuccess) {
    throw error_for(request, o, attempts);
  }

  const std::string what = "assuming role " + request.role_arn + " at " + request.endpoint;
  pugi::xml_document doc;
  if (!doc.load_buffer(o.response.body.data(), o.response.body.size())) {
    throw Error(ErrorKind::kInternal, what, "the answer (HTTP " + std::to_string(o.response.status) + ", " +
                                                std::to_string(o.response.body.size()) + " bytes) is not XML");
  }
  pugi::xml_node creds = doc.child("AssumeRoleResponse").child("AssumeRoleResult").child("Credentials");
  AssumedRole out;
  out.credentials.access_key_id = creds.child("AccessKeyId").text().as_string();
  out.credentials.secret_access_key = creds.child("SecretAccessKey").text().as_string();
  out.credentials.session_token = creds.child("SessionToken").text().as_string();
  out.credentials.source = "sts:AssumeRole " + request.role_arn;
  std::string expiration = creds.child("Expiration").text().as_string();
  std::vector<std::string> missing;
  if (out.credentials.access_key_id.empty()) missing.push_back("AccessKeyId");
  if (out.credentials.secret_access_key.empty()) missing.push_back("SecretAccessKey");
  if (out.credentials.session_token.empty()) missing.push_back("SessionToken");
  if (expiration.empty()) missing.push_back("Expiration");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw Error(ErrorKind::kInternal, what,
                "the answer (HTTP " + std::to_string(o.response.status) +
                    ") has no AssumeRoleResponse/AssumeRoleResult/Credentials with " + list);
  }
  try {
    out.expiration = parse_iso8601_utc(expiration);
  } catch (const Error& e) {
    throw Error(ErrorKind::kInternal, what, "Expiration: " + e.message());
  }
  log::debug("sts: assumed {} as access key id {} until {}", request.role_arn, out.credentials.access_key_id,
             expiration);
  return out;
}

}  // namespace sluice::auth
