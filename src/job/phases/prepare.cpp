// The prepare phase (job_run.hpp): the local disk first, then every channel of every host.
#include <fmt/core.h>
#include <sys/statvfs.h>

#include <chrono>

#include "core/human_size.hpp"
#include "core/log.hpp"
#include "job/phases/job_run.hpp"

namespace sluice::job {
namespace {

// Every File channel's missing bytes must fit on the job directory's file system, before one is
// written: a download that fills the disk halfway helps nobody.
void check_space(const JobRun& run) {
  uint64_t needed = 0;
  std::string detail;
  for (const auto& host : run.host_runs) {
    for (const auto& channel : host.channels) {
      if (!channel->downloads()) continue;
      const uint64_t missing = channel->bytes_to_write();
      needed += missing;
      detail += fmt::format("{}channel '{}' of {}: {}", detail.empty() ? "" : ", ", channel->name(), host.name,
                            human_size(static_cast<double>(missing)));
    }
  }
  struct statvfs vfs;
  if (needed == 0 || ::statvfs(run.job_dir.c_str(), &vfs) != 0) return;
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (needed > free_bytes) {
    throw Error(ErrorKind::kNoSpace, "not enough disk space for the File mode channels",
                fmt::format("they need {} ({}) but {} has {} free", human_size(static_cast<double>(needed)), detail,
                            run.job_dir.string(), human_size(static_cast<double>(free_bytes))));
  }
}

}  // namespace

PrepareTotals prepare(JobRun& run, const std::atomic<bool>* stop) {
  check_space(run);
  const auto start = std::chrono::steady_clock::now();
  PrepareTotals totals;
  for (auto& host : run.host_runs) {
    for (auto& channel : host.channels) {
      channel->prepare(stop);
      const auto stats = channel->stats();
      if (channel->downloads()) {
        totals.files += stats.files;
        totals.bytes += stats.bytes;
        totals.present_files += stats.present_files;
      }
      if (!channel->directory()) log::info("[{}] channel '{}': {}", host.name, channel->name(), channel->describe());
    }
    if (host.checkpoints) {
      if (size_t n = host.checkpoints->restore()) log::info("[{}] restored {} checkpoint files", host.name, n);
    }
  }
  totals.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return totals;
}

}  // namespace sluice::job
