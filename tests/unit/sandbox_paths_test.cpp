// A SandboxSpec's paths (job/sandbox_paths.hpp): sandbox paths, host paths, the spec's checks and
// the extra binds in mount order.
#include "job/sandbox_paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "support/temp_dir.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;

TEST(SandboxPaths, SandboxPathsAreAbsoluteAndNormal) {
  EXPECT_EQ(sandbox_path("/opt/ml/./code/", "x"), "/opt/ml/code");
  EXPECT_EQ(sandbox_path("/a/b/../c", "x"), "/a/c");
  EXPECT_EQ(sandbox_path("/", "x"), "/");
  EXPECT_THROW(sandbox_path("relative/path", "x"), Error);
  EXPECT_THROW(sandbox_path("", "x"), Error);
  EXPECT_THROW(sandbox_path(std::string("/a\0b", 4), "x"), Error);
}

TEST(SandboxPaths, HostPathsMustExist) {
  sluice::testing::TempDir dir;
  EXPECT_EQ(absolute_host_path(dir.path() + "/./", "x"), fs::path(dir.path()).lexically_normal().string());
  EXPECT_THROW(absolute_host_path(dir.path() + "/missing", "x"), Error);
  EXPECT_THROW(absolute_host_path("", "x"), Error);
}

TEST(SandboxPaths, ASpecNeedsACommandWithoutNulBytes) {
  SandboxSpec spec;
  EXPECT_THROW(validate_spec(spec), Error);
  spec.argv = {"python", "train.py"};
  EXPECT_NO_THROW(validate_spec(spec));
  spec.env["BAD=NAME"] = "1";
  EXPECT_THROW(validate_spec(spec), Error);
  spec.env.clear();
  spec.argv.push_back(std::string("a\0b", 3));
  EXPECT_THROW(validate_spec(spec), Error);
  spec.argv = {""};
  EXPECT_THROW(validate_spec(spec), Error);
}

TEST(SandboxPaths, BindsComeParentsFirstAndNeverOverTheSandboxsOwnPaths) {
  sluice::testing::TempDir dir;
  SandboxSpec spec;
  spec.extra_binds = {Bind{dir.path(), "/data/a/b", true}, Bind{dir.path(), "/data/", false}, Bind{dir.path(), "/x", true}};
  std::vector<Bind> binds = checked_binds(spec);
  ASSERT_EQ(binds.size(), 3u);
  EXPECT_EQ(binds[0].sandbox_path, "/data");
  EXPECT_EQ(binds[1].sandbox_path, "/x");
  EXPECT_EQ(binds[2].sandbox_path, "/data/a/b");
  EXPECT_FALSE(binds[0].read_only);

  for (const char* bad : {"/", "/opt/ml", "/proc/self", "/dev"}) {
    spec.extra_binds = {Bind{dir.path(), bad, true}};
    EXPECT_THROW(checked_binds(spec), Error) << bad;
  }
  spec.extra_binds = {Bind{dir.path(), "/d", true}, Bind{dir.path(), "/d/", true}};
  EXPECT_THROW(checked_binds(spec), Error);
}

TEST(SandboxPaths, HostPathFollowsTheDeepestBind) {
  SandboxSpec spec;
  spec.opt_ml_host_dir = "/host/job";
  spec.extra_binds = {Bind{"/host/data", "/opt/ml/input/data/train", true}};
  EXPECT_EQ(host_path(spec, "/opt/ml/model"), "/host/job/model");
  EXPECT_EQ(host_path(spec, "/opt/ml/input/data/train/x.rec"), "/host/data/x.rec");
  EXPECT_EQ(host_path(spec, "/usr/bin/python3"), "/usr/bin/python3");
}

}  // namespace
}  // namespace sluice::job
