// http::Client against a scripted HTTP/1.1 server on 127.0.0.1: concurrency, connection reuse,
// timeouts, truncated bodies, sinks, request bodies, shutdown and run_after.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
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

#include "http/client.hpp"
#include "support/scripted_server.hpp"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;

using sluice::testing::ScriptedServer;


using Reply = ScriptedServer::Reply;
using Seen = ScriptedServer::Seen;

Reply ok(std::string body) {
  Reply r;
  r.body = std::move(body);
  return r;
}

Request get(const ScriptedServer& s, const std::string& path = "/") {
  Request r;
  r.url = s.url(path);
  r.timeout = 20s;
  return r;
}

// Collects the outcomes of many start() calls.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, Outcome> outcomes;
  std::map<int, int> done_calls;

  std::function<void(Outcome)> done(int id) {
    return [this, id](Outcome o) {
      std::lock_guard lock(mu);
      outcomes[id] = std::move(o);
      ++done_calls[id];
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::seconds limit) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return outcomes.size() >= n; });
  }
};

// ---- basics --------------------------------------------------------------------------------------

TEST(HttpClient, PerformGetsStatusHeadersAndBody) {
  ScriptedServer server([](const Seen& s, int) {
    Reply r = ok("hello " + s.target);
    r.headers = {{"ETag", "\"abc\""}, {"X-Amz-Request-Id", "  R1  "}};
    return r;
  });
  Client client;
  Outcome o = client.perform(get(server, "/bucket/key?x=1"));
  EXPECT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_TRUE(o.curl_message.empty());
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.response.body, "hello /bucket/key?x=1");
  EXPECT_EQ(o.body_bytes, o.response.body.size());
  EXPECT_EQ(o.response.header("etag"), "\"abc\"");
  EXPECT_EQ(o.response.header("x-amz-request-id"), "R1");  // names lower-cased, values trimmed
  EXPECT_EQ(o.response.header("content-length"), std::to_string(o.response.body.size()));
  EXPECT_EQ(o.response.header("ETag"), std::nullopt);  // lookups take the lower-case name
  EXPECT_FALSE(o.aborted_by_sink);
}

TEST(HttpClient, RequestHeadersSent) {
  ScriptedServer server([](const Seen&, int) { return ok(""); });
  Client client;
  Request r = get(server);
  r.headers = {{"X-Amz-Date", "20130524T000000Z"}, {"Range", "bytes=0-9"}, {"X-Empty", ""}};
  Outcome o = client.perform(r);
  ASSERT_EQ(o.curl_code, 0) << o.curl_message;
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].header("x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(seen[0].header("range"), "bytes=0-9");
  bool has_empty = false;
  for (const auto& [n, v] : seen[0].headers) has_empty = has_empty || (n == "x-empty" && v.empty());
  EXPECT_TRUE(has_empty) << "a header with an empty value must still be sent (it may be signed)";
  EXPECT_EQ(seen[0].header("expect"), "");
}

TEST(HttpClient, PutAndPostSendTheBody) {
  ScriptedServer server([](const Seen& s, int) { return ok(s.method + ":" + std::to_string(s.body.size())); });
  Client client;
  std::string payload(300'000, 'p');
  payload[0] = 'A';
  payload.back() = 'Z';
  Request put = get(server, "/put");
  put.method = "PUT";
  put.body = Body::from_string(payload);
  Outcome o = client.perform(put);
  ASSERT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.response.body, "PUT:300000");
  Request post = get(server, "/post?uploads");
  post.method = "POST";
  post.body = Body::from_string("<CompleteMultipartUpload/>");
  o = client.perform(post);
  ASSERT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.response.body, "POST:26");
  Request empty_put = get(server, "/empty");
  empty_put.method = "PUT";
  o = client.perform(empty_put);
  ASSERT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.response.body, "PUT:0");
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].body, payload);
  EXPECT_EQ(seen[1].body, "<CompleteMultipartUpload/>");
  EXPECT_EQ(seen[2].header("content-length"), "0");
}

TEST(HttpClient, PutFromFileRange) {
  char tmpl[] = "/tmp/sluice-http-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::unlink(tmpl);
  std::string content = "0123456789abcdefghij";
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ScriptedServer server([](const Seen&, int) { return ok(""); });
  {
    Client client;
    Request put = get(server, "/f");
    put.method = "PUT";
    put.body = Body::from_file(fd, 5, 10);
    Outcome o = client.perform(put);
    EXPECT_EQ(o.curl_code, 0) << o.curl_message;
  }
  ::close(fd);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, "56789abcde");
}

TEST(HttpClient, HeadAndDelete) {
  ScriptedServer server([](const Seen& s, int) {
    Reply r = ok(s.method == "HEAD" ? std::string(1234, 'x') : "");
    if (s.method == "DELETE") r.status = 204;
    return r;
  });
  Client client;
  Request head = get(server, "/k");
  head.method = "HEAD";
  Outcome h = client.perform(head);
  ASSERT_EQ(h.curl_code, 0) << h.curl_message;
  EXPECT_EQ(h.response.status, 200);
  EXPECT_EQ(h.response.header("content-length"), "1234");
  EXPECT_TRUE(h.response.body.empty());
  Request del = get(server, "/k");
  del.method = "DELETE";
  Outcome d = client.perform(del);
  ASSERT_EQ(d.curl_code, 0) << d.curl_message;
  EXPECT_EQ(d.response.status, 204);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "HEAD");
  EXPECT_EQ(seen[1].method, "DELETE");
}

// Client::perform promises the body "collected in Response::body"; execute_sync (and so every
// S3 listing) relies on it. A 2xx body must not be cut at the 1 MiB kept of error bodies.
TEST(HttpClient, PerformKeepsLargeSuccessBodies) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  ScriptedServer server([&](const Seen&, int) { return ok(big); });
  Client client;
  Outcome o = client.perform(get(server));
  ASSERT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.body_bytes, big.size());
  EXPECT_EQ(o.response.body.size(), big.size()) << "a 2xx body without a sink was truncated";
  EXPECT_TRUE(o.response.body == big);
}

TEST(HttpClient, LargeErrorBodiesCappedAt1MiB) {
  ScriptedServer server([](const Seen&, int) {
    Reply r = ok(std::string(3 * 1024 * 1024, 'e'));
    r.status = 500;
    return r;
  });
  Client client;
  Outcome o = client.perform(get(server));
  ASSERT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.response.status, 500);
  EXPECT_EQ(o.response.body.size(), 1u << 20);
  EXPECT_EQ(o.body_bytes, 3u * 1024 * 1024);
}

// ---- sinks ----------------------------------------------------------------------------------

TEST(HttpClient, SinkGetsSuccessBodyOnly) {
  ScriptedServer server([](const Seen& s, int) {
    if (s.target == "/missing") {
      Reply r = ok("<Error><Code>NoSuchKey</Code></Error>");
      r.status = 404;
      return r;
    }
    return ok(std::string(200'000, 's'));
  });
  Client client;
  Collector c;
  std::string sunk_ok, sunk_missing;
  client.start(get(server, "/ok"), [&](const char* d, size_t n) { sunk_ok.append(d, n); return true; }, c.done(0));
  client.start(get(server, "/missing"), [&](const char* d, size_t n) { sunk_missing.append(d, n); return true; },
               c.done(1));
  ASSERT_TRUE(c.wait_for(2, 20s));
  std::lock_guard lock(c.mu);
  EXPECT_EQ(c.outcomes[0].curl_code, 0);
  EXPECT_EQ(sunk_ok, std::string(200'000, 's'));
  EXPECT_TRUE(c.outcomes[0].response.body.empty());
  EXPECT_EQ(c.outcomes[0].body_bytes, 200'000u);
  EXPECT_EQ(c.outcomes[1].response.status, 404);
  EXPECT_TRUE(sunk_missing.empty());
  EXPECT_EQ(c.outcomes[1].response.body, "<Error><Code>NoSuchKey</Code></Error>");
}

TEST(HttpClient, SinkRefusalAborts) {
  ScriptedServer server([](const Seen&, int) { return ok(std::string(1 << 20, 'x')); });
  Client client;
  Collector c;
  client.start(get(server), [](const char*, size_t) { return false; }, c.done(0));
  ASSERT_TRUE(c.wait_for(1, 20s));
  std::lock_guard lock(c.mu);
  EXPECT_TRUE(c.outcomes[0].aborted_by_sink);
  EXPECT_EQ(c.outcomes[0].curl_code, static_cast<int>(CURLE_WRITE_ERROR));
}

// ---- concurrency and connection reuse ---------------------------------------------------------

TEST(HttpClient, ManyConcurrentRequestsAllComplete) {
  ScriptedServer server([](const Seen& s, int) {
    Reply r = ok("body of " + s.target + std::string(100, '.'));
    r.delay = 2ms;
    return r;
  });
  ClientOptions opts;
  opts.max_connections = 8;
  opts.loops = 2;
  Client client(opts);
  Collector c;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) client.start(get(server, "/obj/" + std::to_string(i)), {}, c.done(i));
  ASSERT_TRUE(c.wait_for(kRequests, 60s)) << "only " << c.outcomes.size() << " completed";
  std::lock_guard lock(c.mu);
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(c.done_calls[i], 1) << i;
    const Outcome& o = c.outcomes[i];
    EXPECT_EQ(o.curl_code, 0) << i << ": " << o.curl_message;
    EXPECT_EQ(o.response.status, 200) << i;
    EXPECT_EQ(o.response.body, "body of /obj/" + std::to_string(i) + std::string(100, '.')) << i;
  }
  EXPECT_EQ(server.requests(), kRequests);
  // Connections are kept alive and reused, and never more than max_connections at once.
  EXPECT_LE(server.connections(), 8) << "connections were not reused";
  EXPECT_LE(server.max_concurrent(), 8) << "more transfers in flight than max_connections";
  EXPECT_GE(server.max_concurrent(), 2) << "requests were not run concurrently";
}

TEST(HttpClient, SequentialRequestsReuseOneConnection) {
  ScriptedServer server([](const Seen&, int i) { return ok(std::to_string(i)); });
  ClientOptions opts;
  opts.loops = 1;
  Client client(opts);
  for (int i = 0; i < 20; ++i) {
    Outcome o = client.perform(get(server));
    ASSERT_EQ(o.curl_code, 0) << o.curl_message;
    EXPECT_EQ(o.response.body, std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ServerClosingTheConnectionIsHandled) {
  ScriptedServer server([](const Seen&, int i) {
    Reply r = ok("r" + std::to_string(i));
    r.close = true;
    return r;
  });
  ClientOptions opts;
  opts.loops = 1;
  Client client(opts);
  for (int i = 0; i < 5; ++i) {
    Outcome o = client.perform(get(server));
    ASSERT_EQ(o.curl_code, 0) << o.curl_message;
    EXPECT_EQ(o.response.body, "r" + std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 5);
}

// ---- failures -------------------------------------------------------------------------------------

TEST(HttpClient, RequestTimeoutFires) {
  ScriptedServer server([](const Seen&, int) {
    Reply r = ok("late");
    r.delay = 5s;
    return r;
  });
  Client client;
  Request r = get(server);
  r.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  Outcome o = client.perform(r);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.curl_code, static_cast<int>(CURLE_OPERATION_TIMEDOUT)) << o.curl_message;
  EXPECT_FALSE(o.curl_message.empty());
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST(HttpClient, BodyShorterThanContentLengthIsPartialFile) {
  ScriptedServer server([](const Seen&, int) {
    Reply r = ok("0123456789");
    r.content_length = 100;
    r.close = true;
    return r;
  });
  Client client;
  Outcome o = client.perform(get(server));
  EXPECT_EQ(o.curl_code, static_cast<int>(CURLE_PARTIAL_FILE)) << o.curl_message;
  EXPECT_NE(o.curl_code, 0) << "a truncated body reported as success";
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.body_bytes, 10u);
}

TEST(HttpClient, PartialBodyIntoSinkIsPartialFile) {
  ScriptedServer server([](const Seen&, int) {
    Reply r = ok(std::string(50'000, 'q'));
    r.content_length = 80'000;
    r.close = true;
    return r;
  });
  Client client;
  Collector c;
  uint64_t sunk = 0;
  client.start(get(server), [&](const char*, size_t n) { sunk += n; return true; }, c.done(0));
  ASSERT_TRUE(c.wait_for(1, 20s));
  std::lock_guard lock(c.mu);
  EXPECT_EQ(c.outcomes[0].curl_code, static_cast<int>(CURLE_PARTIAL_FILE));
  EXPECT_EQ(sunk, 50'000u);
}

TEST(HttpClient, ConnectionRefused) {
  int port;
  {
    ScriptedServer gone([](const Seen&, int) { return ok(""); });
    port = gone.port();
  }
  Client client;
  Request r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  Outcome o = client.perform(r);
  EXPECT_EQ(o.curl_code, static_cast<int>(CURLE_COULDNT_CONNECT)) << o.curl_message;
  EXPECT_EQ(o.response.status, 0);
}

TEST(HttpClient, DestroyAbortsInFlightAndQueued) {
  ScriptedServer server([](const Seen&, int) {
    Reply r = ok("never");
    r.delay = 10s;
    return r;
  });
  Collector c;
  constexpr int kRequests = 6;
  auto start = std::chrono::steady_clock::now();
  {
    ClientOptions opts;
    opts.max_connections = 2;  // some in flight, some queued
    opts.loops = 2;
    Client client(opts);
    for (int i = 0; i < kRequests; ++i) client.start(get(server, "/" + std::to_string(i)), {}, c.done(i));
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  std::lock_guard lock(c.mu);
  ASSERT_EQ(c.outcomes.size(), static_cast<size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(c.done_calls[i], 1) << i;
    EXPECT_EQ(c.outcomes[i].curl_code, static_cast<int>(CURLE_ABORTED_BY_CALLBACK)) << i;
  }
}

// ---- run_after ------------------------------------------------------------------------------------

TEST(HttpClient, RunAfterOrdersByDelay) {
  for (int loops : {1, 3}) {
    ClientOptions opts;
    opts.loops = loops;
    Client client(opts);
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int> order;
    auto start = std::chrono::steady_clock::now();
    std::vector<std::chrono::steady_clock::duration> when(5);
    for (int d : {400, 100, 300, 0, 200}) {
      client.run_after(std::chrono::milliseconds(d), [&, d] {
        std::lock_guard lock(mu);
        when[static_cast<size_t>(d / 100)] = std::chrono::steady_clock::now() - start;
        order.push_back(d);
        cv.notify_all();
      });
    }
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return order.size() == 5; }));
    EXPECT_EQ(order, (std::vector<int>{0, 100, 200, 300, 400})) << loops << " loops";
    for (int i = 0; i < 5; ++i) EXPECT_GE(when[static_cast<size_t>(i)], std::chrono::milliseconds(100 * i));
  }
}

TEST(HttpClient, RunAfterEqualDelaysKeepSubmissionOrderOnOneLoop) {
  ClientOptions opts;
  opts.loops = 1;
  Client client(opts);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  for (int i = 0; i < 50; ++i) {
    client.run_after(20ms, [&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return order.size() == 50; }));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

TEST(HttpClient, RunAfterCanStartRequests) {
  ScriptedServer server([](const Seen&, int) { return ok("from timer"); });
  Client client;
  std::promise<Outcome> p;
  client.run_after(10ms, [&] { client.start(get(server), {}, [&](Outcome o) { p.set_value(std::move(o)); }); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  Outcome o = f.get();
  EXPECT_EQ(o.curl_code, 0) << o.curl_message;
  EXPECT_EQ(o.response.body, "from timer");
}

}  // namespace
}  // namespace sluice::http
