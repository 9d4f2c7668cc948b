// Private to the FastFile mount: the libfuse3 low-level operation table and the state the
// operations share (mount.cpp owns the session and its lifecycle; fuse_ops.cpp answers requests).
#pragma once

// 3.12 API: fuse_loop_cfg_* and the fuse_session_loop_mt that takes them (with FUSE_USE_VERSION
// below 312, `struct fuse_loop_config` names the older public struct and fuse_loop_cfg_create()'s
// result would be misread).
#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "modes/fastfile/mount.hpp"

namespace sluice::modes::fastfile::detail {

inline constexpr unsigned kMaxRead = 1u << 20;  // bytes per READ request (max_read, max_pages 256)

struct FuseContext {
  FuseContext(const Namespace& n, Reader& r, const MountOptions& o) : ns(n), reader(r), options(o) {}

  const Namespace& ns;
  Reader& reader;
  const MountOptions options;

  // INIT handshake (set by the init callback).
  std::mutex mu;
  std::condition_variable cv;
  bool initialized = false;
  unsigned negotiated_max_write = 0, negotiated_max_readahead = 0;
  // The kernel can open files without asking (FUSE_CAP_NO_OPEN_SUPPORT); and whether it was told
  // to: from then on reads come with no handle (fh 0; the reader's handles start at 1).
  std::atomic<bool> no_open_supported{false}, opens_stopped{false};

  // Reads handed to the reader whose reply has not been sent yet: the session must outlive them.
  int64_t reads_in_flight = 0;  // guarded by mu
  void begin_read();
  void end_read();
  void wait_reads_done();

  // What was asked for (debug statistics, logged at unmount).
  std::atomic<uint64_t> reads{0}, read_bytes_asked{0}, largest_read{0}, read_errors{0};

  // Read errors are logged once per (inode, cause).
  void log_read_error(Ino ino, const std::exception_ptr& error);

 private:
  std::mutex log_mu_;
  std::set<std::pair<Ino, std::string>> logged_;
  bool log_full_ = false;
};

// The operation table; the session's userdata is a FuseContext*.
const fuse_lowlevel_ops& lowlevel_ops();

}  // namespace sluice::modes::fastfile::detail
