// What is mounted where, from /proc/self/mountinfo, and the path form it is compared in. Used by
// the FastFile mount's checks and by `sluice unmount`.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::modes::fastfile {

// `path` absolute, lexically normal, without a trailing '/', with symlinks resolved in its parent
// (not in the last component: it may be a stale mount that cannot be resolved).
std::string normalize_mount_path(const std::filesystem::path& path);

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo: the text unescaped.
std::string unescape_mountinfo(std::string_view s);

struct MountEntry {
  std::string mountpoint;
  std::string fstype;  // e.g. "fuse.sluice"
  std::string source;
  dev_t dev = 0;  // MAJ:MIN, the st_dev of what is mounted (0 when the field does not parse)
};

// One line of /proc/self/mountinfo
// ("ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"),
// unescaped; nullopt for a line with fewer than 7 fields.
std::optional<MountEntry> parse_mountinfo_line(std::string_view line);

// The mount at exactly `path` (normalized), the topmost one when several are stacked there.
std::optional<MountEntry> find_mount(const std::string& path);

}  // namespace sluice::modes::fastfile
