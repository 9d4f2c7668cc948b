// The isolate and train phases (job_run.hpp): every host's command at once, each in its sandbox.
#include <unistd.h>

#include <chrono>
#include <thread>

#include "auth/credentials.hpp"
#include "core/log.hpp"
#include "job/job_dir.hpp"
#include "job/phases/job_run.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

// The environment the training command starts with: a few variables of the caller's that make a
// program work (never credentials), then the container contract.
std::map<std::string, std::string> base_environment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TERM", "USER"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  if (!env.count("PATH")) env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return env;
}

// What a multi-tenant job's command must not read: the IAM configuration and the file system map
// (options.private_files), and the AWS credential and config files of the user running sluice.
std::vector<std::string> private_paths(const TrainOptions& options) {
  std::vector<std::string> out = options.private_files;
  for (const char* var : {"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"}) {
    if (const char* v = std::getenv(var); v && *v) out.push_back(fs::absolute(v).string());
  }
  if (const char* home = std::getenv("HOME"); home && *home) out.push_back((fs::path(home) / ".aws").string());
  return out;
}

// The size of each sandbox's private /tmp and of its /dev/shm when `sandboxes` run on this
// machine: all of them together hold at most a quarter of its memory.
uint64_t sandbox_tmp_size(size_t sandboxes) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 4 / (2 * std::max<size_t>(sandboxes, 1));
}

// Training code that reads S3 itself gets the job's scoped credentials (not Sluice's), unless the
// job has no network; through the relay when the store endpoint is on loopback.
std::optional<std::string> command_endpoint(const JobRun& run) {
  if (!run.scoped || run.spec.enable_network_isolation) return std::nullopt;
  return auth::resolve_endpoint(run.options.store.endpoint_url, run.options.store.env);
}

SandboxSpec sandbox_spec(const JobRun& run, const HostRun& host) {
  const JobSpec& spec = run.spec;
  const TrainOptions& options = run.options;
  SandboxSpec sb;
  ContractOptions contract = run.contract;
  if (run.isolation == Isolation::kNone) contract.opt_ml_root = host.root.string();
  sb.env = base_environment();
  for (auto& [k, v] : container_environment(spec, host.name, contract)) sb.env[k] = v;
  if (run.script) {
    const std::string code_dir = contract.opt_ml_root + "/code";
    sb.argv = script_command(*run.script, *host.entry_point, code_dir, options.install_requirements);
    if (options.install_requirements) {
      const auto it = sb.env.find("PYTHONPATH");
      sb.env["PYTHONPATH"] = requirements_path(code_dir) + (it == sb.env.end() || it->second.empty() ? "" : ":" + it->second);
    }
  } else {
    sb.argv = spec.algorithm.container_entrypoint;
    sb.argv.insert(sb.argv.end(), spec.algorithm.container_arguments.begin(), spec.algorithm.container_arguments.end());
  }
  sb.etc_hosts = etc_hosts(run.addresses);
  if (run.scoped && !spec.enable_network_isolation) {
    sb.env["AWS_ACCESS_KEY_ID"] = run.scoped->credentials.access_key_id;
    sb.env["AWS_SECRET_ACCESS_KEY"] = run.scoped->credentials.secret_access_key;
    sb.env["AWS_SESSION_TOKEN"] = run.scoped->credentials.session_token;
    sb.env["AWS_REGION"] = sb.env["AWS_DEFAULT_REGION"] = run.contract.region;
    if (auto endpoint = command_endpoint(run)) sb.env["AWS_ENDPOINT_URL"] = *endpoint;
  }
  sb.opt_ml_host_dir = host.root.string();
  sb.extra_binds = host.binds;
  // File-system channels: the directory opened and authorized is what gets bound.
  for (const auto& channel : host.channels) {
    if (auto dir = channel->directory()) {
      sb.extra_binds.push_back({dir->real.string(), std::string(kContainerRoot) + "/input/data/" + channel->name(),
                                dir->read_only, dir->fd});
    }
  }
  sb.hostname = host.name;
  sb.unshare_net = spec.enable_network_isolation;
  sb.max_runtime = std::chrono::seconds(spec.stopping.max_runtime_seconds);
  sb.stop_grace = options.stop_grace;
  sb.log_prefix = "[" + host.name + "] ";
  sb.log_file = (run.job_dir / "logs" / (host.name + ".log")).string();
  sb.isolation = run.isolation;
  sb.tmp_size = sandbox_tmp_size(run.host_runs.size());
  sb.extra_binds.insert(sb.extra_binds.end(), options.binds.begin(), options.binds.end());
  if (run.tenancy) {
    sb.minimal_root = true;
    sb.run_as = run.run_as;
    sb.restrict_syscalls = true;
    sb.netns_fd = host.network ? host.network->fd() : -1;
    sb.env["HOME"] = "/tmp";  // the host's home is not there; /tmp is the command's own
    sb.hidden_paths = private_paths(options);
    sb.hidden_paths.push_back(fs::absolute(options.work_dir).string());  // other jobs
  }
  return sb;
}

// One host: checkpoints synced while its command runs, and once more after it.
void run_host(const JobRun& run, HostRun& host, const std::atomic<bool>* halt) {
  try {
    if (host.checkpoints) host.checkpoints->start();
    host.result = run_sandboxed(sandbox_spec(run, host), halt);
  } catch (const Error& e) {
    host.result.exit_code = 1;
    host.result.how = e.what();
    // A stop that came before the command started is the user's, not the training code's.
    host.result.stopped_by_user = e.kind() == ErrorKind::kCancelled;
  }
  if (host.checkpoints) {
    try {
      host.checkpoints->finish();
    } catch (const Error& e) {
      log::warn("[{}] final checkpoint sync failed: {}", host.name, e.what());
    }
  }
}

}  // namespace

void isolate(JobRun& run) {
  if (!run.tenancy) return;
  // A multi-tenant command runs as the job's uid, which owns only what it may write.
  for (const auto& host : run.host_runs) hand_over(host.root, host.writable, *run.run_as);
  if (run.spec.checkpoint) {
    for (const auto& host : run.host_runs) {
      const fs::path outside = run.job_dir / "checkpoints" / host.name;
      if (fs::exists(outside)) hand_over(outside.parent_path(), {host.name}, *run.run_as);
    }
  }
  if (run.options.host_network) {
    log::warn("--host-network: the training command uses this machine's network (it can reach whatever this "
              "machine can), so that the job's hosts on other machines reach it");
    return;
  }
  std::vector<Forward> forwards;
  if (auto endpoint = command_endpoint(run)) {
    forwards = loopback_forward(*endpoint);
    if (forwards.empty()) {
      log::warn("the store endpoint {} is not a loopback address: the job's own network cannot reach it, so its "
                "training code reads data through its channels only", *endpoint);
    }
  }
  // One network for every host of the job on this machine: they reach each other at their
  // 127.0.1.K addresses (host_addresses.hpp), and nothing else but the relayed store.
  auto network = std::make_shared<PrivateNetwork>(forwards);
  for (auto& host : run.host_runs) host.network = network;
}

void train(JobRun& run, const std::atomic<bool>* stop) {
  // The commands stop on Ctrl-C/SIGTERM, when a channel fails, and at a denial.
  std::atomic<bool> halt{false}, halting_done{false};
  std::thread halting([&] {
    while (!halting_done) {
      if ((stop && *stop) || run.channel_failed || (run.tenancy && run.tenancy->first_denial())) halt = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<std::thread> threads;
  for (auto& host : run.host_runs) threads.emplace_back([&run, &host, &halt] { run_host(run, host, &halt); });
  for (auto& t : threads) t.join();
  halting_done = true;
  halting.join();
}

}  // namespace sluice::job
