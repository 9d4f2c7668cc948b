// The `sluice` subcommands. Each returns the process exit code and throws sluice::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/progress_reporter.hpp"
#include "dataset/key_filter.hpp"
#include "store/open.hpp"

namespace sluice::cli {

// The AWS CLI's global options; given before or after the subcommand.
struct GlobalOptions {
  std::optional<std::string> endpoint_url;
  std::optional<std::string> region;     // --region
  std::optional<std::string> profile;    // --profile
  bool verify_tls = true;                // --no-verify-ssl: false
  int max_connections = 64;
  std::optional<int> read_timeout_s;     // --cli-read-timeout
  std::optional<int> connect_timeout_s;  // --cli-connect-timeout
};

// The store options the global options ask for, with this many connections: --region and
// --profile are layered over the environment (auth::with_flags), for every store opened with them.
store::StoreOptions store_options(const GlobalOptions& g, int max_connections);

struct LsOptions {
  std::string uri;  // empty: list the buckets
  bool recursive = false;
  bool human_readable = false;  // --human-readable: sizes as "1.0 KiB"
  bool summarize = false;       // --summarize: "Total Objects" and "Total Size" at the end
};
int run_ls(const GlobalOptions& g, const LsOptions& o);

int run_mb(const GlobalOptions& g, const std::string& uri);
int run_rm(const GlobalOptions& g, const std::string& uri, bool recursive);
int run_rb(const GlobalOptions& g, const std::string& uri, bool force);
int run_presign(const GlobalOptions& g, const std::string& uri, int64_t expires_in);

struct CpOptions {
  std::string source;       // "-": standard input (to s3:// only)
  std::string destination;  // "-": standard output (from s3:// only)
  bool recursive = false;
  dataset::KeyFilter filter;  // --exclude / --include, in the order given
  bool dryrun = false;        // --dryrun: print what would be copied, copy nothing
  OutputStyle style = OutputStyle::kHuman;
  uint64_t part_size = 8ull << 20;
  uint64_t multipart_threshold = 8ull << 20;
  bool verify_md5 = true;
};
int run_cp(const GlobalOptions& g, const CpOptions& o);

struct TrainCliOptions {
  std::string job_file;
  std::string work_dir = "sluice-jobs";
  std::string host;
  double stop_grace_seconds = 120;
  std::string file_systems;
  std::string isolation = "auto";
  int num_gpus = 0;
  std::string iam_config;                 // --iam-config (env SLUICE_IAM_CONFIG)
  std::vector<std::string> session_tags;  // --session-tag KEY=VALUE, repeatable
  std::string session_file;               // --session-file: the creating session, from `sluice serve`
  std::string warm_from;                  // --warm-from: an earlier job's directory (warm pool)
  std::vector<std::string> binds;         // --bind HOST[:SANDBOX], repeatable (single-tenant)
  bool replace = false;                   // --replace: an existing job of that name starts over
  bool resume = false;                    // --resume: a Stopped or Failed job runs again
  std::string hosts_file;                 // --hosts-file: where each algo-K runs
  bool host_network = false;              // --host-network (multi-tenant, hosts on many machines)
  bool install_requirements = false;      // --install-requirements (script mode)
  bool json = false;                      // --json: the DescribeTrainingJob-shaped record on stdout
  uint64_t max_memory = 0;                // --max-memory; 0: transfer::default_memory_limit()
};
int run_train(const GlobalOptions& g, const TrainCliOptions& o);

struct MountCliOptions {
  std::string source;      // s3://bucket/prefix, file:///dir or a directory; a manifest with `manifest`
  std::string mountpoint;
  bool manifest = false;
  bool foreground = false;
  bool direct_io = false;
  bool quiet = false;
  uint64_t max_memory = 0;
  std::string cache_dir;
  uint64_t max_cache_size = 0;  // 0: the default (docs/fastfile.md)
  std::string log_file;         // background mounts; empty: syslog
};
int run_mount(const GlobalOptions& g, const MountCliOptions& o);
int run_unmount(const std::string& mountpoint);

// Prints Allow, ExplicitDeny or ImplicitDeny (and with `explain` the deciding statements); exit 0
// for any decision, 2 for invalid input.
int run_policy_simulate(const std::string& input, bool explain);

struct ServeCliOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0: a free one (printed)
  std::string iam_config;                 // --iam-config (env SLUICE_IAM_CONFIG): required
  std::string work_dir = "sluice-jobs";
  std::string state;                      // --state: default <work-dir>/.sluice-serve/state.db
  int max_jobs = 2;
  int max_queued = 100;
  double stop_grace_seconds = 120;
  std::string file_systems;  // --file-systems, passed to every job
  std::string isolation;     // --isolation, passed to every job
  std::string executor = "local";          // --executor: local or slurm
  std::string partition;                   // --partition (slurm)
  std::vector<std::string> slurm_options;  // --slurm-option, repeatable (slurm): given to sbatch
  bool node_network = false;               // --node-network (slurm): jobs of several hosts may run
  int max_instance_count = 16;             // --max-instance-count: a job's hosts at most
};
// `sluice serve` (docs/serve.md): the SageMaker training API, STS and the CloudWatch Logs subset
// over HTTP until SIGINT/SIGTERM; running jobs outlive the server and are re-attached by the next.
int run_serve(const GlobalOptions& g, const ServeCliOptions& o);

// Set by SIGINT/SIGTERM; long commands poll it and stop cleanly.
bool interrupted();
void install_signal_handlers();

}  // namespace sluice::cli
