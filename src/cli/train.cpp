#include <fmt/core.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "cli/train_reporter.hpp"
#include "core/error.hpp"
#include "job/runner.hpp"

namespace sluice::cli {
namespace {

// --session-file: {"SessionTags": [{"Key": K, "Value": V}, ...]}, checked as STS checks tags.
std::vector<policy::SessionTag> read_session_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw errno_error(errno, "reading --session-file", file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string what = "--session-file " + file;
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!doc.is_object() || !doc.contains("SessionTags") || !doc["SessionTags"].is_array()) {
    throw Error(ErrorKind::kInvalidInput, what, "expected {\"SessionTags\": [{\"Key\": ..., \"Value\": ...}, ...]}");
  }
  std::vector<policy::SessionTag> tags;
  for (const auto& t : doc["SessionTags"]) {
    if (!t.is_object() || !t.contains("Key") || !t["Key"].is_string() || !t.contains("Value") || !t["Value"].is_string()) {
      throw Error(ErrorKind::kInvalidInput, what, fmt::format("SessionTags[{}]: expected {{\"Key\": ..., \"Value\": ...}}", tags.size()));
    }
    tags.push_back({t["Key"].get<std::string>(), t["Value"].get<std::string>()});
  }
  policy::check_tags(tags, [&](std::size_t i) { return fmt::format("{}: SessionTags[{}]", what, i); });
  return tags;
}

}  // namespace

int run_train(const GlobalOptions& g, const TrainCliOptions& o) {
  job::TrainOptions t;
  t.job_file = o.job_file;
  t.work_dir = o.work_dir;
  if (!o.host.empty()) t.host = o.host;
  t.stop_grace = std::chrono::milliseconds(static_cast<int64_t>(o.stop_grace_seconds * 1000));
  t.store = store_options(g, g.max_connections);
  std::string fs_map = o.file_systems;
  if (fs_map.empty()) {
    if (const char* v = std::getenv("SLUICE_FILE_SYSTEMS")) fs_map = v;
  }
  if (!fs_map.empty()) t.file_systems = job::FileSystemMap::load(fs_map);
  if (o.isolation == "bubblewrap") t.isolation = job::Isolation::kBubblewrap;
  else if (o.isolation == "none") t.isolation = job::Isolation::kNone;
  t.num_gpus = o.num_gpus;
  t.max_memory = o.max_memory;
  std::string iam = o.iam_config;
  if (iam.empty()) {
    if (const char* v = std::getenv("SLUICE_IAM_CONFIG")) iam = v;
  }
  if (!iam.empty()) {
    t.iam = std::make_shared<const policy::IamConfig>(policy::load_iam_config(iam));
    t.private_files.push_back(std::filesystem::absolute(iam).string());
    if (!fs_map.empty()) t.private_files.push_back(std::filesystem::absolute(fs_map).string());
  }
  if (!o.session_tags.empty()) {
    if (!t.iam) {
      throw Error(ErrorKind::kInvalidInput, "--session-tag",
                  "session tags only mean something in multi-tenant mode: give the roles and policies with "
                  "--iam-config FILE (or SLUICE_IAM_CONFIG)");
    }
    t.session_tags = policy::parse_session_tags(o.session_tags);
  }
  if (!o.session_file.empty()) {
    if (!t.iam) {
      throw Error(ErrorKind::kInvalidInput, "--session-file " + o.session_file,
                  "a session only means something in multi-tenant mode: give the roles and policies with "
                  "--iam-config FILE (or SLUICE_IAM_CONFIG)");
    }
    t.session_tags = read_session_file(o.session_file);
  }
  for (const auto& b : o.binds) {
    // HOST[:SANDBOX]; the sandbox path starts at the first ':' followed by '/'.
    const size_t colon = b.find(":/");
    const std::string host = b.substr(0, colon);
    if (host.empty()) throw Error(ErrorKind::kInvalidInput, "--bind " + b, "no host path before the ':'");
    std::error_code ec;
    if (!std::filesystem::exists(host, ec)) throw errno_error(ENOENT, "--bind " + b, host);
    job::Bind bind;
    bind.host_path = std::filesystem::absolute(host).lexically_normal().string();
    bind.sandbox_path = colon == std::string::npos ? bind.host_path : b.substr(colon + 1);
    t.binds.push_back(std::move(bind));  // refused by the runner in multi-tenant mode
  }

  if (!o.warm_from.empty()) t.warm_from = std::filesystem::absolute(o.warm_from);
  if (o.replace) t.rerun = job::Rerun::kReplace;
  if (o.resume) t.rerun = job::Rerun::kResume;
  t.install_requirements = o.install_requirements;
  t.host_network = o.host_network;
  if (!o.hosts_file.empty()) {
    std::ifstream in(o.hosts_file);
    if (!in) throw errno_error(errno, "reading --hosts-file", o.hosts_file);
    std::stringstream text;
    text << in.rdbuf();
    t.host_addresses = job::parse_hosts_file(text.str(), o.hosts_file);
    t.hosts_file = o.hosts_file;
    if (t.host_addresses.empty()) throw Error(ErrorKind::kInvalidInput, "--hosts-file " + o.hosts_file, "it names no host");
  }
  // What the terminal shows: the status transitions as they happen (on a terminal), then a summary
  // (or, with --json, the record itself on stdout).
  TrainReporter reporter(::isatty(STDERR_FILENO) == 1);
  t.on_status = [&reporter](const nlohmann::json& record) { reporter.update(record); };

  // Ctrl-C / SIGTERM stop the job the way StopTrainingJob does (SIGTERM, grace, SIGKILL).
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done) {
      if (interrupted() && !stop) {
        fmt::print(stderr, "sluice: stopping the job (SIGTERM to the training command, SIGKILL after {:.0f} s)\n",
                   o.stop_grace_seconds);
        stop = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  int code;
  try {
    code = job::run_training_job(t, &stop);
  } catch (const job::JobFailed& e) {
    code = 1;  // a Failed job (docs/train.md), not a usage error
    if (!reporter.has_record()) fmt::print(stderr, "sluice: error: {}\n", e.what());
  } catch (...) {
    done = true;
    watch.join();
    // A job stopped before training (Ctrl-C while downloading) has its record: shown, then the
    // error's exit code.
    if (reporter.has_record() && reporter.record().value("TrainingJobStatus", "") != "InProgress") {
      if (o.json) {
        fmt::print("{}\n", reporter.record().dump(2));
      } else {
        reporter.summary(std::filesystem::absolute(o.work_dir));
      }
    }
    throw;
  }
  done = true;
  watch.join();
  if (reporter.has_record()) {
    if (o.json) {
      fmt::print("{}\n", reporter.record().dump(2));
    } else {
      reporter.summary(std::filesystem::absolute(o.work_dir));
    }
  }
  return code;
}

}  // namespace sluice::cli
