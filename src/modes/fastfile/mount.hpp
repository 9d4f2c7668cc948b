// A FastFile mount: the read-only FUSE file system (libfuse3 low-level API) that shows a
// Namespace and serves its reads from a Reader, and its lifecycle.
//
//  - Mounted read-only ("ro"): the kernel answers writes, creates, renames ... with EROFS.
//  - lookup/getattr/readdir(plus)/statfs come from the Namespace with no request to the store;
//    entry and attribute timeouts are long (the tree never changes while mounted).
//  - open replies FOPEN_KEEP_CACHE (the content never changes), or FOPEN_DIRECT_IO when
//    MountOptions::direct_io; reads are up to 1 MiB (max_read, max_pages = 256), and the
//    mount's kernel read-ahead (bdi read_ahead_kb) is raised to read_ahead_kb.
//  - A read error is logged with its cause (once per file and cause) and answered with EIO.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "modes/fastfile/namespace.hpp"
#include "modes/fastfile/reader.hpp"

namespace sluice::modes::fastfile {

struct MountOptions {
  std::filesystem::path mountpoint;  // an existing, empty directory
  std::string source = "sluice";     // shown as the file system's source in /proc/mounts
  bool direct_io = false;
  bool allow_other = true;           // when running as root: let other users (the sandbox) read
  int max_threads = 64;              // FUSE worker threads at most
  uint32_t read_ahead_kb = 1024;     // kernel read-ahead for the mount; 0 leaves the default
  uid_t uid = 0;                     // owner shown for every file and directory
  gid_t gid = 0;
};

class Mount {
 public:
  // Mounts and starts serving on worker threads; returns once the mount answers. Throws
  // Error naming the mountpoint when it does not exist, is not a directory, is not empty, or the
  // kernel refuses the mount (with the reason, e.g. /dev/fuse missing). A stale FUSE mount at the
  // mountpoint (its process died) is cleaned first (clean_stale_mount).
  Mount(const Namespace& ns, Reader& reader, MountOptions options);
  ~Mount();  // unmount()
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  // Unmounts and stops the worker threads. Idempotent. With files still open the connection is
  // ended (forced detach): their later reads fail with ENOTCONN, since nothing serves them.
  void unmount();
  // Blocks until the file system is unmounted, by unmount() or from outside (`sluice unmount`,
  // `fusermount3 -u`, `umount`).
  void wait();

  const std::filesystem::path& mountpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The extended attribute of a mount's root that holds the pid of the process serving it.
inline constexpr std::string_view kPidAttribute = "user.sluice.pid";

// Throws Error(kConflict) "PATH is already mounted (pid N)" when a live FastFile mount is at
// `path` (N: what its kPidAttribute says; "unknown" when it does not answer). Nothing for
// anything else there, a stale mount included (clean_stale_mount's job).
void check_not_mounted(const std::filesystem::path& path);

// True when `path` is a FUSE mount whose daemon is gone ("Transport endpoint is not connected");
// it is then detached (lazy unmount) and true is returned. False when it is not a stale mount.
bool clean_stale_mount(const std::filesystem::path& path);

// Unmounts the FUSE mount at `path` (as `sluice unmount` does). Throws Error(kInvalidInput) when
// `path` is not a mount point, Error(kConflict) when it is busy (the message says what to do).
void unmount_path(const std::filesystem::path& path);

}  // namespace sluice::modes::fastfile
