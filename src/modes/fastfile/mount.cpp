// The FastFile mount's lifecycle: checks, libfuse session, worker threads, kernel read-ahead,
// unmount (ours or from outside), stale-mount cleanup. The operations are in fuse_ops.cpp.
// errno stays inside this file: callers see sluice::Error.
#include "modes/fastfile/mount.hpp"

#include "modes/fastfile/fuse_ops.hpp"  // first of the FUSE includes: it sets FUSE_USE_VERSION

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

extern char** environ;

namespace sluice::modes::fastfile {
namespace {

namespace fs = std::filesystem;

constexpr auto kInitTimeout = std::chrono::seconds(30);

// ------------------------------------------------------------------------------------------------
// libfuse's messages go to our log; while a thread mounts, they are also collected for its Error.

thread_local std::string* t_capture = nullptr;

void fuse_log_to_spdlog(enum fuse_log_level level, const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return;
  if (t_capture != nullptr) {
    if (!t_capture->empty()) t_capture->append("; ");
    t_capture->append(s);
    log::debug("libfuse: {}", s);
    return;
  }
  if (level <= FUSE_LOG_WARNING) {
    log::warn("libfuse: {}", s);
  } else {
    log::debug("libfuse: {}", s);
  }
}

void route_fuse_log() {
  static std::once_flag once;
  std::call_once(once, [] { fuse_set_log_func(fuse_log_to_spdlog); });
}

class CaptureFuseLog {
 public:
  CaptureFuseLog() { t_capture = &text_; }
  ~CaptureFuseLog() { t_capture = nullptr; }
  CaptureFuseLog(const CaptureFuseLog&) = delete;
  CaptureFuseLog& operator=(const CaptureFuseLog&) = delete;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// ------------------------------------------------------------------------------------------------
// Paths and mount points

// Absolute, normalised, no trailing '/', symlinks resolved in the parent (not in the last
// component: it may be a stale mount that cannot be resolved).
std::string normalize(const fs::path& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.has_parent_path() && p.filename().empty()) p = p.parent_path();
  if (p.has_parent_path() && p != p.root_path()) {
    std::error_code ec;
    fs::path parent = fs::canonical(p.parent_path(), ec);
    if (!ec) p = parent / p.filename();
  }
  return p.string();
}

bool is_not_connected(int err) { return err == ENOTCONN || err == ECONNABORTED; }

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto oct = [&](size_t j) { return s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && i + 3 < s.size() && oct(i + 1) && oct(i + 2) && oct(i + 3)) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct MountEntry {
  std::string fstype;
  std::string source;
};

// The mount at exactly `path` (the topmost one when several are stacked there).
std::optional<MountEntry> find_mount(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::optional<MountEntry> found;
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
    std::vector<std::string_view> f;
    std::string_view rest(line);
    while (!rest.empty()) {
      size_t sp = rest.find(' ');
      f.push_back(rest.substr(0, sp));
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
    if (f.size() < 7 || unescape_mountinfo(f[4]) != path) continue;
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    MountEntry e;
    if (dash + 1 < f.size()) e.fstype = std::string(f[dash + 1]);
    if (dash + 2 < f.size()) e.source = unescape_mountinfo(f[dash + 2]);
    found = e;
  }
  return found;
}

// Runs fusermount3 with `args` (for when we are not root); returns its exit code and stderr.
std::pair<int, std::string> run_fusermount(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"fusermount3"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> av;
  for (auto& a : argv) av.push_back(a.data());
  av.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {-1, std::strerror(errno)};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, "fusermount3", &fa, nullptr, av.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return {-1, std::string("cannot run fusermount3: ") + std::strerror(rc)};
  }
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    err.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, err};
}

// Escapes ',' and '\' for a libfuse -o option list.
std::string escape_option(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == ',' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

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

// The kernel read-ahead of the mount's bdi ("0:N" for a FUSE mount).
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

// Ends the FUSE connection through the fusectl file system (mounting it where systemd would,
// when it is not mounted and we are root). Open files of the mount then fail with ENOTCONN.
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

}  // namespace

// ------------------------------------------------------------------------------------------------

struct Mount::Impl {
  Impl(const Namespace& ns, Reader& reader, MountOptions o) : ctx(ns, reader, o) {}
  ~Impl() { unmount(); }

  void start();
  void run_loop();
  void detach_kernel_mount();
  void unmount();
  void wait();

  detail::FuseContext ctx;
  fs::path mountpoint;
  std::string mp;  // mountpoint, as a string for the C calls
  fuse_session* se = nullptr;
  bool mounted = false;  // fuse_session_mount succeeded
  std::thread loop;
  bool loop_done = false;  // guarded by ctx.mu
  int loop_rc = 0;         // guarded by ctx.mu
  dev_t dev = 0;           // the mount's device (its bdi and fusectl connection)
  std::mutex unmount_mu;
};

void Mount::Impl::start() {
  const MountOptions& o = ctx.options;
  mp = normalize(o.mountpoint);
  mountpoint = mp;
  clean_stale_mount(mp);
  check_not_mounted(mp);
  check_mountpoint(mp);
  check_fuse_device(mp);
  route_fuse_log();

  struct stat parent_st;
  if (::stat(mountpoint.parent_path().c_str(), &parent_st) != 0) {
    throw errno_error(errno, "cannot stat the parent of mountpoint", mp);
  }

  std::string opts = "ro,default_permissions,subtype=sluice";
  opts += ",max_read=" + std::to_string(detail::kMaxRead);
  if (o.allow_other && ::geteuid() == 0) opts += ",allow_other";
  opts += ",fsname=" + escape_option(o.source.empty() ? "sluice" : o.source);
  std::vector<std::string> argv_s{"sluice", "-o", opts};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv_s.size()), argv.data());

  {
    CaptureFuseLog capture;
    se = fuse_session_new(&args, &detail::lowlevel_ops(), sizeof(fuse_lowlevel_ops), &ctx);
    fuse_opt_free_args(&args);
    if (se == nullptr) {
      throw Error(ErrorKind::kInternal, "cannot create a FUSE session for " + mp,
                  capture.text().empty() ? "fuse_session_new failed" : capture.text());
    }
    if (fuse_session_mount(se, mp.c_str()) != 0) {
      std::string why = capture.text().empty() ? "the kernel refused the mount" : capture.text();
      ErrorKind kind = why.find("ermission") != std::string::npos || why.find("not permitted") != std::string::npos
                           ? ErrorKind::kAccessDenied
                           : ErrorKind::kIo;
      throw Error(kind, "cannot mount a FUSE file system at " + mp, why);
    }
  }
  mounted = true;

  loop = std::thread([this] { run_loop(); });

  {
    std::unique_lock lock(ctx.mu);
    if (!ctx.cv.wait_for(lock, kInitTimeout, [&] { return ctx.initialized || loop_done; })) {
      lock.unlock();
      throw Error(ErrorKind::kIo, "cannot mount a FUSE file system at " + mp,
                  "the kernel did not complete the FUSE handshake in 30 s");
    }
    if (!ctx.initialized) {
      int rc = loop_rc;
      lock.unlock();
      throw Error(ErrorKind::kIo, "cannot mount a FUSE file system at " + mp,
                  "the FUSE session ended during the handshake (" + std::string(std::strerror(rc < 0 ? -rc : EIO)) +
                      ")");
    }
  }

  // Served by the loop (the kernel queues it behind INIT): the mount answers once this returns.
  struct stat st;
  if (::stat(mp.c_str(), &st) != 0) {
    throw errno_error(errno, "the new FUSE mount does not answer at", mp);
  }
  if (st.st_dev == parent_st.st_dev) {
    throw Error(ErrorKind::kInternal, "cannot mount a FUSE file system at " + mp,
                "the mount does not show at the mountpoint");
  }
  dev = st.st_dev;
  raise_read_ahead(dev, o.read_ahead_kb, mp);
  log::info("fastfile: mounted {} at {} ({} files, {} bytes{})", o.source, mp, ctx.ns.file_count(),
            ctx.ns.total_bytes(), o.direct_io ? ", direct I/O" : "");
}

void Mount::Impl::run_loop() {
  fuse_loop_config* cfg = fuse_loop_cfg_create();
  int rc;
  if (cfg == nullptr) {
    rc = -ENOMEM;
  } else {
    const unsigned max_threads = static_cast<unsigned>(std::max(1, ctx.options.max_threads));
    fuse_loop_cfg_set_clone_fd(cfg, 1);  // one /dev/fuse file per worker thread
    fuse_loop_cfg_set_max_threads(cfg, max_threads);
    // Workers are kept once started: with clone_fd each one opens its own /dev/fuse, and libfuse
    // itself discourages destroying idle workers.
    fuse_loop_cfg_set_idle_threads(cfg, max_threads);
    rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
  }
  if (rc != 0) log::debug("fastfile: the FUSE loop for {} ended with {}", mp, rc);
  std::lock_guard lock(ctx.mu);
  loop_done = true;
  loop_rc = rc;
  ctx.cv.notify_all();
}

// Takes the mount away from the kernel while the loop still serves (so nothing a umount might
// ask goes unanswered); the kernel then ends the connection and the loop returns.
void Mount::Impl::detach_kernel_mount() {
  if (::geteuid() != 0) {
    auto [rc, err] = run_fusermount({"-u", mp});
    if (rc == 0) return;
    log::warn("fastfile: {} is busy ({}); detaching it lazily, the mount ends when its files are closed", mp, err);
    auto [rc2, err2] = run_fusermount({"-u", "-z", mp});
    if (rc2 != 0) log::warn("fastfile: cannot unmount {}: {}", mp, err2);
    return;
  }
  struct stat st;
  if (::stat(mp.c_str(), &st) == 0 && st.st_dev != dev) {
    // Not ours at this path any more: unmounted from outside (the loop is about to end by itself),
    // detached from outside while files are open (it would end only when they are closed), or
    // something mounted over it.
    {
      std::unique_lock lock(ctx.mu);
      if (ctx.cv.wait_for(lock, std::chrono::seconds(2), [&] { return loop_done; })) return;
    }
    log::warn("fastfile: {} was detached from outside while in use; ending its FUSE connection", mp);
    if (!abort_connection(dev)) {
      log::warn("fastfile: cannot end the FUSE connection of {} (no fusectl); waiting for its open files to be closed",
                mp);
    }
    return;
  }
  if (::umount2(mp.c_str(), 0) == 0) return;
  int err = errno;
  if (err == EINVAL) return;  // not mounted any more: unmounted from outside meanwhile
  if (err == EBUSY) {
    log::warn("fastfile: {} is busy (files or directories are open); detaching it, and what is still open there "
              "now fails",
              mp);
  } else {
    log::warn("fastfile: cannot unmount {}: {}; detaching it", mp, std::strerror(err));
  }
  // MNT_FORCE ends the FUSE connection (open files then fail with ENOTCONN), MNT_DETACH takes
  // the mount out of the tree even though it is busy.
  if (::umount2(mp.c_str(), MNT_FORCE | MNT_DETACH) == 0) return;
  err = errno;
  log::warn("fastfile: cannot detach {}: {}", mp, std::strerror(err));
  abort_connection(dev);
}

void Mount::Impl::unmount() {
  std::lock_guard guard(unmount_mu);
  if (se == nullptr) return;
  if (loop.joinable()) {
    bool done;
    {
      std::lock_guard lock(ctx.mu);
      done = loop_done;
    }
    if (!done && mounted && dev != 0) {
      detach_kernel_mount();
    } else if (!done) {
      // Failed during start, before the mount answered: end the connection by unmounting.
      fuse_session_unmount(se);
    }
    fuse_session_exit(se);
    loop.join();
  }
  // Replies still owed by the reader use the session: wait for them before it goes.
  ctx.wait_reads_done();
  if (mounted) {
    // Closes /dev/fuse; unmounts (lazily) only when the connection is still alive, i.e. when the
    // loop ended by an error and not by an unmount.
    fuse_session_unmount(se);
  }
  fuse_session_destroy(se);
  se = nullptr;
  if (mounted) {
    uint64_t n = ctx.reads.load();
    log::info("fastfile: unmounted {}", mp);
    log::debug("fastfile: {} served {} reads ({} bytes asked, largest {} bytes, {} failed)", mp, n,
               ctx.read_bytes_asked.load(), ctx.largest_read.load(), ctx.read_errors.load());
  }
  mounted = false;
}

void Mount::Impl::wait() {
  std::unique_lock lock(ctx.mu);
  ctx.cv.wait(lock, [&] { return loop_done; });
}

// ------------------------------------------------------------------------------------------------

Mount::Mount(const Namespace& ns, Reader& reader, MountOptions options)
    : impl_(std::make_unique<Impl>(ns, reader, std::move(options))) {
  impl_->start();  // on a throw, impl_ is destroyed and ~Impl cleans up what was started
}

Mount::~Mount() {
  try {
    unmount();
  } catch (const std::exception& e) {
    log::error("fastfile: unmounting failed: {}", e.what());
  }
}

void Mount::unmount() {
  if (impl_) impl_->unmount();
}

void Mount::wait() {
  if (impl_) impl_->wait();
}

const std::filesystem::path& Mount::mountpoint() const { return impl_->mountpoint; }

// ------------------------------------------------------------------------------------------------

bool clean_stale_mount(const std::filesystem::path& path) {
  const std::string p = normalize(path);
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
  const std::string p = normalize(path);
  auto entry = find_mount(p);
  if (!entry || entry->fstype != "fuse.sluice") return;
  char buf[32];
  ssize_t n = ::getxattr(p.c_str(), std::string(kPidAttribute).c_str(), buf, sizeof buf);
  if (n < 0 && is_not_connected(errno)) return;  // stale: its process is gone
  const std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
  throw Error(ErrorKind::kConflict, p + " is already mounted (pid " + pid + ")",
              "`sluice unmount " + p + "` first, or mount on another directory");
}

void unmount_path(const std::filesystem::path& path) {
  const std::string p = normalize(path);
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
