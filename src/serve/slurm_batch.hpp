// What `sluice serve --executor slurm` hands Slurm, and how it reads Slurm's answers (pure
// functions, unit-tested; slurm_executor.hpp runs the commands):
//  - the batch script of a training job: one step lists where each task landed (its node's
//    NodeAddr) and writes the hosts file ("ADDRESS algo-K", task K-1 is algo-K, as SageMaker
//    numbers hosts), then one step of InstanceCount tasks runs `sluice train --host algo-K` each;
//    the environment is built here (--export=NONE), credentials come from a file of the job's;
//  - sbatch's arguments (the time limit from MaxRuntimeInSeconds, the partition, the operator's
//    own options);
//  - `scontrol show job -o` (the job's state) and srun's "task N: Killed" lines (which host failed).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::serve {

struct SlurmScript {
  std::string training_job;           // named in the script's header only
  std::vector<std::string> runner;    // the runner's command for the whole job
  int hosts = 1;
  std::filesystem::path files;        // the job's server files: hosts, tasks, credentials live here
  std::string srun = "srun", scontrol = "scontrol";  // paths of the Slurm commands on the nodes
  std::vector<std::pair<std::string, std::string>> env;  // exported in the script (never secrets)
};

// The batch script's text (bash). Every value is single-quoted.
std::string batch_script(const SlurmScript& s);

struct SbatchRequest {
  std::string training_job;
  int hosts = 1;
  std::filesystem::path files;  // the script is files/slurm-job.sh, its output files/runner.log
  std::chrono::seconds time_limit{0};  // 0: the partition's
  std::string partition;               // empty: the cluster's default
  std::vector<std::string> extra;      // the operator's own sbatch options, after ours
};

// sbatch's arguments (after "sbatch").
std::vector<std::string> sbatch_args(const SbatchRequest& r);

// Slurm's time limit for a job: its MaxRuntimeInSeconds plus the stop grace period plus 30 minutes
// (the download before training and the upload after it, which MaxRuntimeInSeconds does not
// count), in whole minutes, rounded up;
// 0 (the partition's limit) when the job has none.
std::chrono::seconds slurm_time_limit(std::chrono::seconds max_runtime, std::chrono::milliseconds stop_grace);

// `scontrol show job -o ID`: its KEY=VALUE fields (JobState, Reason, ExitCode, NodeList, ...);
// nullopt when Slurm no longer knows the job (or the text is not a job line).
std::optional<std::map<std::string, std::string>> parse_scontrol_job(const std::string& text);

struct SlurmJobState {
  bool running = false;           // pending, running, completing, suspended, ...
  std::optional<int> exit_code;   // when it has ended
  std::string failure;            // what Slurm says went wrong (NODE_FAIL, TIMEOUT, ...); empty if nothing
};
SlurmJobState job_state(const std::map<std::string, std::string>& fields);

// srun's lines about tasks that ended badly, "srun: error: NODE: task N: WHAT" (or "tasks A-B,C":
// the first of them), at the start of a line, in the order srun wrote them: the first is the task
// that failed first (--kill-on-bad-exit then ended the others). At most 16.
struct TaskFailure {
  std::string host;  // algo-(N+1)
  std::string text;  // "algo-K (task N on node NODE): WHAT"
  std::optional<int> exit_code;  // "Exited with exit code N"; none for a signal
};
std::vector<TaskFailure> task_failures(const std::string& runner_log);

}  // namespace sluice::serve
