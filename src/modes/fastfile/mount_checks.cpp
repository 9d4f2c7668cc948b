// The checks before a FastFile mount (mount_checks.hpp), and finding out whether a mount is
// already there: live (check_not_mounted) or stale (clean_stale_mount; mount.hpp).
// errno stays inside this file: callers see sluice::Error.
#include "modes/fastfile/mount_checks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/error.hpp"
#include "core/log.hpp"
#include "modes/fastfile/fusermount.hpp"
#include "modes/fastfile/mount.hpp"
#include "modes/fastfile/mountinfo.hpp"

namespace sluice::modes::fastfile {
namespace {

bool is_not_connected(int err) { return err == ENOTCONN || err == ECONNABORTED; }

}  // namespace

void check_mountpoint(const std::string& mp) {
  struct stat st;
  if (::stat(mp.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      throw Error(ErrorKind::kInvalidInput, "mountpoint " + mp + " does not exist",
                  "create an empty directory there first");
    }
    throw errno_error(err, "cannot use mountpoint", mp);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw Error(ErrorKind::kInvalidInput, "mountpoint " + mp + " is not a directory",
                "a FastFile channel is mounted on an empty directory");
  }
  DIR* d = ::opendir(mp.c_str());
  if (d == nullptr) throw errno_error(errno, "cannot read mountpoint", mp);
  std::string first;
  while (dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    first = name;
    break;
  }
  ::closedir(d);
  if (!first.empty()) {
    throw Error(ErrorKind::kInvalidInput, "mountpoint " + mp + " is not empty",
                "it contains '" + first + "'; mount on an empty directory so nothing is hidden");
  }
}

void check_fuse_device(const std::string& mp) {
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  int err = errno;
  if (err == ENOENT || err == ENODEV || err == ENXIO) {
    throw Error(ErrorKind::kIo, "cannot mount a FUSE file system at " + mp,
                "/dev/fuse is missing: load the fuse kernel module (modprobe fuse), or give the container the "
                "device (--device /dev/fuse --cap-add SYS_ADMIN)");
  }
  if (err == EACCES || err == EPERM) {
    throw Error(ErrorKind::kAccessDenied, "cannot mount a FUSE file system at " + mp,
                std::string("cannot open /dev/fuse: ") + std::strerror(err));
  }
  throw Error(ErrorKind::kIo, "cannot mount a FUSE file system at " + mp,
              std::string("cannot open /dev/fuse: ") + std::strerror(err));
}

bool clean_stale_mount(const std::filesystem::path& path) {
  const std::string p = normalize_mount_path(path);
  // stat alone is not enough: the kernel may still answer it from attributes it cached before
  // the daemon died. statfs always asks the daemon.
  struct stat st;
  struct statfs sfs;
  if (::stat(p.c_str(), &st) == 0) {
    if (::statfs(p.c_str(), &sfs) == 0) return false;
    if (!is_not_connected(errno)) return false;
  } else if (!is_not_connected(errno)) {
    return false;
  }
  if (::geteuid() == 0) {
    if (::umount2(p.c_str(), MNT_DETACH) != 0) {
      throw errno_error(errno, "cannot detach the stale FUSE mount at", p);
    }
  } else {
    auto [rc, msg] = run_fusermount({"-u", "-z", p});
    if (rc != 0) {
      throw Error(ErrorKind::kIo, "cannot detach the stale FUSE mount at " + p, msg);
    }
  }
  log::info("fastfile: cleaned up a stale FUSE mount at {} (the process that served it is gone)", p);
  return true;
}

void check_not_mounted(const std::filesystem::path& path) {
  const std::string p = normalize_mount_path(path);
  auto entry = find_mount(p);
  if (!entry || entry->fstype != "fuse.sluice") return;
  char buf[32];
  ssize_t n = ::getxattr(p.c_str(), std::string(kPidAttribute).c_str(), buf, sizeof buf);
  if (n < 0 && is_not_connected(errno)) return;  // stale: its process is gone
  const std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
  throw Error(ErrorKind::kConflict, p + " is already mounted (pid " + pid + ")",
              "`sluice unmount " + p + "` first, or mount on another directory");
}

}  // namespace sluice::modes::fastfile
