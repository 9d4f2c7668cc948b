// A warm pool's inputs taken over by the next job (job/warm_inputs.hpp): the channel directory
// moves with its files (same inode) and its download record is rewritten for the new paths, so
// the next download sees the files as complete; nothing moves for another session, nor through a
// link, nor over a channel directory that is not empty.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "job/job_dir.hpp"
#include "job/warm_inputs.hpp"
#include "support/temp_dir.hpp"
#include "transfer/download_record.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;

JobOwner owner(const std::string& tenant) { return {"arn:aws:iam::1:role/R", {{"tenant-id", tenant}}}; }

// A finished job of `who` with one downloaded, recorded file in channel "train" of algo-1.
fs::path finished_job(const fs::path& work, const std::string& name, const std::optional<JobOwner>& who) {
  JobDirectory dir(work, name, who, {"algo-1"});
  const fs::path data = dir.path() / "algo-1" / "input" / "data" / "train";
  fs::create_directories(data / "sub");
  const std::string file = (data / "sub" / "x.bin").string();
  std::ofstream(file) << "0123456789";
  struct stat st;
  EXPECT_EQ(::stat(file.c_str(), &st), 0);
  transfer::DownloadRecord record((dir.path() / ".sluice-downloads-algo-1-train").string(), {});
  record.remember(file, {"ds/sub/x.bin", "\"etag\"", 10, static_cast<uint64_t>(st.st_dev),
                         static_cast<uint64_t>(st.st_ino), transfer::ctime_ns(st)});
  record.finish();
  return dir.path();
}

TEST(WarmInputs, TheChannelMovesWithItsRecordForTheSameSession) {
  TempDir tmp;
  const fs::path work = fs::path(tmp / "work");
  const fs::path a = finished_job(work, "a", owner("x"));
  struct stat before;
  ASSERT_EQ(::stat((a / "algo-1/input/data/train/sub/x.bin").c_str(), &before), 0);
  JobDirectory b(work, "b", owner("x"), {"algo-1"});
  fs::create_directories(b.path() / "algo-1/input/data/train");  // made empty by the new job's layout
  EXPECT_EQ(adopt_warm_inputs(a, b.path(), {"algo-1", "algo-2"}, {"train", "absent"}, owner("x")), 1u);
  const std::string moved = (b.path() / "algo-1/input/data/train/sub/x.bin").string();
  struct stat after;
  ASSERT_EQ(::stat(moved.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_FALSE(fs::exists(a / "algo-1/input/data/train"));
  EXPECT_FALSE(fs::exists(a / ".sluice-downloads-algo-1-train"));
  transfer::DownloadRecord record((b.path() / ".sluice-downloads-algo-1-train").string(), {});
  const auto* entry = record.find(moved);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->key, "ds/sub/x.bin");
  EXPECT_EQ(entry->ino, static_cast<uint64_t>(after.st_ino));
  EXPECT_EQ(entry->ctime_ns, transfer::ctime_ns(after));  // still the file the record vouches for
}

TEST(WarmInputs, AnotherSessionsInputsAreNeverTaken) {
  TempDir tmp;
  const fs::path work = fs::path(tmp / "work");
  const fs::path a = finished_job(work, "a", owner("x"));
  JobDirectory b(work, "b", owner("y"), {"algo-1"});
  EXPECT_EQ(adopt_warm_inputs(a, b.path(), {"algo-1"}, {"train"}, owner("y")), 0u);
  EXPECT_TRUE(fs::exists(a / "algo-1/input/data/train/sub/x.bin"));
  JobDirectory c(work, "c", std::nullopt, {"algo-1"});  // single-tenant: not the tenant's either
  EXPECT_EQ(adopt_warm_inputs(a, c.path(), {"algo-1"}, {"train"}, std::nullopt), 0u);
  EXPECT_TRUE(fs::exists(a / "algo-1/input/data/train/sub/x.bin"));
}

TEST(WarmInputs, NeitherThroughALinkNorOverANonEmptyDirectory) {
  TempDir tmp;
  const fs::path work = fs::path(tmp / "work");
  const fs::path a = finished_job(work, "a", owner("x"));
  fs::create_directories(fs::path(tmp / "elsewhere"));
  fs::create_symlink(fs::path(tmp / "elsewhere"), a / "algo-1/input/data/linked");
  JobDirectory b(work, "b", owner("x"), {"algo-1"});
  fs::create_directories(b.path() / "algo-1/input/data/train");
  std::ofstream(b.path() / "algo-1/input/data/train/keep.bin") << "mine";
  EXPECT_EQ(adopt_warm_inputs(a, b.path(), {"algo-1"}, {"train", "linked"}, owner("x")), 0u);
  EXPECT_TRUE(fs::exists(b.path() / "algo-1/input/data/train/keep.bin"));
  EXPECT_FALSE(fs::exists(b.path() / "algo-1/input/data/linked"));
  EXPECT_TRUE(fs::exists(a / "algo-1/input/data/train/sub/x.bin"));
}

}  // namespace
}  // namespace sluice::job
