// The FastFile mount's FUSE operations (libfuse3 low-level API). Metadata comes from the
// Namespace, data from the Reader; everything that would change the tree answers EROFS.
// No exception ever leaves an operation: an unexpected one is logged and answered with EIO.
#include "modes/fastfile/fuse_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace sluice::modes::fastfile::detail {
namespace {

// The tree never changes while mounted: entries, negative entries and attributes stay valid.
constexpr double kTimeout = 365.0 * 24 * 3600;
constexpr uint64_t kBlockSize = 1u << 20;     // st_blksize and statfs f_bsize
constexpr size_t kMaxLoggedReadErrors = 4096;  // distinct (inode, cause) pairs logged

FuseContext& ctx(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }

timespec to_timespec(int64_t ns) {
  int64_t sec = ns / 1'000'000'000;
  int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {  // floor for times before 1970
    rem += 1'000'000'000;
    sec -= 1;
  }
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(rem);
  return ts;
}

void fill_stat(const FuseContext& c, const Node& n, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  st->st_ino = n.ino;
  if (n.is_dir) {
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2 + n.subdirs;
  } else {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = static_cast<off_t>(n.size);
    st->st_blocks = static_cast<blkcnt_t>((n.size + 511) / 512);
  }
  st->st_blksize = static_cast<blksize_t>(kBlockSize);
  st->st_uid = c.options.uid;
  st->st_gid = c.options.gid;
  st->st_mtim = st->st_ctim = st->st_atim = to_timespec(n.mtime_ns);
}

fuse_entry_param entry_of(const FuseContext& c, const Node& n) {
  fuse_entry_param e{};
  e.ino = n.ino;
  e.generation = 1;
  fill_stat(c, n, &e.attr);
  e.attr_timeout = kTimeout;
  e.entry_timeout = kTimeout;
  return e;
}

// Runs an operation's body; an exception becomes a log line and EIO.
template <class F>
void guarded(fuse_req_t req, const char* op, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    log::error("fastfile: {} failed: {}; answering EIO", op, e.what());
    fuse_reply_err(req, EIO);
  } catch (...) {
    log::error("fastfile: {} failed with an unknown exception; answering EIO", op);
    fuse_reply_err(req, EIO);
  }
}

// ------------------------------------------------------------------------------------------------
// Setup

void op_init(void* userdata, fuse_conn_info* conn) {
  auto& c = *static_cast<FuseContext*>(userdata);
  // Must equal the max_read mount option (mount.cpp passes -o max_read=kMaxRead).
  conn->max_read = kMaxRead;
  // The kernel keeps the smaller of this and its bdi default; mount.cpp raises the bdi after.
  conn->max_readahead = kMaxRead;
  // max_write stays at libfuse's buffer size (1 MiB): libfuse answers max_pages from it
  // ((max_write - 1) / page + 1 = 256 pages), which is what lets READs be 1 MiB.
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  want(FUSE_CAP_ASYNC_READ);
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_READDIRPLUS);
  // Always READDIRPLUS: the attributes cost nothing here and spare `ls -l`/`find` the lookups.
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  // Splice is left off: replies come from memory buffers that the reader reuses, and splicing
  // them (vmsplice into a pipe, then splice to /dev/fuse) measured no faster than writev.
  conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ);
  conn->max_background = 64;
  conn->congestion_threshold = 48;

  c.no_open_supported = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;

  std::lock_guard lock(c.mu);
  c.initialized = true;
  c.negotiated_max_write = conn->max_write;
  c.negotiated_max_readahead = conn->max_readahead;
  c.cv.notify_all();
  log::debug("fastfile: FUSE protocol {}.{}, capable {:#x}, want {:#x}, max_write {}, max_read {}", conn->proto_major,
             conn->proto_minor, conn->capable, conn->want, conn->max_write, conn->max_read);
}

// ------------------------------------------------------------------------------------------------
// Metadata

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "lookup", [&] {
    auto& c = ctx(req);
    const Node* n = c.ns.lookup(parent, name);
    if (n == nullptr) {
      if (c.ns.find(parent) == nullptr) {
        fuse_reply_err(req, ENOENT);
        return;
      }
      // A negative entry the kernel may cache as long as a positive one: the tree never changes.
      fuse_entry_param e{};
      e.ino = 0;
      e.entry_timeout = kTimeout;
      fuse_reply_entry(req, &e);
      return;
    }
    fuse_entry_param e = entry_of(c, *n);
    fuse_reply_entry(req, &e);
  });
}

// Inodes are permanent (the Namespace outlives the mount): lookup counts need no bookkeeping.
void op_forget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }
void op_forget_multi(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  guarded(req, "getattr", [&] {
    auto& c = ctx(req);
    const Node* n = c.ns.find(ino);
    if (n == nullptr) {
      fuse_reply_err(req, ENOENT);
      return;
    }
    struct stat st;
    fill_stat(c, *n, &st);
    fuse_reply_attr(req, &st, kTimeout);
  });
}

void op_readlink(fuse_req_t req, fuse_ino_t) { fuse_reply_err(req, EINVAL); }

void op_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  guarded(req, "access", [&] {
    const Node* n = ctx(req).ns.find(ino);
    if (n == nullptr) {
      fuse_reply_err(req, ENOENT);
    } else if (mask & W_OK) {
      fuse_reply_err(req, EROFS);
    } else if ((mask & X_OK) && !n->is_dir) {
      fuse_reply_err(req, EACCES);
    } else {
      fuse_reply_err(req, 0);
    }
  });
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  guarded(req, "statfs", [&] {
    auto& c = ctx(req);
    struct statvfs s;
    std::memset(&s, 0, sizeof s);
    s.f_bsize = kBlockSize;
    s.f_frsize = kBlockSize;
    s.f_blocks = (c.ns.total_bytes() + kBlockSize - 1) / kBlockSize;
    s.f_bfree = 0;
    s.f_bavail = 0;
    s.f_files = c.ns.node_count();
    s.f_ffree = 0;
    s.f_favail = 0;
    s.f_namemax = 255;
    fuse_reply_statfs(req, &s);
  });
}

// Extended attributes: none, but the root answers kPidAttribute with the pid of the process that
// serves the mount (`sluice mount` names it when the mount point is taken already). Other names
// get ENODATA, not ENOSYS, which would make the kernel stop asking for any (ACLs never get here:
// the kernel answers them itself). listxattr's ENOSYS makes the kernel stop asking (it then
// answers EOPNOTSUPP without a round trip), so `cp -a` costs one request per mount.
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  if (ino != FUSE_ROOT_ID || std::string_view(name) != kPidAttribute) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  const std::string pid = std::to_string(::getpid());
  if (size == 0) {
    fuse_reply_xattr(req, pid.size());
  } else if (size < pid.size()) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, pid.data(), pid.size());
  }
}
void op_listxattr(fuse_req_t req, fuse_ino_t, size_t) { fuse_reply_err(req, ENOSYS); }

// ------------------------------------------------------------------------------------------------
// Directories. Offsets: 0 is ".", 1 is "..", 2 + i is children[i]; an entry's offset is the
// position of the entry after it.

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "opendir", [&] {
    const Node* n = ctx(req).ns.find(ino);
    if (n == nullptr) {
      fuse_reply_err(req, ENOENT);
      return;
    }
    if (!n->is_dir) {
      fuse_reply_err(req, ENOTDIR);
      return;
    }
    fi->fh = 0;
    fi->cache_readdir = 1;  // the listing never changes: the kernel may keep it
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
  });
}

void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  auto& c = ctx(req);
  const Node* dir = c.ns.find(ino);
  if (dir == nullptr) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  if (!dir->is_dir) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  if (off < 0) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  std::vector<char> buf(size);
  size_t used = 0;
  const size_t total = dir->children.size() + 2;
  for (size_t i = static_cast<size_t>(off); i < total; ++i) {
    const Node* n = nullptr;
    const char* name;
    Ino dot_ino = 0;
    if (i == 0) {
      name = ".";
      dot_ino = dir->ino;
    } else if (i == 1) {
      name = "..";
      dot_ino = dir->parent;
    } else {
      n = c.ns.find(dir->children[i - 2]);
      if (n == nullptr) continue;  // cannot happen in a built Namespace
      name = n->name.c_str();
    }
    const off_t next = static_cast<off_t>(i + 1);
    size_t need;
    if (plus) {
      fuse_entry_param e{};
      if (n != nullptr) {
        e = entry_of(c, *n);
      } else {
        // "." and "..": the kernel links neither, it only needs the number and the type.
        e.attr.st_ino = dot_ino;
        e.attr.st_mode = S_IFDIR;
      }
      need = fuse_add_direntry_plus(req, buf.data() + used, size - used, name, &e, next);
    } else {
      struct stat st;
      std::memset(&st, 0, sizeof st);
      st.st_ino = n != nullptr ? n->ino : dot_ino;
      st.st_mode = (n == nullptr || n->is_dir) ? S_IFDIR : S_IFREG;
      need = fuse_add_direntry(req, buf.data() + used, size - used, name, &st, next);
    }
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  guarded(req, "readdir", [&] { readdir_common(req, ino, size, off, false); });
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  guarded(req, "readdirplus", [&] { readdir_common(req, ino, size, off, true); });
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

// ------------------------------------------------------------------------------------------------
// Files

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "open", [&] {
    auto& c = ctx(req);
    const Node* n = c.ns.find(ino);
    if (n == nullptr) {
      fuse_reply_err(req, ENOENT);
      return;
    }
    if (n->is_dir) {
      fuse_reply_err(req, EISDIR);
      return;
    }
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
      fuse_reply_err(req, EROFS);
      return;
    }
    // The page cache serves the files (reader.hpp, opens_unneeded): ENOSYS tells the kernel to
    // open this file and every later one without asking, which saves a round trip to this
    // process per open, and its release. For good: later reads come with no handle.
    if (c.no_open_supported && !c.options.direct_io && c.reader.opens_unneeded()) {
      if (!c.opens_stopped.exchange(true)) {
        log::info("fastfile: the page cache holds the files read so far; the kernel opens files without asking from now on");
      }
      fuse_reply_err(req, ENOSYS);
      return;
    }
    uint64_t handle;
    try {
      handle = c.reader.open(*n);
    } catch (const std::exception& e) {
      log::warn("fastfile: cannot open {}: {}; answering EIO", c.ns.entry(*n).path, e.what());
      fuse_reply_err(req, EIO);
      return;
    }
    fi->fh = handle;
    fi->direct_io = c.options.direct_io ? 1 : 0;
    fi->keep_cache = c.options.direct_io ? 0 : 1;  // the content never changes
    fi->noflush = 1;                               // nothing to flush on close
    if (fuse_reply_open(req, fi) == -ENOENT) {
      // The open was interrupted: the kernel will never release this handle.
      c.reader.release(handle);
    }
  });
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  auto& c = ctx(req);
  const Node* n = c.ns.find(ino);
  if (n == nullptr || n->is_dir) {
    fuse_reply_err(req, n == nullptr ? ENOENT : EISDIR);
    return;
  }
  if (off < 0) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  c.reads.fetch_add(1, std::memory_order_relaxed);
  c.read_bytes_asked.fetch_add(size, std::memory_order_relaxed);
  uint64_t largest = c.largest_read.load(std::memory_order_relaxed);
  while (size > largest && !c.largest_read.compare_exchange_weak(largest, size, std::memory_order_relaxed)) {
  }
  if (size == 0 || static_cast<uint64_t>(off) >= n->size) {
    fuse_reply_buf(req, nullptr, 0);  // at or past the end
    return;
  }

  FuseContext* cp = &c;
  auto replied = std::make_shared<std::atomic<bool>>(false);
  ReplyFn reply = [cp, req, ino, size, replied](ReadReply& r) {
    if (replied->exchange(true)) return;
    if (r.error) {
      cp->read_errors.fetch_add(1, std::memory_order_relaxed);
      cp->log_read_error(ino, r.error);
      fuse_reply_err(req, EIO);
    } else if (r.iov.empty()) {
      fuse_reply_buf(req, nullptr, 0);
    } else {
      // Never more than was asked for (the kernel would reject the whole reply).
      size_t left = size, count = 0;
      while (count < r.iov.size() && left > 0) {
        size_t take = std::min(left, r.iov[count].iov_len);
        left -= take;
        if (take < r.iov[count].iov_len) r.iov[count].iov_len = take;
        ++count;
      }
      // An error here means the request was interrupted or the mount went away: nobody waits.
      fuse_reply_iov(req, r.iov.data(), static_cast<int>(count));
    }
    cp->end_read();
  };
  c.begin_read();
  try {
    if (fi->fh == 0) {
      c.reader.read_unopened(*n, static_cast<uint64_t>(off), size, reply);  // opened by the kernel alone
    } else {
      c.reader.read(fi->fh, static_cast<uint64_t>(off), size, reply);
    }
  } catch (...) {
    if (!replied->exchange(true)) {
      c.read_errors.fetch_add(1, std::memory_order_relaxed);
      c.log_read_error(ino, std::current_exception());
      fuse_reply_err(req, EIO);
      c.end_read();
    }
  }
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  try {
    ctx(req).reader.release(fi->fh);
  } catch (const std::exception& e) {
    log::warn("fastfile: releasing a file handle failed: {}", e.what());
  }
  fuse_reply_err(req, 0);
}

// ------------------------------------------------------------------------------------------------
// Everything that would change the tree. The mount is "ro", so the kernel answers most of these
// itself; the file system answers EROFS too rather than relying on the mount flag alone.

void op_setattr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, EROFS); }
void op_mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { fuse_reply_err(req, EROFS); }
void op_unlink(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_rmdir(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) {
  fuse_reply_err(req, EROFS);
}
void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_write(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_setxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { fuse_reply_err(req, EROFS); }
void op_removexattr(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void op_fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.forget_multi = op_forget_multi;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.readlink = op_readlink;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.symlink = op_symlink;
  ops.rename = op_rename;
  ops.link = op_link;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  // No flush: nothing is written, and libfuse's ENOSYS makes the kernel stop sending FLUSH, a
  // synchronous round trip on every close(2) (a shuffled loader closes a file per sample).
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.releasedir = op_releasedir;
  ops.statfs = op_statfs;
  ops.setxattr = op_setxattr;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  ops.removexattr = op_removexattr;
  ops.access = op_access;
  ops.create = op_create;
  ops.fallocate = op_fallocate;
  ops.readdirplus = op_readdirplus;
  return ops;
}

}  // namespace

// ------------------------------------------------------------------------------------------------

void FuseContext::begin_read() {
  std::lock_guard lock(mu);
  ++reads_in_flight;
}

void FuseContext::end_read() {
  std::lock_guard lock(mu);
  if (--reads_in_flight == 0) cv.notify_all();
}

void FuseContext::wait_reads_done() {
  std::unique_lock lock(mu);
  if (reads_in_flight > 0) {
    if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return reads_in_flight == 0; })) {
      log::warn("fastfile: waiting for {} reads still in flight before the FUSE session ends", reads_in_flight);
      cv.wait(lock, [&] { return reads_in_flight == 0; });
    }
  }
}

void FuseContext::log_read_error(Ino ino, const std::exception_ptr& error) {
  std::string cause;
  bool cancelled = false;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    cause = e.what();
    cancelled = e.kind() == ErrorKind::kCancelled;
  } catch (const std::exception& e) {
    cause = e.what();
  } catch (...) {
    cause = "unknown error";
  }
  const Node* n = ns.find(ino);
  std::string path = n != nullptr && !n->is_dir ? ns.entry(*n).path : "inode " + std::to_string(ino);
  {
    std::lock_guard lock(log_mu_);
    if (logged_.size() >= kMaxLoggedReadErrors) {
      if (log_full_) return;
      log_full_ = true;
      log::warn("fastfile: {} different read errors logged; further ones are answered with EIO silently",
                logged_.size());
      return;
    }
    if (!logged_.emplace(ino, cause).second) return;
  }
  if (cancelled) {
    log::debug("fastfile: a read of {} was cancelled ({}); answering EIO", path, cause);
  } else {
    log::warn("fastfile: answering EIO to a read of {} (logged once per file and cause): {}", path, cause);
  }
}

const fuse_lowlevel_ops& lowlevel_ops() {
  static const fuse_lowlevel_ops ops = make_ops();
  return ops;
}

}  // namespace sluice::modes::fastfile::detail
