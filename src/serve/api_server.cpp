#include "serve/api_server.hpp"

#include <httplib.h>
#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/core.h>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace sluice::serve {
namespace {

std::string request_id() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  const std::string hex = hex_encode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20));
}

std::string_view header_value(std::span<const auth::Header> headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

}  // namespace

struct ApiServer::Impl {
  ApiServerOptions options;
  auth::KeyLookup keys;
  std::map<std::string, Operation> operations;
  auth::ReplayCache replays;
  httplib::Server http;
  std::thread thread;
  bool started = false;                // start() ran: the loop is running or has run
  std::atomic<bool> loop_ended{false};  // listen_after_bind returned

  Impl(ApiServerOptions o, auth::KeyLookup k, std::map<std::string, Operation> ops)
      : options(std::move(o)), keys(std::move(k)), operations(std::move(ops)), replays(options.replay_capacity) {}
};

ApiServer::ApiServer(ApiServerOptions options, auth::KeyLookup keys, std::map<std::string, Operation> operations)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(keys), std::move(operations))) {
  auto& http = impl_->http;
  http.set_payload_max_length(impl_->options.max_body);
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, with which a second server on the
  // same port binds too and takes half of the requests.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    std::vector<auth::Header> headers(req.headers.begin(), req.headers.end());
    HttpReply r = handle(req.method, req.target, headers, req.body);
    res.status = r.status;
    for (auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.content_type);
  };
  http.Post(".*", serve);
  http.Get(".*", serve);
  const std::string& host = impl_->options.host;
  if (impl_->options.port == 0) {
    port_ = http.bind_to_any_port(host);
  } else {
    port_ = http.bind_to_port(host, impl_->options.port) ? impl_->options.port : -1;
  }
  if (port_ <= 0) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("--listen {}:{}", host, impl_->options.port),
                "cannot listen there (in use, or not an address of this machine)");
  }
}

ApiServer::~ApiServer() {
  // httplib closes its listening socket only in stop() of a running server: one bound but never
  // started would keep its port until the process ends, so it is started to be stopped. A server
  // that was started (and maybe stopped already) is only stopped: starting it again after a stop
  // would wait for a loop that ends at once.
  if (!impl_->started) start();
  stop();
}

void ApiServer::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->thread = std::thread([this] {
    impl_->http.listen_after_bind();
    impl_->loop_ended = true;
  });
  // Requests that come before the loop runs wait in the socket's backlog; waiting for the loop
  // keeps a stop() right after start() from racing its start. A loop that could not run (its
  // socket already closed) ends the wait too.
  while (!impl_->http.is_running() && !impl_->loop_ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void ApiServer::stop() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

HttpReply ApiServer::handle(std::string_view method, std::string_view target, std::span<const auth::Header> headers,
                            std::string_view body) {
  const std::string rid = request_id();
  const std::string_view amz_target = header_value(headers, "x-amz-target");
  const Protocol protocol = protocol_of(amz_target);
  if (method != "POST") {
    return error_reply(protocol, {"InvalidAction", 400, "the APIs served here take POST /"}, rid);
  }
  auto parsed = parse_call(amz_target, header_value(headers, "content-type"), body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return error_reply(protocol, *e, rid);
  const ApiCall& call = std::get<ApiCall>(parsed);

  const size_t q = target.find('?');
  auth::ReceivedRequest received;
  received.method = method;
  received.path = target.substr(0, q);
  received.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  received.headers = headers;
  received.body = body;
  auth::VerifyConfig vc;
  vc.region = impl_->options.region;
  vc.service = call.service;
  vc.flavour = protocol == Protocol::kJson11 ? auth::ErrorFlavour::kJson : auth::ErrorFlavour::kQuery;
  const auto now = impl_->options.clock();
  auto verified = auth::verify_sigv4(received, vc, impl_->keys, now);
  std::optional<auth::VerifyError> refusal = verified.error;
  if (!refusal && !is_read_only(call.operation)) refusal = impl_->replays.admit(*verified.verified, vc.flavour, now);
  if (refusal) {
    log::info("refused {}.{}: {} ({})", call.service, call.operation, refusal->aws_code, refusal->message);
    return error_reply(protocol, {refusal->aws_code, refusal->http_status, refusal->message}, rid);
  }
  Caller caller{verified.verified->access_key_id, verified.verified->principal, verified.verified->temporary};

  auto op = impl_->operations.find(call.service + "." + call.operation);
  if (op == impl_->operations.end()) {
    return error_reply(protocol,
                       {protocol == Protocol::kJson11 ? "UnknownOperationException" : "InvalidAction", 400,
                        fmt::format("{} is not an operation this server implements", call.operation)},
                       rid);
  }
  try {
    OperationResult out = op->second(call, caller);
    return protocol == Protocol::kJson11 ? json_reply(out.output, rid) : query_reply(call.operation, out.result_xml, rid);
  } catch (const ApiFailure& f) {
    return error_reply(protocol, f.error, rid);
  } catch (const std::exception& e) {
    log::error("{}.{} failed: {}", call.service, call.operation, e.what());
    return error_reply(protocol, {"InternalFailure", 500, "the server failed to answer; see its log"}, rid);
  }
}

}  // namespace sluice::serve
