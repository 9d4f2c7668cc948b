// The Slurm executor of `sluice serve --executor slurm`: each training job is one Slurm job of
// InstanceCount tasks, one per host, each running `sluice train --host algo-K` (the batch script:
// slurm_batch.hpp). The handle is "slurm:JOBID"; the job's state is read with `scontrol show job`,
// a stop is `scancel --signal=TERM --full` (each runner then stops its command with the grace
// period) and a kill `scancel`.
//
// Credentials never pass through a command line or the Slurm job's environment: the runner's store
// credentials are written to <files>/credentials (0600, the AWS shared-credentials format) which the
// batch script names in AWS_SHARED_CREDENTIALS_FILE, and removed when the job ends (by the script,
// and by release() should the script not get to it); the session's tags are the job's session file
// (0600). <files> is under the server's work directory, which every node must mount at the same
// path (the job's tasks read the request and write their status and logs there).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/credentials.hpp"
#include "serve/executor.hpp"

namespace sluice::serve {

struct SlurmOptions {
  std::string partition;                    // --partition; empty: the cluster's default
  std::vector<std::string> sbatch_options;  // --slurm-option, repeatable: given to sbatch as is
  // The Slurm commands' environment (PATH, SLURM_CONF, ...): never AWS credentials.
  std::vector<std::string> command_env;
  // Exported by the batch script for the runners (PATH, HOME, the region, ...): never secrets.
  std::vector<std::pair<std::string, std::string>> job_env;
  std::optional<auth::Credentials> credentials;  // the runners' store credentials
  // Whether jobs of more than one host may run (`sluice serve --node-network`): their hosts, on
  // several nodes, reach each other only on the nodes' network (sluice train --host-network).
  bool node_network = false;
};

class SlurmExecutor : public Executor {
 public:
  // Finds sbatch, srun, scontrol and scancel on the commands' PATH; throws Error (kInvalidInput)
  // naming the one that is missing.
  explicit SlurmExecutor(SlurmOptions options);

  std::string start(const Launch& launch) override;
  Probe probe(const std::string& handle, const std::filesystem::path& files) override;
  bool signal(const std::string& handle, const std::filesystem::path& files, int sig) override;
  std::string refuses_hosts(int hosts) const override;
  void release(const std::filesystem::path& files) override;
  bool keeps_inputs() const override { return false; }

 private:
  struct Output {
    int exit_code;
    std::string text;
  };
  Output run(const std::string& program, const std::vector<std::string>& args) const;
  // `scontrol show job` of `id`, when it is the job of the training job whose files are `files`
  // (its JobName is sluice-<name>: a job id Slurm gave again to another job is never taken for it);
  // nullopt when Slurm no longer knows it; throws when Slurm does not answer clearly.
  std::optional<std::map<std::string, std::string>> show(const std::string& id, const std::filesystem::path& files) const;

  SlurmOptions options_;
  std::string sbatch_, srun_, scontrol_, scancel_;
};

}  // namespace sluice::serve
