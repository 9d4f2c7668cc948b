// The FastFile mount's lifecycle: the libfuse session, mounted, served by worker threads, and
// unmounted (by us or from outside). The operations are in fuse_ops.cpp; the checks before a
// mount and stale-mount cleanup in mount_checks.cpp, the -o options in mount_args.cpp, libfuse's
// log in fuse_log.cpp, read-ahead and aborting the connection in fuse_connection.cpp.
// errno stays inside this file: callers see sluice::Error.
#include "modes/fastfile/mount.hpp"

#include "modes/fastfile/fuse_ops.hpp"  // first of the FUSE includes: it sets FUSE_USE_VERSION

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "modes/fastfile/fuse_connection.hpp"
#include "modes/fastfile/fuse_log.hpp"
#include "modes/fastfile/fusermount.hpp"
#include "modes/fastfile/mount_args.hpp"
#include "modes/fastfile/mount_checks.hpp"
#include "modes/fastfile/mountinfo.hpp"

namespace sluice::modes::fastfile {
namespace {

namespace fs = std::filesystem;

constexpr auto kInitTimeout = std::chrono::seconds(30);

}  // namespace

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
  mp = normalize_mount_path(o.mountpoint);
  mountpoint = mp;
  clean_stale_mount(mp);
  check_not_mounted(mp);
  check_mountpoint(mp);
  {
    // A live directory now: resolve a symbolic link in the last component too, since the mount
    // table lists the mount at the path the kernel resolved (find_mount below).
    std::error_code ec;
    fs::path real = fs::canonical(mp, ec);
    if (!ec) {
      mp = real.string();
      mountpoint = real;
    }
  }
  check_fuse_device(mp);
  route_fuse_log();

  struct stat parent_st;
  if (::stat(mountpoint.parent_path().c_str(), &parent_st) != 0) {
    throw errno_error(errno, "cannot stat the parent of mountpoint", mp);
  }

  std::vector<std::string> argv_s{"sluice", "-o", fuse_mount_options(o, detail::kMaxRead, ::geteuid() == 0)};
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

  // The mount's device from the mount table, not from a stat of the mountpoint: this process
  // never asks its own mount anything. A thread of a FUSE daemon waiting on its own request when
  // the daemon is killed waits forever (the kernel waits out a request a worker has already
  // read), keeping /dev/fuse open: the mount then hangs whoever touches it.
  auto entry = find_mount(mp);
  if (!entry || !entry->fstype.starts_with("fuse") || entry->dev == 0 || entry->dev == parent_st.st_dev) {
    throw Error(ErrorKind::kInternal, "cannot mount a FUSE file system at " + mp,
                "the mount does not show at the mountpoint");
  }
  dev = entry->dev;
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
  auto entry = find_mount(mp);  // not a stat: see start()
  if (!entry || entry->dev != dev) {
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

}  // namespace sluice::modes::fastfile
