// The wire protocols of the AWS APIs `sluice serve` speaks, as pure functions: which service and
// operation a request calls, and how answers and errors are written back.
//
//  - JSON 1.1 (SageMaker, CloudWatch Logs): `POST /` with `X-Amz-Target: <prefix>.<Operation>`
//    ("SageMaker.CreateTrainingJob", "Logs_20140328.GetLogEvents") and a JSON object as the body
//    (Content-Type application/x-amz-json-1.1). Answers are JSON objects; an error is
//    {"__type": "<Code>", "message": "..."} with its HTTP status.
//  - Query (STS): `POST /` with a form-encoded body `Action=<Operation>&Version=2011-06-15&...`.
//    Answers are XML `<OpResponse><OpResult>...</OpResult><ResponseMetadata>`; an error is an
//    `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error>`.
// Every answer carries the request id (x-amzn-RequestId), as botocore expects.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::serve {

enum class Protocol { kJson11, kQuery };

// One call of an API operation, as parsed from the request.
struct ApiCall {
  Protocol protocol = Protocol::kJson11;
  std::string service;    // the SigV4 signing name: "sagemaker", "logs" or "sts"
  std::string operation;  // e.g. "CreateTrainingJob", "AssumeRole"
  nlohmann::json input;   // JSON 1.1: the body's object; query: {"Param": "value", ...} (strings)
};

// An error answer: the AWS error code, its HTTP status, and a message for the caller.
struct ApiError {
  std::string code;  // e.g. "ValidationException", "InvalidAction"
  int status = 400;
  std::string message;
};

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The call a request makes: from its X-Amz-Target header ("" when absent), Content-Type and body.
// An unknown target prefix, a body that is not a JSON object, a query body without Action, or a
// Version other than STS's are ApiErrors in the protocol's words.
std::variant<ApiCall, ApiError> parse_call(std::string_view target, std::string_view content_type,
                                           std::string_view body);

// The protocol a request speaks, even when parse_call refuses it (for writing its error).
Protocol protocol_of(std::string_view target);

// A successful answer. JSON 1.1: `output` as the body. Query: `result_xml` (the children of
// <OperationResult>, already escaped) inside the operation's response element.
HttpReply json_reply(const nlohmann::json& output, std::string_view request_id);
HttpReply query_reply(std::string_view operation, std::string_view result_xml, std::string_view request_id);

// An error answer in `protocol`.
HttpReply error_reply(Protocol protocol, const ApiError& error, std::string_view request_id);

// Whether an operation only reads (Describe*, List*, Get*, Filter*: AWS names every read-only
// operation so). The server refuses a replayed request only for operations that change something:
// SDKs sign neither a per-call id nor anything finer than the second, so two identical reads in
// one second (a waiter polling, parallel describes) carry the same signature and are legitimate;
// a replayed read returns nothing its signer could not read, while a replayed AssumeRole would mint
// credentials for whoever captured the request.
bool is_read_only(std::string_view operation);

// Text for an XML element's content: & < > " ' escaped.
std::string xml_escape(std::string_view text);

}  // namespace sluice::serve
