#include "core/beneath.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
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

bool too_sparse(const struct stat& st) {
  constexpr uint64_t kRatio = 64, kSlack = uint64_t{1} << 20;
  const uint64_t size = static_cast<uint64_t>(st.st_size), blocks = static_cast<uint64_t>(st.st_blocks);
  if (size <= kSlack) return false;
  if (blocks > (UINT64_MAX - kSlack) / 512 / kRatio) return false;  // size > ratio * blocks * 512 + slack, no overflow
  return size - kSlack > blocks * 512 * kRatio;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

namespace {

// The names in the directory open as `fd` (not "." or ".."), read with getdents64 from that very
// descriptor: no second descriptor per level, so a walk holds one per directory level and no more.
// `fd` must be a fresh open (offset 0). Throws errno_error naming `path`.
std::vector<std::string> list_names(int fd, const std::string& path) {
  std::vector<std::string> names;
  std::vector<char> buf(32768);
  for (;;) {
    ssize_t n = ::getdents64(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errno_error(errno, "reading the directory", path);
    }
    if (n == 0) break;
    for (size_t at = 0; at < static_cast<size_t>(n);) {
      unsigned short reclen;
      std::memcpy(&reclen, buf.data() + at + offsetof(struct dirent64, d_reclen), sizeof reclen);
      if (reclen <= offsetof(struct dirent64, d_name) || at + reclen > static_cast<size_t>(n)) {
        throw errno_error(EIO, "reading the directory", path);  // not a record the kernel writes
      }
      const char* name = buf.data() + at + offsetof(struct dirent64, d_name);
      std::string_view v(name, ::strnlen(name, reclen - offsetof(struct dirent64, d_name)));
      if (v != "." && v != "..") names.emplace_back(v);
      at += reclen;
    }
  }
  return names;
}

// Lists the directory open as `fd` (`prefix` below the walked one, `depth` levels down) and enters
// its subdirectories. Only a race with the tree's writer is skipped quietly: an entry removed
// since it was listed (ENOENT), or a directory swapped for a link or a non-directory (ELOOP,
// ENOTDIR). Any other failure (EMFILE, ENOMEM, EACCES, EIO...) throws: a walk that feeds an
// archive or an upload must not lose files silently.
void walk_dir(int fd, const std::string& prefix, int depth, std::string_view shown,
              const std::function<bool(const Entry&)>& visit) {
  std::vector<std::string> names = list_names(fd, joined(shown, prefix));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    Entry entry;
    entry.rel = prefix.empty() ? name : prefix + "/" + name;
    if (::fstatat(fd, name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since it was listed
      throw errno_error(errno, "reading", joined(shown, entry.rel));
    }
    if (!visit(entry) || !S_ISDIR(entry.st.st_mode)) continue;
    if (depth >= kMaxWalkDepth) {
      throw Error(ErrorKind::kInvalidInput,
                  joined(shown, entry.rel) + " is more than " + std::to_string(kMaxWalkDepth) + " directories deep",
                  "deeper trees are refused");
    }
    UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      // ENOTDIR is also what a link gives with O_DIRECTORY | O_NOFOLLOW.
      if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;  // swapped or removed meanwhile
      throw errno_error(errno, "entering the directory", joined(shown, entry.rel));
    }
    walk_dir(sub.get(), entry.rel, depth + 1, shown, visit);
  }
}

// Empties the directory `fd` (shown as `where`), depth levels below the one remove_tree started at.
void empty_dir(int fd, const std::string& where, int depth) {
  for (const auto& name : list_names(fd, where)) {
    const std::string path = where + "/" + name;
    struct stat st;
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      throw errno_error(errno, "removing", path);
    }
    if (S_ISDIR(st.st_mode)) {
      if (depth >= kMaxWalkDepth) {
        throw Error(ErrorKind::kInvalidInput, path + " is more than " + std::to_string(kMaxWalkDepth) + " directories deep",
                    "deeper trees are refused");
      }
      UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) {
        empty_dir(sub.get(), path, depth + 1);
      } else if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR) {
        throw errno_error(errno, "removing", path);
      }
    }
    if (::unlinkat(fd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      // Swapped for a link or a file since it was listed: remove what is there now, as a link or a file.
      if ((errno == ENOTDIR || errno == EISDIR) &&
          ::unlinkat(fd, name.c_str(), S_ISDIR(st.st_mode) ? 0 : AT_REMOVEDIR) == 0) {
        continue;
      }
      throw errno_error(errno, "removing", path);
    }
  }
}

}  // namespace

void remove_tree(int dir, std::string_view rel, std::string_view shown) {
  std::string path(rel);
  while (!path.empty() && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string where = joined(shown, path);
  if (name.empty() || name == "." || name == "..") {
    throw Error(ErrorKind::kInvalidInput, "removing " + where, "not a name below the directory");
  }
  UniqueFd at(open_at(dir, parent, O_RDONLY | O_DIRECTORY));
  if (!at) {
    if (errno == ENOENT) return;
    throw errno_error(errno, "removing", where);
  }
  struct stat st;
  if (::fstatat(at.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw errno_error(errno, "removing", where);
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd sub(::openat(at.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) throw errno_error(errno, "removing", where);
    empty_dir(sub.get(), where, 1);
  }
  if (::unlinkat(at.get(), name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
    throw errno_error(errno, "removing", where);
  }
}

void walk(int dir, std::string_view shown, const std::function<bool(const Entry&)>& visit) {
  // A descriptor of its own: reading the directory moves the offset of the open file.
  UniqueFd self(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!self) throw errno_error(errno, "reading the directory", shown);
  walk_dir(self.get(), "", 0, shown, visit);
}

}  // namespace sluice::beneath
