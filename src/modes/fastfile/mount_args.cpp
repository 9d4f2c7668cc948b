// A FastFile mount's libfuse -o option list (mount_args.hpp).
#include "modes/fastfile/mount_args.hpp"

namespace sluice::modes::fastfile {

std::string escape_fuse_option(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == ',' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

std::string fuse_mount_options(const MountOptions& o, unsigned max_read, bool as_root) {
  std::string opts = "ro,default_permissions,subtype=sluice";
  opts += ",max_read=" + std::to_string(max_read);
  if (o.allow_other && as_root) opts += ",allow_other";
  opts += ",fsname=" + escape_fuse_option(o.source.empty() ? "sluice" : o.source);
  return opts;
}

}  // namespace sluice::modes::fastfile
