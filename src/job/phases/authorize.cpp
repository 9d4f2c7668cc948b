// The authorize phase (job_run.hpp): in multi-tenant mode, what the job will read or write after
// its command has started is decided before anything is prepared. Reads during the resolve and
// prepare phases (listings, File downloads, checkpoint restores) go through the job's authorizing
// stores and are decided one by one as they happen.
#include "job/job_dir.hpp"
#include "job/outputs.hpp"
#include "job/phases/job_run.hpp"

namespace sluice::job {

void authorize(JobRun& run) {
  if (!run.tenancy) return;
  for (const auto& host : run.host_runs) {
    for (const auto& channel : host.channels) {
      for (const auto& address : channel->deferred_reads()) run.tenancy->authorize_read(address);
      if (auto dir = channel->directory()) {
        const auto& ch = *std::find_if(run.spec.channels.begin(), run.spec.channels.end(),
                                       [&](const Channel& c) { return c.name == channel->name(); });
        run.tenancy->authorize_file_system(ch, dir->real, run.options.file_systems);
      }
    }
  }
  const std::string out = output_prefix_uri(run.spec);
  const bool archives = run.spec.output.compression != OutputCompression::kNone;
  run.tenancy->authorize_write(store::parse_address(out + (archives ? "model.tar.gz" : "model/")));
}

}  // namespace sluice::job
