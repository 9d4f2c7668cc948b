// What a FastFile mount checks before it mounts, each failure an Error that says what to do: the
// mountpoint (an existing, empty directory) and /dev/fuse. check_not_mounted() and
// clean_stale_mount() (mount.hpp) are in mount_checks.cpp too.
#pragma once

#include <string>

namespace sluice::modes::fastfile {

// Throws Error(kInvalidInput) when `mp` does not exist, is not a directory or is not empty
// (naming its first entry).
void check_mountpoint(const std::string& mp);

// Throws Error when /dev/fuse cannot be opened: missing (kIo, how to get it), not allowed
// (kAccessDenied), or another reason (kIo).
void check_fuse_device(const std::string& mp);

}  // namespace sluice::modes::fastfile
