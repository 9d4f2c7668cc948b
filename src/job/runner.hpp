// `sluice train`: runs a training job described by a CreateTrainingJob request body on this
// machine, the way SageMaker runs one (docs/train.md):
//   validate the spec (every problem at once, before anything is downloaded)
//   -> per host: /opt/ml layout and config files, File channels downloaded (this host's share),
//      file-system channels bound, checkpoints restored
//   -> the training command (ContainerEntrypoint + ContainerArguments) of every host, under
//      bubblewrap with the host's directory at /opt/ml, each with its SM_* environment
//   -> checkpoints synced, model and output uploaded, status.json finished.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "job/file_systems.hpp"
#include "job/host_addresses.hpp"
#include "job/job_dir.hpp"
#include "job/sandbox.hpp"
#include "policy/iam_config.hpp"
#include "policy/session_tags.hpp"
#include "store/open.hpp"

namespace sluice::job {

struct TrainOptions {
  std::filesystem::path job_file;       // "-" reads standard input
  std::filesystem::path work_dir = "sluice-jobs";  // the job lives in <work_dir>/<TrainingJobName>/
  std::optional<std::string> host;      // run only this host (e.g. "algo-2"); else every host
  std::chrono::milliseconds stop_grace{120'000};  // SIGTERM -> SIGKILL
  store::StoreOptions store;
  FileSystemMap file_systems;
  Isolation isolation = Isolation::kAuto;
  int num_gpus = 0;
  // The memory budget of the job's FastFile and Pipe channels, all together (read-ahead and
  // buffered data; transfer/memory_budget.hpp). 0: transfer::default_memory_limit().
  uint64_t max_memory = 0;
  // Multi-tenant mode (job/tenancy.hpp, docs/multi-tenant.md): the IAM configuration, or null to
  // run single-tenant with no policy checks; the tags of the session that creates the job.
  std::shared_ptr<const policy::IamConfig> iam;
  std::vector<policy::SessionTag> session_tags;
  // Files the training command must not see in multi-tenant mode (the IAM configuration, the
  // file system map); the AWS credential and config files are added by the runner.
  std::vector<std::string> private_files;
  // Single-tenant only: host paths made visible to the command (`--bind HOST[:SANDBOX]`, read-only),
  // e.g. a script or a virtualenv under /tmp. Refused in multi-tenant mode.
  std::vector<Bind> binds;
  // A job name used before on this machine (job_dir.hpp): refused, replaced or resumed.
  Rerun rerun = Rerun::kRefuse;
  // Where each host runs (`--hosts-file`, host_addresses.hpp), named by hosts_file in messages;
  // empty: every host on this machine.
  HostAddresses host_addresses;
  std::string hosts_file;
  // Multi-tenant only (`--host-network`): the command uses this machine's network instead of a
  // namespace of its own (loopback and the relayed store endpoint), so that hosts of one job on
  // different machines reach each other; it can then reach whatever this machine can.
  bool host_network = false;
  // Script mode (script_mode.hpp): pip-install requirements.txt before the entry point.
  bool install_requirements = false;
  // Called with the DescribeTrainingJob-shaped record after every change of status.json.
  std::function<void(const nlohmann::json&)> on_status;
  // A warm pool (`sluice serve`): the directory of an earlier job of the same owner on this machine
  // whose File-channel inputs this job takes over before downloading (job/warm_inputs.hpp).
  std::optional<std::filesystem::path> warm_from;
};

// A job that started (its directory and status.json exist) and failed before its command ran:
// input data that could not be resolved or downloaded. status.json says Failed with a ClientError;
// `sluice train` exits 1 for it (docs/train.md), whatever the kind of the cause.
class JobFailed : public Error {
 public:
  explicit JobFailed(const Error& cause) : Error(cause) {}
};

// Exit codes (docs/cli.md): 0 Completed; 1 Failed; 124 stopped at MaxRuntimeInSeconds; 130
// stopped by the user (*stop set, e.g. Ctrl-C). Throws sluice::Error for a job that cannot start
// (invalid spec: kInvalidInput, listing every problem), after recording the failure in
// status.json when the job directory could be made.
int run_training_job(const TrainOptions& options, const std::atomic<bool>* stop);

}  // namespace sluice::job
