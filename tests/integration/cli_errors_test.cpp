// `sluice` argument errors: the real binary, spawned. Usage errors exit 2 (docs/cli.md) with a
// message naming what was wrong, and never touch the network or the file system. The endpoint
// is a closed loopback port and retries are off, so a command that did go to the network fails
// fast with another message instead of hanging.
#include <gtest/gtest.h>

#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// Credentials that resolve (so a usage error is not hidden behind "no credentials"), an endpoint
// where nothing listens.
EnvMap offline_env() {
  return EnvMap{{"AWS_ACCESS_KEY_ID", "AKIDUSAGETEST0000000"},
                {"AWS_SECRET_ACCESS_KEY", "UsageTestSecretUsageTestSecretUsageTest1"},
                {"AWS_REGION", "us-east-1"},
                {"AWS_ENDPOINT_URL", "http://127.0.0.1:9"},
                {"AWS_MAX_ATTEMPTS", "1"}};
}

struct UsageCase {
  std::string what;
  std::vector<std::string> args;
  std::vector<std::string> stderr_must_name;  // each must appear in stderr
};

void expect_usage_error(const UsageCase& c) {
  auto r = run_sluice(c.args, offline_env(), 30s);
  SCOPED_TRACE(c.what);
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_EQ(r.term_signal, 0) << "crashed: " << r.describe();
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  for (const auto& s : c.stderr_must_name) {
    EXPECT_TRUE(contains(r.err, s)) << "stderr does not name '" << s << "': " << r.describe();
  }
  EXPECT_FALSE(contains(r.err, "internal error")) << r.describe();
  EXPECT_FALSE(contains_icase(r.err, "cannot reach")) << "a usage error went to the network: " << r.describe();
  EXPECT_TRUE(r.err.starts_with("sluice: error: ")) << "no 'sluice: error:' prefix: " << r.describe();
}

TEST(CliErrors, BadLocationsExitTwoNamingTheInput) {
  TempDir tmp;
  write_file(tmp / "file.txt", "x");
  const std::string dst = tmp / "dst";
  // "s3://" alone: the message must show it as the input, e.g. 's3://'.
  auto shows_bare_s3 = [](const std::string& err) {
    for (const char* quoted : {"'s3://'", "\"s3://\"", "s3://:", "s3:// ", "s3://\n", "`s3://`"}) {
      if (contains(err, quoted)) return true;
    }
    return false;
  };
  expect_usage_error({"ftp:// source", {"cp", "ftp://x", dst}, {"ftp://x"}});
  expect_usage_error({"ftp:// destination", {"cp", tmp / "file.txt", "ftp://x/y"}, {"ftp://x/y"}});
  expect_usage_error({"s3:///k (no bucket)", {"cp", "s3:///k", dst}, {"s3:///k"}});
  expect_usage_error({"s3:///k as destination", {"cp", tmp / "file.txt", "s3:///k"}, {"s3:///k"}});
  expect_usage_error({"s3:///k, recursive", {"cp", "-r", "s3:///k", dst}, {"s3:///k"}});
  expect_usage_error({"bad bucket name", {"cp", "s3://a/k", dst}, {"s3://a/k"}});
  expect_usage_error({"ls ftp://", {"ls", "ftp://x"}, {"ftp://x"}});
  {
    auto r = run_sluice({"cp", "s3://", dst}, offline_env(), 30s);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_TRUE(shows_bare_s3(r.err)) << "stderr does not name the input 's3://': " << r.describe();
  }
  {
    auto r = run_sluice({"cp", "-r", tmp.path(), "s3://"}, offline_env(), 30s);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_TRUE(shows_bare_s3(r.err)) << "stderr does not name the input 's3://': " << r.describe();
  }
  EXPECT_FALSE(fs::exists(dst)) << "a usage error created the destination";
}

TEST(CliErrors, PrefixWithoutRecursiveSaysAddRecursive) {
  TempDir tmp;
  const std::string dst = tmp / "dst";
  expect_usage_error({"prefix with trailing slash", {"cp", "s3://bucket/prefix/", dst}, {"--recursive"}});
  expect_usage_error({"bucket only", {"cp", "s3://bucket", dst}, {"--recursive"}});
  expect_usage_error({"bucket and slash", {"cp", "s3://bucket/", dst}, {"--recursive"}});
  fs::create_directories(tmp / "localdir");
  write_file(tmp / "localdir/f", "x");
  expect_usage_error({"local directory upload", {"cp", tmp / "localdir", "s3://bucket/p/"}, {"--recursive"}});
  EXPECT_FALSE(fs::exists(dst)) << "a usage error created the destination";
}

// docs/cli.md: exit 2 for "invalid input: arguments, a location, an unsafe key".
TEST(CliErrors, BadFlagsAndMissingArgumentsExitTwo) {
  expect_usage_error({"cp with one argument", {"cp", "s3://bucket/k"}, {}});
  expect_usage_error({"cp without arguments", {"cp"}, {}});
  expect_usage_error({"unknown flag", {"cp", "--no-such-flag", "s3://bucket/k", "/tmp/x"}, {"--no-such-flag"}});
  expect_usage_error({"no subcommand", {}, {}});
  expect_usage_error({"unknown subcommand", {"frobnicate"}, {"unknown command 'frobnicate'"}});
  expect_usage_error({"--max-connections 0", {"--max-connections", "0", "ls", "s3://bucket/"}, {"max-connections"}});
  expect_usage_error({"--cli-read-timeout -1", {"--cli-read-timeout", "-1", "ls", "s3://bucket/"}, {"cli-read-timeout"}});
  expect_usage_error({"--cli-connect-timeout soon", {"--cli-connect-timeout", "soon", "ls", "s3://bucket/"}, {"cli-connect-timeout"}});
  expect_usage_error({"--part-size with a bad unit", {"cp", "--part-size", "8X", "s3://bucket/k", "/tmp/x"}, {"8X"}});
}

// A size that is not a number at all is the user's mistake too, not an internal error.
TEST(CliErrors, NonNumericSizeIsAUsageError) {
  expect_usage_error({"--part-size not a number", {"cp", "--part-size", "lots", "s3://bucket/k", "/tmp/x"}, {"lots"}});
  expect_usage_error(
      {"--multipart-threshold not a number", {"cp", "--multipart-threshold", "big", "/tmp/x", "s3://bucket/k"}, {"big"}});
}

// Almost an S3 URI (one slash, no slashes, upper case): exit 2 naming the argument, with the URI it
// probably meant, and never a local file or directory made of it.
TEST(CliErrors, NearMissS3UrisAreErrorsNotLocalPaths) {
  TempDir tmp;
  write_file(tmp / "file.txt", "x");
  const std::string cwd = fs::current_path().string();
  struct Near {
    std::string text, meant;
  };
  const Near near[] = {{"s3:/bucket/k", "s3://bucket/k"}, {"s3:bucket/k", "s3://bucket/k"}, {"S3://bucket/k", "s3://bucket/k"},
                       {"s3:bucket", "s3://bucket"}};
  for (const auto& n : near) {
    const std::string quoted = "'" + n.text + "'", suggestion = "did you mean '" + n.meant + "'";
    expect_usage_error({"upload to " + n.text, {"cp", tmp / "file.txt", n.text}, {quoted, suggestion}});
    expect_usage_error({"download from " + n.text, {"cp", n.text, tmp / "dst"}, {quoted, suggestion}});
    expect_usage_error({"cp -r to " + n.text, {"cp", "-r", tmp.path(), n.text}, {quoted}});
    expect_usage_error({"ls " + n.text, {"ls", n.text}, {quoted}});
    expect_usage_error({"rm " + n.text, {"rm", n.text}, {quoted}});
  }
  EXPECT_FALSE(fs::exists(tmp / "dst"));
  for (const char* made : {"s3:", "S3:", "s3:bucket"}) {
    EXPECT_FALSE(fs::exists(cwd + "/" + made)) << "a near-miss URI became the local path " << made;
  }
}

// Unknown commands and options name the closest known one.
TEST(CliErrors, UnknownCommandsAndOptionsSuggestTheClosest) {
  expect_usage_error({"lss", {"lss", "s3://bucket/"}, {"unknown command 'lss'", "did you mean 'ls'?"}});
  expect_usage_error({"mout after a global option", {"--region", "us-east-1", "mout", "s3://b/p/", "/mnt"},
                      {"unknown command 'mout'", "did you mean 'mount'?"}});
  expect_usage_error({"--recursiv", {"cp", "--recursiv", "s3://bucket/p/", "/tmp/x"},
                      {"unknown option '--recursiv'", "did you mean '--recursive'?"}});
  expect_usage_error({"--dry-run", {"cp", "/tmp/x", "s3://bucket/k", "--dry-run"}, {"did you mean '--dryrun'?"}});
  expect_usage_error({"a global option misspelt after the subcommand", {"ls", "s3://bucket/", "--endpoint-ur", "http://x"},
                      {"did you mean '--endpoint-url'?"}});
  expect_usage_error({"policy simulat", {"policy", "simulat"}, {"unknown command 'simulat'", "did you mean 'simulate'?"}});
}

// The global options are the same before and after the subcommand: a bad value is refused either way.
TEST(CliErrors, GlobalOptionsAfterTheSubcommand) {
  expect_usage_error({"--max-connections 0 after cp", {"cp", "s3://bucket/k", "/tmp/x", "--max-connections", "0"},
                      {"max-connections"}});
  expect_usage_error({"--cli-read-timeout -1 after ls", {"ls", "s3://bucket/", "--cli-read-timeout", "-1"},
                      {"cli-read-timeout"}});
  expect_usage_error({"--endpoint-url not a URL after ls", {"ls", "s3://bucket/", "--endpoint-url", "ftp://x"},
                      {"ftp://x"}});
  // A valid one after the subcommand takes effect: this endpoint is where the request goes.
  auto r = run_sluice({"ls", "s3://bucket/", "--endpoint-url", "http://127.0.0.1:7"}, offline_env(), 30s);
  EXPECT_EQ(r.exit_code, 5) << r.describe();
  EXPECT_TRUE(contains(r.err, "http://127.0.0.1:7")) << r.describe();
}

TEST(CliErrors, HelpAndVersionExitZero) {
  auto h = run_sluice({"--help"}, offline_env(), 30s);
  EXPECT_EQ(h.exit_code, 0) << h.describe();
  EXPECT_TRUE(contains(h.out, "cp")) << h.describe();
  auto v = run_sluice({"--version"}, offline_env(), 30s);
  EXPECT_EQ(v.exit_code, 0) << v.describe();
  EXPECT_TRUE(contains(v.out, "sluice")) << v.describe();
}

}  // namespace
}  // namespace sluice::itest
