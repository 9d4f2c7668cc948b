// http::classify, RetryPolicy (backoff with full jitter, AWS_MAX_ATTEMPTS) and execute() run
// against a scripted HTTP server on 127.0.0.1.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <map>
#include <random>
#include <set>

#include "http/client.hpp"
#include "support/scripted_server.hpp"
#include "http/retry.hpp"
#include "store/s3_xml.hpp"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

using sluice::testing::ScriptedServer;


// ---- classify -----------------------------------------------------------------------------------

Outcome curl_failure(int code) {
  Outcome o;
  o.curl_code = code;
  o.curl_message = curl_easy_strerror(static_cast<CURLcode>(code));
  return o;
}

Outcome status(long s) {
  Outcome o;
  o.response.status = s;
  return o;
}

TEST(Classify, TransientCurlErrorsRetried) {
  for (CURLcode c : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
                     CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING}) {
    EXPECT_EQ(classify(curl_failure(c), ""), Verdict::kRetry) << curl_easy_strerror(c);
  }
}

TEST(Classify, PermanentCurlErrorsFail) {
  for (CURLcode c : {CURLE_URL_MALFORMAT, CURLE_ABORTED_BY_CALLBACK, CURLE_UNSUPPORTED_PROTOCOL, CURLE_WRITE_ERROR,
                     CURLE_READ_ERROR, CURLE_OUT_OF_MEMORY}) {
    EXPECT_EQ(classify(curl_failure(c), ""), Verdict::kFail) << curl_easy_strerror(c);
  }
}

TEST(Classify, CurlErrorWinsOverStatus) {
  Outcome o = curl_failure(CURLE_PARTIAL_FILE);
  o.response.status = 200;  // the headers arrived, the body did not
  EXPECT_EQ(classify(o, ""), Verdict::kRetry);
  Outcome m = curl_failure(CURLE_URL_MALFORMAT);
  EXPECT_EQ(classify(m, "SlowDown"), Verdict::kFail);
}

TEST(Classify, AbortedBySinkFails) {
  Outcome o = curl_failure(CURLE_WRITE_ERROR);
  o.response.status = 200;
  o.aborted_by_sink = true;
  EXPECT_EQ(classify(o, ""), Verdict::kFail);
  // Even when the transport error would otherwise be retried, or the status is a success.
  Outcome p = curl_failure(CURLE_RECV_ERROR);
  p.aborted_by_sink = true;
  EXPECT_EQ(classify(p, ""), Verdict::kFail);
  Outcome q = status(200);
  q.aborted_by_sink = true;
  EXPECT_EQ(classify(q, ""), Verdict::kFail);
}

TEST(Classify, SuccessStatuses) {
  for (long s : {200L, 204L, 206L}) EXPECT_EQ(classify(status(s), ""), Verdict::kSuccess) << s;
}

TEST(Classify, ServerErrorsRetried) {
  for (long s : {500L, 502L, 503L, 504L}) EXPECT_EQ(classify(status(s), ""), Verdict::kRetry) << s;
}

TEST(Classify, NotImplementedFails) { EXPECT_EQ(classify(status(501), ""), Verdict::kFail); }

TEST(Classify, ClientErrorsFail) {
  for (long s : {400L, 401L, 403L, 404L, 405L, 409L, 411L, 412L, 416L, 429L}) {
    EXPECT_EQ(classify(status(s), ""), Verdict::kFail) << s;
  }
  EXPECT_EQ(classify(status(403), "AccessDenied"), Verdict::kFail);
  EXPECT_EQ(classify(status(404), "NoSuchKey"), Verdict::kFail);
  EXPECT_EQ(classify(status(404), "NoSuchBucket"), Verdict::kFail);
  EXPECT_EQ(classify(status(412), "PreconditionFailed"), Verdict::kFail);
  EXPECT_EQ(classify(status(416), "InvalidRange"), Verdict::kFail);
  EXPECT_EQ(classify(status(400), "InvalidArgument"), Verdict::kFail);
}

TEST(Classify, OtherStatusesFail) {
  for (long s : {0L, 100L, 301L, 304L, 307L, 505L, 599L}) EXPECT_EQ(classify(status(s), ""), Verdict::kFail) << s;
}

TEST(Classify, RetryableS3CodesWhateverTheStatus) {
  EXPECT_EQ(classify(status(503), "SlowDown"), Verdict::kRetry);
  EXPECT_EQ(classify(status(400), "SlowDown"), Verdict::kRetry);
  EXPECT_EQ(classify(status(500), "InternalError"), Verdict::kRetry);
  EXPECT_EQ(classify(status(400), "InternalError"), Verdict::kRetry);
  EXPECT_EQ(classify(status(503), "ServiceUnavailable"), Verdict::kRetry);
  EXPECT_EQ(classify(status(400), "RequestTimeout"), Verdict::kRetry);
  EXPECT_EQ(classify(status(429), "SlowDown"), Verdict::kRetry);
  // Codes are matched exactly.
  EXPECT_EQ(classify(status(400), "slowdown"), Verdict::kFail);
  EXPECT_EQ(classify(status(400), "RequestTimeTooSkewed"), Verdict::kFail);
}

// ---- backoff ----------------------------------------------------------------------------------

int64_t ceiling_of(const RetryPolicy& p, int next_attempt) {
  int64_t c = p.base.count();
  for (int i = 2; i < next_attempt && c < p.cap.count(); ++i) c *= 2;
  return std::min<int64_t>(c, p.cap.count());
}

TEST(Backoff, Defaults) {
  RetryPolicy p;
  EXPECT_EQ(p.max_attempts, 10);
  EXPECT_EQ(p.base, 100ms);
  EXPECT_EQ(p.cap, 20'000ms);
}

TEST(Backoff, WithinFullJitterBounds) {
  RetryPolicy p;
  std::mt19937_64 rng(7);
  for (int n = 1; n <= 40; ++n) {
    int64_t ceiling = ceiling_of(p, n);
    int64_t seen_max = 0;
    for (int i = 0; i < 500; ++i) {
      auto d = p.backoff(n, rng).count();
      ASSERT_GE(d, 0) << "attempt " << n;
      ASSERT_LE(d, ceiling) << "attempt " << n;
      seen_max = std::max(seen_max, d);
    }
    // Full jitter spans the whole range: the largest of 500 draws is near the ceiling.
    EXPECT_GE(seen_max, ceiling * 9 / 10) << "attempt " << n;
  }
}

TEST(Backoff, GrowsExponentiallyThenCapped) {
  RetryPolicy p;
  std::mt19937_64 rng(11);
  auto mean = [&](int n) {
    double sum = 0;
    for (int i = 0; i < 4000; ++i) sum += static_cast<double>(p.backoff(n, rng).count());
    return sum / 4000;
  };
  double prev = mean(2);
  EXPECT_NEAR(prev, 50, 5);  // uniform over [0, 100]
  for (int n = 3; n <= 9; ++n) {
    double m = mean(n);
    EXPECT_NEAR(m / prev, 2.0, 0.25) << "attempt " << n;
    prev = m;
  }
  // 100 ms * 2^8 = 25.6 s > the 20 s cap from attempt 10 on.
  EXPECT_NEAR(mean(10), 10'000, 600);
  EXPECT_NEAR(mean(50), 10'000, 600);
}

TEST(Backoff, HugeAttemptNumbersStayCapped) {
  RetryPolicy p;
  p.base = 1000ms;
  p.cap = 5000ms;
  std::mt19937_64 rng(3);
  for (int n : {10, 31, 32, 63, 64, 100, 1000, 1 << 30}) {
    for (int i = 0; i < 200; ++i) {
      auto d = p.backoff(n, rng);
      ASSERT_GE(d.count(), 0) << n;
      ASSERT_LE(d, p.cap) << n;
    }
  }
}

TEST(Backoff, LargeCapReachedWithoutOverflow) {
  RetryPolicy p;
  p.base = 1ms;
  p.cap = 3'600'000ms;  // an hour: 1 ms * 2^22 > cap
  std::mt19937_64 rng(5);
  int64_t seen_max = 0;
  for (int i = 0; i < 2000; ++i) {
    auto d = p.backoff(40, rng).count();
    ASSERT_GE(d, 0);
    ASSERT_LE(d, p.cap.count());
    seen_max = std::max(seen_max, d);
  }
  EXPECT_GT(seen_max, p.cap.count() / 2) << "the backoff never gets near the cap";
}

TEST(Backoff, JitterVaries) {
  RetryPolicy p;
  std::mt19937_64 rng(std::random_device{}());
  std::set<int64_t> values;
  for (int i = 0; i < 200; ++i) values.insert(p.backoff(6, rng).count());
  EXPECT_GT(values.size(), 50u);
}

TEST(Backoff, ZeroBaseOrCapGivesZero) {
  std::mt19937_64 rng(1);
  RetryPolicy zb;
  zb.base = 0ms;
  RetryPolicy zc;
  zc.cap = 0ms;
  for (int n = 1; n < 20; ++n) {
    EXPECT_EQ(zb.backoff(n, rng), 0ms);
    EXPECT_EQ(zc.backoff(n, rng), 0ms);
  }
}

// ---- from_env -------------------------------------------------------------------------------------

// Sets (or unsets, with nullptr) an environment variable for one scope.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvVar() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(FromEnv, UnsetGivesDefaults) {
  EnvVar v("AWS_MAX_ATTEMPTS", nullptr);
  RetryPolicy p = RetryPolicy::from_env();
  EXPECT_EQ(p.max_attempts, 10);
  EXPECT_EQ(p.base, 100ms);
  EXPECT_EQ(p.cap, 20'000ms);
}

TEST(FromEnv, HonoursMaxAttempts) {
  for (auto [text, n] : std::vector<std::pair<const char*, int>>{{"1", 1}, {"3", 3}, {"25", 25}, {"999", 999}}) {
    EnvVar v("AWS_MAX_ATTEMPTS", text);
    EXPECT_EQ(RetryPolicy::from_env().max_attempts, n) << text;
  }
}

TEST(FromEnv, IgnoresJunk) {
  for (const char* text : {"", "0", "-1", "-5", "abc", "5x", "x5", "3.5", "1e3", "99999999999999999999", "1000"}) {
    EnvVar v("AWS_MAX_ATTEMPTS", text);
    EXPECT_EQ(RetryPolicy::from_env().max_attempts, 10) << "'" << text << "'";
  }
}

// ---- execute() against a real server ----------------------------------------------------------

const char* kSlowDown =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
    "<Message>Please reduce your request rate.</Message><RequestId>1</RequestId></Error>";

std::string s3_code(const Outcome& o) { return store::s3xml::parse_error(o.response.body).code; }

RetryPolicy fast(int max_attempts = 10) {
  RetryPolicy p;
  p.max_attempts = max_attempts;
  p.base = 1ms;
  p.cap = 5ms;
  return p;
}

ScriptedServer::Reply error_reply(int status, const std::string& code) {
  ScriptedServer::Reply r;
  r.status = status;
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>m</Message></Error>";
  r.headers = {{"Content-Type", "application/xml"}};
  return r;
}

ScriptedServer::Reply ok_reply(std::string body) {
  ScriptedServer::Reply r;
  r.body = std::move(body);
  return r;
}

ScriptedServer::Reply short_reply() {
  ScriptedServer::Reply r;
  r.body = "0123456789";
  r.content_length = 100;
  r.close = true;
  return r;
}

Request get(const ScriptedServer& s, int attempt = 0) {
  Request r;
  r.url = s.url("/bucket/key");
  r.timeout = 10s;
  if (attempt > 0) r.headers.emplace_back("X-Attempt", std::to_string(attempt));
  return r;
}

TEST(Execute, RetriesSlowDownAndShortBodyThenSucceeds) {
  ScriptedServer server([](const ScriptedServer::Seen&, int i) {
    if (i == 0) {
      ScriptedServer::Reply r;
      r.status = 503;
      r.body = kSlowDown;
      return r;
    }
    if (i == 1) return short_reply();
    return ok_reply("the final body");
  });
  Client client;
  auto [o, attempts] = execute_sync(client, fast(), [&](int n) { return get(server, n); }, s3_code);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.response.body, "the final body");
  EXPECT_EQ(server.requests(), 3);
  // Each attempt was built afresh, numbered from 1.
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(seen[i].header("x-attempt"), std::to_string(i + 1));
}

TEST(Execute, ObserveSeesEveryAttempt) {
  ScriptedServer server([](const ScriptedServer::Seen&, int i) {
    if (i == 0) return error_reply(503, "SlowDown");
    if (i == 1) return short_reply();
    return ok_reply("done");
  });
  Client client;
  std::mutex mu;
  std::vector<std::pair<int, long>> observed;  // curl code, status
  std::promise<std::pair<Outcome, int>> p;
  std::string sunk;
  execute(client, fast(),
          RetryingCall{[&](int n) {
                         return std::pair<Request, Sink>(get(server, n), [&](const char* d, size_t len) {
                           std::lock_guard lock(mu);
                           sunk.append(d, len);
                           return true;
                         });
                       },
                       s3_code, [&](Outcome o, int n) { p.set_value({std::move(o), n}); },
                       [&](const Outcome& o) {
                         std::lock_guard lock(mu);
                         observed.emplace_back(o.curl_code, o.response.status);
                       }});
  auto fut = p.get_future();
  ASSERT_EQ(fut.wait_for(20s), std::future_status::ready);
  auto [o, attempts] = fut.get();
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(o.curl_code, 0);
  std::lock_guard lock(mu);
  ASSERT_EQ(observed.size(), 3u);
  EXPECT_EQ(observed[0], std::make_pair(0, 503L));
  EXPECT_EQ(observed[1].first, static_cast<int>(CURLE_PARTIAL_FILE));
  EXPECT_EQ(observed[2], std::make_pair(0, 200L));
  // The sink saw the truncated attempt's bytes too: a sink that must not see bytes twice has to
  // be made afresh by make(), which is the contract.
  EXPECT_EQ(sunk, "0123456789done");
}

TEST(Execute, NotFoundNotRetried) {
  ScriptedServer server([](const ScriptedServer::Seen&, int) { return error_reply(404, "NoSuchKey"); });
  Client client;
  auto [o, attempts] = execute_sync(client, fast(), [&](int n) { return get(server, n); }, s3_code);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(o.response.status, 404);
  EXPECT_EQ(s3_code(o), "NoSuchKey");
  EXPECT_EQ(server.requests(), 1);
}

TEST(Execute, ForbiddenAndPreconditionNotRetried) {
  for (const auto& status_code : std::vector<std::pair<int, std::string>>{
           {403, "AccessDenied"}, {412, "PreconditionFailed"}, {400, "InvalidArgument"}, {429, "TooManyRequests"}}) {
    const int status = status_code.first;
    const std::string& code = status_code.second;
    ScriptedServer server([&](const ScriptedServer::Seen&, int) { return error_reply(status, code); });
    Client client;
    auto [o, attempts] = execute_sync(client, fast(), [&](int n) { return get(server, n); }, s3_code);
    EXPECT_EQ(attempts, 1) << code;
    EXPECT_EQ(o.response.status, status);
  }
}

TEST(Execute, RequestTimeoutWith400Retried) {
  ScriptedServer server([](const ScriptedServer::Seen&, int i) {
    return i == 0 ? error_reply(400, "RequestTimeout") : ok_reply("ok");
  });
  Client client;
  auto [o, attempts] = execute_sync(client, fast(), [&](int n) { return get(server, n); }, s3_code);
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(o.response.body, "ok");
}

TEST(Execute, MaxAttemptsBoundsAttempts) {
  for (int max : {1, 2, 4}) {
    ScriptedServer server([](const ScriptedServer::Seen&, int) { return error_reply(503, "SlowDown"); });
    Client client;
    auto [o, attempts] = execute_sync(client, fast(max), [&](int n) { return get(server, n); }, s3_code);
    EXPECT_EQ(attempts, max);
    EXPECT_EQ(server.requests(), max);
    EXPECT_EQ(o.response.status, 503);
    EXPECT_EQ(s3_code(o), "SlowDown");  // the last attempt's error body is kept
  }
}

TEST(Execute, NoBackoffAfterTheLastAttempt) {
  ScriptedServer server([](const ScriptedServer::Seen&, int) { return error_reply(500, "InternalError"); });
  Client client;
  RetryPolicy p;
  p.max_attempts = 1;
  p.base = 60'000ms;
  p.cap = 60'000ms;
  auto start = std::chrono::steady_clock::now();
  auto [o, attempts] = execute_sync(client, p, [&](int n) { return get(server, n); }, s3_code);
  EXPECT_EQ(attempts, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Execute, ConnectionRefusedRetriedThenReported) {
  int port;
  {
    ScriptedServer closed([](const ScriptedServer::Seen&, int) { return ok_reply(""); });
    port = closed.port();
  }  // nothing listens there any more
  Client client;
  Request r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  auto [o, attempts] = execute_sync(client, fast(3), [&](int) { return r; }, s3_code);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(o.curl_code, static_cast<int>(CURLE_COULDNT_CONNECT)) << o.curl_message;
  EXPECT_FALSE(o.curl_message.empty());
}

TEST(Execute, MalformedUrlNotRetried) {
  Client client;
  Request r;
  r.url = "http://[::1/x";
  auto [o, attempts] = execute_sync(client, fast(5), [&](int) { return r; }, s3_code);
  EXPECT_EQ(attempts, 1);
  EXPECT_NE(o.curl_code, 0);
}

TEST(Execute, SinkRefusalNotRetried) {
  ScriptedServer server([](const ScriptedServer::Seen&, int) { return ok_reply(std::string(1000, 'x')); });
  Client client;
  std::promise<std::pair<Outcome, int>> p;
  execute(client, fast(),
          RetryingCall{[&](int n) {
                         return std::pair<Request, Sink>(get(server, n), [](const char*, size_t) { return false; });
                       },
                       s3_code, [&](Outcome o, int n) { p.set_value({std::move(o), n}); }, {}});
  auto fut = p.get_future();
  ASSERT_EQ(fut.wait_for(20s), std::future_status::ready);
  auto [o, attempts] = fut.get();
  EXPECT_EQ(attempts, 1);
  EXPECT_TRUE(o.aborted_by_sink);
  EXPECT_EQ(server.requests(), 1);
}

// Destroying the client while a retry waits out its backoff must end the call (done runs once,
// with a failure), not crash. Run in a child process so that a crash fails only this test.
void destroy_during_backoff(int loops) {
  ScriptedServer server([](const ScriptedServer::Seen&, int) { return error_reply(503, "SlowDown"); });
  std::atomic<int> done_calls{0};
  std::atomic<int> last_code{-1};
  std::promise<void> first_seen;
  std::atomic<bool> once{false};  // outlives the client: its destructor may still call observe
  {
    ClientOptions opts;
    opts.loops = loops;
    Client client(opts);
    RetryPolicy slow;
    slow.base = 30'000ms;
    slow.cap = 30'000ms;
    execute(client, slow,
            RetryingCall{[&](int) { return std::pair<Request, Sink>(get(server), Sink{}); }, s3_code,
                         [&](Outcome o, int) {
                           last_code = o.curl_code;
                           ++done_calls;
                         },
                         [&](const Outcome&) {
                           if (!once.exchange(true)) first_seen.set_value();
                         }});
    if (first_seen.get_future().wait_for(10s) != std::future_status::ready) {
      std::fprintf(stderr, "the first attempt never completed\n");
      std::_Exit(3);
    }
    std::this_thread::sleep_for(200ms);  // the retry is now waiting in run_after
  }
  if (done_calls != 1) {
    std::fprintf(stderr, "done ran %d times\n", done_calls.load());
    std::_Exit(4);
  }
  if (last_code == 0) {
    std::fprintf(stderr, "done reported success\n");
    std::_Exit(5);
  }
  std::fflush(nullptr);
  std::_Exit(0);
}

TEST(ExecuteDeathTest, ClientDestroyedDuringBackoffOneLoop) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(destroy_during_backoff(1), ::testing::ExitedWithCode(0), "");
}

TEST(ExecuteDeathTest, ClientDestroyedDuringBackoffTwoLoops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(destroy_during_backoff(2), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sluice::http
