#include "serve/slurm_executor.hpp"

#include <unistd.h>

#include <csignal>
#include <fstream>

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

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
    release(launch.files);
    throw;
  }
  const std::string text(trim(out.text));
  // --parsable: "JOBID" or "JOBID;CLUSTER"
  const std::string id = text.substr(0, text.find(';'));
  if (out.exit_code != 0 || !job_id_of("slurm:" + id)) {
    release(launch.files);
    throw Error(ErrorKind::kInvalidInput, fmt::format("submitting training job '{}' to Slurm", launch.job_name),
                fmt::format("sbatch exited {}: {}", out.exit_code, escaped(text, 600)));
  }
  return "slurm:" + id;
}

Probe SlurmExecutor::probe(const std::string& handle, const std::filesystem::path& files) {
  Probe probe;
  const auto id = job_id_of(handle);
  if (!id) return probe;
  Output out;
  try {
    out = run(scontrol_, {"show", "job", "-o", *id});
  } catch (const Error& e) {
    // Slurm does not answer: the job is taken as still running, and asked again next round.
    log::warn("Slurm job {}: {}", *id, e.what());
    probe.running = true;
    return probe;
  }
  const auto fields = out.exit_code == 0 ? parse_scontrol_job(out.text) : std::nullopt;
  if (!fields) {
    if (out.text.find("Invalid job id") == std::string::npos) {
      log::warn("Slurm job {}: scontrol exited {}: {}", *id, out.exit_code, escaped(trim(out.text), 300));
      probe.running = true;  // not a clear "gone": asked again next round
      return probe;
    }
    // Slurm has forgotten the job (MinJobAge): it ended; the hosts' records tell how.
  } else {
    const SlurmJobState st = job_state(*fields);
    probe.running = st.running;
    probe.exit_code = st.exit_code;
    probe.failure = st.failure;
    if (probe.running) return probe;
  }
  const auto tasks = task_failures(read_text(files / "runner.log"));
  if (!tasks.empty()) {
    probe.failed_host = tasks.front().host;
    probe.failure = tasks.front().text + (probe.failure.empty() ? "" : "; " + probe.failure);
  }
  return probe;
}

bool SlurmExecutor::signal(const std::string& handle, int sig) {
  const auto id = job_id_of(handle);
  if (!id) return false;
  if (sig == SIGKILL) return run(scancel_, {*id}).exit_code == 0;
  // A job that has not started yet is cancelled: there is nothing to stop gracefully.
  const Output show = run(scontrol_, {"show", "job", "-o", *id});
  const auto fields = show.exit_code == 0 ? parse_scontrol_job(show.text) : std::nullopt;
  if (!fields || !job_state(*fields).running) return false;
  if (fields->at("JobState") == "PENDING") return run(scancel_, {*id}).exit_code == 0;
  const char* name = sig == SIGTERM ? "TERM" : sig == SIGINT ? "INT" : nullptr;
  if (!name) return false;
  return run(scancel_, {"--signal=" + std::string(name), "--full", *id}).exit_code == 0;
}

void SlurmExecutor::release(const std::filesystem::path& files) {
  ::unlink((files / "credentials").c_str());
  ::unlink((files / "credentials.tmp").c_str());
}

}  // namespace sluice::serve
