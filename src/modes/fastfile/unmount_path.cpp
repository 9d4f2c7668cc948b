// `sluice unmount PATH`: unmounting a FUSE mount from outside the process serving it
// (unmount_path in mount.hpp). errno stays inside this file: callers see sluice::Error.
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/log.hpp"
#include "modes/fastfile/fusermount.hpp"
#include "modes/fastfile/mount.hpp"
#include "modes/fastfile/mountinfo.hpp"

namespace sluice::modes::fastfile {

void unmount_path(const std::filesystem::path& path) {
  const std::string p = normalize_mount_path(path);
  auto entry = find_mount(p);
  if (!entry) {
    throw Error(ErrorKind::kInvalidInput, p + " is not a mount point", "nothing is mounted there");
  }
  if (entry->fstype != "fuse" && !entry->fstype.starts_with("fuse.")) {
    throw Error(ErrorKind::kInvalidInput, p + " is not a FUSE mount",
                "it is a " + entry->fstype + " mount; not unmounting it");
  }
  const std::string busy_hint = "files are open; close them or use `umount -l`";
  if (::geteuid() != 0) {
    auto [rc, msg] = run_fusermount({"-u", p});
    if (rc == 0) return;
    if (msg.find("busy") != std::string::npos) throw Error(ErrorKind::kConflict, p + " is busy: " + busy_hint, msg);
    throw Error(ErrorKind::kIo, "cannot unmount " + p, msg);
  }
  if (::umount2(p.c_str(), 0) == 0) {
    log::info("fastfile: unmounted {}", p);
    return;
  }
  int err = errno;
  switch (err) {
    case EBUSY:
      throw Error(ErrorKind::kConflict, p + " is busy: " + busy_hint);
    case EINVAL:
      throw Error(ErrorKind::kInvalidInput, p + " is not a mount point", "nothing is mounted there");
    case EPERM:
    case EACCES:
      throw Error(ErrorKind::kAccessDenied, "cannot unmount " + p, std::strerror(err));
    default:
      throw errno_error(err, "cannot unmount", p);
  }
}

}  // namespace sluice::modes::fastfile
