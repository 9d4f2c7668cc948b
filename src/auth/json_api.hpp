// A client of the AWS JSON 1.1 protocol (SageMaker, CloudWatch Logs), as botocore speaks it:
// `POST /` (or the endpoint's path) with `X-Amz-Target: <prefix>.<Operation>`, Content-Type
// application/x-amz-json-1.1, the input object as the body, signed with SigV4 for the service's
// signing name. The answer is a JSON object; an error is {"__type": "<Code>", "message": "..."}
// with its HTTP status. `sluice jobs` uses it against `sluice serve` (docs/serve.md).
//
// Every attempt is signed afresh and carries `amz-sdk-invocation-id` (random, one per call) and
// `amz-sdk-request: attempt=N; max=M`, both signed, as botocore sends them: a retry, or the same
// call made twice within a second (a poll), is then never the same signature, which a server that
// refuses replays (sluice serve) would take for one.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/credentials.hpp"
#include "core/error.hpp"
#include "http/client.hpp"
#include "http/retry.hpp"

namespace sluice::auth {

// A JSON 1.1 service: its X-Amz-Target prefix and its SigV4 signing name.
struct JsonService {
  std::string_view target_prefix;
  std::string_view signing_name;
};
inline constexpr JsonService kSageMakerService{"SageMaker", "sagemaker"};
inline constexpr JsonService kLogsService{"Logs_20140328", "logs"};

struct JsonApiOptions {
  std::string endpoint;     // http(s)://host[:port][/path]; a trailing '/' is dropped
  std::string region;       // the SigV4 scope's region; empty = "us-east-1"
  Credentials credentials;  // its session token is sent when set
  std::chrono::milliseconds timeout{60'000};  // one attempt
  http::ClientOptions http = [] {
    http::ClientOptions o;
    o.max_connections = 2;
    o.loops = 1;
    return o;
  }();
  http::RetryPolicy retry = http::RetryPolicy::from_env();
};

// An endpoint split for requests: "http://h:1/api/" -> host "h:1", origin "http://h:1", path
// "/api/". kInvalidInput for text that is not an http:// or https:// URL with a host.
struct JsonEndpoint {
  std::string url;  // without a trailing '/'
  std::string host, origin, path;
};
JsonEndpoint parse_json_endpoint(std::string url);

class JsonApiClient {
 public:
  // kInvalidInput for an endpoint that is not an http:// or https:// URL with a host, and
  // kAccessDenied for credentials without a key id or secret.
  explicit JsonApiClient(JsonApiOptions options);
  ~JsonApiClient();
  JsonApiClient(const JsonApiClient&) = delete;
  JsonApiClient& operator=(const JsonApiClient&) = delete;

  // Calls `operation` with `input` (a JSON object) and returns the answer's object. Retries what
  // http::classify retries (and the JSON throttling codes) within the retry policy. Throws the
  // Error json_api_error makes of an error answer; kRetryable when the endpoint cannot be reached;
  // kInternal for a 2xx answer that is not a JSON object.
  nlohmann::json call(const JsonService& service, std::string_view operation, const nlohmann::json& input);

  const std::string& endpoint() const { return endpoint_.url; }

 private:
  JsonApiOptions options_;
  JsonEndpoint endpoint_;
  std::unique_ptr<http::Client> client_;
};

// The AWS error code of a JSON 1.1 error answer: `__type` (else the x-amzn-ErrorType header's
// value, else "code"), without a "namespace#" prefix or a ":uri" suffix. Empty when none.
std::string json_error_code(const http::Response& response);

// The Error an error answer of `operation` (e.g. "sagemaker DescribeTrainingJob at URL") becomes.
// Its message names the operation; its cause the code, the HTTP status and the answer's message:
//   AccessDeniedException, UnrecognizedClientException, InvalidSignatureException,
//   IncompleteSignatureException, MissingAuthenticationToken(Exception), ExpiredToken(Exception),
//   InvalidClientTokenId, SignatureDoesNotMatch, 401, 403                 kAccessDenied
//   ResourceNotFound(Exception), ValidationException "Requested resource not found.", 404
//                                                                          kNotFound
//   ValidationException, SerializationException, InvalidParameterException,
//   InvalidParameterValue, UnknownOperationException, MissingAction, other 4xx   kInvalidInput
//   ResourceInUse(Exception), ConflictException, 409                        kConflict
//   ResourceLimitExceeded, ThrottlingException, Throttling, ServiceUnavailable(Exception),
//   InternalFailure, InternalServerError, 5xx                               kRetryable
//   anything else                                                           kInternal
Error json_api_error(std::string_view operation, long status, std::string_view code, std::string_view message);

}  // namespace sluice::auth
