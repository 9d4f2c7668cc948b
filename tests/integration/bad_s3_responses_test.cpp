// Bad S3 responses (issue 7 item 4): the real `sluice ls` / `sluice cp` against a scripted HTTP
// server on 127.0.0.1 (tests/support/scripted_server.hpp) that answers ListObjectsV2 and errors
// with malformed, truncated, huge or endless XML. Each case asserts a clear error (the documented
// exit code, a message naming the operation, the bucket/prefix and the problem), no crash, no
// hang (a timeout per command plus a watchdog over the whole test), and bounded memory: the peak
// RSS of the sluice process stays far below the size of a huge body.
#include <gtest/gtest.h>

#include <cstdlib>

#include <fstream>

#include "../support/scripted_server.hpp"
#include "../support/watchdog.hpp"
#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using sluice::testing::ScriptedServer;
using sluice::testing::Watchdog;
using Reply = ScriptedServer::Reply;
using Seen = ScriptedServer::Seen;

constexpr size_t MiB = size_t{1} << 20;

EnvMap env_for(const ScriptedServer& s) {
  return EnvMap{{"AWS_ACCESS_KEY_ID", "AKIDBADRESPONSES0000"},
                {"AWS_SECRET_ACCESS_KEY", "BadResponsesTestSecretBadResponsesTest12"},
                {"AWS_REGION", "us-east-1"},
                {"AWS_ENDPOINT_URL", s.url("")},
                {"AWS_MAX_ATTEMPTS", "2"}};
}

long vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct Run {
  ProcResult r;
  long peak_rss_kib = 0;  // the last VmHWM seen while it ran
};

// Runs `sluice ARGS` against the server, sampling its peak RSS while it runs.
Run run(const ScriptedServer& s, const std::vector<std::string>& args, std::chrono::seconds timeout = 30s) {
  std::vector<std::string> argv{sluice_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c(argv, child_env(env_for(s)));
  Run out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (c.running() && std::chrono::steady_clock::now() < deadline) {
    out.peak_rss_kib = std::max(out.peak_rss_kib, vm_hwm_kib(c.pid()));
    std::this_thread::sleep_for(2ms);
  }
  out.r = c.wait(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration(1ms))));
  return out;
}

std::string contents(const std::string& key, size_t size = 5) {
  return "<Contents><Key>" + key + "</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>\"" +
         std::string(32, 'a') + "\"</ETag><Size>" + std::to_string(size) + "</Size></Contents>";
}
std::string list_doc(const std::string& inner, const std::string& tail = "<IsTruncated>false</IsTruncated>") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>bkt</Name><Prefix></Prefix>" + inner +
         tail + "</ListBucketResult>";
}

Reply reply(int status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Answers every ListObjectsV2 request with `reply`; anything else (a HEAD of the bucket) with 200.
ScriptedServer::Handler listing_answers(std::function<Reply(const Seen&, int)> answer) {
  return [answer](const Seen& s, int i) {
    if (s.target.find("list-type=2") != std::string::npos) return answer(s, i);
    return reply(200, "");
  };
}

struct Expect {
  Expect(int code, std::vector<std::string> s, double secs = 20, long rss_mib = 0)
      : exit_code(code), says(std::move(s)), max_seconds(secs), max_rss_mib(rss_mib) {}
  int exit_code;
  std::vector<std::string> says;  // each must be in stderr
  double max_seconds;
  long max_rss_mib;  // 0: not checked
};

void check(const std::string& what, const Run& run, const Expect& e) {
  SCOPED_TRACE(what);
  const auto& r = run.r;
  std::printf("%-55s exit %d, %.2f s, peak RSS %ld MiB: %s\n", what.c_str(), r.exit_code, r.seconds,
              run.peak_rss_kib / 1024, r.err.substr(0, r.err.find('\n')).c_str());
  EXPECT_FALSE(r.timed_out) << "hung: " << r.describe();
  EXPECT_EQ(r.term_signal, 0) << "crashed: " << r.describe();
  EXPECT_EQ(r.exit_code, e.exit_code) << r.describe();
  for (const auto& s : e.says) EXPECT_TRUE(contains(r.err, s)) << "stderr does not say '" << s << "': " << r.describe();
  EXPECT_LE(r.seconds, e.max_seconds) << r.describe();
  // Under a sanitizer (./sluice.sh test-asan, test-tsan) shadow memory and the allocator's
  // quarantine add tens of MiB to any process: the bound is for the plain build.
  const bool sanitized = std::getenv("ASAN_OPTIONS") != nullptr || std::getenv("TSAN_OPTIONS") != nullptr;
  if (e.max_rss_mib > 0 && !sanitized) {
    EXPECT_LE(run.peak_rss_kib / 1024, e.max_rss_mib) << "peak RSS " << run.peak_rss_kib / 1024 << " MiB: "
                                                      << r.describe();
  }
}

TEST(BadS3Responses, MalformedAndTruncatedListings) {
  Watchdog dog(120s);
  struct Case {
    std::string what;
    std::string body;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"not XML", "this is not xml <", "malformed ListObjectsV2 response"},
      {"empty 200 body", "", "malformed ListObjectsV2 response"},
      {"HTML instead of XML", "<html><body>hello</body></html>", "no <ListBucketResult>"},
      {"truncated mid-element", list_doc(contents("a")).substr(0, 150), "malformed ListObjectsV2 response"},
      {"truncated inside a key", list_doc(contents("abc")).substr(0, 118), "malformed ListObjectsV2 response"},
      {"Contents without Key", list_doc("<Contents><Size>3</Size></Contents>"), "<Contents> without <Key>"},
      {"Size not a number", list_doc("<Contents><Key>a</Key><Size>12a</Size></Contents>"), "Size is not a number"},
      {"IsTruncated without a token", list_doc(contents("a"), "<IsTruncated>true</IsTruncated>"),
       "NextContinuationToken"},
  };
  TempDir tmp;
  const std::string dst = tmp / "dst";
  for (const auto& c : cases) {
    ScriptedServer server(listing_answers([&](const Seen&, int) { return reply(200, c.body); }));
    for (const std::vector<std::string>& args : {std::vector<std::string>{"ls", "s3://bkt/pre/"},
                                                 std::vector<std::string>{"cp", "-r", "s3://bkt/pre/", dst}}) {
      // A malformed answer from the store is an "unexpected answer" (ErrorKind::kInternal, exit 70).
      check(c.what + " (" + args[0] + ")", run(server, args), {70, {"listing s3://bkt/pre/", c.problem}});
    }
    EXPECT_FALSE(fs::exists(dst) && !fs::is_empty(dst)) << "cp wrote files for a malformed listing";
  }
}

TEST(BadS3Responses, ShortBodyIsRetriedThenAClearError) {
  Watchdog dog(60s);
  // Content-Length says 4000, 100 bytes come, the connection closes: retried (AWS_MAX_ATTEMPTS=2).
  ScriptedServer server(listing_answers([](const Seen&, int) {
    Reply r = reply(200, list_doc(contents("a")).substr(0, 100));
    r.content_length = 4000;
    r.close = true;
    return r;
  }));
  check("body shorter than Content-Length", run(server, {"ls", "s3://bkt/pre/"}), {5, {"listing s3://bkt/pre/"}});
  EXPECT_EQ(server.requests(), 2);
}

TEST(BadS3Responses, ErrorBodiesMalformedOrHuge) {
  Watchdog dog(120s);
  const std::string huge(50 * MiB, 'x');
  struct Case {
    std::string what;
    int status;
    std::string body;
    int exit_code;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {"403 with a malformed error body", 403, "<Error><Code>AccessDen", 4, {"listing s3://bkt/pre/", "HTTP 403"}},
      {"404 with an HTML body", 404, "<html>not here</html>", 3, {"listing s3://bkt/pre/", "HTTP 404"}},
      // A 400 refuses the request as asked, whatever its body: invalid input, never internal.
      {"400 with a truncated error body", 400, "<Error><Code>InvalidArgument</Code><Mess", 2,
       {"listing s3://bkt/pre/", "HTTP 400"}},
      {"500 with a malformed body (retried)", 500, "<<<<", 5, {"listing s3://bkt/pre/", "HTTP 500", "2 attempts"}},
      {"403 with a 50 MB body", 403, "<Error><Code>AccessDenied</Code><Message>" + huge, 4,
       {"listing s3://bkt/pre/", "HTTP 403"}},
  };
  for (const auto& c : cases) {
    ScriptedServer server(listing_answers([&](const Seen&, int) { return reply(c.status, c.body); }));
    check(c.what, run(server, {"ls", "s3://bkt/pre/"}), {c.exit_code, c.says, 20, 200});
  }
}

TEST(BadS3Responses, HugeListingBodiesAreBounded) {
  Watchdog dog(180s);
  // A listing page is at most 1000 keys of at most 1024 bytes (a few MB even percent-encoded); a
  // 50 MB page is not a listing. It should be refused before it is all in memory.
  const std::string padding(50 * MiB, ' ');
  std::string deep;
  for (int i = 0; i < 2'000'000; ++i) deep += "<a>";
  struct Case {
    std::string what;
    std::string body;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"50 MB of whitespace in a page", list_doc(contents("pre/a") + padding), "larger than 16 MiB"},
      {"a 50 MB key", list_doc(contents("pre/" + std::string(50 * MiB, 'k'))), "larger than 16 MiB"},
      {"2 million nested elements (6 MB)", list_doc(deep), "XML tags in one page"},
  };
  for (const auto& c : cases) {
    ScriptedServer server(listing_answers([&](const Seen&, int) { return reply(200, c.body); }));
    check(c.what, run(server, {"ls", "s3://bkt/pre/"}, 60s), {70, {"listing s3://bkt/pre/", "malformed ListObjectsV2 response", c.problem}, 30, 100});
  }
}

TEST(BadS3Responses, ListingsThatNeverEndAreCut) {
  Watchdog dog(120s);
  // IsTruncated true with the token it was sent, forever.
  ScriptedServer same_token(listing_answers([](const Seen&, int) {
    return reply(200, list_doc(contents("pre/a"), "<IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken>"));
  }));
  check("the same continuation token again", run(same_token, {"ls", "s3://bkt/pre/"}, 30s),
        {70, {"listing s3://bkt/pre/", "continuation token"}});
  // A new token every time, and the same key: the store cycles (store::Pager).
  ScriptedServer cycling(listing_answers([](const Seen&, int i) {
    return reply(200, list_doc(contents("pre/a"), "<IsTruncated>true</IsTruncated><NextContinuationToken>t" +
                                                      std::to_string(i) + "</NextContinuationToken>"));
  }));
  for (const std::vector<std::string>& args : {std::vector<std::string>{"ls", "s3://bkt/pre/"},
                                               std::vector<std::string>{"cp", "-r", "s3://bkt/pre/", "/nonexistent-dest"}}) {
    check("new continuation tokens, nothing new (" + args[0] + ")", run(cycling, args, 30s),
          {70, {"listing s3://bkt/pre/", "not moving forward", "'pre/a'"}});
  }
}

TEST(BadS3Responses, KeysOutsideTheRequestedPrefixAreRefused) {
  Watchdog dog(60s);
  ScriptedServer server(listing_answers([](const Seen&, int) {
    return reply(200, list_doc(contents("pre/a") + contents("other/b") + contents("p")));
  }));
  for (const std::vector<std::string>& args : {std::vector<std::string>{"ls", "s3://bkt/pre/"},
                                               std::vector<std::string>{"ls", "-r", "s3://bkt/pre/"}}) {
    check("keys outside the prefix (" + args[1] + ")", run(server, args), {70, {"listing s3://bkt/pre/", "other/b"}});
  }
}

// Keys that the local RGW refuses to store (a NUL, invalid UTF-8), and '..' keys, as a store may
// list them: `sluice cp -r` refuses each unsafe one by name, copies the good one, and writes nothing
// outside the destination.
TEST(BadS3Responses, UnsafeKeysInAListingAreRefusedByName) {
  Watchdog dog(60s);
  const std::string hello = "hello";
  const std::string etag = "5d41402abc4b2a76b9719d911017c592";  // MD5 of "hello"
  auto object = [&](const std::string& key) {
    return "<Contents><Key>" + key + "</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;" +
           etag + "&quot;</ETag><Size>5</Size></Contents>";
  };
  auto serve = [&](const std::string& listing) {
    return [&, listing](const Seen& s, int) {
      if (s.target.find("list-type=2") != std::string::npos) return reply(200, list_doc(listing));
      Reply r = reply(200, hello);
      r.headers = {{"ETag", "\"" + etag + "\""}, {"Last-Modified", "Tue, 02 Jan 2024 03:04:05 GMT"}};
      if (!s.header("range").empty()) {
        r.status = 206;
        r.headers.emplace_back("Content-Range", "bytes 0-4/5");
      }
      return r;
    };
  };
  {
    // encoding-type=url: keys are percent-encoded in the listing.
    ScriptedServer server(serve(object("pre/good") + object("pre/a%00b") + object("pre/..%2Fescaped-key") +
                                object("pre/x/../../../escaped-deep")));
    TempDir tmp;
    const std::string dst = tmp / "dst";
    auto r = run(server, {"cp", "-r", "s3://bkt/pre/", dst});
    check("cp -r of a listing with NUL and '..' keys", r, {1, {"'pre/../escaped-key'", "pre/x/../../../escaped-deep", "NUL"}});
    EXPECT_EQ(read_file(dst + "/good"), hello);
    EXPECT_EQ(list_entries(tmp.path()), (std::set<std::string>{"dst dir", "dst/good file 5"}))
        << "only the good key may be written, inside dst";
  }
  {
    // The colliding key is refused and the others are copied: exit 1 (docs/cli.md), not 8.
    ScriptedServer server(serve(object("pre/a") + object("pre/a/b") + object("pre/good")));
    TempDir tmp;
    const std::string dst = tmp / "dst";
    check("cp -r of a listing with 'a' and 'a/b'", run(server, {"cp", "-r", "s3://bkt/pre/", dst}),
          {1, {"'pre/a' and 'pre/a/b' collide"}});
    for (const auto& e : list_entries(tmp.path())) EXPECT_EQ(e.rfind("dst", 0), 0u) << e << " is outside dst";
  }
  {
    // Invalid UTF-8 in a key (0xE9): Linux file names are bytes, so it can be written as is.
    ScriptedServer server(serve(object("pre/caf%E9")));
    TempDir tmp;
    const std::string dst = tmp / "dst";
    auto r = run(server, {"cp", "-r", "s3://bkt/pre/", dst});
    SCOPED_TRACE(r.r.describe());
    EXPECT_FALSE(r.r.timed_out);
    EXPECT_EQ(r.r.term_signal, 0);
    EXPECT_TRUE(r.r.exit_code == 0 || r.r.exit_code == 1) << "exit " << r.r.exit_code;
    std::printf("%-55s exit %d: %s\n", "cp -r of a key with invalid UTF-8", r.r.exit_code, r.r.err.substr(0, 200).c_str());
    for (const auto& e : list_entries(tmp.path())) EXPECT_EQ(e.rfind("dst", 0), 0u) << e << " is outside dst";
  }
}

}  // namespace
}  // namespace sluice::itest
