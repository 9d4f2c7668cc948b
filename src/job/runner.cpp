#include "job/runner.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/human_size.hpp"
#include "core/log.hpp"
#include "job/job_dir.hpp"
#include "job/job_spec.hpp"
#include "job/phases/job_run.hpp"
#include "job/script_mode.hpp"
#include "job/status.hpp"
#include "job/tenancy.hpp"
#include "job/warm_inputs.hpp"
#include "modes/fastfile/channel.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

std::string read_job_file(const fs::path& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path);
    if (!in) throw errno_error(errno, "reading the job spec", path.string());
    text << in.rdbuf();
  }
  return text.str();
}

}  // namespace

int run_training_job(const TrainOptions& options, const std::atomic<bool>* stop) {
  const std::string text = read_job_file(options.job_file);
  // Every problem at once, before anything is downloaded; the error names the file.
  JobSpec spec = options.job_file == "-" ? parse_job_spec(text) : load_job_spec(options.job_file.string());
  for (const auto& field : spec.ignored_fields) log::info("{}: accepted, not acted on by sluice", field);
  const std::vector<std::string> hosts = host_names(spec);
  std::vector<std::string> selected = hosts;
  if (options.host) {
    if (std::find(hosts.begin(), hosts.end(), *options.host) == hosts.end()) {
      throw Error(ErrorKind::kInvalidInput, "--host " + *options.host,
                  fmt::format("the job has hosts algo-1 to algo-{} (ResourceConfig.InstanceCount)", hosts.size()));
    }
    selected = {*options.host};
  }
  if (options.iam) {
    // The spec is hostile in multi-tenant mode: nothing of it may change how a program with
    // privileges is loaded (setpriv runs with the job's environment before it drops them).
    for (const auto& [name, value] : spec.environment) {
      if (is_unsafe_for_privileged_start(name, value)) {
        throw Error(ErrorKind::kInvalidInput, fmt::format("Environment.{}", name),
                    "variables that change how programs are loaded (LD_*, GCONV_PATH, GLIBC_TUNABLES, ...) and "
                    "locale variables naming a path are refused in multi-tenant mode");
      }
    }
    if (!options.binds.empty()) {
      throw Error(ErrorKind::kInvalidInput, "--bind",
                  "host directories cannot be bound into a multi-tenant job: its code comes from its channels or "
                  "/opt/ml/code");
    }
  }
  const std::optional<ScriptMode> script = script_mode(spec);
  if (!script && spec.algorithm.container_entrypoint.empty() && spec.algorithm.container_arguments.empty()) {
    throw Error(ErrorKind::kInvalidInput, "HyperParameters.sagemaker_program",
                "names no program (empty or null), and the job has no ContainerEntrypoint or ContainerArguments");
  }
  if (options.iam && !options.host_addresses.empty() && !options.host_network) {
    throw Error(ErrorKind::kInvalidInput, "--hosts-file",
                "a multi-tenant job's hosts share a network of their own, loopback only: run all of them in one "
                "sluice train on this machine, or give --host-network to let the command use this machine's "
                "network (docs/train.md \"Hosts\")");
  }
  if (options.host_network && !options.iam) {
    throw Error(ErrorKind::kInvalidInput, "--host-network",
                "only multi-tenant jobs (--iam-config) get a network of their own; a single-tenant command already "
                "uses this machine's network");
  }
  if (script) {
    if (options.iam && !script->source.empty() && script->source.rfind("s3://", 0) != 0) {
      throw Error(ErrorKind::kInvalidInput, "HyperParameters.sagemaker_submit_directory",
                  "a multi-tenant job's code comes from S3 (s3://BUCKET/KEY of a sourcedir.tar.gz), not a host path");
    }
    log::info("script mode: {} runs with the host's python3{}", script->program,
              spec.algorithm.training_image.empty() ? "" : " (TrainingImage " + spec.algorithm.training_image + " is not run)");
  }
  // Where each host's processes are reachable: its /etc/hosts names every host.
  const HostAddresses addresses = options.host_addresses.empty()
                                      ? loopback_addresses(hosts)
                                      : addresses_of(hosts, options.host_addresses, "--hosts-file " + options.hosts_file);
  // A FastFile mount left by a sluice that was killed would make the job directory unusable
  // ("Transport endpoint is not connected", also for --replace): cleaned once the directory is
  // known to be this session's and its hosts are locked, before anything in it is touched.
  auto clean_stale_mounts = [&](const fs::path& dir) {
    for (const auto& host : selected) {
      for (const auto& ch : spec.channels) {
        if (ch.s3 && spec.mode_of(ch) == InputMode::kFastFile) {
          const fs::path mp = dir / host / "input" / "data" / ch.name;
          std::error_code ec;
          if (fs::exists(mp.parent_path(), ec)) modes::fastfile::clean_stale_mount(mp);
        }
      }
    }
  };
  std::optional<JobOwner> owner;
  if (options.iam) owner = JobOwner{spec.role_arn, options.session_tags};
  const JobDirectory job_directory(options.work_dir, spec.training_job_name, owner, selected, options.rerun, text,
                                   !options.host, clean_stale_mounts);
  const fs::path job_dir = job_directory.path();
  fs::create_directories(job_dir / "logs");
  if (!job_directory.previous_status().empty()) {
    log::info("{} training job '{}' (it was {})", options.rerun == Rerun::kResume ? "resuming" : "replacing",
              spec.training_job_name, job_directory.previous_status());
  }
  // Each run starts with a line of its own in every host's log.
  for (const auto& host : selected) {
    std::ofstream log(job_dir / "logs" / (host + ".log"), std::ios::app);
    log << fmt::format("===== {} sluice train: {} run of training job '{}' on {} =====\n",
                       StatusRecord::iso_time(std::chrono::system_clock::now()),
                       job_directory.previous_status().empty() ? "first"
                       : options.rerun == Rerun::kResume     ? "resumed"
                                                             : "new (replacing the previous)",
                       spec.training_job_name, host);
  }
  const Isolation isolation = resolve_isolation(options.isolation);
  ContractOptions copts;
  copts.num_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  copts.num_gpus = options.num_gpus;
  copts.region = auth::resolve_region(options.store.env);
  const std::string arn = training_job_arn(spec, copts);
  nlohmann::json request = nlohmann::json::parse(text, nullptr, false);
  StatusRecord status(job_dir / "status.json", spec.training_job_name, arn, request);
  if (options.on_status) status.set_listener(options.on_status);
  if (options.host) {
    // The host's own record beside the job's: when each host runs in a process of its own (one per
    // machine, `sluice serve --executor slurm`), status.json is whichever host wrote last.
    fs::create_directories(job_dir / "status");
    status.add_copy(job_dir / "status" / (*options.host + ".json"));
  }
  // A failure outside the training code: status.json says Failed with a ClientError (Stopped when
  // the user stopped a long preparation), and `sluice train` exits 1 (130).
  auto record = [&status](const Error& e) {
    const bool user = e.kind() == ErrorKind::kCancelled;
    status.finish(user ? "Stopped" : "Failed", user ? "Stopped" : "Failed", user ? std::string(e.what()) : client_error(e));
    if (user) throw e;
    throw JobFailed(e);
  };

  // Multi-tenant mode: the execution role's session; declared before the stores it wraps.
  std::unique_ptr<Tenancy> tenancy;
  std::optional<auth::AssumedRole> scoped;  // store-side enforcement: the job's temporary credentials
  store::StoreOptions store_options = options.store;
  if (options.iam) {
    try {
      if (isolation == Isolation::kNone) {
        throw Error(ErrorKind::kInvalidInput, "multi-tenant mode (--iam-config) needs the bubblewrap sandbox",
                    "without it the training command could read Sluice's credentials, the IAM configuration and "
                    "other jobs' directories (--isolation none, or bwrap cannot run here: docs/sandbox.md)");
      }
      if (::geteuid() != 0) {
        throw Error(ErrorKind::kInvalidInput, "multi-tenant mode (--iam-config) needs sluice to run as root",
                    "it gives the training command a network namespace of its own and runs it as the job's "
                    "unprivileged uid (docs/multi-tenant.md)");
      }
      tenancy = std::make_unique<Tenancy>(*options.iam, spec, options.session_tags, job_dir / "audit.jsonl", copts.region);
      scoped = tenancy->assume_store_role(options.store);
      if (scoped) store_options.env = with_credentials(scoped->credentials, options.store.env);
    } catch (const Error& e) {
      record(e);
    }
  } else {
    log::info("single-tenant: no IAM configuration (--iam-config, SLUICE_IAM_CONFIG), so no policy checks");
  }

  store::Registry stores(store_options, tenancy ? tenancy->store_wrap() : store::Registry::Wrap{});
  // What the phases share (job/phases/job_run.hpp); declared after the stores, so that its channels
  // are stopped and unmounted first, whatever ends this function.
  JobRun run(spec, options, stores);
  run.tenancy = tenancy.get();
  run.hosts = hosts;
  run.selected = selected;
  run.job_dir = job_dir;
  run.contract = copts;
  run.script = script;
  run.addresses = addresses;
  run.isolation = isolation;
  run.run_as = job_directory.uid();
  run.scoped = scoped;
  try {
    status.transition("Downloading", "Downloading input data");
    resolve(run);
    authorize(run);
    if (options.warm_from) {
      std::vector<std::string> file_channels;
      for (const auto& ch : spec.channels) {
        if (ch.s3 && spec.mode_of(ch) == InputMode::kFile) file_channels.push_back(ch.name);
      }
      adopt_warm_inputs(*options.warm_from, job_dir, selected, file_channels, owner);
    }
    const PrepareTotals totals = prepare(run, stop);
    if (totals.files > 0) {
      status.transition("Downloading",
                        fmt::format("Downloaded input data: {} in {} files in {:.1f} s{}",
                                    human_size(static_cast<double>(totals.bytes)), totals.files, totals.seconds,
                                    totals.present_files ? fmt::format(" ({} files already present)", totals.present_files)
                                                         : ""));
    }
    // A multi-tenant command runs as the job's uid, which owns only what it may write, in a network
    // of its own: loopback only, plus a relay to the store endpoint when it has scoped store
    // credentials and network access (private_network.hpp).
    isolate(run);
  } catch (const Error& e) {
    record(e);
  }
  if (tenancy) tenancy->clear_denials();  // from here on, a denial fails the job
  status.transition("Training", "Training image download completed. Training in progress.");
  status.set_training_start();
  train(run, stop);
  const Verdict verdict = finish(run, status);
  status.finish(verdict.status, verdict.secondary, verdict.reason);
  return verdict.exit_code;
}

}  // namespace sluice::job
