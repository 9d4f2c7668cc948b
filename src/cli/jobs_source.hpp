// Where `sluice jobs` reads training jobs from (docs/cli.md "sluice jobs"): a `sluice serve`
// (the SageMaker and CloudWatch Logs APIs, signed with the caller's credentials), or a work
// directory read directly (`<work-dir>/<job>/status.json` and `<work-dir>/<job>/logs/algo-K.log`,
// as `sluice train` writes them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"

namespace sluice::cli {

// ListTrainingJobs' filters.
struct JobsQuery {
  std::optional<std::string> status_equals;  // InProgress, Completed, Failed, Stopping, Stopped
  std::optional<std::string> name_contains;  // case-insensitive
  int max = 0;                               // at most this many jobs; 0: all
};

// One line a training command wrote, as `sluice jobs logs` prints it: "[<host>] <text>".
struct JobLogLine {
  std::int64_t timestamp_ms = 0;
  std::string host;  // "algo-K"
  std::string text;
};

class JobsSource {
 public:
  virtual ~JobsSource() = default;
  // {"TrainingJobSummaries": [...]}, newest first (ListTrainingJobs' shape; times as the source
  // has them: seconds since the epoch from a server, ISO 8601 from a work directory).
  virtual nlohmann::json list(const JobsQuery& query) = 0;
  // The DescribeTrainingJob-shaped record. kNotFound for a job that does not exist.
  virtual nlohmann::json describe(const std::string& name) = 0;
  virtual void stop(const std::string& name) = 0;
  // The lines of the job's hosts written since the previous call (from the start on the first),
  // in time order; at most about a page (10000 lines or 1 MiB) per host per call, so a caller
  // that wants everything calls again until it gets none.
  virtual std::vector<JobLogLine> read_logs(const std::string& name) = 0;
  // Where the jobs are, for messages: the server's URL or the work directory.
  virtual std::string where() const = 0;
};

// A `sluice serve` at `url`, with the credentials and region of the global options (--profile,
// --region over the environment, as the AWS CLI resolves them).
std::unique_ptr<JobsSource> server_jobs(const GlobalOptions& g, const std::string& url);

// The jobs of a work directory. Stopping one is refused (kInvalidInput): only a server, or the
// `sluice train` that runs it, can stop a job.
std::unique_ptr<JobsSource> local_jobs(const std::string& work_dir);

// Whether `name` is a SageMaker training job name: [A-Za-z0-9] with single or repeated '-' inside,
// 1 to 63 characters.
bool valid_job_name(const std::string& name);

// Whether a TrainingJobStatus is one a job ends in (Completed, Failed, Stopped).
bool job_ended(const std::string& status);

}  // namespace sluice::cli
