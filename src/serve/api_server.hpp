// The HTTP front of `sluice serve`: one listening socket on which the SageMaker and CloudWatch Logs
// JSON 1.1 APIs and the STS query API are served (serve/aws_protocol.hpp), every request
// SigV4-verified (auth/sigv4_verify.hpp) for the service its protocol names, replays of
// operations that change something refused (is_read_only, serve/aws_protocol.hpp),
// then handed with the caller's identity to the operation's handler.
//
// What a handler gets is only an authenticated call; what the caller may do is the handler's to
// decide (policy/). HTTP is cpp-httplib (Debian libcpp-httplib-dev), plain HTTP: the server is
// meant for loopback or behind a TLS proxy (docs/serve.md).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "auth/sigv4_verify.hpp"
#include "serve/aws_protocol.hpp"

namespace sluice::serve {

// Who made a verified call.
struct Caller {
  std::string access_key_id;
  std::string principal;  // from the key lookup: a user or assumed-role ARN
  bool temporary = false;
};

// Answers one operation: the output object (JSON 1.1) or the result XML (query), or throws
// ApiFailure for an error answer.
struct OperationResult {
  nlohmann::json output = nlohmann::json::object();  // JSON 1.1
  std::string result_xml;                            // query
};
struct ApiFailure : std::exception {
  explicit ApiFailure(ApiError e) : error(std::move(e)) {}
  const char* what() const noexcept override { return error.message.c_str(); }
  ApiError error;
};
using Operation = std::function<OperationResult(const ApiCall& call, const Caller& caller)>;

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port (port() tells which)
  std::string region = "us-east-1";
  size_t max_body = 1u << 20;  // bytes; a larger request is refused (413)
  size_t replay_capacity = 1u << 16;
  std::function<std::chrono::system_clock::time_point()> clock = [] { return std::chrono::system_clock::now(); };
};

class ApiServer {
 public:
  // `operations` maps "<service>.<Operation>" (e.g. "sts.GetCallerIdentity",
  // "sagemaker.CreateTrainingJob") to handlers. Binds the socket (throws Error when it cannot);
  // serving starts with start().
  ApiServer(ApiServerOptions options, auth::KeyLookup keys, std::map<std::string, Operation> operations);
  ~ApiServer();  // stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int port() const { return port_; }
  void start();  // serves on a thread of its own
  void stop();   // stops accepting, finishes the requests in progress

  // One request, as the HTTP layer hands it over: the whole answer. Public for tests.
  HttpReply handle(std::string_view method, std::string_view target, std::span<const auth::Header> headers,
                   std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace sluice::serve
