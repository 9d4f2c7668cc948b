// `sluice jobs list|describe|stop|logs` (docs/cli.md "sluice jobs"): training jobs of a
// `sluice serve` (--server URL, or SLUICE_SERVER) or of a work directory (--work-dir, default
// ./sluice-jobs), for people without boto3 or the aws CLI.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/jobs_source.hpp"

namespace sluice::cli {

struct JobsCliOptions {
  std::string server;                   // --server URL (env SLUICE_SERVER); empty: the work directory
  std::string work_dir = "sluice-jobs";  // --work-dir
  std::string name;                     // describe, stop, logs
  JobsQuery query;                      // list: --status, --name-contains, --max
  bool json = false;                    // list, describe: --json
  bool follow = false;                  // logs: --follow
};

// The `jobs` subcommand and its four, as main.cpp adds them (after the global options, so they
// take them too). `options` holds what they parse.
struct JobsCommands {
  std::shared_ptr<JobsCliOptions> options;
  CLI::App* jobs = nullptr;
  CLI::App* list = nullptr;
  CLI::App* describe = nullptr;
  CLI::App* stop = nullptr;
  CLI::App* logs = nullptr;
  bool chosen() const { return jobs != nullptr && jobs->parsed(); }
};
JobsCommands add_jobs_commands(CLI::App& app);

// Runs the chosen one; the exit code (docs/cli.md), or throws sluice::Error.
int run_jobs(const GlobalOptions& g, const JobsCommands& commands);

// The four, on a source, printing to `out` (tests give a memory stream).
int jobs_list(JobsSource& source, const JobsQuery& query, bool json, std::FILE* out);
int jobs_describe(JobsSource& source, const std::string& name, bool json, std::FILE* out);
int jobs_stop(JobsSource& source, const std::string& name, std::FILE* out);
// Prints "[algo-K] text" lines. With `follow`, reads on every `poll` until the job has ended, then
// exits 0 when it Completed and 1 when it Failed or was Stopped (saying so on stderr), as
// `sluice train` does; Ctrl-C is kCancelled.
int jobs_logs(JobsSource& source, const std::string& name, bool follow, std::FILE* out,
              std::chrono::milliseconds poll = std::chrono::seconds(1));

}  // namespace sluice::cli
