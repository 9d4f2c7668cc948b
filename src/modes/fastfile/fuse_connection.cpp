// The kernel side of a FastFile mount: read-ahead through sysfs, aborting through fusectl
// (fuse_connection.hpp). errno stays inside this file.
#include "modes/fastfile/fuse_connection.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"

namespace sluice::modes::fastfile {

void raise_read_ahead(dev_t dev, uint32_t kb, const std::string& mp) {
  if (kb == 0) return;
  std::string path = fmt::format("/sys/class/bdi/{}:{}/read_ahead_kb", major(dev), minor(dev));
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    log::debug("fastfile: cannot raise the read-ahead of {}: open {}: {}", mp, path, std::strerror(errno));
    return;
  }
  std::string v = std::to_string(kb);
  ssize_t n = ::write(fd, v.data(), v.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(v.size())) {
    log::debug("fastfile: cannot raise the read-ahead of {}: write {}: {}", mp, path, std::strerror(err));
    return;
  }
  log::debug("fastfile: read-ahead of {} set to {} KiB ({})", mp, kb, path);
}

bool abort_connection(dev_t dev) {
  constexpr const char* kFusectl = "/sys/fs/fuse/connections";
  constexpr long kFusectlMagic = 0x65735543;
  // fusectl names a connection by the kernel's dev_t: (major << 20) | minor.
  unsigned long id = (static_cast<unsigned long>(major(dev)) << 20) | minor(dev);
  std::string path = fmt::format("{}/{}/abort", kFusectl, id);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && ::geteuid() == 0) {
    struct statfs s;
    if (::statfs(kFusectl, &s) == 0 && static_cast<long>(s.f_type) != kFusectlMagic) {
      if (::mount("fusectl", kFusectl, "fusectl", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
        log::debug("fastfile: mounted fusectl at {}", kFusectl);
      } else {
        log::debug("fastfile: cannot mount fusectl at {}: {}", kFusectl, std::strerror(errno));
      }
    }
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    log::debug("fastfile: cannot open {}: {}", path, std::strerror(errno));
    return false;
  }
  bool ok = ::write(fd, "1", 1) == 1;
  ::close(fd);
  return ok;
}

}  // namespace sluice::modes::fastfile
