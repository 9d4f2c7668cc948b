// A job's directory (job/job_dir.hpp): 0700, owned by one session in multi-tenant mode, one run of
// each host at a time, and the hand-over of what the command may write to the job's uid, never
// through a link.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "job/job_dir.hpp"
#include "support/temp_dir.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using sluice::testing::TempDir;

JobOwner owner(const std::string& tenant) { return {"arn:aws:iam::1:role/R", {{"tenant-id", tenant}}}; }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(JobDirectory, IsPrivateAndBelongsToTheSessionThatMadeIt) {
  TempDir tmp;
  {
    JobDirectory d(tmp / "work", "job-1", owner("a"), {"algo-1"});
    EXPECT_EQ(d.path(), fs::path(tmp / "work") / "job-1");
    EXPECT_EQ(mode_of(d.path()), 0700u);
  }
  // The same session again (tags in another order too): fine.
  JobOwner same = owner("a");
  same.tags.push_back({"team", "x"});
  {
    JobDirectory d(tmp / "work2", "job", same, {"algo-1"});
  }
  std::swap(same.tags[0], same.tags[1]);
  EXPECT_NO_THROW(JobDirectory(tmp / "work2", "job", same, {"algo-1"}, Rerun::kReplace));
  { JobDirectory again(tmp / "work", "job-1", owner("a"), {"algo-1"}, Rerun::kReplace); }
  // Another tenant, another role, no tags, or single-tenant-made: refused, without saying whose.
  for (const JobOwner& other : {owner("b"), JobOwner{"arn:aws:iam::1:role/Other", {{"tenant-id", "a"}}}, JobOwner{"arn:aws:iam::1:role/R", {}}}) {
    try {
      JobDirectory d(tmp / "work", "job-1", other, {"algo-1"});
      ADD_FAILURE() << "another session got the job directory";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
      EXPECT_THAT(e.what(), HasSubstr("TrainingJobName 'job-1'"));
      EXPECT_THAT(e.what(), HasSubstr("ResourceInUse"));
      EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("tenant-id")));
    }
  }
  fs::create_directories(tmp / "work/premade/algo-1/code");  // planted by hand, no owner record
  EXPECT_THROW(JobDirectory(tmp / "work", "premade", owner("a"), {"algo-1"}), Error);
  // Single-tenant runs reuse any directory and make it private.
  fs::permissions(tmp / "work/premade", fs::perms::all);
  EXPECT_NO_THROW(JobDirectory(tmp / "work", "premade", std::nullopt, {"algo-1"}, Rerun::kReplace));
  EXPECT_EQ(mode_of(tmp / "work/premade"), 0700u);
}

// The hosts of one job start at once and share its directory (a Slurm job's tasks on one node):
// whichever makes it, the others find its owner and uid, never a directory without them, and all
// get the same uid. Without the work directory's lock, the first rounds already failed here.
TEST(JobDirectory, HostsMakingOneDirectoryAtOnceAllGetItsOwnerAndUid) {
  TempDir tmp;
  constexpr int kRounds = 60, kHosts = 4;
  int failures = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = "job-" + std::to_string(round);
    std::vector<std::string> errors(kHosts);
    std::vector<std::optional<uint32_t>> uids(kHosts);
    std::vector<std::thread> hosts;
    for (int k = 0; k < kHosts; ++k) {
      hosts.emplace_back([&, k] {
        try {
          JobDirectory d(tmp / "work", name, owner("a"), {"algo-" + std::to_string(k + 1)});
          uids[k] = d.uid();
        } catch (const std::exception& e) {
          errors[k] = e.what();
        }
      });
    }
    for (auto& t : hosts) t.join();
    for (int k = 0; k < kHosts; ++k) {
      if (!errors[k].empty() && failures++ < 3) ADD_FAILURE() << name << " algo-" << k + 1 << ": " << errors[k];
    }
    if (errors == std::vector<std::string>(kHosts)) {
      for (int k = 1; k < kHosts; ++k) EXPECT_EQ(uids[k], uids[0]) << name;
      EXPECT_TRUE(uids[0].has_value());
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(JobDirectory, AnOwnerRecordThatIsALinkIsNotFollowed) {
  TempDir tmp;
  { JobDirectory d(tmp / "w", "j", owner("a"), {"algo-1"}); }
  // A copy of tenant a's record elsewhere, linked in place of b's: never read through the link.
  fs::copy_file(tmp / "w/j/.sluice-owner", tmp / "a-owner");
  fs::create_directories(tmp / "w/k");
  fs::create_symlink(tmp / "a-owner", tmp / "w/k/.sluice-owner");
  EXPECT_THROW(JobDirectory(tmp / "w", "k", owner("a"), {"algo-1"}), Error);
}

TEST(JobDirectory, OneRunOfEachHostAtATime) {
  TempDir tmp;
  JobDirectory first(tmp / "w", "j", std::nullopt, {"algo-1"});
  try {
    JobDirectory second(tmp / "w", "j", std::nullopt, {"algo-2", "algo-1"});
    ADD_FAILURE() << "two runs of algo-1 at once";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
    EXPECT_THAT(e.what(), HasSubstr("algo-1 is already being run"));
  }
  EXPECT_NO_THROW(JobDirectory(tmp / "w", "j", std::nullopt, {"algo-2"}));  // another host: fine
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

void set_status(const fs::path& dir, const std::string& status) {
  write(dir / "status.json", "{\"TrainingJobStatus\": \"" + status + "\"}\n");
}

const std::string kSpec = R"({"TrainingJobName": "j", "HyperParameters": {"lr": "0.1"}})";

TEST(JobRerun, ADuplicateNameIsRefusedNamingTheJobAndItsStatus) {
  TempDir tmp;
  { JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1", "algo-2"}, Rerun::kRefuse, kSpec); }
  for (const char* status : {"Completed", "Failed", "Stopped", "InProgress"}) {
    set_status(tmp / "w/j", status);
    try {
      JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1", "algo-2"}, Rerun::kRefuse, kSpec);
      ADD_FAILURE() << "a duplicate name was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
      EXPECT_THAT(e.what(), HasSubstr("ResourceInUse: training job 'j' already exists (" + std::string(status)));
      EXPECT_THAT(e.what(), HasSubstr("--replace"));
      EXPECT_THAT(e.what(), HasSubstr("--resume"));
    }
  }
  // One host that ran is enough; a host of the same job that never ran here is not a duplicate
  // (hosts of one job run by separate `sluice train --host` processes).
  EXPECT_THROW(JobDirectory(tmp / "w", "j", std::nullopt, {"algo-2"}), Error);
  EXPECT_NO_THROW(JobDirectory(tmp / "w", "j", std::nullopt, {"algo-3"}));
  // A directory left by a run before run records existed counts too.
  fs::create_directories(tmp / "w/old/algo-1/model");
  EXPECT_THROW(JobDirectory(tmp / "w", "old", std::nullopt, {"algo-1"}), Error);
}

TEST(JobRerun, ReplaceDeletesEverythingOfTheHostsRunAndNothingElse) {
  TempDir tmp;
  const fs::path j = tmp / "w/j";
  { JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1", "algo-2"}, Rerun::kRefuse, kSpec); }
  for (const char* rel : {"algo-1/input/data/train/old.bin", "algo-1/model/m.pt", "algo-1/output/failure", "algo-1/code/train.py",
                          "checkpoints/algo-1/c.pt", "logs/algo-1.log", ".sluice-downloads-algo-1-train",
                          "algo-2/model/m.pt", "logs/algo-2.log", ".sluice-downloads-algo-2-train", "audit.jsonl"}) {
    write(j / rel, "old");
  }
  set_status(j, "Completed");
  write(tmp / "outside/keep", "keep");
  fs::create_directory_symlink(tmp / "outside", j / "algo-1/model/link");  // planted by the command
  {
    JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kReplace, kSpec);
    EXPECT_EQ(d.previous_status(), "Completed");
  }
  for (const char* gone : {"algo-1", "checkpoints/algo-1", "logs/algo-1.log", ".sluice-downloads-algo-1-train", "status.json"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(j / gone))) << gone;
  }
  // Another host of the job (run by its own `sluice train --host`) and the audit log stay.
  for (const char* kept : {"algo-2/model/m.pt", "logs/algo-2.log", ".sluice-downloads-algo-2-train", ".sluice-run-algo-1",
                           "audit.jsonl"}) {
    EXPECT_TRUE(fs::exists(j / kept)) << kept;
  }
  EXPECT_TRUE(fs::exists(tmp / "outside/keep"));  // the link was removed, not followed
  // The whole job (no --host) with one host fewer: the earlier run's algo-2 goes too.
  bool prepared = false;
  {
    JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kReplace, kSpec, true,
                   [&](const fs::path& dir) { prepared = dir == fs::path(tmp / "w/j"); });
  }
  EXPECT_TRUE(prepared);
  for (const char* gone : {"algo-2", "logs/algo-2.log", ".sluice-downloads-algo-2-train", ".sluice-run-algo-2"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(j / gone))) << gone;
  }
}

TEST(JobRerun, ResumeKeepsInputsAndCheckpointsOfAStoppedOrFailedJobWithTheSameSpec) {
  TempDir tmp;
  const fs::path j = tmp / "w/j";
  try {
    JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kResume, kSpec);
    ADD_FAILURE() << "resumed a job that never ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  { JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kRefuse, kSpec); }
  for (const char* rel : {"algo-1/input/data/train/a.bin", "algo-1/model/m.pt", "algo-1/output/failure", "algo-1/code/x.py",
                          "checkpoints/algo-1/c.pt", "algo-1/checkpoints/c2.pt"}) {
    write(j / rel, "old");
  }
  set_status(j, "Completed");
  EXPECT_THROW(JobDirectory(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kResume, kSpec), Error);
  for (const char* status : {"Failed", "Stopped", "InProgress"}) {
    set_status(j, status);
    // The same spec written another way (white space, key order) is the same spec.
    JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kResume,
                   R"({ "HyperParameters": {"lr": "0.1"},   "TrainingJobName": "j" })");
    EXPECT_EQ(d.previous_status(), status);
  }
  for (const char* gone : {"algo-1/model", "algo-1/output", "algo-1/code"}) EXPECT_FALSE(fs::exists(j / gone)) << gone;
  for (const char* kept : {"algo-1/input/data/train/a.bin", "checkpoints/algo-1/c.pt", "algo-1/checkpoints/c2.pt"}) {
    EXPECT_TRUE(fs::exists(j / kept)) << kept;
  }
  try {
    JobDirectory d(tmp / "w", "j", std::nullopt, {"algo-1"}, Rerun::kResume,
                   R"({"TrainingJobName": "j", "HyperParameters": {"lr": "0.2"}})");
    ADD_FAILURE() << "resumed with another spec";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_THAT(e.what(), HasSubstr("(in HyperParameters)"));
  }
}

TEST(JobUid, IsUnprivilegedUniqueAndKeptForReruns) {
  TempDir tmp;
  std::set<uint32_t> uids;
  for (int i = 0; i < 50; ++i) {
    JobDirectory d(tmp / "w", "job-" + std::to_string(i), owner("a"), {"algo-1"});
    ASSERT_TRUE(d.uid());
    EXPECT_GE(*d.uid(), 0x60000000u);
    EXPECT_LT(*d.uid(), 0x70000000u);
    uids.insert(*d.uid());
  }
  EXPECT_EQ(uids.size(), 50u);  // unique in the work directory (the registry)
  uint32_t first;
  {
    JobDirectory d(tmp / "w", "job-0", owner("a"), {"algo-1"}, Rerun::kReplace);
    first = *d.uid();
  }
  JobDirectory again(tmp / "w", "job-0", owner("a"), {"algo-1"}, Rerun::kReplace);
  EXPECT_EQ(*again.uid(), first);  // a rerun keeps its uid
  EXPECT_FALSE(JobDirectory(tmp / "w", "job-0", std::nullopt, {"algo-2"}).uid());  // single-tenant: none
  // The registry drops jobs whose directory is gone, and no entry names two jobs.
  fs::remove_all(fs::path(tmp / "w") / "job-1");
  { JobDirectory d(tmp / "w", "job-new", owner("a"), {"algo-1"}); }
  std::ifstream in(tmp / "w/.sluice-uids");
  std::set<std::string> jobs;
  uint32_t uid;
  std::string job;
  size_t lines = 0;
  while (in >> uid >> job) {
    jobs.insert(job);
    ++lines;
  }
  EXPECT_EQ(lines, jobs.size());
  EXPECT_EQ(jobs.count("job-1"), 0u);
  EXPECT_EQ(jobs.count("job-new"), 1u);
  EXPECT_EQ(jobs.size(), 50u);
}

TEST(HandOver, ChownsWhatTheCommandMayWriteAndNothingThroughALink) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  TempDir tmp;
  const fs::path root = tmp / "algo-1";
  fs::create_directories(root / "input/data/train");
  fs::create_directories(root / "model/sub");
  std::ofstream(root / "model/sub/m.bin") << "m";
  std::ofstream(tmp / "host-file") << "host";
  fs::create_symlink(tmp / "host-file", root / "model/link");
  const uint32_t uid = 0x60000042;
  hand_over(root, {"model", "output", "code"}, uid);
  struct stat st {};
  for (const char* rel : {"model", "model/sub", "model/sub/m.bin", "output", "code"}) {
    ASSERT_EQ(::lstat((root / rel).c_str(), &st), 0) << rel;
    EXPECT_EQ(st.st_uid, uid) << rel;
  }
  ASSERT_EQ(::lstat((root / "model/link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid);  // the link itself
  for (const fs::path& p : {fs::path(tmp / "host-file"), root, root / "input", root / "input/data/train"}) {
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, 0u) << p;
  }
  // The root itself and input/ are never handed over.
  for (const char* bad : {".", "", "input", "input/data", "./input", "../x"}) {
    EXPECT_THROW(hand_over(root, {bad}, uid), Error) << bad;
  }
  ASSERT_EQ(::lstat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  // A writable directory that is a link is refused, its target untouched.
  fs::create_directories(tmp / "elsewhere");
  fs::create_directory_symlink(tmp / "elsewhere", root / "ckpt");
  EXPECT_THROW(hand_over(root, {"ckpt"}, uid), Error);
  ASSERT_EQ(::lstat((tmp / "elsewhere").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
}

}  // namespace
}  // namespace sluice::job
