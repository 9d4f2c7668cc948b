// What `sluice serve --executor slurm` hands Slurm and reads back (serve/slurm_batch.hpp): the batch
// script (run here by bash with fake srun and scontrol, so its hosts file and its task command are
// checked, not only its text), sbatch's arguments, the time limit, `scontrol show job -o` and
// srun's task failure lines.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "serve/slurm_batch.hpp"

namespace sluice::serve {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_exec(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), 0755);
}

class BatchScript : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-slurm-batch-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    // srun: the listing step prints "RANK: NODE" per task (--label); the task step runs the command
    // once per task with SLURM_PROCID set, as Slurm does.
    write_exec(dir / "srun", R"(#!/bin/bash
n=1; label=0
while [[ $1 == --* ]]; do
  case $1 in --ntasks=*) n=${1#*=} ;; --label) label=1 ;; esac
  shift
done
for ((i = 0; i < n; i++)); do
  node=node-$((i / 2))
  if ((label)); then echo "$i: $node"; else SLURM_PROCID=$i SLURMD_NODENAME=$node "$@" >> "$(dirname "$0")/tasks.out"; fi
done
)");
    write_exec(dir / "scontrol", R"(#!/bin/bash
echo "NodeName=$4 Arch=x86_64 CoresPerSocket=1 NodeAddr=10.0.0.$(( ${4#node-} + 7 )) NodeHostName=$4 Version=22.05.8"
)");
    write_exec(dir / "runner", "#!/bin/bash\nprintf '%s|' \"$@\"; echo\n");
    fs::create_directories(dir / "files");
  }
  void TearDown() override { fs::remove_all(dir); }

  int run(const SlurmScript& s) {
    std::ofstream(dir / "job.sh") << batch_script(s);
    const std::string cmd = "env -i PATH=/usr/bin:/bin AWS_SECRET_ACCESS_KEY=leak bash " + (dir / "job.sh").string() +
                            " > " + (dir / "out").string() + " 2>&1";
    return WEXITSTATUS(std::system(cmd.c_str()));
  }

  SlurmScript script(int hosts) {
    SlurmScript s;
    s.training_job = "job-1";
    s.runner = {(dir / "runner").string(), "train", "/srv/it's here/request.json", "--work-dir", "/srv/w"};
    s.hosts = hosts;
    s.files = dir / "files";
    s.srun = (dir / "srun").string();
    s.scontrol = (dir / "scontrol").string();
    s.env = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/root"}};
    return s;
  }

  fs::path dir;
};

TEST_F(BatchScript, WritesTheHostsFileFromTheNodesAndRunsOneRunnerPerHost) {
  std::ofstream(dir / "files" / "credentials") << "[default]\n";
  ASSERT_EQ(run(script(3)), 0) << read(dir / "out");
  EXPECT_EQ(read(dir / "files" / "hosts"), "10.0.0.7 algo-1\n10.0.0.7 algo-2\n10.0.0.8 algo-3\n");
  const std::string prefix = (dir / "runner").string() == "" ? "" : "";
  const std::string common = "train|/srv/it's here/request.json|--work-dir|/srv/w|--hosts-file|" +
                             (dir / "files" / "hosts").string() + "|--host-network|--host|";
  EXPECT_EQ(read(dir / "tasks.out"), prefix + common + "algo-1|\n" + common + "algo-2|\n" + common + "algo-3|\n");
  EXPECT_FALSE(fs::exists(dir / "files" / "credentials")) << "the credentials are removed when the tasks end";
}

TEST_F(BatchScript, OneHostKeepsItsOwnNetwork) {
  ASSERT_EQ(run(script(1)), 0) << read(dir / "out");
  EXPECT_EQ(read(dir / "tasks.out"), "train|/srv/it's here/request.json|--work-dir|/srv/w|--host|algo-1|\n");
}

TEST_F(BatchScript, TheRunnersGetTheCredentialsFileAndNoCredentialsFromTheEnvironment) {
  write_exec(dir / "runner", "#!/bin/bash\necho \"id=${AWS_ACCESS_KEY_ID-unset} secret=${AWS_SECRET_ACCESS_KEY-unset} "
                             "file=$AWS_SHARED_CREDENTIALS_FILE config=$AWS_CONFIG_FILE home=$HOME\"\n");
  ASSERT_EQ(run(script(1)), 0) << read(dir / "out");
  EXPECT_EQ(read(dir / "tasks.out"), "id=unset secret=unset file=" + (dir / "files" / "credentials").string() +
                                         " config=/dev/null home=/root\n");
}

TEST_F(BatchScript, TheRunnersExitStatusIsTheJobs) {
  write_exec(dir / "runner", "#!/bin/bash\nexit 3\n");
  EXPECT_EQ(run(script(2)), 3);
}

TEST_F(BatchScript, AHostStoppedOrAtItsMaxRuntimeEndsItsTaskWell) {
  // 130 (stopped) and 124 (MaxRuntimeInSeconds) are ends the job asked for: srun must not take
  // them for a failure and end the other hosts in their grace period.
  for (int code : {130, 124}) {
    write_exec(dir / "runner", "#!/bin/bash\nexit " + std::to_string(code) + "\n");
    EXPECT_EQ(run(script(1)), 0) << code;
  }
}

TEST_F(BatchScript, NoAwsSettingOfTheNodesEnvironmentReachesTheRunners) {
  write_exec(dir / "runner", "#!/bin/bash\nenv | grep ^AWS_ | sort\n");
  std::ofstream(dir / "job.sh") << batch_script(script(1));
  const std::string cmd = "env -i PATH=/usr/bin:/bin AWS_ROLE_ARN=r AWS_WEB_IDENTITY_TOKEN_FILE=/t AWS_PROFILE=p bash " +
                          (dir / "job.sh").string() + " > " + (dir / "out").string() + " 2>&1";
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0) << read(dir / "out");
  EXPECT_EQ(read(dir / "tasks.out"),
            "AWS_CONFIG_FILE=/dev/null\nAWS_SHARED_CREDENTIALS_FILE=" + (dir / "files" / "credentials").string() + "\n");
}

TEST(SbatchArgs, NameTasksOutputAnEmptyEnvironmentAndTheOperatorsOptionsLast) {
  SbatchRequest r;
  r.training_job = "job-1";
  r.hosts = 4;
  r.files = "/w/.sluice-serve/jobs/job-1";
  r.time_limit = std::chrono::seconds(600);
  r.partition = "gpu";
  r.extra = {"--exclusive"};
  const std::vector<std::string> want = {"--parsable", "--job-name=sluice-job-1", "--ntasks=4",
                                         "--output=/w/.sluice-serve/jobs/job-1/runner.log", "--open-mode=append",
                                         "--chdir=/w/.sluice-serve/jobs/job-1", "--export=NONE", "--no-requeue",
                                         "--time=10", "--partition=gpu", "--exclusive",
                                         "/w/.sluice-serve/jobs/job-1/slurm-job.sh"};
  EXPECT_EQ(sbatch_args(r), want);
  r.time_limit = std::chrono::seconds(0);
  r.partition.clear();
  r.extra.clear();
  const auto args = sbatch_args(r);
  for (const auto& a : args) {
    EXPECT_NE(a.rfind("--time", 0), 0u);
    EXPECT_NE(a.rfind("--partition", 0), 0u);
  }
}

TEST(SlurmTimeLimit, MaxRuntimePlusGracePlusThirtyMinutesInWholeMinutes) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  EXPECT_EQ(slurm_time_limit(seconds(0), milliseconds(120'000)), seconds(0));
  EXPECT_EQ(slurm_time_limit(seconds(3600), milliseconds(120'000)), seconds(3600 + 120 + 1800));
  EXPECT_EQ(slurm_time_limit(seconds(1), milliseconds(0)), seconds(1860));   // 1801 s -> 31 min
  EXPECT_EQ(slurm_time_limit(seconds(60), milliseconds(1)), seconds(1920));  // 1861 s -> 32 min
}

TEST(ScontrolJob, FieldsOfAJobLine) {
  const std::string text =
      "JobId=42 JobName=sluice-job-1 UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
      "ExitCode=1:0 RunTime=00:00:09 TimeLimit=00:10:00 NodeList=node-[0-1] Command=/w/a b/slurm-job.sh WorkDir=/w\n";
  auto f = parse_scontrol_job(text);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->at("JobId"), "42");
  EXPECT_EQ(f->at("JobState"), "FAILED");
  EXPECT_EQ(f->at("ExitCode"), "1:0");
  EXPECT_EQ(f->at("NodeList"), "node-[0-1]");
  EXPECT_FALSE(parse_scontrol_job("slurm_load_jobs error: Invalid job id specified\n"));
  EXPECT_FALSE(parse_scontrol_job(""));
}

TEST(SlurmJobState, LiveStatesRunAndEndedOnesCarryTheirExitAndWhatWentWrong) {
  for (const char* s : {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED"}) {
    EXPECT_TRUE(job_state({{"JobState", s}}).running) << s;
  }
  auto done = job_state({{"JobState", "COMPLETED"}, {"ExitCode", "0:0"}});
  EXPECT_FALSE(done.running);
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(done.failure, "");
  auto killed = job_state({{"JobState", "FAILED"}, {"ExitCode", "0:9"}});
  EXPECT_EQ(killed.exit_code, 137);
  auto node = job_state({{"JobState", "NODE_FAIL"}, {"ExitCode", "0:0"}, {"NodeList", "n7"}, {"JobId", "5"}});
  EXPECT_NE(node.failure.find("node n7 failed"), std::string::npos) << node.failure;
  auto timeout = job_state({{"JobState", "TIMEOUT"}, {"JobId", "5"}, {"TimeLimit", "00:06:00"}});
  EXPECT_NE(timeout.failure.find("time limit"), std::string::npos) << timeout.failure;
  EXPECT_NE(job_state({{"JobState", "OUT_OF_MEMORY"}}).failure, "");
  EXPECT_NE(job_state({{"JobState", "CANCELLED"}}).failure, "");
  // A state this code does not know (a newer Slurm's, a flag state) is a job still there.
  EXPECT_TRUE(job_state({{"JobState", "POWER_UP_NODE"}}).running);
  EXPECT_TRUE(job_state({{"JobState", ""}}).running);
}

TEST(TaskFailures, TheFirstTaskThatFailedComesFirstNamedByItsHost) {
  const std::string log =
      "[algo-1] epoch 1\n"
      "srun: error: node-1: task 1: Killed\n"
      "srun: launch/slurm: _step_signal: Terminating StepId=3.0\n"
      "srun: error: node-0: tasks 0,2-3: Exited with exit code 143\n"
      "srun: error: node-0: task 4: Exited with exit code 2\n";
  const auto f = task_failures(log);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].host, "algo-2");
  EXPECT_EQ(f[0].text, "algo-2 (task 1 on node node-1): Killed");
  EXPECT_FALSE(f[0].exit_code);
  EXPECT_EQ(f[1].host, "algo-1");  // a range: its first task
  EXPECT_EQ(f[1].exit_code, 143);
  EXPECT_EQ(f[1].text, "algo-1 (task 0 on node node-0): Exited with exit code 143 (killed by signal 15)");
  EXPECT_EQ(f[2].text, "algo-5 (task 4 on node node-0): Exited with exit code 2");
  EXPECT_EQ(f[2].exit_code, 2);
  EXPECT_TRUE(task_failures("srun: error: could not list\nall good\n").empty());
}

TEST(TaskFailures, TheTrainingCommandCannotForgeOneNorFloodTheServer) {
  // The command's lines reach the log prefixed by its runner: never at the start of a line.
  EXPECT_TRUE(task_failures("[algo-1] srun: error: node-9: task 0: Killed\n").empty());
  std::string flood;
  for (int i = 0; i < 100000; ++i) flood += "srun: error: n: tasks 0-2000000000: x\n";
  const auto f = task_failures(flood);
  EXPECT_EQ(f.size(), 16u);  // bounded, one task per line
  EXPECT_EQ(f[0].host, "algo-1");
}

}  // namespace
}  // namespace sluice::serve
