// The container contract of a training job, per host (sagemaker-contract.md §2, §3, §10; the
// choices are in docs/container-contract.md):
//  - the host names ("algo-1".."algo-N", numeric order) and which instance group each belongs to;
//  - the three config files under /opt/ml/input/config, as JSON documents;
//  - the environment the training command gets: TRAINING_JOB_NAME, TRAINING_JOB_ARN, the request's
//    Environment, and every variable the sagemaker-training-toolkit computes inside a container
//    (SM_*, CURRENT_HOST, SAGEMAKER_JOB_NAME, SAGEMAKER_REGION), with the toolkit's exact encodings;
//  - write_config_files(), the one function here that touches the disk.
// Everything but write_config_files() is pure: the same spec and options give the same bytes.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/python_repr.hpp"
#include "job/job_spec.hpp"

namespace sluice::job {

// Config documents keep the key order the contract shows (channels in request order).
using ContractJson = nlohmann::ordered_json;

inline constexpr std::string_view kContainerRoot = "/opt/ml";      // /opt/ml as SageMaker names it
inline constexpr std::string_view kHomogeneousGroup = "homogeneousCluster";
inline constexpr std::string_view kFakeAccountId = "000000000000";  // when RoleArn names none

// ---------------------------------------------------------------------------------------------
// Hosts

// "algo-1".."algo-N" in numeric order (algo-2 before algo-10): the order of resourceconfig.json's
// `hosts`, of SM_HOSTS, and of host ranks. Empty for count <= 0.
std::vector<std::string> host_names(int instance_count);

// Every host of the job: ResourceConfig.InstanceGroups (their counts summed, groups in request
// order) when given, else ResourceConfig.InstanceCount.
std::vector<std::string> host_names(const JobSpec& spec);

// The rank of `host`: its index in host_names(spec) (algo-1 -> 0), the rank sharding uses.
// Throws Error(kInvalidInput) for a name that is not a host of the job.
int host_rank(const JobSpec& spec, std::string_view host);

// One instance group with its hosts. A job without InstanceGroups has one group,
// "homogeneousCluster", of ResourceConfig.InstanceType with every host.
struct HostGroup {
  std::string name;
  std::string instance_type;
  std::vector<std::string> hosts;
};
std::vector<HostGroup> host_groups(const JobSpec& spec);

// The group `host` belongs to. Throws Error(kInvalidInput) for an unknown host.
const HostGroup& group_of(const std::vector<HostGroup>& groups, std::string_view host);

// Whether `host` receives `channel`: always, unless the channel's S3DataSource.InstanceGroupNames
// lists groups and the host's group is not among them (heterogeneous clusters).
bool channel_on_host(const JobSpec& spec, const Channel& channel, std::string_view host);

// ---------------------------------------------------------------------------------------------
// Config files (/opt/ml/input/config)

// hyperparameters.json: HyperParameters as given, string -> string, all keys (sagemaker_* too).
ContractJson hyperparameters_json(const JobSpec& spec);

// inputdataconfig.json: one object per channel (request order) with exactly
// ContentType (only when set), TrainingInputMode (the channel's effective mode),
// S3DistributionType (FullyReplicated for a FileSystemDataSource), RecordWrapperType.
// With `current_host`, channels the host does not receive (channel_on_host) are left out.
ContractJson inputdataconfig_json(const JobSpec& spec, std::string_view current_host = {});

// resourceconfig.json for `current_host`: current_host, current_instance_type,
// current_group_name, hosts, instance_groups [{instance_group_name, instance_type, hosts}],
// network_interface_name. Throws Error(kInvalidInput) for an unknown host.
ContractJson resourceconfig_json(const JobSpec& spec, const std::string& current_host,
                                 std::string_view network_interface_name = "eth0");

// ---------------------------------------------------------------------------------------------
// Environment

struct ContractOptions {
  // /opt/ml as the training command sees it: "/opt/ml" under bubblewrap, the host's job
  // directory when the command runs without it. Every *_DIR variable is built from it.
  std::string opt_ml_root = std::string(kContainerRoot);
  int num_cpus = 1;     // SM_NUM_CPUS (the toolkit: multiprocessing.cpu_count())
  int num_gpus = 0;     // SM_NUM_GPUS (the toolkit: lines of `nvidia-smi --list-gpus`)
  int num_neurons = 0;  // SM_NUM_NEURONS (the toolkit: `neuron-ls`)
  std::string region = "us-east-1";  // TRAINING_JOB_ARN, SAGEMAKER_REGION
  std::string account_id;  // empty: RoleArn's account, or kFakeAccountId when it names none
  std::string network_interface_name = "eth0";
};

// arn:<partition>:sagemaker:<region>:<account>:training-job/<TrainingJobName>; partition and
// account from RoleArn (arn:aws:iam::123456789012:role/x) unless options.account_id is set.
std::string training_job_arn(const JobSpec& spec, const ContractOptions& options);

// The whole environment of the training command on `current_host` (nothing from Sluice's own
// environment: the caller adds PATH, credentials, ...). Precedence: the request's Environment
// first; the platform's TRAINING_JOB_NAME / TRAINING_JOB_ARN and the toolkit's variables replace
// an Environment entry of the same name (as inside a SageMaker container, where the toolkit
// computes them after the platform has set Environment). Environment entries the toolkit reads
// (SAGEMAKER_PROGRAM, SAGEMAKER_TRAINING_MODULE, SM_HP_MP_PARAMETERS) are honoured.
// Throws Error(kInvalidInput) for an unknown host.
std::map<std::string, std::string> container_environment(const JobSpec& spec, const std::string& current_host,
                                                         const ContractOptions& options);

// SM_TRAINING_ENV as a document (the toolkit's Environment properties; see the doc for the list).
ContractJson training_env_json(const JobSpec& spec, const std::string& current_host, const ContractOptions& options);

// ---------------------------------------------------------------------------------------------
// The toolkit's encodings (exposed for tests and for other layers that must match them)

// json.loads(value), falling back to the string itself when it is not JSON
// [TK environment.py read_hyperparameters].
ContractJson decode_hyperparameter(const std::string& value);

// json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True) and Python's str(v), in core.
using sluice::python_json_dumps;
using sluice::python_str;

// The value of an SM_* variable: strings as they are, null -> "", anything else python_json_dumps.
std::string python_env_value(const ContractJson& v);

// mapping.to_cmd_args: keys sorted, "--key" ("-k" for one character), value via str()
// (None -> "", a dict -> "k=v,k2=v2" with sorted keys).
std::vector<std::string> python_cmd_args(const ContractJson& hyperparameters);

// ---------------------------------------------------------------------------------------------
// Disk

// The path under `opt_ml_root` that `container_path` ("/opt/ml/checkpoints/") names, or nullopt
// when it is not inside /opt/ml (lexically, after normalisation).
std::optional<std::filesystem::path> path_under_root(std::string_view container_path,
                                                     const std::filesystem::path& opt_ml_root);

// Writes input/config/{hyperparameters,inputdataconfig,resourceconfig}.json (each through a
// temporary file and rename, mode 0644) and creates input/data, input/data/<channel> for each
// non-Pipe channel of the host, model, output, output/data, output/intermediate, code, and the
// checkpoint directory when CheckpointConfig.LocalPath is inside /opt/ml. The root is created if
// missing. Throws Error(kInvalidInput) for an unknown host, errno errors for the disk.
void write_config_files(const std::filesystem::path& opt_ml_root, const JobSpec& spec, const std::string& current_host,
                        std::string_view network_interface_name = "eth0");

}  // namespace sluice::job
