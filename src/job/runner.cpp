#include "job/runner.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/utf8.hpp"
#include "dataset/key_path.hpp"
#include "dataset/shard.hpp"
#include "dataset/source.hpp"
#include "formats/tar_reader.hpp"
#include "job/checkpoints.hpp"
#include "job/contract.hpp"
#include "job/job_dir.hpp"
#include "job/job_spec.hpp"
#include "job/outputs.hpp"
#include "job/private_network.hpp"
#include "job/script_mode.hpp"
#include "job/status.hpp"
#include "job/tenancy.hpp"
#include "modes/fastfile/channel.hpp"
#include "modes/pipe/channel.hpp"
#include "transfer/download.hpp"

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

dataset::SourceType source_type(S3DataType t) {
  switch (t) {
    case S3DataType::kManifestFile: return dataset::SourceType::kManifestFile;
    case S3DataType::kAugmentedManifestFile: return dataset::SourceType::kAugmentedManifestFile;
    default: return dataset::SourceType::kS3Prefix;
  }
}

std::string human(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double b = static_cast<double>(bytes);
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

// What one host needs before its command starts.
struct HostPlan {
  std::string name;
  fs::path root;  // this host's /opt/ml
  std::vector<Bind> binds;
  std::map<std::string, std::vector<transfer::DownloadItem>> downloads;  // channel -> items
  std::map<std::string, uint64_t> channel_bytes;
  std::map<std::string, std::vector<modes::fastfile::Entry>> fastfile;  // channel -> this host's objects
  std::map<std::string, dataset::ShardPlan> pipes;                       // Pipe channels of this host
  std::unique_ptr<CheckpointSync> checkpoints;
  std::vector<std::string> writable;  // below root: what a multi-tenant command may write
  std::vector<UniqueFd> bound_dirs;    // file-system channels, bound by these handles
  std::shared_ptr<PrivateNetwork> network;  // multi-tenant: the job's own network, shared by its hosts
  std::optional<EntryPoint> entry_point;    // script mode: how the entry point runs
  RunResult result;
};

// The memory budget of one FastFile or Pipe channel: 1/8 of RAM (modes::fastfile::
// default_max_memory) shared by all of them on this machine, at least 64 MiB each.
uint64_t streaming_budget(const std::vector<HostPlan>& plans) {
  size_t count = 0;
  for (const auto& p : plans) count += p.fastfile.size() + p.pipes.size();
  return std::max<uint64_t>(modes::fastfile::default_max_memory() / std::max<size_t>(count, 1), 64ull << 20);
}

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

// The first 1024 characters of the host's failure file (FailureReason), as valid UTF-8.
// The file is the training code's: it is opened below the host's directory without following a
// link (a link to a host secret would put it in status.json), and only a regular file is read.
std::string failure_text(const fs::path& root) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return {};
  UniqueFd fd(beneath::open_at(dir.get(), "output/failure", O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  std::string bytes(4096, '\0');  // 1024 characters are at most 4096 bytes
  ssize_t n = ::pread(fd.get(), bytes.data(), bytes.size(), 0);
  bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return utf8_prefix(bytes, 1024);
}

// A file-system channel's directory, opened once: its real path is what gets authorized, and the
// handle itself is what gets bound (bwrap --bind-fd), so a link swapped in between changes neither.
UniqueFd open_channel_dir(const Channel& ch, const fs::path& dir, fs::path& real) {
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw errno_error(errno, fmt::format("opening the directory of channel '{}'", ch.name), dir.string());
  std::error_code ec;
  real = fs::read_symlink(beneath::fd_path(fd.get()), ec);
  if (ec) throw errno_error(ec.value(), fmt::format("resolving the directory of channel '{}'", ch.name), dir.string());
  return fd;
}

// The size of each sandbox's private /tmp and of its /dev/shm when `sandboxes` run on this
// machine: all of them together hold at most a quarter of its memory.
uint64_t sandbox_tmp_size(size_t sandboxes) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 4 / (2 * std::max<size_t>(sandboxes, 1));
}

void check_space(const std::vector<HostPlan>& plans, const fs::path& work_dir) {
  uint64_t needed = 0;
  std::string detail;
  for (const auto& p : plans) {
    for (const auto& [channel, items] : p.downloads) {
      uint64_t missing = 0;
      for (const auto& item : items) {
        std::error_code ec;
        auto size = fs::file_size(item.path, ec);
        if (!ec && size == item.object.size) continue;
        // A partial file left by an interrupted run is rewritten in place: its bytes are free.
        auto partial = fs::file_size(transfer::partial_path(item.path), ec);
        missing += item.object.size - (ec ? 0 : std::min<uint64_t>(partial, item.object.size));
      }
      needed += missing;
      detail += fmt::format("{}channel '{}' of {}: {}", detail.empty() ? "" : ", ", channel, p.name, human(missing));
    }
  }
  struct statvfs vfs;
  if (needed == 0 || ::statvfs(work_dir.c_str(), &vfs) != 0) return;
  uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (needed > free_bytes) {
    throw Error(ErrorKind::kNoSpace, "not enough disk space for the File mode channels",
                fmt::format("they need {} ({}) but {} has {} free", human(needed), detail, work_dir.string(),
                            human(free_bytes)));
  }
}

// FailureReason of a job that failed for a reason outside the training code; a denied access
// says so first ("ClientError: AccessDenied: s3:GetObject on ... is denied ...").
std::string client_error(const Error& e) {
  return std::string("ClientError: ") + (e.kind() == ErrorKind::kAccessDenied ? "AccessDenied: " : "") + e.what();
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

// Script mode: the source of the job's code, fetched once per job (an s3:// object is downloaded
// into the job directory, outside every host's tree; a local path is used as it is).
fs::path script_source(const ScriptMode& script, const fs::path& job_dir, dataset::StoreCache& stores,
                       const Tenancy* tenancy, int max_connections) {
  if (script.source.rfind("s3://", 0) != 0) return script.source;
  const dataset::ObjectAddress where = dataset::parse_object_address(script.source);
  if (tenancy) tenancy->authorize_read(where);
  auto& store = stores(where);
  store::ObjectInfo info;
  try {
    info = store.head(where.key);
  } catch (const Error& e) {
    throw e.with_context("HyperParameters.sagemaker_submit_directory " + script.source);
  }
  // A name of Sluice's own (not the key's last component, which could be "." or ".."), in the
  // job directory, outside every host's tree.
  const fs::path local = job_dir / ".sluice-source" / "sourcedir.tar.gz";
  std::error_code ec;
  fs::remove_all(local.parent_path(), ec);
  if (!ec) fs::create_directories(local.parent_path(), ec);
  if (ec) throw errno_error(ec.value(), "preparing the source download", local.parent_path().string());
  transfer::Engine engine(store, {max_connections});
  transfer::DownloadOptions dopts;
  dopts.skip_complete = false;
  auto result = transfer::download(engine, {{info, local.string()}}, dopts);
  if (!result.failures.empty()) throw result.failures.front().with_context("downloading " + script.source);
  return local;
}

// Script mode: the job's code in the host's /opt/ml/code, and how its entry point runs. What an
// archive may unpack is bounded: half the free space of the job directory, shared by `hosts`, at
// most 4 GiB each (it is written by root, past any quota).
EntryPoint install_script(const ScriptMode& script, const std::optional<fs::path>& source, const fs::path& root,
                          size_t hosts) {
  UniqueFd top = beneath::open_root(root.string());
  UniqueFd code = beneath::make_dirs(top.get(), "code", 0755, root.string());
  const std::string shown = (root / "code").string();
  if (source) {
    formats::UnpackLimits limits;
    struct statvfs vfs;
    if (::statvfs(root.c_str(), &vfs) == 0) {
      const uint64_t share = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize / 2 / std::max<size_t>(hosts, 1);
      limits.max_bytes = std::min(limits.max_bytes, share);
    }
    size_t files = install_source(*source, code.get(), shown, limits, script.source.rfind("s3://", 0) == 0);
    log::info("[{}] script mode: {} files from {} in /opt/ml/code", root.filename().string(), files, script.source);
  }
  struct stat st;
  const EntryPoint type = entry_point_type(::fstatat(code.get(), "setup.py", &st, AT_SYMLINK_NOFOLLOW) == 0, script.program);
  if (type != EntryPoint::kPythonPackage) {
    UniqueFd program(beneath::open_at(code.get(), script.program, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    if (!program || ::fstat(program.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw Error(ErrorKind::kNotFound, fmt::format("HyperParameters.sagemaker_program '{}'", script.program),
                  script.source.empty()
                      ? "/opt/ml/code is empty: name the source with HyperParameters.sagemaker_submit_directory "
                        "(s3://BUCKET/KEY of a sourcedir.tar.gz, or a local directory)"
                      : fmt::format("no such file in {}", script.source));
    }
    if (type == EntryPoint::kCommand && ::fchmod(program.get(), 0755) != 0) {
      throw errno_error(errno, "making the entry point executable", shown + "/" + script.program);
    }
  }
  return type;
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
  if (options.iam && !options.host_addresses.empty()) {
    throw Error(ErrorKind::kInvalidInput, "--hosts-file",
                "a multi-tenant job's hosts share a network of their own, loopback only: run all of them in one "
                "sluice train on this machine (docs/train.md \"Hosts\")");
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
  const std::optional<uint32_t> run_as = job_directory.uid();
  const Isolation isolation = resolve_isolation(options.isolation);
  ContractOptions copts;
  copts.num_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  copts.num_gpus = options.num_gpus;
  copts.region = auth::resolve_region(options.store.env);
  const std::string arn = training_job_arn(spec, copts);
  nlohmann::json request = nlohmann::json::parse(text, nullptr, false);
  StatusRecord status(job_dir / "status.json", spec.training_job_name, arn, request);
  if (options.on_status) status.set_listener(options.on_status);

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
      status.finish("Failed", "Failed", client_error(e));
      throw JobFailed(e);
    }
  } else {
    log::info("single-tenant: no IAM configuration (--iam-config, SLUICE_IAM_CONFIG), so no policy checks");
  }

  std::vector<HostPlan> plans(selected.size());
  dataset::StoreCache stores(store_options, tenancy ? tenancy->store_wrap() : dataset::StoreCache::Wrap{});
  // Every S3 channel's objects (Pipe channels read them for as long as the job runs).
  std::map<std::string, dataset::ResolvedSource> sources;
  // FastFile channels, mounted until the job's commands have ended, and Pipe channels, fed until
  // then; declared after the stores and sources they read, so that they are stopped first,
  // whatever ends this function. A Pipe channel that fails sets pipe_failed, which stops the job.
  std::atomic<bool> pipe_failed{false};
  std::vector<std::unique_ptr<modes::fastfile::Channel>> mounts;
  std::vector<std::unique_ptr<modes::pipe::Channel>> pipes;
  try {
    // 1. Resolve every S3 channel once, then give each host its share.
    status.transition("Downloading", "Downloading input data");
    for (const auto& ch : spec.channels) {
      if (!ch.s3) continue;
      dataset::ResolveOptions ro;
      ro.file_paths = spec.mode_of(ch) != InputMode::kPipe;  // Pipe writes no files: any key goes
      sources[ch.name] = dataset::resolve_source(stores.store_for(), source_type(ch.s3->data_type), ch.s3->uri,
                                                 ch.s3->attribute_names, ro);
    }
    std::optional<fs::path> script_file;  // script mode: the fetched source
    for (size_t h = 0; h < selected.size(); ++h) {
      HostPlan& p = plans[h];
      p.name = selected[h];
      p.root = job_dir / p.name;
      write_config_files(p.root, spec, p.name, copts.network_interface_name);
      if (script) {
        if (!script->source.empty() && !script_file) {
          script_file = script_source(*script, job_dir, stores, tenancy.get(), options.store.max_connections);
        }
        p.entry_point = install_script(*script, script_file, p.root, selected.size());
      }
      for (const auto& ch : spec.channels) {
        if (!channel_on_host(spec, ch, p.name)) continue;
        std::string container_dir = std::string(kContainerRoot) + "/input/data/" + ch.name;
        if (ch.file_system) {
          fs::path real;
          UniqueFd dir = open_channel_dir(ch, options.file_systems.resolve(ch), real);
          if (tenancy) tenancy->authorize_file_system(ch, real, options.file_systems);
          p.binds.push_back({real.string(), container_dir, ch.file_system->access_mode == AccessMode::kRo, dir.get()});
          p.bound_dirs.push_back(std::move(dir));
          continue;
        }
        const auto& src = sources.at(ch.name);
        dataset::ShardPlan plan;
        plan.distribution = ch.s3->distribution == Distribution::kShardedByS3Key ? dataset::Distribution::kShardedByS3Key
                                                                                : dataset::Distribution::kFullyReplicated;
        plan.hosts = hosts;
        plan.current_host = p.name;
        plan.shuffle_seed = ch.shuffle_seed;
        if (spec.mode_of(ch) == InputMode::kPipe) {
          // Every epoch's share is computed when the epoch starts: all objects may be read.
          if (tenancy) {
            for (const auto& obj : src.objects) tenancy->authorize_read(obj.address);
            for (const auto& line : src.lines) {
              for (const auto& r : line.records) {
                if (r.kind == dataset::AugmentedRecord::Kind::kObjectRef) tenancy->authorize_read(r.ref);
              }
            }
          }
          p.pipes[ch.name] = plan;
          continue;
        }
        auto share = dataset::share_for_epoch(src.objects.size(), plan, 0);
        // FastFile reads happen while the command runs: authorize them now.
        if (tenancy && spec.mode_of(ch) == InputMode::kFastFile) {
          for (size_t i : share) tenancy->authorize_read(src.objects[i].address);
        }
        p.channel_bytes[ch.name] = dataset::share_bytes(src.objects, share);
        if (spec.mode_of(ch) == InputMode::kFastFile) {
          p.fastfile[ch.name] = modes::fastfile::channel_entries(src.objects, share);
          continue;
        }
        auto& items = p.downloads[ch.name];
        for (size_t i : share) {
          const auto& obj = src.objects[i];
          store::ObjectInfo info{obj.address.key, obj.size, obj.etag, 0};
          items.push_back({std::move(info), (p.root / "input" / "data" / ch.name / obj.relative_path).string()});
        }
      }
      p.writable = {"model", "output", "code"};
      if (spec.checkpoint) {
        fs::path local;
        if (auto under = path_under_root(spec.checkpoint->local_path, p.root)) {
          // Made by write_config_files without following a link; never /opt/ml itself nor below
          // input/ (the spec check refuses those), so the command gets only this directory.
          local = *under;
          p.writable.push_back(local.lexically_relative(p.root).generic_string());
        } else {
          local = job_dir / "checkpoints" / p.name;
          fs::create_directories(local);
          p.binds.push_back({local.string(), spec.checkpoint->local_path, false});
        }
        Location loc = parse_location(spec.checkpoint->s3_uri);
        dataset::ObjectAddress where = dataset::parse_object_address(dataset::directory_prefix(spec.checkpoint->s3_uri));
        p.checkpoints = std::make_unique<CheckpointSync>(stores(where), store::key_of(loc), local, p.name);
      }
    }
    check_space(plans, job_dir);
    if (tenancy) {
      const std::string out = output_prefix_uri(spec);
      const bool archives = spec.output.compression != OutputCompression::kNone;
      tenancy->authorize_write(dataset::parse_object_address(out + (archives ? "model.tar.gz" : "model/")));
    }

    // 2. Download (one engine per store; objects of a channel share one store).
    const auto download_start = std::chrono::steady_clock::now();
    uint64_t fetched_files = 0, fetched_bytes = 0, present_files = 0;
    for (auto& p : plans) {
      for (const auto& ch : spec.channels) {
        auto it = p.downloads.find(ch.name);
        if (it == p.downloads.end()) continue;
        // Nothing of an earlier run that this one did not list stays in the channel's directory
        // (also when this host's share is empty now).
        if (size_t n = transfer::remove_others(p.root.string(), (p.root / "input" / "data" / ch.name).string(), it->second)) {
          log::info("[{}] channel '{}': removed {} files an earlier run left that this one does not list", p.name, ch.name, n);
        }
        if (it->second.empty()) continue;
        if (stop && *stop) throw Error(ErrorKind::kCancelled, "downloading", "stopped by the user");
        auto& store = stores(sources.at(ch.name).objects.front().address);
        transfer::Engine engine(store, {options.store.max_connections});
        // Below the host's directory nothing is followed; what was written is recorded outside
        // it, so a rerun fetches again any file whose object changed or whose bytes were touched.
        transfer::DownloadOptions dopts;
        dopts.root = p.root.string();
        dopts.record = (job_dir / fmt::format(".sluice-downloads-{}-{}", p.name, ch.name)).string();
        auto result = transfer::download(engine, it->second, dopts);
        if (!result.failures.empty()) {
          throw result.failures.front().with_context(fmt::format("downloading channel '{}' for {}", ch.name, p.name));
        }
        log::info("[{}] channel '{}': {} files, {} ({} already present)", p.name, ch.name,
                  result.files + result.skipped_files, human(p.channel_bytes[ch.name]), result.skipped_files);
        fetched_files += result.files + result.skipped_files;
        fetched_bytes += p.channel_bytes[ch.name];
        present_files += result.skipped_files;
      }
      for (auto& [channel, entries] : p.fastfile) {
        modes::fastfile::ChannelOptions co;
        co.reader.max_memory = streaming_budget(plans);
        co.reader.max_in_flight = options.store.max_connections;
        co.mount.mountpoint = p.root / "input" / "data" / channel;
        co.mount.source = fmt::format("sluice:{}/{}", p.name, channel);
        fs::create_directories(co.mount.mountpoint);
        size_t files = entries.size();
        auto& store = stores(sources.at(channel).objects.front().address);
        mounts.push_back(std::make_unique<modes::fastfile::Channel>(store, std::move(entries), co));
        log::info("[{}] channel '{}': FastFile, {} files, {} mounted at {}", p.name, channel, files,
                  human(p.channel_bytes[channel]), co.mount.mountpoint.string());
      }
      for (auto& [channel, plan] : p.pipes) {
        // (A structured binding cannot be captured by a lambda before C++20 in clang < 16.)
        const auto& ch = *std::find_if(spec.channels.begin(), spec.channels.end(),
                                       [&name = channel](const auto& c) { return c.name == name; });
        modes::pipe::ChannelSpec ps;
        ps.name = channel;
        ps.dir = p.root / "input" / "data";
        ps.source = &sources.at(channel);
        ps.store_for = stores.store_for();
        ps.plan = plan;
        ps.stream.framing = ch.record_wrapper == RecordWrapper::kRecordIO ? modes::pipe::Framing::kRecordIO : modes::pipe::Framing::kNone;
        ps.stream.gzip = ch.compression == Compression::kGzip;
        ps.stream.max_in_flight = options.store.max_connections;
        ps.stream.max_memory = streaming_budget(plans);
        ps.on_failure = [&pipe_failed] { pipe_failed = true; };
        pipes.push_back(std::make_unique<modes::pipe::Channel>(std::move(ps)));
        log::info("[{}] channel '{}': Pipe, {} {}, FIFOs {}_0, _1, ...", p.name, channel, sources.at(channel).size(),
                  sources.at(channel).type == dataset::SourceType::kAugmentedManifestFile ? "lines" : "objects",
                  (p.root / "input" / "data" / channel).string());
      }
      if (p.checkpoints) {
        size_t n = p.checkpoints->restore();
        if (n) log::info("[{}] restored {} checkpoint files", p.name, n);
      }
    }
    if (fetched_files > 0) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - download_start).count();
      status.transition("Downloading",
                        fmt::format("Downloaded input data: {} in {} files in {:.1f} s{}", human(fetched_bytes),
                                    fetched_files, secs,
                                    present_files ? fmt::format(" ({} files already present)", present_files) : ""));
    }
  } catch (const Error& e) {
    bool user = e.kind() == ErrorKind::kCancelled;
    status.finish(user ? "Stopped" : "Failed", user ? "Stopped" : "Failed", user ? std::string(e.what()) : client_error(e));
    if (user) throw;
    throw JobFailed(e);
  }

  // 3. Train: every host's command at once. A multi-tenant command runs as the job's uid, which
  // owns only what it may write, in a network of its own: loopback only, plus a relay to the store
  // endpoint when it has scoped store credentials and network access (private_network.hpp).
  std::optional<std::string> command_endpoint;
  if (scoped && !spec.enable_network_isolation) command_endpoint = auth::resolve_endpoint(options.store.endpoint_url, options.store.env);
  if (tenancy) {
    try {
      for (const auto& p : plans) hand_over(p.root, p.writable, *run_as);
      if (spec.checkpoint) {
        for (const auto& p : plans) {
          const fs::path outside = job_dir / "checkpoints" / p.name;
          if (fs::exists(outside)) hand_over(outside.parent_path(), {p.name}, *run_as);
        }
      }
      std::vector<Forward> forwards;
      if (command_endpoint) {
        forwards = loopback_forward(*command_endpoint);
        if (forwards.empty()) {
          log::warn("the store endpoint {} is not a loopback address: the job's own network cannot reach it, so its "
                    "training code reads data through its channels only", *command_endpoint);
        }
      }
      // One network for every host of the job on this machine: they reach each other at their
      // 127.0.1.K addresses (host_addresses.hpp), and nothing else but the relayed store.
      auto network = std::make_shared<PrivateNetwork>(forwards);
      for (auto& p : plans) p.network = network;
    } catch (const Error& e) {
      status.finish("Failed", "Failed", client_error(e));
      throw JobFailed(e);
    }
  }
  if (tenancy) tenancy->clear_denials();  // from here on, a denial fails the job
  status.transition("Training", "Training image download completed. Training in progress.");
  status.set_training_start();
  // The commands stop on Ctrl-C/SIGTERM, and when a Pipe channel fails.
  std::atomic<bool> halt{false}, halting_done{false};
  std::thread halting([&] {
    while (!halting_done) {
      if ((stop && *stop) || pipe_failed || (tenancy && tenancy->first_denial())) halt = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<std::thread> threads;
  for (auto& p : plans) {
    threads.emplace_back([&, &p = p] {
      try {
        if (p.checkpoints) p.checkpoints->start();
        SandboxSpec sb;
        ContractOptions host_opts = copts;
        if (isolation == Isolation::kNone) host_opts.opt_ml_root = p.root.string();
        sb.env = base_environment();
        for (auto& [k, v] : container_environment(spec, p.name, host_opts)) sb.env[k] = v;
        if (script) {
          const std::string code_dir = host_opts.opt_ml_root + "/code";
          sb.argv = script_command(*script, *p.entry_point, code_dir, options.install_requirements);
          if (options.install_requirements) {
            const auto it = sb.env.find("PYTHONPATH");
            sb.env["PYTHONPATH"] = requirements_path(code_dir) + (it == sb.env.end() || it->second.empty() ? "" : ":" + it->second);
          }
        } else {
          sb.argv = spec.algorithm.container_entrypoint;
          sb.argv.insert(sb.argv.end(), spec.algorithm.container_arguments.begin(), spec.algorithm.container_arguments.end());
        }
        sb.etc_hosts = etc_hosts(addresses);
        // Training code that reads S3 itself gets the job's scoped credentials (not Sluice's),
        // unless the job has no network.
        if (scoped && !spec.enable_network_isolation) {
          sb.env["AWS_ACCESS_KEY_ID"] = scoped->credentials.access_key_id;
          sb.env["AWS_SECRET_ACCESS_KEY"] = scoped->credentials.secret_access_key;
          sb.env["AWS_SESSION_TOKEN"] = scoped->credentials.session_token;
          sb.env["AWS_REGION"] = sb.env["AWS_DEFAULT_REGION"] = copts.region;
          if (command_endpoint) sb.env["AWS_ENDPOINT_URL"] = *command_endpoint;
        }
        sb.opt_ml_host_dir = p.root.string();
        sb.extra_binds = p.binds;
        sb.hostname = p.name;
        sb.unshare_net = spec.enable_network_isolation;
        sb.max_runtime = std::chrono::seconds(spec.stopping.max_runtime_seconds);
        sb.stop_grace = options.stop_grace;
        sb.log_prefix = "[" + p.name + "] ";
        sb.log_file = (job_dir / "logs" / (p.name + ".log")).string();
        sb.isolation = isolation;
        sb.tmp_size = sandbox_tmp_size(plans.size());
        sb.extra_binds.insert(sb.extra_binds.end(), options.binds.begin(), options.binds.end());
        if (tenancy) {
          sb.minimal_root = true;
          sb.run_as = run_as;
          sb.restrict_syscalls = true;
          sb.netns_fd = p.network->fd();
          sb.env["HOME"] = "/tmp";  // the host's home is not there; /tmp is the command's own
          sb.hidden_paths = private_paths(options);
          sb.hidden_paths.push_back(fs::absolute(options.work_dir).string());  // other jobs
        }
        p.result = run_sandboxed(sb, &halt);
      } catch (const Error& e) {
        p.result.exit_code = 1;
        p.result.how = e.what();
      }
      if (p.checkpoints) {
        try {
          p.checkpoints->finish();
        } catch (const Error& e) {
          log::warn("[{}] final checkpoint sync failed: {}", p.name, e.what());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  halting_done = true;
  halting.join();
  mounts.clear();  // unmount the FastFile channels now that no command reads them
  std::string pipe_failure;
  for (auto& c : pipes) {
    c->stop();
    if (auto f = c->failure(); f && pipe_failure.empty()) pipe_failure = f->what();
  }
  pipes.clear();

  // 4. Verdict, then outputs.
  const HostPlan* failed = nullptr;
  bool timed_out = false, stopped = false;
  for (const auto& p : plans) {
    timed_out = timed_out || p.result.timed_out;
    stopped = stopped || p.result.stopped_by_user;
    if (!failed && p.result.exit_code != 0 && !p.result.timed_out && !p.result.stopped_by_user) failed = &p;
  }
  std::string final_status = "Completed", secondary = "Completed", reason;
  int code = 0;
  std::optional<Error> denied;
  if (tenancy) denied = tenancy->first_denial();
  if (denied) {
    final_status = "Failed", secondary = "Failed", code = 1;
    reason = client_error(*denied);
  } else if (!pipe_failure.empty()) {
    final_status = "Failed", secondary = "Failed", code = 1;
    reason = "ClientError: " + pipe_failure;
  } else if (stopped) {
    final_status = "Stopped", secondary = "Stopped", reason = "Stopped by the user", code = 130;
  } else if (timed_out) {
    final_status = "Stopped", secondary = "MaxRuntimeExceeded", code = 124;
    reason = fmt::format("MaxRuntimeExceeded: the job ran past MaxRuntimeInSeconds ({} s)", spec.stopping.max_runtime_seconds);
  } else if (failed) {
    final_status = "Failed", secondary = "Failed", code = 1;
    reason = failure_text(failed->root);
    if (reason.empty()) reason = fmt::format("AlgorithmError: {} ({})", failed->result.how, failed->name);
  }

  // Outputs: after a completed or stopped job (a saved intermediate model is a valid artifact);
  // with --host, only rank 0 uploads, so hosts on other machines do not overwrite each other.
  bool uploads = final_status != "Failed" && (!options.host || *options.host == hosts.front());
  if (uploads) {
    status.transition("Uploading", "Uploading generated training model");
    try {
      std::vector<fs::path> roots;
      for (const auto& p : plans) roots.push_back(p.root);
      auto out = upload_outputs(spec, roots, job_dir / ".sluice-staging", stores.store_for());
      fs::remove_all(job_dir / ".sluice-staging");
      status.set_model_artifacts(out.model_artifacts);
      log::info("model artifacts: {}", out.model_artifacts);
    } catch (const Error& e) {
      final_status = "Failed", secondary = "Failed", code = 1;
      reason = client_error(e);
    }
  }
  status.finish(final_status, secondary, reason);
  return code;
}

}  // namespace sluice::job
