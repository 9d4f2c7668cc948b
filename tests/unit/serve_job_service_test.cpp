// The job service (serve/job_service.hpp) with real processes: a small shell "runner" stands in
// for `sluice train` and writes status.json as it does. Queued jobs start in order within
// max_jobs; the runner's record comes back into the job's; StopTrainingJob of a queued job, of a
// running one (SIGTERM, the runner records Stopped) and of one that ignores SIGTERM (killed after
// the grace); a runner that dies without a record fails the job with a reason; a full queue is
// refused; and a new service on the same database (a restart) re-attaches a running job and ends
// one whose runner ended meanwhile.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "serve/job_records.hpp"
#include "serve/job_service.hpp"
#include "serve/local_executor.hpp"
#include "serve/state_db.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace sluice::serve {
namespace {

using sluice::testing::TempDir;

// The runner: sh -c SCRIPT sh REQUEST --work-dir DIR --stop-grace S [--session-file F]. It reads
// what to do from the request's "Behaviour": "finish" (Completed after a moment), "hold" (runs
// until SIGTERM, then records Stopped), "stubborn" (ignores SIGTERM), "die" (exits 3, no record),
// "refuse" (an error, then another line, as a Slurm job's other host prints its summary; exit 2),
// "linger" (records Completed at once, then runs 0.5 s more, as a runner's last clean-up does).
constexpr const char* kRunner = R"sh(
req=$1; work=$3
name=$(sed -n 's/.*"TrainingJobName": *"\([^"]*\)".*/\1/p' "$req")
how=$(sed -n 's/.*"Behaviour": *"\([^"]*\)".*/\1/p' "$req")
dir=$work/$name; mkdir -p "$dir"
rec() { printf '{"TrainingJobName":"%s","TrainingJobStatus":"%s","SecondaryStatus":"%s","LastModifiedTime":"2026-12-05T16:20:09.000000+00:00"%s}' "$name" "$1" "$2" "$3" > "$dir/status.tmp"; mv "$dir/status.tmp" "$dir/status.json"; }
[ "$6" = --session-file ] && cp "$7" "$dir/session-seen.json"
prev=""; for a in "$@"; do [ "$prev" = --warm-from ] && echo "$a" > "$dir/warm-from"; prev=$a; done
rec InProgress Training ""
case $how in
  finish) sleep 0.3; rec Completed Completed ',"TrainingEndTime":"2026-12-05T16:21:00.000000+00:00"' ;;
  linger) rec Completed Completed ',"TrainingEndTime":"2026-12-05T16:21:00.000000+00:00"'; sleep 0.5 ;;
  hold) trap 'rec Stopped Stopped ",\"FailureReason\":\"stopped\""; exit 130' TERM; while :; do sleep 0.05; done ;;
  stubborn) trap '' TERM; while :; do sleep 0.05; done ;;
  die) echo "sluice: error: something broke" >&2; exit 3 ;;
  refuse) echo "sluice: error: --hosts-file h: line 2: algo-2 is listed twice" >&2; echo "  Status:          $dir/status.json"; exit 2 ;;
esac
)sh";

class JobServiceTest : public ::testing::Test {
 protected:
  TempDir tmp;
  StateDb db{tmp / "state.db"};
  JobRecords records{db};
  LocalExecutor executor;
  JobServiceOptions options() {
    JobServiceOptions o;
    o.work_dir = tmp / "work";
    o.runner_command = {"/bin/sh", "-c", kRunner, "sh"};
    o.max_jobs = 1;
    o.max_queued = 2;
    o.stop_grace = std::chrono::milliseconds(200);
    o.poll = std::chrono::milliseconds(20);
    return o;
  }
  // No runner outlives its test, also when the test failed: "stubborn" ignores SIGTERM for good.
  void TearDown() override {
    ListQuery q;
    q.max_results = 100;
    for (const auto& job : records.list(q).jobs) {
      if (!job.executor_handle.empty() && executor.probe(job.executor_handle).running) {
        executor.signal(job.executor_handle, SIGKILL);
      }
    }
  }
  JobRecord make(const std::string& name, const std::string& behaviour) {
    JobRecord j;
    j.name = name;
    j.arn = "arn:aws:sagemaker:us-east-1:111122223333:training-job/" + name;
    j.request = {{"TrainingJobName", name}, {"Behaviour", behaviour}};
    j.work_dir = (std::filesystem::path(tmp / "work") / name).string();
    j.creation_time = j.last_modified_time = 1796487601;
    return j;
  }
  // Rounds until `name`'s status is `status` (10 s at most).
  JobRecord wait_for(JobService& s, const std::string& name, const std::string& status) {
    for (int i = 0; i < 500; ++i) {
      s.tick();
      auto j = records.get(name);
      if (j && j->status == status) return *j;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto j = records.get(name);
    ADD_FAILURE() << name << " is " << (j ? j->status + "/" + j->secondary_status + " " + j->failure_reason : "gone")
                  << ", expected " << status;
    return j.value_or(JobRecord{});
  }
};

TEST_F(JobServiceTest, QueuedJobsStartInOrderWithinMaxJobsAndTheRunnersRecordComesBack) {
  JobService s(records, executor, options());
  s.submit(make("a", "finish"), std::nullopt);
  s.submit(make("b", "finish"), std::vector<policy::SessionTag>{{"tenant-id", "b"}});
  s.tick();
  EXPECT_FALSE(records.get("a")->executor_handle.empty());
  EXPECT_TRUE(records.get("b")->executor_handle.empty());  // max_jobs 1: b waits
  auto a = wait_for(s, "a", "Completed");
  EXPECT_EQ(a.secondary_status, "Completed");
  EXPECT_DOUBLE_EQ(*a.end_time, 1796487660.0);
  auto b = wait_for(s, "b", "Completed");
  // The session file reached the runner, private to root.
  struct stat st{};
  ASSERT_EQ(::stat((s.files_of("b") / "session.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream seen(std::filesystem::path(tmp / "work") / "b" / "session-seen.json");
  std::string text((std::istreambuf_iterator<char>(seen)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"tenant-id\""), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(tmp / "work") / "a" / "session-seen.json"));  // no chaining: no file
}

TEST_F(JobServiceTest, ADuplicateNameIsAConflictAndAFullQueueIsRefused) {
  JobService s(records, executor, options());
  s.submit(make("a", "hold"), std::nullopt);
  sluice::testing::expect_error([&] { s.submit(make("A", "hold"), std::nullopt); }, ErrorKind::kConflict, {"already exists"});
  s.tick();  // a runs
  s.submit(make("b", "finish"), std::nullopt);
  s.submit(make("c", "finish"), std::nullopt);
  sluice::testing::expect_error([&] { s.submit(make("d", "finish"), std::nullopt); }, ErrorKind::kRetryable, {"already waiting"});
  s.stop_job("a");
  wait_for(s, "a", "Stopped");
  wait_for(s, "c", "Completed");
}

TEST_F(JobServiceTest, StoppingAQueuedARunningAndAStubbornJob) {
  auto o = options();
  o.max_jobs = 2;
  JobService s(records, executor, o);
  s.submit(make("run", "hold"), std::nullopt);
  s.submit(make("stubborn", "stubborn"), std::nullopt);
  s.tick();
  s.submit(make("queued", "finish"), std::nullopt);
  auto q = s.stop_job("queued");
  EXPECT_EQ(records.get("queued")->status, "Stopped");
  EXPECT_TRUE(records.get("queued")->executor_handle.empty());  // never started
  wait_for(s, "run", "InProgress");
  for (int i = 0; i < 100 && records.get("run")->secondary_status != "Training"; ++i) {
    s.tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(s.stop_job("run").status, "Stopping");
  EXPECT_EQ(s.stop_job("run").status, "Stopping");  // again: no change
  auto run = wait_for(s, "run", "Stopped");
  EXPECT_EQ(run.failure_reason, "stopped");  // the runner's record
  sluice::testing::expect_error([&] { s.stop_job("run"); }, ErrorKind::kConflict, {"has ended (Stopped)"});
  sluice::testing::expect_error([&] { s.stop_job("nope"); }, ErrorKind::kNotFound, {"no such job"});
}

TEST_F(JobServiceTest, ARunnerThatDiesWithoutARecordFailsTheJobWithItsLastLine) {
  JobService s(records, executor, options());
  s.submit(make("d", "die"), std::nullopt);
  auto d = wait_for(s, "d", "Failed");
  EXPECT_NE(d.failure_reason.find("runner ended (exit 3)"), std::string::npos) << d.failure_reason;
  EXPECT_NE(d.failure_reason.find("something broke"), std::string::npos) << d.failure_reason;
  ASSERT_TRUE(d.end_time);
}

// A runner that refused the job (exit 2) is a ClientError with its error line, not with the line
// printed after it (CI: "ClientError:   Status:          .../status.json").
TEST_F(JobServiceTest, ARefusedJobIsAClientErrorWithTheRunnersErrorLine) {
  JobService s(records, executor, options());
  s.submit(make("r", "refuse"), std::nullopt);
  auto r = wait_for(s, "r", "Failed");
  EXPECT_EQ(r.failure_reason, "ClientError: sluice: error: --hosts-file h: line 2: algo-2 is listed twice");
}

TEST_F(JobServiceTest, ARestartReattachesARunningJobAndEndsOneThatEndedMeanwhile) {
  auto o = options();
  o.max_jobs = 2;
  std::string handle;
  {
    JobService s(records, executor, o);
    s.submit(make("keeps", "hold"), std::nullopt);
    s.submit(make("ends", "die"), std::nullopt);
    s.tick();
    handle = records.get("keeps")->executor_handle;
    ASSERT_FALSE(handle.empty());
  }  // the server goes; its jobs' processes do not
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  StateDb db2(tmp / "state.db");
  JobRecords records2(db2);
  LocalExecutor executor2;
  JobService s2(records2, executor2, o);
  s2.recover();
  auto keeps = records2.get("keeps");
  EXPECT_EQ(keeps->status, "InProgress");
  EXPECT_EQ(keeps->executor_handle, handle);  // re-attached, not started again
  auto ends = records2.get("ends");
  EXPECT_EQ(ends->status, "Failed");
  EXPECT_FALSE(ends->failure_reason.empty());
  s2.stop_job("keeps");
  for (int i = 0; i < 500 && records2.get("keeps")->status != "Stopped"; ++i) {
    s2.tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(records2.get("keeps")->status, "Stopped");
  executor.probe(handle);  // reap it: it was this test process's child
}

TEST_F(JobServiceTest, AWarmPoolIsAvailableThenReusedByAMatchingJobOrTerminatedWhenItsPeriodEnds) {
  double now = 1796487601;
  auto o = options();
  o.now = [&now] { return now; };
  JobService s(records, executor, o);
  auto first = make("first", "finish");
  first.warm_pool.keep_alive_seconds = 60;
  first.warm_pool.match_key = "key-a";
  s.submit(first, std::nullopt);
  auto done = wait_for(s, "first", "Completed");
  EXPECT_EQ(done.warm_pool.status, "Available");

  auto other = make("other-key", "finish");  // another tenant's (another key): not on this pool
  other.warm_pool.match_key = "key-b";
  s.submit(other, std::nullopt);
  wait_for(s, "other-key", "Completed");
  EXPECT_FALSE(std::filesystem::exists(s.job_dir("other-key") / "warm-from"));
  EXPECT_EQ(records.get("first")->warm_pool.status, "Available");

  auto second = make("second", "finish");
  second.warm_pool.keep_alive_seconds = 30;
  second.warm_pool.match_key = "key-a";
  s.submit(second, std::nullopt);
  s.tick();
  EXPECT_EQ(records.get("second")->warm_pool.status, "InUse");
  auto reused = records.get("first");
  EXPECT_EQ(reused->warm_pool.status, "Reused");
  EXPECT_EQ(reused->warm_pool.reused_by, "second");
  wait_for(s, "second", "Completed");
  std::ifstream warm(s.job_dir("second") / "warm-from");
  std::string from;
  std::getline(warm, from);
  EXPECT_EQ(from, reused->work_dir);  // the runner was told where the inputs are
  EXPECT_EQ(records.get("second")->warm_pool.status, "Available");

  now = *records.get("second")->end_time + 31;  // past its 30 s
  s.tick();
  EXPECT_EQ(records.get("second")->warm_pool.status, "Terminated");
  auto third = make("third", "finish");
  third.warm_pool.match_key = "key-a";
  s.submit(third, std::nullopt);
  wait_for(s, "third", "Completed");
  EXPECT_FALSE(std::filesystem::exists(s.job_dir("third") / "warm-from"));  // no pool left
}

// The runner's record says Completed a moment before the runner exits: the job ends (and its warm
// pool becomes Available) when the runner has exited, not before, and not never (a job that left
// InProgress while its runner ran was never ended, so its pool never became Available).
TEST_F(JobServiceTest, AJobWhoseRecordEndsBeforeItsRunnerEndsWhenTheRunnerDoes) {
  JobService s(records, executor, options());
  auto job = make("linger", "linger");
  job.warm_pool.keep_alive_seconds = 60;
  job.warm_pool.match_key = "key-a";
  s.submit(job, std::nullopt);
  for (int i = 0; i < 500 && !std::filesystem::exists(s.job_dir("linger") / "status.json"); ++i) {
    s.tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the record says Completed; the runner runs
  s.tick();
  EXPECT_EQ(records.get("linger")->status, "InProgress");
  auto done = wait_for(s, "linger", "Completed");
  EXPECT_EQ(done.warm_pool.status, "Available");
  EXPECT_TRUE(done.end_time.has_value());
}

TEST(LocalExecutor, AProgramThatCannotStartIsAnErrorNotAJob) {
  TempDir tmp;
  LocalExecutor e;
  sluice::testing::expect_error([&] { e.launch({"/nonexistent/sluice", "train"}, tmp / "out.log"); }, ErrorKind::kNotFound, {"starting the job's process"});
}

TEST(LocalExecutor, AHandleNamesOneProcessNotItsPid) {
  TempDir tmp;
  LocalExecutor e;
  const std::string h = e.launch({"/bin/sh", "-c", "echo hi; exec sleep 30"}, tmp / "out.log");
  EXPECT_TRUE(e.probe(h).running);
  for (int i = 0; i < 500 && std::filesystem::file_size(std::filesystem::path(tmp / "out.log")) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The same pid with another start time is another process: not running, never signalled.
  const std::string other = h.substr(0, h.rfind(':') + 1) + "1";
  EXPECT_FALSE(e.probe(other).running);
  EXPECT_FALSE(e.signal(other, SIGKILL));
  EXPECT_TRUE(e.probe(h).running);
  EXPECT_FALSE(e.probe("local:abc:1").running);
  EXPECT_TRUE(e.signal(h, SIGKILL));
  Probe p;
  for (int i = 0; i < 200 && (p = e.probe(h)).running; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(p.running);
  EXPECT_EQ(p.exit_code, 128 + SIGKILL);
  std::ifstream out(tmp / "out.log");
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "hi");
}

}  // namespace
}  // namespace sluice::serve
