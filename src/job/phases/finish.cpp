// The finish phase (job_run.hpp): the channels stopped, the verdict, the outputs uploaded.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/beneath.hpp"
#include "core/human_size.hpp"
#include "core/log.hpp"
#include "core/utf8.hpp"
#include "job/outputs.hpp"
#include "job/phases/job_run.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

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

}  // namespace

Verdict decide(const Outcome& outcome) {
  const HostRun* failed = nullptr;
  bool timed_out = false, stopped = false;
  for (const HostRun* host : outcome.hosts) {
    timed_out = timed_out || host->result.timed_out;
    stopped = stopped || host->result.stopped_by_user;
    if (!failed && host->result.exit_code != 0 && !host->result.timed_out && !host->result.stopped_by_user) failed = host;
  }
  Verdict v;
  auto fail = [&v](std::string reason) {
    v.status = v.secondary = "Failed";
    v.reason = std::move(reason);
    v.exit_code = 1;
  };
  if (outcome.denial) {
    fail(client_error(*outcome.denial));
  } else if (outcome.channel_failure) {
    fail("ClientError: " + std::string(outcome.channel_failure->what()));
  } else if (stopped) {
    v.status = v.secondary = "Stopped";
    v.reason = "Stopped by the user";
    v.exit_code = 130;
  } else if (timed_out) {
    v.status = "Stopped";
    v.secondary = "MaxRuntimeExceeded";
    v.reason = fmt::format("MaxRuntimeExceeded: the job ran past MaxRuntimeInSeconds ({} s)", outcome.max_runtime_seconds);
    v.exit_code = 124;
  } else if (failed) {
    std::string reason = failure_text(failed->root);
    fail(reason.empty() ? fmt::format("AlgorithmError: {} ({})", failed->result.how, failed->name) : reason);
  }
  return v;
}

Verdict finish(JobRun& run, StatusRecord& status) {
  Outcome outcome;
  outcome.max_runtime_seconds = run.spec.stopping.max_runtime_seconds;
  // Unmount and stop feeding now that no command reads the channels.
  for (auto& host : run.host_runs) {
    outcome.hosts.push_back(&host);
    for (auto& channel : host.channels) {
      channel->stop();
      if (auto f = channel->failure(); f && !outcome.channel_failure) outcome.channel_failure = f;
    }
  }
  if (run.budget.peak() > 0) {
    log::info("FastFile and Pipe channels held at most {} of their {} memory budget (--max-memory)",
              human_size(static_cast<double>(run.budget.peak())), human_size(static_cast<double>(run.budget.limit())));
  }
  if (run.tenancy) outcome.denial = run.tenancy->first_denial();
  Verdict verdict = decide(outcome);

  // Outputs: after a completed or stopped job (a saved intermediate model is a valid artifact);
  // with --host, only rank 0 uploads, so hosts on other machines do not overwrite each other.
  const bool uploads = verdict.status != "Failed" && (!run.options.host || *run.options.host == run.hosts.front());
  if (!uploads) return verdict;
  status.transition("Uploading", "Uploading generated training model");
  try {
    std::vector<fs::path> roots;
    for (const auto& host : run.host_runs) roots.push_back(host.root);
    auto out = upload_outputs(run.spec, roots, run.job_dir / ".sluice-staging", run.stores.store_for());
    fs::remove_all(run.job_dir / ".sluice-staging");
    status.set_model_artifacts(out.model_artifacts);
    log::info("model artifacts: {}", out.model_artifacts);
  } catch (const Error& e) {
    verdict.status = verdict.secondary = "Failed";
    verdict.reason = client_error(e);
    verdict.exit_code = 1;
  }
  return verdict;
}

}  // namespace sluice::job
