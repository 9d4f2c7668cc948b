// `sluice`: the command line. Flags are parsed here; errors become exit codes here.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdlib>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "cli/jobs.hpp"
#include "cli/options.hpp"
#include "cli/usage.hpp"
#include "core/log.hpp"
#include "transfer/memory_budget.hpp"

namespace {

// The value of a size option such as --max-memory: "8M", "8MiB", "16777216", "1G".
uint64_t parse_size(const std::string& option, const std::string& text) {
  const std::string what = option + " " + text;
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw sluice::Error(sluice::ErrorKind::kInvalidInput, what,
                        "expected a number with an optional K, M or G suffix, as in 8MiB");
  }
  std::string unit = text.substr(pos);
  uint64_t mult = 1;
  if (!unit.empty()) {
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
    mult = u == 'K' ? 1ull << 10 : u == 'M' ? 1ull << 20 : u == 'G' ? 1ull << 30 : 0;
    if (mult == 0 || (unit.size() > 1 && unit != std::string(1, unit[0]) + "iB" && unit != std::string(1, unit[0]) + "B")) {
      throw sluice::Error(sluice::ErrorKind::kInvalidInput, what, "use a number with K, M or G");
    }
  }
  if (v <= 0) throw sluice::Error(sluice::ErrorKind::kInvalidInput, what, "must be positive");
  return static_cast<uint64_t>(v * static_cast<double>(mult));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  CLI::App app{"sluice: feeds training jobs from object storage"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");
  cli::GlobalOptions g;
  std::string log_level = std::getenv("SLUICE_LOG") ? std::getenv("SLUICE_LOG") : "warn";
  cli::add_global_options(app, g, log_level);  // before the subcommands: they inherit the fallthrough

  cli::LsOptions ls;
  auto* ls_cmd = app.add_subcommand("ls", "list objects and common prefixes under an s3:// or local location, or the buckets");
  ls_cmd->add_option("uri", ls.uri, "s3://bucket/prefix, file:///dir or a directory (none: list the buckets)");
  ls_cmd->add_flag("-r,--recursive", ls.recursive, "list every object under the prefix");
  ls_cmd->add_flag("--human-readable", ls.human_readable, "sizes as 1.0 KiB, 8.0 MiB ...");
  ls_cmd->add_flag("--summarize", ls.summarize, "end with the number of objects and their total size");

  std::string mb_uri;
  auto* mb_cmd = app.add_subcommand("mb", "make a bucket (an existing bucket of yours is fine)");
  mb_cmd->add_option("uri", mb_uri, "s3://bucket")->required();

  std::string rm_uri, rb_uri;
  bool rm_recursive = false, rb_force = false;
  auto* rm_cmd = app.add_subcommand("rm", "delete an object, or with -r every object under a prefix");
  rm_cmd->add_option("uri", rm_uri, "s3://bucket/key")->required();
  rm_cmd->add_flag("-r,--recursive", rm_recursive, "delete every object under the prefix");
  auto* rb_cmd = app.add_subcommand("rb", "remove a bucket (--force deletes its objects first)");
  rb_cmd->add_option("uri", rb_uri, "s3://bucket")->required();
  rb_cmd->add_flag("--force", rb_force, "delete every object first");

  cli::TrainCliOptions train;
  auto* train_cmd = app.add_subcommand("train", "run a training job described by a CreateTrainingJob request body");
  train_cmd->add_option("job", train.job_file, "JOB.json (or - for standard input)")->required();
  train_cmd->add_option("--work-dir", train.work_dir, "where jobs live: <work-dir>/<TrainingJobName>/ (default ./sluice-jobs)");
  train_cmd->add_option("--host", train.host, "run only this host (algo-K), e.g. one per machine");
  train_cmd->add_option("--stop-grace", train.stop_grace_seconds, "seconds between SIGTERM and SIGKILL when stopping (default 120)")
      ->check(CLI::Range(0.0, 86400.0));
  train_cmd->add_option("--file-systems", train.file_systems, "JSON map of FileSystemId to mount root (env SLUICE_FILE_SYSTEMS)");
  train_cmd->add_option("--isolation", train.isolation, "auto, bubblewrap or none (default auto)")
      ->check(CLI::IsMember({"auto", "bubblewrap", "none"}));
  train_cmd->add_option("--gpus", train.num_gpus, "SM_NUM_GPUS for the job (default 0)")->check(CLI::Range(0, 1024));
  train_cmd->add_option("--iam-config", train.iam_config,
                        "IAM roles and policies (docs/iam-config.md): multi-tenant mode, every storage access "
                        "authorized (env SLUICE_IAM_CONFIG)");
  auto* session_tag_opt =
      train_cmd->add_option("--session-tag", train.session_tags,
                            "KEY=VALUE tag of the session creating the job (repeatable; needs --iam-config). For a "
                            "single-user admin on this machine: whoever runs the command chooses the tags. Tenants "
                            "get theirs from their STS session through `sluice serve` (docs/serve.md)")
          ->allow_extra_args(false);
  train_cmd->add_option("--session-file", train.session_file,
                        "JSON {\"SessionTags\": [{\"Key\": K, \"Value\": V}, ...]}: the session creating the job, as "
                        "`sluice serve` writes it for the jobs it runs (needs --iam-config)")
      ->excludes(session_tag_opt);
  train_cmd->add_option("--warm-from", train.warm_from,
                        "the directory of an earlier job of the same session on this machine whose downloaded File "
                        "channels this job takes over, downloading only what changed (`sluice serve`'s warm pools)");
  train_cmd->add_option("--bind", train.binds,
                        "HOST[:SANDBOX] make a host file or directory visible to the training command, read-only, "
                        "at SANDBOX (default: the same path), e.g. a script or virtualenv under /tmp (repeatable; "
                        "single-tenant only)")
      ->allow_extra_args(false);
  auto* replace_flag = train_cmd->add_flag("--replace", train.replace,
                                           "the job name exists: delete its directory (inputs, model, logs, "
                                           "checkpoints) and start over");
  train_cmd->add_flag("--resume", train.resume,
                      "the job name exists and was Stopped or Failed: run it again with the same spec, keeping "
                      "the downloaded inputs that still match their objects and the checkpoints")
      ->excludes(replace_flag);
  train_cmd->add_option("--hosts-file", train.hosts_file,
                        "\"ADDRESS algo-K\" lines (the /etc/hosts format): where each host of the job runs, for "
                        "--host on many machines (default: every host on this machine)");
  train_cmd->add_flag("--host-network", train.host_network,
                      "multi-tenant: the command uses this machine's network, not a namespace of its own, so that "
                      "hosts of the job on other machines reach it (--hosts-file)");
  train_cmd->add_flag("--install-requirements", train.install_requirements,
                      "script mode: pip install the source directory's requirements.txt before the program");
  std::string train_max_memory;
  train_cmd->add_option("--max-memory", train_max_memory,
                        "memory for the data FastFile and Pipe channels fetch ahead and hold, all channels of the "
                        "job together (default 1/8 of RAM, 256MiB to 8GiB)");
  train_cmd->add_flag("--json", train.json, "print the finished job as DescribeTrainingJob does (JSON on stdout)");

  cli::ServeCliOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "the SageMaker training API (with STS and CloudWatch Logs) for boto3, the aws CLI and the SageMaker SDK");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to serve on (default 127.0.0.1:8080; port 0: a free one)");
  serve_cmd->add_option("--iam-config", serve.iam_config,
                        "the users (with access keys) and roles the server knows (docs/iam-config.md; env "
                        "SLUICE_IAM_CONFIG); required");
  serve_cmd->add_option("--work-dir", serve.work_dir, "where jobs live: <work-dir>/<TrainingJobName>/ (default ./sluice-jobs)");
  serve_cmd->add_option("--state", serve.state, "the state database (default <work-dir>/.sluice-serve/state.db)");
  serve_cmd->add_option("--max-jobs", serve.max_jobs, "jobs running at once; more wait in a queue (default 2)")
      ->check(CLI::Range(1, 1024));
  serve_cmd->add_option("--max-queued", serve.max_queued,
                        "jobs waiting to start; CreateTrainingJob beyond it is ResourceLimitExceeded (default 100)")
      ->check(CLI::Range(0, 100000));
  serve_cmd->add_option("--stop-grace", serve.stop_grace_seconds,
                        "seconds between SIGTERM and SIGKILL when a job is stopped (default 120)")
      ->check(CLI::Range(0.0, 86400.0));
  serve_cmd->add_option("--file-systems", serve.file_systems, "JSON map of FileSystemId to mount root, for every job");
  serve_cmd->add_option("--isolation", serve.isolation, "auto, bubblewrap or none, for every job (default auto)")
      ->check(CLI::IsMember({"auto", "bubblewrap", "none"}));
  serve_cmd->add_option("--executor", serve.executor,
                        "where jobs run: local (this machine, the default) or slurm (one Slurm job per training job, "
                        "one task per host; docs/scale-out.md)")
      ->check(CLI::IsMember({"local", "slurm"}));
  serve_cmd->add_option("--partition", serve.partition, "--executor slurm: the Slurm partition (default: the cluster's)");
  serve_cmd->add_option("--slurm-option", serve.slurm_options,
                        "--executor slurm: an sbatch option for every job, e.g. --slurm-option=--exclusive (repeatable)")
      ->allow_extra_args(false);
  serve_cmd->add_flag("--node-network", serve.node_network,
                      "--executor slurm: accept jobs of more than one host; their training commands then use the "
                      "nodes' network to reach each other (docs/scale-out.md)");
  serve_cmd->add_option("--max-instance-count", serve.max_instance_count,
                        "the most hosts (ResourceConfig.InstanceCount) a job may have (default 16)")
      ->check(CLI::Range(1, 4096));

  std::string presign_uri;
  int64_t expires_in = 3600;
  auto* presign_cmd = app.add_subcommand("presign", "print a presigned GET URL for an object");
  presign_cmd->add_option("uri", presign_uri, "s3://bucket/key")->required();
  presign_cmd->add_option("--expires-in", expires_in, "seconds the URL stays valid (default 3600, at most 604800)");

  cli::CpOptions cp;
  bool quiet = false, json = false, no_verify = false;
  std::string part_size = "8MiB", threshold = "8MiB";
  auto* cp_cmd = app.add_subcommand("cp", "copy objects between s3://, file:// and local paths");
  cp_cmd->add_option("source", cp.source, "s3://bucket/key, file:///path, a path, or - (standard input)")->required();
  cp_cmd->add_option("destination", cp.destination, "s3://bucket/key, file:///path, a path, or - (standard output)")
      ->required();
  cp_cmd->add_flag("-r,--recursive", cp.recursive, "copy every object under the prefix or directory");
  cli::FilterFlags cp_filter;
  cli::add_filter_options(*cp_cmd, cp_filter);
  cp_cmd->add_flag("--dryrun", cp.dryrun, "print what would be copied, copy nothing");
  cp_cmd->add_flag("-q,--quiet", quiet, "print nothing but errors");
  cp_cmd->add_flag("--json", json, "print a JSON summary on stdout");
  cp_cmd->add_option("--part-size", part_size, "size of the ranged parts of large objects (default 8MiB)");
  cp_cmd->add_option("--multipart-threshold", threshold, "uploads above this size go multipart (default 8MiB)");
  cp_cmd->add_flag("--no-verify-md5", no_verify, "skip the MD5 check of objects whose ETag is an MD5");

  cli::MountCliOptions mount;
  std::string max_memory, max_cache_size;
  auto* mount_cmd = app.add_subcommand("mount", "show a prefix (or a manifest's objects) as a read-only file system that streams on demand");
  mount_cmd->add_option("source", mount.source, "s3://bucket/prefix, file:///dir or a directory (with --manifest: the manifest)")->required();
  mount_cmd->add_option("mountpoint", mount.mountpoint, "an empty directory")->required();
  mount_cmd->add_flag("--manifest", mount.manifest, "SOURCE is a manifest file: mount the objects it lists");
  mount_cmd->add_flag("-f,--foreground", mount.foreground, "stay attached; Ctrl-C unmounts");
  mount_cmd->add_option("--max-memory", max_memory, "memory for data in flight and buffered (default 1/8 of RAM, 256MiB to 8GiB)");
  mount_cmd->add_option("--cache", mount.cache_dir, "keep fetched blocks in this local directory (checksummed, LRU)");
  mount_cmd->add_option("--max-cache-size", max_cache_size, "size limit of --cache (default half the free space, at most 64GiB)");
  mount_cmd->add_flag("--direct-io", mount.direct_io, "bypass the kernel page cache (every read reaches sluice)");
  mount_cmd->add_option("--log-file", mount.log_file, "where a background mount logs (default syslog)");
  mount_cmd->add_flag("-q,--quiet", mount.quiet, "print nothing but errors");
  std::string unmount_path;
  auto* unmount_cmd = app.add_subcommand("unmount", "unmount a sluice mount (the mount process then exits)");
  unmount_cmd->add_option("mountpoint", unmount_path, "the mount point")->required();

  std::string policy_input;
  bool policy_explain = false;
  auto* policy_cmd = app.add_subcommand("policy", "IAM policy tools");
  policy_cmd->require_subcommand(1);
  auto* simulate_cmd = policy_cmd->add_subcommand("simulate", "evaluate a request against identity and session policies");
  simulate_cmd->add_option("--input", policy_input, "a JSON file {\"policies\": {...}, \"request\": {...}}, or - for stdin")->required();
  simulate_cmd->add_flag("--explain", policy_explain, "also print the statements that decided");

  const cli::JobsCommands jobs = cli::add_jobs_commands(app);  // sluice jobs list|describe|stop|logs

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli::usage_error(app, e);  // "sluice: error: ...", exit 2 (docs/cli.md); --help and --version exit 0
  }
  try {
    // A server logs what it does with its jobs (started, ended, re-attached) unless told otherwise.
    if (*serve_cmd && std::getenv("SLUICE_LOG") == nullptr && app.count("--log-level") == 0) log_level = "info";
    log::init(log_level);
    cli::install_signal_handlers();
    if (*ls_cmd) return cli::run_ls(g, ls);
    if (*mb_cmd) return cli::run_mb(g, mb_uri);
    if (*rm_cmd) return cli::run_rm(g, rm_uri, rm_recursive);
    if (*rb_cmd) return cli::run_rb(g, rb_uri, rb_force);
    if (*train_cmd) {
      if (!train_max_memory.empty()) train.max_memory = parse_size("--max-memory", train_max_memory);
      return cli::run_train(g, train);
    }
    if (*mount_cmd) {
      mount.max_memory = max_memory.empty() ? transfer::default_memory_limit() : parse_size("--max-memory", max_memory);
      if (!max_cache_size.empty()) mount.max_cache_size = parse_size("--max-cache-size", max_cache_size);
      return cli::run_mount(g, mount);
    }
    if (*unmount_cmd) return cli::run_unmount(unmount_path);
    if (*serve_cmd) return cli::run_serve(g, serve);
    if (jobs.chosen()) return cli::run_jobs(g, jobs);
    if (*simulate_cmd) return cli::run_policy_simulate(policy_input, policy_explain);
    if (*presign_cmd) return cli::run_presign(g, presign_uri, expires_in);
    if (*cp_cmd) {
      cp.style = json ? cli::OutputStyle::kJson : quiet ? cli::OutputStyle::kQuiet : cli::OutputStyle::kHuman;
      cp.part_size = parse_size("--part-size", part_size);
      cp.multipart_threshold = parse_size("--multipart-threshold", threshold);
      cp.verify_md5 = !no_verify;
      cp.filter = cli::filter_of(*cp_cmd, cp_filter);
      return cli::run_cp(g, cp);
    }
  } catch (const Error& e) {
    return cli::report(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice: internal error: {}\n", e.what());
    return 70;
  }
  return 0;
}
