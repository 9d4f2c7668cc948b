// Running fusermount3, the set-uid helper that mounts and unmounts FUSE file systems for a user
// who is not root.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice::modes::fastfile {

// Runs `fusermount3 ARGS...` (looked up in PATH; stdin and stdout /dev/null) and returns its exit
// code (-1 when it could not run or was killed) and its stderr, without trailing newlines.
std::pair<int, std::string> run_fusermount(const std::vector<std::string>& args);

}  // namespace sluice::modes::fastfile
