#include "serve/slurm_executor.hpp"

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/run_program.hpp"
#include "core/strings.hpp"
#include "serve/private_file.hpp"
#include "serve/slurm_batch.hpp"

namespace sluice::serve {
namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(60);

std::optional<std::string> job_id_of(const std::string& handle) {
  if (handle.rfind("slurm:", 0) != 0) return std::nullopt;
  const std::string id = handle.substr(6);
  if (id.empty() || id.size() > 20) return std::nullopt;
  for (char c : id) {
    if (!ascii_isdigit(c)) return std::nullopt;
  }
  return id;
}

// The last `max` bytes of `file` (srun's lines about failed tasks come at the end of the job).
std::string read_tail(const std::filesystem::path& file, std::streamoff max) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > max ? size - max : 0;
  in.seekg(from);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (from > 0) text.erase(0, text.find('\n') == std::string::npos ? text.size() : text.find('\n') + 1);
  return text;
}

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmOptions options) : options_(std::move(options)) {
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : options_.command_env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  for (auto [name, where] : {std::pair{"sbatch", &sbatch_}, std::pair{"srun", &srun_}, std::pair{"scontrol", &scontrol_},
                             std::pair{"scancel", &scancel_}}) {
    *where = find_program(name, path);
    if (where->empty()) {
      throw Error(ErrorKind::kInvalidInput, "--executor slurm",
                  fmt::format("{} is not on PATH ({}): install Slurm's client commands (Debian: slurm-client)", name, path));
    }
  }
}

SlurmExecutor::Output SlurmExecutor::run(const std::string& program, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProgramResult r = run_program(argv, options_.command_env, kCommandTimeout);
  if (r.timed_out) {
    throw Error(ErrorKind::kRetryable, fmt::format("running {}", program),
                fmt::format("no answer in {} s (is slurmctld running?)", kCommandTimeout.count()));
  }
  return {r.exit_code, r.output};
}

std::string SlurmExecutor::start(const Launch& launch) {
  if (options_.credentials) {
    const auto& c = *options_.credentials;
    std::string text = "[default]\naws_access_key_id = " + c.access_key_id + "\naws_secret_access_key = " +
                       c.secret_access_key + "\n";
    if (!c.session_token.empty()) text += "aws_session_token = " + c.session_token + "\n";
    write_private(launch.files / "credentials", text);
  }
  SlurmScript script;
  script.training_job = launch.job_name;
  script.runner = launch.argv;
  script.hosts = launch.hosts;
  script.files = launch.files;
  script.srun = srun_;
  script.scontrol = scontrol_;
  script.env = options_.job_env;
  write_private(launch.files / "slurm-job.sh", batch_script(script), 0700);

  SbatchRequest request;
  request.training_job = launch.job_name;
  request.hosts = launch.hosts;
  request.files = launch.files;
  request.time_limit = slurm_time_limit(launch.max_runtime, launch.stop_grace);
  request.partition = options_.partition;
  request.extra = options_.sbatch_options;
  Output out;
  try {
    out = run(sbatch_, sbatch_args(request));
  } catch (const Error&) {
    try {
      run(scancel_, {"--name=sluice-" + launch.job_name});
    } catch (const Error&) {
    }
    release(launch.files);
    throw;
  }
  // --parsable: "JOBID" or "JOBID;CLUSTER" on the last line (warnings may come before it).
  std::string last(trim(out.text));
  if (const size_t nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
  const std::string id = last.substr(0, last.find(';'));
  if (out.exit_code != 0 || !job_id_of("slurm:" + id)) {
    // Nothing may run unwatched: a job sbatch did submit (its answer unreadable) is cancelled.
    try {
      run(scancel_, {"--name=sluice-" + launch.job_name});
    } catch (const Error&) {
    }
    release(launch.files);
    throw Error(ErrorKind::kInvalidInput, fmt::format("submitting training job '{}' to Slurm", launch.job_name),
                fmt::format("sbatch exited {}: {}", out.exit_code, escaped(trim(out.text), 600)));
  }
  return "slurm:" + id;
}

std::optional<std::map<std::string, std::string>> SlurmExecutor::show(const std::string& id,
                                                                      const std::filesystem::path& files) const {
  const Output out = run(scontrol_, {"show", "job", "-o", id});
  const auto fields = out.exit_code == 0 ? parse_scontrol_job(out.text) : std::nullopt;
  if (!fields) {
    // Slurm has forgotten the job (MinJobAge): it has ended.
    if (out.text.find("Invalid job id") != std::string::npos) return std::nullopt;
    throw Error(ErrorKind::kRetryable, fmt::format("Slurm job {}", id),
                fmt::format("scontrol exited {}: {}", out.exit_code, escaped(trim(out.text), 300)));
  }
  auto name = fields->find("JobName");
  if (name != fields->end() && name->second != "sluice-" + files.filename().string()) return std::nullopt;
  return fields;
}

Probe SlurmExecutor::probe(const std::string& handle, const std::filesystem::path& files) {
  Probe probe;
  const auto id = job_id_of(handle);
  if (!id) return probe;
  std::optional<std::map<std::string, std::string>> fields;
  try {
    fields = show(*id, files);
  } catch (const Error& e) {
    // Slurm does not answer clearly: the job is taken as still running, and asked again next round.
    log::warn("{}", e.what());
    probe.running = true;
    return probe;
  }
  if (fields) {
    const SlurmJobState st = job_state(*fields);
    probe.running = st.running;
    probe.exit_code = st.exit_code;
    probe.failure = st.failure;
    if (probe.running) return probe;
  }
  const auto tasks = task_failures(read_tail(files / "runner.log", 1 << 20));
  if (!tasks.empty()) {
    probe.failed_host = tasks.front().host;
    probe.failed_exit_code = tasks.front().exit_code;
    probe.failure = tasks.front().text + (probe.failure.empty() ? "" : "; " + probe.failure);
  }
  return probe;
}

bool SlurmExecutor::signal(const std::string& handle, const std::filesystem::path& files, int sig) {
  const auto id = job_id_of(handle);
  if (!id) return false;
  const std::string name = "--name=sluice-" + files.filename().string();  // never another job's id
  try {
    if (sig == SIGKILL) return run(scancel_, {name, *id}).exit_code == 0;
    const auto fields = show(*id, files);
    if (!fields || !job_state(*fields).running) return false;
    // A job whose tasks have not started is cancelled: there is nothing to stop gracefully.
    const std::string state = fields->at("JobState");
    if (state == "PENDING" || state == "CONFIGURING") return run(scancel_, {name, *id}).exit_code == 0;
    const char* signame = sig == SIGTERM ? "TERM" : sig == SIGINT ? "INT" : nullptr;
    if (!signame) return false;
    return run(scancel_, {"--signal=" + std::string(signame), "--full", name, *id}).exit_code == 0;
  } catch (const Error& e) {
    log::warn("signalling {}: {}", handle, e.what());
    return false;
  }
}

std::string SlurmExecutor::refuses_hosts(int hosts) const {
  if (hosts <= 1 || options_.node_network) return {};
  return fmt::format(
      "ResourceConfig.InstanceCount {}: this server runs a job's hosts on Slurm nodes, where they reach each other "
      "only on the nodes' network; it takes jobs of one host unless its operator allows that (sluice serve "
      "--node-network)",
      hosts);
}

void SlurmExecutor::release(const std::filesystem::path& files) {
  ::unlink((files / "credentials").c_str());
  ::unlink((files / "credentials.tmp").c_str());
}

}  // namespace sluice::serve
