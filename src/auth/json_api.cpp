#include "auth/json_api.hpp"

#include <curl/curl.h>
#include <fmt/core.h>
#include <openssl/rand.h>

#include <utility>

#include "auth/sigv4.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"

namespace sluice::auth {
namespace {

constexpr char kContentType[] = "application/x-amz-json-1.1";

// A call's amz-sdk-invocation-id: 16 random bytes as a UUID-shaped hex string.
std::string invocation_id() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw Error(ErrorKind::kInternal, "no random bytes for a request id");
  std::string hex = hex_encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

// The code the retry policy looks at: JSON throttling and unavailability are retried like S3's.
std::string retry_code_of(const http::Outcome& o) {
  const std::string code = json_error_code(o.response);
  if (code == "ThrottlingException" || code == "Throttling" || code == "RequestLimitExceeded") return "SlowDown";
  if (code == "ServiceUnavailable" || code == "ServiceUnavailableException") return "ServiceUnavailable";
  if (code == "InternalFailure" || code == "InternalServerError") return "InternalError";
  return code;
}

bool one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (auto c : codes) {
    if (code == c) return true;
  }
  return false;
}

}  // namespace

std::string json_error_code(const http::Response& response) {
  std::string code;
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    for (const char* key : {"__type", "code", "Code"}) {
      auto it = body.find(key);
      if (it != body.end() && it->is_string() && !it->get<std::string>().empty()) {
        code = it->get<std::string>();
        break;
      }
    }
  }
  if (code.empty()) code = response.header("x-amzn-errortype").value_or("");
  if (const size_t hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  if (const size_t colon = code.find(':'); colon != std::string::npos) code.erase(colon);
  return code;
}

Error json_api_error(std::string_view operation, long status, std::string_view code, std::string_view message) {
  std::string cause = code.empty() ? std::string() : std::string(code) + " ";
  cause += fmt::format("(HTTP {})", status);
  if (!message.empty()) cause += fmt::format(": {}", message);
  const std::string what(operation);
  if (one_of(code, {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
                    "IncompleteSignatureException", "MissingAuthenticationToken",
                    "MissingAuthenticationTokenException", "ExpiredToken", "ExpiredTokenException",
                    "InvalidClientTokenId", "SignatureDoesNotMatch"})) {
    return Error(ErrorKind::kAccessDenied, what, cause);
  }
  if (one_of(code, {"ResourceNotFound", "ResourceNotFoundException"}) ||
      (code == "ValidationException" && message.starts_with("Requested resource not found"))) {
    return Error(ErrorKind::kNotFound, what, cause);
  }
  if (one_of(code, {"ValidationException", "SerializationException", "InvalidParameterException",
                    "InvalidParameterValue", "InvalidParameterCombination", "UnknownOperationException",
                    "MissingAction", "InvalidAction"})) {
    return Error(ErrorKind::kInvalidInput, what, cause);
  }
  if (one_of(code, {"ResourceInUse", "ResourceInUseException", "ConflictException"})) {
    return Error(ErrorKind::kConflict, what, cause);
  }
  if (one_of(code, {"ResourceLimitExceeded", "ThrottlingException", "Throttling", "RequestLimitExceeded",
                    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError"})) {
    return Error(ErrorKind::kRetryable, what, cause);
  }
  if (status == 401 || status == 403) return Error(ErrorKind::kAccessDenied, what, cause);
  if (status == 404) return Error(ErrorKind::kNotFound, what, cause);
  if (status == 409) return Error(ErrorKind::kConflict, what, cause);
  if (status >= 500) return Error(ErrorKind::kRetryable, what, cause);
  if (status >= 400) return Error(ErrorKind::kInvalidInput, what, cause);
  return Error(ErrorKind::kInternal, what, "unexpected answer " + cause);
}

JsonEndpoint parse_json_endpoint(std::string url) {
  JsonEndpoint e;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw Error(ErrorKind::kInvalidInput, "endpoint '" + url + "'", "not an http:// or https:// URL");
  }
  const size_t host_begin = scheme_end + 3;
  const size_t path_begin = url.find('/', host_begin);
  e.host = url.substr(host_begin, path_begin == std::string::npos ? std::string::npos : path_begin - host_begin);
  if (e.host.empty() || e.host.find_first_of("?#@ ") != std::string::npos) {
    throw Error(ErrorKind::kInvalidInput, "endpoint '" + url + "'", "expected http(s)://HOST[:PORT][/PATH]");
  }
  e.origin = url.substr(0, path_begin);
  e.path = path_begin == std::string::npos ? "/" : url.substr(path_begin) + "/";
  e.url = std::move(url);
  return e;
}

JsonApiClient::JsonApiClient(JsonApiOptions options)
    : options_(std::move(options)), endpoint_(parse_json_endpoint(options_.endpoint)) {
  if (options_.region.empty()) options_.region = "us-east-1";
  const Credentials& c = options_.credentials;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    throw Error(ErrorKind::kAccessDenied, "calling " + endpoint_.url, "no access key id or secret (" + c.source + ")");
  }
  client_ = std::make_unique<http::Client>(options_.http);
}

JsonApiClient::~JsonApiClient() = default;

nlohmann::json JsonApiClient::call(const JsonService& service, std::string_view operation,
                                   const nlohmann::json& input) {
  const std::string what = fmt::format("{} {} at {}", service.signing_name, operation, endpoint_.url);
  auto body = std::make_shared<const std::string>(input.dump());
  const std::string payload_hash = sha256_hex(*body);
  const std::string target = fmt::format("{}.{}", service.target_prefix, operation);
  const std::string invocation = invocation_id();
  const int max_attempts = options_.retry.max_attempts;

  auto make = [&](int attempt) {
    std::vector<Header> headers = {{"Content-Type", kContentType},
                                   {"X-Amz-Target", target},
                                   {"amz-sdk-invocation-id", invocation},
                                   {"amz-sdk-request", fmt::format("attempt={}; max={}", attempt, max_attempts)}};
    Request sreq;
    sreq.method = "POST";
    sreq.wire_path = endpoint_.path;
    sreq.headers = headers;
    sreq.headers.emplace_back("Host", endpoint_.host);
    sreq.payload_sha256_hex = payload_hash;
    SigningParams params;
    params.credentials = options_.credentials;
    params.region = options_.region;
    params.service = std::string(service.signing_name);
    params.time = std::chrono::system_clock::now();
    params.path_rule = PathRule::kGeneric;
    http::Request r;
    r.method = "POST";
    r.url = endpoint_.origin + endpoint_.path;
    r.headers = std::move(headers);
    for (auto& h : sign_headers(sreq, params)) r.headers.push_back(std::move(h));
    r.body.bytes = body;
    r.timeout = options_.timeout;
    return r;
  };

  log::debug("json api: {} as access key id {}", what, options_.credentials.access_key_id);
  auto [o, attempts] = http::execute_sync(*client_, options_.retry, make, retry_code_of);
  const std::string tries = attempts > 1 ? fmt::format(" (after {} attempts)", attempts) : "";
  if (o.curl_code != CURLE_OK) {
    throw Error(ErrorKind::kRetryable, what, "cannot reach the server: " + o.curl_message + tries);
  }
  const long status = o.response.status;
  if (status < 200 || status >= 300) {
    const auto answer = nlohmann::json::parse(o.response.body, nullptr, false);
    std::string message;
    if (answer.is_object()) {
      for (const char* key : {"message", "Message"}) {
        if (answer.contains(key) && answer[key].is_string()) message = answer[key].get<std::string>();
      }
    }
    throw json_api_error(what, status, json_error_code(o.response), message + tries);
  }
  auto out = nlohmann::json::parse(o.response.body, nullptr, false);
  if (o.response.body.empty()) out = nlohmann::json::object();
  if (!out.is_object()) {
    throw Error(ErrorKind::kInternal, what,
                fmt::format("the answer (HTTP {}, {} bytes) is not a JSON object", status, o.response.body.size()));
  }
  return out;
}

}  // namespace sluice::auth
