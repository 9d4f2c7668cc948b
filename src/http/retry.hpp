// The one retry policy: exponential backoff with full jitter over a bounded number of attempts.
// Retried: connection errors, timeouts, truncated bodies, HTTP 500/502/503/504, and the S3 error
// codes SlowDown, InternalError, ServiceUnavailable and RequestTimeout whatever their status.
// Never retried: any other 4xx, a sink that refused data, a client shutting down.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "http/client.hpp"

namespace sluice::http {

enum class Verdict { kSuccess, kRetry, kFail };

// error_code: the S3 <Code> of an error body, empty when none.
Verdict classify(const Outcome& outcome, std::string_view error_code);

struct RetryPolicy {
  int max_attempts = 10;  // like Mountpoint; AWS_MAX_ATTEMPTS overrides (see from_env)
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{20'000};

  // Delay before attempt number `next_attempt` (2 for the first retry): uniform in
  // [0, min(cap, base * 2^(next_attempt-2))].
  std::chrono::milliseconds backoff(int next_attempt, std::mt19937_64& rng) const;

  // Defaults, with AWS_MAX_ATTEMPTS applied when set to a positive integer.
  static RetryPolicy from_env();
};

// One logical request run with retries. `make(attempt)` builds each attempt afresh (new
// signature, resumed range); `error_code` extracts the S3 error code from a failed response;
// `done` gets the last outcome and the number of attempts made.
struct RetryingCall {
  std::function<std::pair<Request, Sink>(int attempt)> make;
  std::function<std::string(const Outcome&)> error_code;
  std::function<void(Outcome, int attempts)> done;
  std::function<void(const Outcome&)> observe;  // optional: sees every attempt's outcome first
};

void execute(Client& client, const RetryPolicy& policy, RetryingCall call);

// Blocking form, body collected in the outcome.
std::pair<Outcome, int> execute_sync(Client& client, const RetryPolicy& policy,
                                     std::function<Request(int attempt)> make,
                                     std::function<std::string(const Outcome&)> error_code);

}  // namespace sluice::http
