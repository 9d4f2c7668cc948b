// The libfuse arguments of a FastFile mount: its -o option list, from MountOptions. Pure.
#pragma once

#include <string>
#include <string_view>

#include "modes/fastfile/mount.hpp"

namespace sluice::modes::fastfile {

// Escapes ',' and '\' for a libfuse -o option list.
std::string escape_fuse_option(std::string_view v);

// The -o list: read-only, default_permissions, subtype "sluice", max_read = `max_read`,
// allow_other when asked for and `as_root` (only root may use it without user_allow_other), and
// fsname = the source ("sluice" when empty).
std::string fuse_mount_options(const MountOptions& o, unsigned max_read, bool as_root);

}  // namespace sluice::modes::fastfile
