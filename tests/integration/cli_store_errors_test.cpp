// What the store refuses becomes its own exit code (docs/cli.md), never 70 (internal): the real
// binary against the real store, one refusal per S3 error code a user meets.
#include <gtest/gtest.h>

#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

void expect_exit(const std::vector<std::string>& args, const EnvMap& env, int code, const std::string& names) {
  auto r = run_sluice(args, env, 60s);
  SCOPED_TRACE(args.front() + " " + (args.size() > 1 ? args[1] : ""));
  EXPECT_EQ(r.exit_code, code) << r.describe();
  EXPECT_NE(r.exit_code, 70) << r.describe();
  EXPECT_TRUE(r.err.starts_with("sluice: error: ")) << r.describe();
  EXPECT_TRUE(contains(r.err, names)) << "stderr does not name '" << names << "': " << r.describe();
  EXPECT_FALSE(contains(r.err, "internal error")) << r.describe();
}

TEST(CliStoreErrors, EachRefusalHasItsExitCode) {
  TestBucket b("storeerr");
  b.store().put("k", store::Body::from_string("x"), {});
  TempDir tmp;
  // InvalidBucketName (the store's rule: no capitals or '_'): invalid input, 2.
  expect_exit({"mb", "s3://Bad_Bucket_Name"}, store_env(), 2, "InvalidBucketName");
  // BucketNotEmpty: a conflict, 8.
  expect_exit({"rb", b.uri()}, store_env(), 8, "BucketNotEmpty");
  // NoSuchBucket, NoSuchKey: not found, 3.
  const std::string missing = unique_bucket_name("missing");
  expect_exit({"rb", "s3://" + missing}, store_env(), 3, missing);
  expect_exit({"cp", b.uri("no-such-key"), tmp / "x"}, store_env(), 3, "no-such-key");
  expect_exit({"ls", "s3://" + missing + "/"}, store_env(), 3, missing);
  // InvalidAccessKeyId: access denied, 4, naming the key id (never the secret).
  expect_exit({"ls", b.uri()}, env_with({{"AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUNKNOWN01"}}), 4, "AKIAUNKNOWNUNKNOWN01");
  EXPECT_FALSE(fs::exists(tmp / "x"));
  // The bucket and its object are still there after the refused rb.
  EXPECT_EQ(b.store().head("k").size, 1u);
}

}  // namespace
}  // namespace sluice::itest
