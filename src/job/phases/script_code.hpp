// Script mode (job/script_mode.hpp) during the resolve phase: the job's source fetched once, and
// unpacked into each host's /opt/ml/code.
#pragma once

#include <filesystem>
#include <optional>

#include "job/phases/job_run.hpp"

namespace sluice::job {

// The source of the job's code: an s3:// object is downloaded into the job directory, outside
// every host's tree (authorized first in multi-tenant mode); a local path is used as it is.
std::filesystem::path fetch_script_source(JobRun& run);

// The job's code in the host's /opt/ml/code, and how its entry point runs. What an archive may
// unpack is bounded: half the free space of the job directory, shared by `hosts`, at most 4 GiB
// each (it is written by root, past any quota).
EntryPoint install_script(const ScriptMode& script, const std::optional<std::filesystem::path>& source,
                          const std::filesystem::path& root, size_t hosts);

}  // namespace sluice::job
