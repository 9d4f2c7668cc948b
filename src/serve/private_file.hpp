// The server's own files of a job (request, session, credentials, the Slurm batch script): written
// whole, readable only by their owner, never through a link.
#pragma once

#include <filesystem>
#include <string>

#include <sys/types.h>

namespace sluice::serve {

// Writes `text` to `file` (`mode`, 0600 by default) under a temporary name, then renames it over
// any earlier one; a link at either name is never followed.
void write_private(const std::filesystem::path& file, const std::string& text, mode_t mode = 0600);

}  // namespace sluice::serve
