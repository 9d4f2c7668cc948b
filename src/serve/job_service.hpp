// The jobs `sluice serve` runs: accepted jobs wait in a queue (their records, InProgress with no
// process yet) and are started in order while fewer than max_jobs run; each runs as one
// `sluice train` process (serve/local_executor.hpp), or one Slurm job of a task per host
// (serve/slurm_executor.hpp), whose status record (status.json) is read
// back into the job's record on every round; StopTrainingJob ends a job as SageMaker does (SIGTERM
// to its runner, which stops the training command with SIGTERM, waits the grace period, then
// SIGKILL; the runner itself is killed if it has not ended a minute after that).
//
// The server's files live in <work-dir>/.sluice-serve/jobs/<name>/: request.json (the
// CreateTrainingJob body the runner reads), session.json (the creating session's tags, 0600), and
// runner.log (the runner's own output: its errors when it fails before the command runs).
//
// Warm pools (ResourceConfig.KeepAlivePeriodInSeconds): a job that completes with a keep-alive
// period keeps its host's downloaded File channels (WarmPoolStatus Available) until the period
// ends (Terminated) or a queued job with the same match key (WarmPool::match_key: account, role,
// instance type and count, volume, and identical session tags) starts on it: that job's runner
// takes the inputs over (`sluice train --warm-from`, job/warm_inputs.hpp) and downloads only what
// changed; the pool is then Reused (ReusedByJob), and the new job's own pool InUse while it runs.
//
// A restart of the server loses nothing: records are in the state database, and recover() finds
// each running job's process again by its handle; a job whose process ended while the server was
// down takes the end its status record shows, or is Failed with a reason when it shows none.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/session_tags.hpp"
#include "serve/job_records.hpp"
#include "serve/executor.hpp"

namespace sluice::serve {

struct JobServiceOptions {
  std::filesystem::path work_dir;  // jobs live in <work_dir>/<name>/ (made by their runner)
  // The runner's command before the request file: e.g. {"/usr/bin/sluice", "--endpoint-url", U,
  // "train"}; and after it, options every job gets (e.g. {"--iam-config", F}).
  std::vector<std::string> runner_command;
  std::vector<std::string> runner_options;
  int max_jobs = 2;       // running at once
  int max_queued = 100;   // waiting; CreateTrainingJob beyond it is ResourceLimitExceeded
  int max_hosts = 16;     // a job's InstanceCount (all instance groups) at most
  std::chrono::milliseconds stop_grace{120'000};
  std::chrono::milliseconds poll{250};
  std::function<double()> now;  // seconds since the epoch
};

// A job's number of hosts: ResourceConfig.InstanceCount, or the sum over its InstanceGroups; at least 1.
int instance_count(const nlohmann::json& request);

class JobService {
 public:
  JobService(JobRecords& records, Executor& executor, JobServiceOptions options);
  ~JobService();  // stop()

  // The directory of the server's files of a job, and the job's own (made by its runner).
  std::filesystem::path files_of(const std::string& name) const;
  std::filesystem::path job_dir(const std::string& name) const { return options_.work_dir / name; }

  // Accepts a job: its record (InProgress, Starting, no process yet), its request file and, when
  // `session_tags` is set (tag chaining), the session file. Throws Error(kConflict) for a name in
  // use, Error(kRetryable) when the queue is full (ResourceLimitExceeded).
  void submit(const JobRecord& job, const std::optional<std::vector<policy::SessionTag>>& session_tags);

  // StopTrainingJob: a queued job is Stopped at once; a running one becomes Stopping and its
  // runner gets SIGTERM; Stopping stays Stopping. Returns the record after. Throws
  // Error(kNotFound), or Error(kConflict) naming the status when the job has ended.
  JobRecord stop_job(const std::string& name);

  // The job's status record (status.json; with one runner per host, the hosts' own records merged:
  // host_statuses.hpp), or null when there is none yet (or it cannot be read).
  // `failed_first`: Probe::failed_host.
  nlohmann::json status_of(const JobRecord& job, const std::string& failed_first = "") const;

  // Whether jobs' inputs stay on this machine after they end (warm pools): the executor's.
  bool keeps_inputs() const { return executor_.keeps_inputs(); }
  // Why a job of `hosts` hosts cannot run here (empty when it can): the executor's, or the server's
  // own limit (JobServiceOptions::max_hosts).
  std::string refuses_hosts(int hosts) const;

  // After a restart: logs what it finds of each running job, then one round.
  void recover();
  // One round: read back every running job's status, end those whose process ended, kill runners
  // past their stop deadline, start queued jobs while slots are free. Public for tests.
  void tick();

  void start();  // rounds every `poll` on a thread of its own (and at once after submit/stop)
  void stop();

 private:
  void watch(const JobRecord& job);
  void launch(const JobRecord& job);
  void end(const JobRecord& job, const std::string& status, const std::string& secondary, const std::string& reason);
  void ended(const std::string& name);  // the warm pool of a job that has just ended
  std::optional<JobRecord> warm_pool_for(const JobRecord& job);
  void expire_warm_pools();

  JobRecords& records_;
  Executor& executor_;
  JobServiceOptions options_;
  std::mutex mu_;  // one round, submit or stop at a time
  std::map<std::string, std::chrono::steady_clock::time_point> kill_at_;  // Stopping jobs' deadlines
  std::set<std::string> term_owed_;  // Stopping jobs whose SIGTERM the executor could not deliver yet
  // Jobs whose runners all ended well while a host's record had not ended: since when.
  std::map<std::string, std::chrono::steady_clock::time_point> settling_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool woken_ = false;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sluice::serve
