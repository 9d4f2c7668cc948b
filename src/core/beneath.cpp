#include "core/beneath.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/error.hpp"

namespace sluice::beneath {
namespace {

std::string joined(std::string_view shown, std::string_view rel) {
  std::string out(shown);
  if (!rel.empty() && rel != ".") {
    if (!out.empty() && out.back() != '/') out += '/';
    out += rel;
  }
  return out;
}

// The components of `rel`; false for an absolute path or "..", which would leave the tree.
bool split(std::string_view rel, std::vector<std::string>& parts) {
  if (!rel.empty() && rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = std::min(rel.find('/', start), rel.size());
    std::string_view part = rel.substr(start, end - start);
    if (part == "..") return false;
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return true;
}

// openat of the directory `name` in `at` with O_NOFOLLOW. A link there fails with ELOOP: the
// kernel reports ENOTDIR for a link opened O_DIRECTORY | O_NOFOLLOW (the O_DIRECTORY check comes
// first), which would hide that a link is in the way.
int open_dir_nofollow(int at, const char* name) {
  int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOTDIR) {
    struct stat st;
    if (::fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) errno = ELOOP;
    else errno = ENOTDIR;
  }
  return fd;
}

// One component at a time with O_NOFOLLOW (kernels before 5.6).
int open_by_components(int dir, const std::vector<std::string>& parts, int flags, mode_t mode) {
  if (parts.empty()) return ::openat(dir, ".", flags, mode);
  UniqueFd current;
  int at = dir;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int fd = open_dir_nofollow(at, parts[i].c_str());
    if (fd < 0) return -1;
    current.reset(fd);
    at = fd;
  }
  return ::openat(at, parts.back().c_str(), flags | O_NOFOLLOW, mode);
}

}  // namespace

UniqueFd open_root(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw errno_error(errno, "opening the directory", path);
  return fd;
}

int open_at(int dir, std::string_view rel, int flags, mode_t mode) {
  std::vector<std::string> parts;
  if (!split(rel, parts)) {
    errno = EXDEV;
    return -1;
  }
  flags |= O_CLOEXEC;
  std::string clean;
  for (const auto& p : parts) clean += (clean.empty() ? "" : "/") + p;
  if (clean.empty()) clean = ".";
#ifdef SYS_openat2
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir, clean.c_str(), &how, sizeof how);
  // ENOSYS: a kernel before 5.6; EPERM: a seccomp filter that refuses openat2 (older container
  // profiles). The fallback below is just as strict.
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return static_cast<int>(fd);
#endif
  return open_by_components(dir, parts, flags, mode);
}

UniqueFd open_or_throw(int dir, std::string_view rel, int flags, mode_t mode, std::string_view what,
                       std::string_view shown) {
  int fd = open_at(dir, rel, flags, mode);
  if (fd < 0) {
    int err = errno;
    std::string why = err == ELOOP ? std::string(what) + " (a symbolic link is in the way; links are never followed here)"
                                   : std::string(what);
    throw errno_error(err, why, joined(shown, rel));
  }
  return UniqueFd(fd);
}

UniqueFd make_dirs(int dir, std::string_view rel, mode_t mode, std::string_view shown) {
  std::vector<std::string> parts;
  if (!split(rel, parts)) throw errno_error(EXDEV, "creating the directory", joined(shown, rel));
  UniqueFd current(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!current) throw errno_error(errno, "opening the directory", shown);
  std::string done(shown);
  for (const auto& part : parts) {
    done = joined(done, part);
    if (::mkdirat(current.get(), part.c_str(), mode) != 0 && errno != EEXIST) {
      throw errno_error(errno, "creating the directory", done);
    }
    int fd = open_dir_nofollow(current.get(), part.c_str());
    if (fd < 0) {
      int err = errno;
      throw errno_error(err, err == ELOOP ? "entering the directory (it is a symbolic link, never followed here)"
                                          : "entering the directory",
                        done);
    }
    current.reset(fd);
  }
  return current;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

namespace {

void walk_dir(int dir, const std::string& prefix, std::string_view shown,
              const std::function<bool(const Entry&)>& visit) {
  int dup = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) throw errno_error(errno, "reading the directory", joined(shown, prefix));
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int err = errno;
    ::close(dup);
    throw errno_error(err, "reading the directory", joined(shown, prefix));
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) throw errno_error(err, "reading the directory", joined(shown, prefix));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    Entry entry;
    entry.rel = prefix.empty() ? name : prefix + "/" + name;
    if (::fstatat(dir, name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    if (!visit(entry) || !S_ISDIR(entry.st.st_mode)) continue;
    UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) continue;  // swapped for a link (ELOOP) or removed since it was listed
    walk_dir(sub.get(), entry.rel, shown, visit);
  }
}

}  // namespace

void walk(int dir, std::string_view shown, const std::function<bool(const Entry&)>& visit) {
  walk_dir(dir, "", shown, visit);
}

}  // namespace sluice::beneath
