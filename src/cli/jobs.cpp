#include "cli/jobs.hpp"

#include <fmt/core.h>

#include <thread>

#include "cli/jobs_format.hpp"
#include "core/error.hpp"

namespace sluice::cli {
namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void check_name(const std::string& name) {
  if (!valid_job_name(name)) {
    throw Error(ErrorKind::kInvalidInput, "training job name '" + name + "'",
                "expected 1 to 63 letters, digits and '-' inside, as SageMaker names jobs");
  }
}

void print(std::FILE* out, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

// Sleeps `d`, waking every 100 ms to see whether Ctrl-C was pressed.
void sleep_watching(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (interrupted()) throw Error(ErrorKind::kCancelled, "following the logs", "interrupted");
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(100)));
  }
}

}  // namespace

JobsCommands add_jobs_commands(CLI::App& app) {
  JobsCommands c;
  c.options = std::make_shared<JobsCliOptions>();
  JobsCliOptions& o = *c.options;
  c.jobs = app.add_subcommand("jobs", "list, describe, stop and read the logs of training jobs of a `sluice serve` "
                                      "(--server) or of a work directory");
  c.jobs->require_subcommand(1);
  c.jobs->add_option("--server", o.server, "URL of the `sluice serve` to ask, e.g. http://127.0.0.1:8080 (env "
                                           "SLUICE_SERVER; none: read --work-dir directly)")
      ->envname("SLUICE_SERVER");
  c.jobs->add_option("--work-dir", o.work_dir, "without --server: where jobs live (default ./sluice-jobs)");

  c.list = c.jobs->add_subcommand("list", "list training jobs, newest first");
  c.list->add_option("--status", o.query.status_equals, "only jobs in this status")
      ->transform(CLI::IsMember({"InProgress", "Completed", "Failed", "Stopping", "Stopped"}, CLI::ignore_case));
  c.list->add_option("--name-contains", o.query.name_contains, "only jobs whose name contains this (any case)");
  c.list->add_option("--max", o.query.max, "at most this many jobs")->check(CLI::Range(1, 1'000'000));
  c.list->add_flag("--json", o.json, "print ListTrainingJobs' JSON");

  c.describe = c.jobs->add_subcommand("describe", "show a training job");
  c.describe->add_option("name", o.name, "TrainingJobName")->required();
  c.describe->add_flag("--json", o.json, "print DescribeTrainingJob's JSON");

  c.stop = c.jobs->add_subcommand("stop", "stop a training job (needs --server)");
  c.stop->add_option("name", o.name, "TrainingJobName")->required();

  c.logs = c.jobs->add_subcommand("logs", "print a training job's output, \"[algo-K] line\"");
  c.logs->add_option("name", o.name, "TrainingJobName")->required();
  c.logs->add_flag("-f,--follow", o.follow, "keep printing new lines until the job ends");
  return c;
}

int run_jobs(const GlobalOptions& g, const JobsCommands& c) {
  const JobsCliOptions& o = *c.options;
  const bool named = c.describe->parsed() || c.stop->parsed() || c.logs->parsed();
  if (named) check_name(o.name);
  std::unique_ptr<JobsSource> source = o.server.empty() ? local_jobs(o.work_dir) : server_jobs(g, o.server);
  if (c.list->parsed()) return jobs_list(*source, o.query, o.json, stdout);
  if (c.describe->parsed()) return jobs_describe(*source, o.name, o.json, stdout);
  if (c.stop->parsed()) return jobs_stop(*source, o.name, stdout);
  return jobs_logs(*source, o.name, o.follow, stdout);
}

int jobs_list(JobsSource& source, const JobsQuery& query, bool json, std::FILE* out) {
  const nlohmann::json page = source.list(query);
  if (json) {
    print(out, page.dump(2) + "\n");
    return 0;
  }
  const nlohmann::json& jobs = page["TrainingJobSummaries"];
  if (jobs.empty()) {
    fmt::print(stderr, "sluice jobs: no training jobs{} in {}\n", query.status_equals || query.name_contains ? " match" : "",
               source.where());
    return 0;
  }
  print(out, jobs_table(jobs));
  return 0;
}

int jobs_describe(JobsSource& source, const std::string& name, bool json, std::FILE* out) {
  const nlohmann::json record = source.describe(name);
  print(out, json ? record.dump(2) + "\n" : job_text(record));
  return 0;
}

int jobs_stop(JobsSource& source, const std::string& name, std::FILE* out) {
  source.stop(name);
  const nlohmann::json record = source.describe(name);
  print(out, fmt::format("Training job '{}': {}\n", name, text_of(record, "TrainingJobStatus")));
  return 0;
}

int jobs_logs(JobsSource& source, const std::string& name, bool follow, std::FILE* out,
              std::chrono::milliseconds poll) {
  auto drain = [&] {
    for (;;) {
      const std::vector<JobLogLine> lines = source.read_logs(name);
      if (lines.empty()) return;
      std::string text;
      for (const auto& l : lines) text += fmt::format("[{}] {}\n", l.host, l.text);
      print(out, text);
    }
  };
  nlohmann::json record = source.describe(name);  // the job exists, and the caller may see it
  if (!follow) {
    drain();
    return 0;
  }
  for (;;) {
    const std::string status = text_of(record, "TrainingJobStatus");
    drain();  // after the status was read: a job seen ended has written everything by then
    if (job_ended(status)) {
      if (status == "Completed") return 0;
      const std::string reason = text_of(record, "FailureReason");
      fmt::print(stderr, "sluice jobs: training job '{}' {}{}\n", name, status == "Failed" ? "failed" : "was stopped",
                 reason.empty() ? "" : ": " + reason);
      return 1;
    }
    sleep_watching(poll);
    record = source.describe(name);
  }
}

}  // namespace sluice::cli
