#include "http/retry.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>

namespace sluice::http {

Verdict classify(const Outcome& o, std::string_view error_code) {
  if (o.aborted_by_sink) return Verdict::kFail;
  if (o.curl_code != CURLE_OK) {
    switch (o.curl_code) {
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:  // body shorter than Content-Length
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_COULDNT_RESOLVE_HOST:
        return Verdict::kRetry;
      default:
        return Verdict::kFail;
    }
  }
  long s = o.response.status;
  if (s >= 200 && s < 300) return Verdict::kSuccess;
  if (error_code == "SlowDown" || error_code == "InternalError" || error_code == "ServiceUnavailable" ||
      error_code == "RequestTimeout") {
    return Verdict::kRetry;
  }
  if (s == 500 || s == 502 || s == 503 || s == 504) return Verdict::kRetry;
  return Verdict::kFail;
}

std::chrono::milliseconds RetryPolicy::backoff(int next_attempt, std::mt19937_64& rng) const {
  int64_t ceiling = base.count();
  for (int i = 2; i < next_attempt && ceiling < cap.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, cap.count());
  std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(0, ceiling));
  return std::chrono::milliseconds(dist(rng));
}

RetryPolicy RetryPolicy::from_env() {
  RetryPolicy p;
  if (const char* v = std::getenv("AWS_MAX_ATTEMPTS")) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (end != v && *end == '\0' && n > 0 && n < 1000) p.max_attempts = static_cast<int>(n);
  }
  return p;
}

namespace {

struct CallState : std::enable_shared_from_this<CallState> {
  Client* client;
  RetryPolicy policy;
  RetryingCall call;
  void attempt(int n) {
    auto [request, sink] = call.make(n);
    auto self = shared_from_this();
    client->start(std::move(request), std::move(sink), [self, n](Outcome o) {
      if (self->call.observe) self->call.observe(o);
      std::string code = (o.curl_code == CURLE_OK && (o.response.status < 200 || o.response.status >= 300))
                             ? self->call.error_code(o)
                             : std::string();
      Verdict v = classify(o, code);
      if (v == Verdict::kRetry && n < self->policy.max_attempts) {
        static thread_local std::mt19937_64 rng{std::random_device{}()};
        self->client->run_after(self->policy.backoff(n + 1, rng), [self, n] { self->attempt(n + 1); });
        return;
      }
      self->call.done(std::move(o), n);
    });
  }
};

}  // namespace

void execute(Client& client, const RetryPolicy& policy, RetryingCall call) {
  auto state = std::make_shared<CallState>();
  state->client = &client;
  state->policy = policy;
  state->call = std::move(call);
  state->attempt(1);
}

std::pair<Outcome, int> execute_sync(Client& client, const RetryPolicy& policy,
                                     std::function<Request(int attempt)> make,
                                     std::function<std::string(const Outcome&)> error_code) {
  auto p = std::make_shared<std::promise<std::pair<Outcome, int>>>();
  auto f = p->get_future();
  execute(client, policy,
          RetryingCall{[make = std::move(make)](int n) { return std::pair<Request, Sink>(make(n), Sink{}); },
                       std::move(error_code),
                       [p](Outcome o, int n) { p->set_value({std::move(o), n}); },
                       {}});
  return f.get();
}

}  // namespace sluice::http
