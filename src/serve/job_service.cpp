#include "serve/job_service.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "serve/describe.hpp"
#include "serve/host_statuses.hpp"
#include "serve/private_file.hpp"
#include "serve/tags_json.hpp"

namespace sluice::serve {
namespace {

// How long a runner may take to end after the grace period it was given for the command.
constexpr auto kRunnerMargin = std::chrono::seconds(60);
// How long the hosts' records may take to show their end after every runner has ended well.
constexpr auto kSettle = std::chrono::seconds(30);

// The last non-empty line of the runner's output (its error, when it failed before its record);
// Slurm's own lines (srun's, slurmstepd's) are not the runner's.
std::string last_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line.rfind("srun: ", 0) != 0 && line.rfind("slurmstepd", 0) != 0) last = line;
  }
  return last.size() > 900 ? last.substr(0, 900) : last;
}

// Why the runner failed: its last "sluice: error: " line (what the edge prints, exit_code.hpp),
// else its last line. The hosts of a Slurm job share one output: a host that refused the job
// printed its error, and another host, stopped by Slurm then, printed its summary after it.
std::string why_runner_failed(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line, error;
  while (std::getline(in, line)) {
    if (line.rfind("sluice: error: ", 0) == 0) error = line;
  }
  if (error.empty()) return last_line(file);
  return error.size() > 900 ? error.substr(0, 900) : error;
}

}  // namespace

JobService::JobService(JobRecords& records, Executor& executor, JobServiceOptions options)
    : records_(records), executor_(executor), options_(std::move(options)) {
  if (!options_.now) {
    options_.now = [] {
      return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.work_dir / ".sluice-serve" / "jobs", ec);
  if (ec) throw errno_error(ec.value(), "making the server's directory", (options_.work_dir / ".sluice-serve").string());
  ::chmod((options_.work_dir / ".sluice-serve").c_str(), 0700);
}

JobService::~JobService() { stop(); }

std::filesystem::path JobService::files_of(const std::string& name) const {
  return options_.work_dir / ".sluice-serve" / "jobs" / name;
}

void JobService::submit(const JobRecord& job, const std::optional<std::vector<policy::SessionTag>>& session_tags) {
  {
    std::lock_guard lock(mu_);
    int queued = 0;
    for (const auto& r : records_.in_progress()) queued += r.executor_handle.empty() ? 1 : 0;
    if (queued >= options_.max_queued) {
      throw Error(ErrorKind::kRetryable, fmt::format("accepting training job '{}'", job.name),
                  fmt::format("{} jobs are already waiting to start (the server's limit, --max-queued)", queued));
    }
    std::error_code ec;
    if (std::filesystem::exists(options_.work_dir / job.name, ec)) {
      throw Error(ErrorKind::kConflict, fmt::format("training job '{}' already exists", job.name),
                  "its directory is in the work directory (a job run by `sluice train`)");
    }
    records_.insert(job);  // kConflict for a name in use
    try {
      const auto dir = files_of(job.name);
      std::filesystem::remove_all(dir, ec);  // of an earlier job of the name whose record is gone
      if (!std::filesystem::create_directory(dir, ec) || ec) throw errno_error(ec.value(), "making", dir.string());
      ::chmod(dir.c_str(), 0700);
      write_private(dir / "request.json", job.request.dump(2));
      if (session_tags) {
        nlohmann::json s = {{"SessionTags", nlohmann::json::parse(tags_to_json(*session_tags))}};
        write_private(dir / "session.json", s.dump(2));
      }
    } catch (const Error& e) {
      JobPatch fail;
      fail.status = "Failed";
      fail.secondary_status = "Failed";
      fail.failure_reason = fmt::format("InternalServerError: the server could not keep the job's files: {}", e.what());
      fail.end_time = fail.last_modified_time = options_.now();
      records_.update(job.name, fail);
      throw;
    }
  }
  std::lock_guard lock(wake_mu_);
  woken_ = true;
  wake_.notify_all();
}

JobRecord JobService::stop_job(const std::string& name) {
  JobRecord after;
  {
    std::lock_guard lock(mu_);
    auto job = records_.get(name);
    if (!job) throw Error(ErrorKind::kNotFound, fmt::format("training job '{}'", name), "no such job");
    if (is_terminal(job->status)) {
      throw Error(ErrorKind::kConflict, fmt::format("training job '{}'", job->name),
                  fmt::format("the job has ended ({})", job->status));
    }
    if (job->status == "Stopping") return *job;
    if (job->executor_handle.empty()) {
      end(*job, "Stopped", "Stopped", "");
      return *records_.get(name);
    }
    JobPatch patch;
    patch.status = "Stopping";
    patch.last_modified_time = options_.now();
    patch.only_if_status = {"InProgress"};
    after = records_.update(job->name, patch);
    kill_at_[after.name] = std::chrono::steady_clock::now() + options_.stop_grace + kRunnerMargin;
    if (!executor_.signal(after.executor_handle, files_of(after.name), SIGTERM)) term_owed_.insert(after.name);
    log::info("stopping training job '{}' (SIGTERM to its runner, {} s grace)", after.name,
              options_.stop_grace.count() / 1000);
  }
  std::lock_guard lock(wake_mu_);
  woken_ = true;
  wake_.notify_all();
  return after;
}

namespace {

// A status record, or null when there is none (or it cannot be read).
nlohmann::json read_status(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return nullptr;
  std::string text;
  char buf[16384];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (16u << 20)) return nullptr;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

}  // namespace

int instance_count(const nlohmann::json& request) {
  const auto rc = request.value("ResourceConfig", nlohmann::json::object());
  if (!rc.is_object()) return 1;
  int64_t n = 0;
  if (rc.contains("InstanceGroups") && rc["InstanceGroups"].is_array()) {
    for (const auto& g : rc["InstanceGroups"]) {
      if (g.is_object() && g.contains("InstanceCount") && g["InstanceCount"].is_number_integer()) {
        n += std::clamp<int64_t>(g["InstanceCount"].get<int64_t>(), 0, 100000);
      }
    }
  } else if (rc.contains("InstanceCount") && rc["InstanceCount"].is_number_integer()) {
    n = rc["InstanceCount"].get<int64_t>();
  }
  return static_cast<int>(std::clamp<int64_t>(n, 1, 100000));
}

namespace {

int instance_count(const JobRecord& job) { return serve::instance_count(job.request); }

std::vector<std::pair<std::string, nlohmann::json>> host_statuses(const std::filesystem::path& job_dir, int hosts) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (int k = 1; k <= hosts; ++k) {
    const std::string host = fmt::format("algo-{}", k);
    out.emplace_back(host, read_status(job_dir / "status" / (host + ".json")));
  }
  return out;
}

}  // namespace

nlohmann::json JobService::status_of(const JobRecord& job, const std::string& failed_first) const {
  const auto dir = options_.work_dir / job.name;
  std::error_code ec;
  if (std::filesystem::is_directory(dir / "status", ec)) {
    return merge_host_statuses(host_statuses(dir, instance_count(job)), failed_first);
  }
  return read_status(dir / "status.json");
}

void JobService::end(const JobRecord& job, const std::string& status, const std::string& secondary,
                     const std::string& reason) {
  JobPatch patch;
  patch.status = status;
  patch.secondary_status = secondary;
  patch.failure_reason = reason;
  patch.end_time = patch.last_modified_time = options_.now();
  executor_.release(files_of(job.name));  // first: a job that has ended is never looked at again
  records_.update(job.name, patch);
  kill_at_.erase(job.name);
  term_owed_.erase(job.name);
  settling_.erase(job.name);
  ended(job.name);
  if (status == "Completed") {
    log::info("training job '{}': {}", job.name, status);
  } else {
    log::info("training job '{}': {}{}", job.name, status, reason.empty() ? "" : " (" + reason + ")");
  }
}

void JobService::watch(const JobRecord& job) {
  const auto probe = executor_.probe(job.executor_handle, files_of(job.name));
  const nlohmann::json status = status_of(job, probe.failed_host);
  JobPatch patch = patch_from_status(job, status);
  const bool ended_by_runner =
      patch.status.has_value() || (status.is_object() && is_terminal(status.value("TrainingJobStatus", "")));
  if (probe.running) {
    // A record that has ended while its runner still runs (the process is about to exit) is taken
    // when the runner has ended, in a later round: only then is the job over, its warm pool
    // Available (ended()) and its directory free for the next job to take over. Applied now, the
    // job would leave in_progress() and never reach ended().
    if (!ended_by_runner &&
        (patch.secondary_status || patch.status || patch.failure_reason || patch.end_time)) {
      records_.update(job.name, patch);
    }
    if (term_owed_.count(job.name) && executor_.signal(job.executor_handle, files_of(job.name), SIGTERM)) {
      term_owed_.erase(job.name);
    }
    auto deadline = kill_at_.find(job.name);
    if (deadline != kill_at_.end() && std::chrono::steady_clock::now() > deadline->second) {
      log::warn("training job '{}': its runner did not end after the stop grace period; killing it", job.name);
      executor_.signal(job.executor_handle, files_of(job.name), SIGKILL);
    }
    return;
  }
  // The host that failed first (the executor knows it) ended without a Failed record of its own:
  // the others' records (ended by the scheduler after it) do not say why the job failed.
  bool culprit_unrecorded = false;
  if (!probe.failed_host.empty() && job.status != "Stopping") {
    for (const auto& [host, doc] : host_statuses(options_.work_dir / job.name, instance_count(job))) {
      if (host == probe.failed_host) {
        culprit_unrecorded = !doc.is_object() || doc.value("TrainingJobStatus", "") != "Failed";
      }
    }
  }
  if (ended_by_runner && !culprit_unrecorded) {
    executor_.release(files_of(job.name));
    if (patch.secondary_status || patch.status || patch.failure_reason || patch.end_time) records_.update(job.name, patch);
    kill_at_.erase(job.name);
    term_owed_.erase(job.name);
    settling_.erase(job.name);
    ended(job.name);
    auto after = records_.get(job.name);
    log::info("training job '{}': {}", job.name, after ? after->status : "?");
    return;
  }
  // The runner ended without ending the job's record.
  const std::string output = (files_of(job.name) / "runner.log").string();
  const std::string why = why_runner_failed(output);
  if (job.status == "Stopping") {
    end(job, "Stopped", "Stopped", "");
    return;
  }
  std::string reason;
  const std::string unfinished = std::filesystem::is_directory(options_.work_dir / job.name / "status")
                                     ? first_unfinished_host(host_statuses(options_.work_dir / job.name, instance_count(job)))
                                     : std::string();
  if (!unfinished.empty() && probe.failure.empty() && probe.exit_code.value_or(0) == 0) {
    // Every host's runner ended well, and a host's record has not ended yet: records written on
    // other nodes may reach this one late (a shared file system's caches). Looked at again for a
    // while before the job is failed.
    auto since = settling_.try_emplace(job.name, std::chrono::steady_clock::now()).first->second;
    if (std::chrono::steady_clock::now() - since < kSettle) return;
  }
  if (probe.failed_exit_code == 2 && !why.empty()) {
    // That host's sluice train refused the job before it started (its message names what is wrong).
    reason = "ClientError: " + why;
  } else if (!probe.failure.empty()) {
    // What the executor saw: a host's task killed, a node that failed, the scheduler's time limit.
    reason = "InternalServerError: " + probe.failure;
  } else if (!unfinished.empty() && (!probe.exit_code || *probe.exit_code != 2)) {
    reason = fmt::format("InternalServerError: {}'s runner ended before the job did{}", unfinished,
                         why.empty() ? "" : ": " + why);
  } else if (probe.exit_code && *probe.exit_code == 2 && !why.empty()) {
    // sluice train refused the job before it started (its message names what is wrong).
    reason = "ClientError: " + why;
  } else if (probe.exit_code) {
    reason = fmt::format("InternalServerError: the job's runner ended (exit {}) before the job did{}", *probe.exit_code,
                         why.empty() ? "" : ": " + why);
  } else {
    reason = "InternalServerError: the job's runner ended while the server was not running, before the job did";
  }
  end(job, "Failed", "Failed", reason);
}

void JobService::launch(const JobRecord& job) {
  const auto dir = files_of(job.name);
  std::vector<std::string> argv = options_.runner_command;
  argv.push_back((dir / "request.json").string());
  argv.push_back("--work-dir");
  argv.push_back(options_.work_dir.string());
  argv.push_back("--stop-grace");
  argv.push_back(fmt::format("{:.3f}", static_cast<double>(options_.stop_grace.count()) / 1000.0));
  std::error_code ec;
  if (std::filesystem::exists(dir / "session.json", ec)) {
    argv.push_back("--session-file");
    argv.push_back((dir / "session.json").string());
  }
  argv.insert(argv.end(), options_.runner_options.begin(), options_.runner_options.end());
  const std::optional<JobRecord> pool = warm_pool_for(job);
  if (pool) {
    argv.push_back("--warm-from");
    argv.push_back(pool->work_dir);
  }
  try {
    Launch l;
    l.job_name = job.name;
    l.argv = argv;
    l.hosts = instance_count(job);
    l.files = dir;
    const auto stopping = job.request.value("StoppingCondition", nlohmann::json::object());
    if (stopping.is_object()) l.max_runtime = std::chrono::seconds(stopping.value("MaxRuntimeInSeconds", int64_t{0}));
    l.stop_grace = options_.stop_grace;
    const std::string handle = executor_.start(l);
    if (pool) {
      JobPatch reused;
      reused.warm_pool_status = "Reused";
      reused.warm_pool_reused_by = job.name;
      reused.last_modified_time = options_.now();
      records_.update(pool->name, reused);
      log::info("training job '{}' starts on the warm pool of '{}'", job.name, pool->name);
    }
    JobPatch patch;
    if (job.warm_pool.keep_alive_seconds > 0 && pool) patch.warm_pool_status = "InUse";
    patch.executor_handle = handle;
    patch.last_modified_time = options_.now();
    patch.only_if_status = {"InProgress"};
    records_.update(job.name, patch);
    log::info("training job '{}' started ({})", job.name, handle);
  } catch (const Error& e) {
    end(job, "Failed", "Failed", fmt::format("InternalServerError: the job could not be started: {}", e.what()));
  }
}

void JobService::recover() {
  std::vector<JobRecord> jobs;
  {
    std::lock_guard lock(mu_);
    jobs = records_.in_progress();
    for (const auto& job : jobs) {
      if (job.executor_handle.empty()) continue;
      bool alive = false;
      try {
        alive = executor_.probe(job.executor_handle, files_of(job.name)).running;
      } catch (const Error& e) {
        log::warn("training job '{}': {}", job.name, e.what());
        alive = true;  // asked again by the rounds
      }
      log::info("training job '{}' ({}): its runner {} ({})", job.name, job.status,
                alive ? "is still running: re-attached" : "ended while the server was not running", job.executor_handle);
      if (alive && job.status == "Stopping") {
        kill_at_[job.name] = std::chrono::steady_clock::now() + options_.stop_grace + kRunnerMargin;
        if (!executor_.signal(job.executor_handle, files_of(job.name), SIGTERM)) term_owed_.insert(job.name);
      }
    }
  }
  tick();
}

void JobService::tick() {
  std::lock_guard lock(mu_);
  expire_warm_pools();
  int running = 0;
  std::vector<JobRecord> queued;
  for (const auto& job : records_.in_progress()) {
    if (job.executor_handle.empty()) {
      queued.push_back(job);
      continue;
    }
    try {
      watch(job);
    } catch (const Error& e) {
      log::warn("training job '{}': {}", job.name, e.what());
    }
    auto after = records_.get(job.name);
    if (after && !is_terminal(after->status)) running++;
  }
  for (const auto& job : queued) {
    if (running >= options_.max_jobs) break;
    launch(job);
    running++;
  }
}

void JobService::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] {
    while (running_) {
      try {
        tick();
      } catch (const std::exception& e) {
        log::error("the job service's round failed: {}", e.what());
      }
      std::unique_lock lock(wake_mu_);
      wake_.wait_for(lock, options_.poll, [this] { return woken_ || !running_; });
      woken_ = false;
    }
  });
}

void JobService::stop() {
  if (!running_.exchange(false)) return;
  {
    std::lock_guard lock(wake_mu_);
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::string JobService::refuses_hosts(int hosts) const {
  if (hosts > options_.max_hosts) {
    return fmt::format("ResourceConfig.InstanceCount {}: this server runs jobs of at most {} hosts (sluice serve "
                       "--max-instance-count)",
                       hosts, options_.max_hosts);
  }
  return executor_.refuses_hosts(hosts);
}

void JobService::ended(const std::string& name) {
  auto job = records_.get(name);
  if (!job || job->warm_pool.keep_alive_seconds <= 0) return;
  if (job->warm_pool.status != "" && job->warm_pool.status != "InUse") return;
  JobPatch patch;
  patch.warm_pool_status = job->status == "Completed" ? "Available" : "Terminated";
  records_.update(name, patch);
  if (job->status == "Completed") {
    log::info("training job '{}': warm pool Available for {} s", name, job->warm_pool.keep_alive_seconds);
  }
}

std::optional<JobRecord> JobService::warm_pool_for(const JobRecord& job) {
  if (job.warm_pool.match_key.empty() || !executor_.keeps_inputs()) return std::nullopt;
  ListQuery q;
  q.warm_pool_status_equals = "Available";
  q.max_results = 100;
  const double now = options_.now();
  for (std::string token;;) {
    q.next_token = token;
    ListPage page = records_.list(q);
    for (const auto& pool : page.jobs) {
      // The newest Available pool of the same key whose period has not run out; the owner's session
      // is part of the key, and the runner checks it again against the directory it takes over.
      if (pool.warm_pool.match_key == job.warm_pool.match_key && pool.end_time &&
          *pool.end_time + static_cast<double>(pool.warm_pool.keep_alive_seconds) > now) {
        return pool;
      }
    }
    if (page.next_token.empty()) return std::nullopt;
    token = page.next_token;
  }
}

void JobService::expire_warm_pools() {
  ListQuery q;
  q.warm_pool_status_equals = "Available";
  q.max_results = 100;
  const double now = options_.now();
  std::vector<std::string> expired;
  for (std::string token;;) {
    q.next_token = token;
    ListPage page = records_.list(q);
    for (const auto& pool : page.jobs) {
      if (!pool.end_time || *pool.end_time + static_cast<double>(pool.warm_pool.keep_alive_seconds) <= now) {
        expired.push_back(pool.name);
      }
    }
    if (page.next_token.empty()) break;
    token = page.next_token;
  }
  for (const auto& name : expired) {
    JobPatch patch;
    patch.warm_pool_status = "Terminated";
    records_.update(name, patch);
    log::info("training job '{}': warm pool Terminated (its keep-alive period ended)", name);
  }
}

}  // namespace sluice::serve
