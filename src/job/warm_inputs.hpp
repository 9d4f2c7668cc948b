// A warm pool's inputs (docs/serve.md, "Warm pools"): the File channels an earlier job downloaded
// on this machine, taken over by the next job of the same owner, so that it downloads only what
// changed. Each channel's directory is renamed into the new job's tree (the files keep their
// device, inode and ctime) and its download record is moved with it, so the new job's download
// verifies every file against its listing exactly as `--resume` does (key, ETag, size, and the
// file's identity): what matches is kept, the rest is fetched or removed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "job/job_dir.hpp"

namespace sluice::job {

// Moves from/<host>/input/data/<channel> to to/<host>/input/data/<channel> (which must be missing
// or empty) for each of `hosts` and `channels`, and rewrites the download record
// from/.sluice-downloads-<host>-<channel> as to/.sluice-downloads-<host>-<channel>. Nothing is moved
// unless `from` was made for `owner` (job_dir.hpp made_for): another session's inputs are never
// taken. Walks with directory handles, following no link. Returns the channels taken over; one
// that cannot be is left (a warning) and downloaded as usual.
size_t adopt_warm_inputs(const std::filesystem::path& from, const std::filesystem::path& to,
                         const std::vector<std::string>& hosts, const std::vector<std::string>& channels,
                         const std::optional<JobOwner>& owner);

}  // namespace sluice::job
