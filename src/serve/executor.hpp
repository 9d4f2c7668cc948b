// Where `sluice serve` runs a job's runner (`sluice train`): on this machine (local_executor.hpp,
// the default: every host of the job in one process) or as a Slurm job of one task per host
// (slurm_executor.hpp). JobService starts, watches and signals runners only through this.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::serve {

struct Launch {
  std::string job_name;
  // The runner's command for the whole job (argv[0] a path); an executor that runs one process per
  // host adds `--host algo-K` and where the hosts run to it.
  std::vector<std::string> argv;
  int hosts = 1;                  // ResourceConfig.InstanceCount
  std::filesystem::path files;    // the server's files of the job (0700): the runner's output
                                  // goes to files/runner.log
  std::chrono::seconds max_runtime{0};  // StoppingCondition.MaxRuntimeInSeconds (0: none)
  std::chrono::milliseconds stop_grace{120'000};
};

struct Probe {
  bool running = false;
  std::optional<int> exit_code;  // when known: the runner's exit code (128+N for signal N)
  // What the executor knows of a failure outside the job's own record (a task killed, a node
  // that failed, the scheduler's time limit), naming the host; empty when nothing.
  std::string failure;
  // The host that failed first, when the executor knows it (srun: the task that ended badly first;
  // the others were then ended by its scheduler): its own record, if Failed, says why; if it has
  // none, `failure` does.
  std::string failed_host;
  std::optional<int> failed_exit_code;  // that host's runner's exit code, when known
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Starts the job's runner and returns its handle (kept in the job's record). Throws Error when it
  // cannot start.
  virtual std::string start(const Launch& launch) = 0;
  // Whether the runner of `handle` still runs (reaps it when it is this process's child); `files`
  // as in Launch.
  virtual Probe probe(const std::string& handle, const std::filesystem::path& files) = 0;
  // Sends `sig` to the runner of `handle` (every host's); false when it no longer runs (or the
  // executor could not tell: the caller tries again). SIGKILL ends it at once. `files` as in Launch.
  virtual bool signal(const std::string& handle, const std::filesystem::path& files, int sig) = 0;
  // Why jobs of `hosts` hosts cannot run here, or empty when they can.
  virtual std::string refuses_hosts(int hosts) const {
    (void)hosts;
    return {};
  }
  // Called once the job has ended: removes what the executor kept for it (credentials).
  virtual void release(const std::filesystem::path& files) { (void)files; }
  // Whether a job's hosts and their File channels stay on this machine after it ends (warm pools).
  virtual bool keeps_inputs() const { return true; }
};

}  // namespace sluice::serve
