// File operations inside a tree that someone else can write — a job's /opt/ml, where the training
// code may plant symbolic links or swap a directory for one at any moment. Every path is taken
// relative to a directory handle and no symbolic link is followed in any component
// (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS; one component at a time with O_NOFOLLOW where
// the kernel has no openat2). A link where a file or directory is expected fails with ELOOP, so
// nothing outside the handle's tree is ever read, written or created through it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace sluice::beneath {

// A directory the caller trusts (its own job directory): links in `path` are followed. Opened
// O_RDONLY | O_DIRECTORY. Throws errno_error naming the path.
UniqueFd open_root(const std::string& path);

// Opens `rel` ("a/b/c"; "" or "." is `dir` itself) below `dir`, following no link. flags as for
// openat (O_CLOEXEC is added); mode with O_CREAT. Returns -1 with errno set (ELOOP: a link on the
// way; EXDEV: ".." or an absolute path would leave `dir`).
int open_at(int dir, std::string_view rel, int flags, mode_t mode = 0);

// open_at, throwing errno_error(what, shown) on failure.
UniqueFd open_or_throw(int dir, std::string_view rel, int flags, mode_t mode, std::string_view what,
                       std::string_view shown);

// mkdir -p of `rel` below `dir`: each missing component is made with mkdirat(mode); an existing
// one must be a real directory (a link fails with ELOOP, a file with ENOTDIR). Returns the last
// directory, open O_RDONLY | O_DIRECTORY. Throws errno_error naming `shown` (a path for messages).
UniqueFd make_dirs(int dir, std::string_view rel, mode_t mode, std::string_view shown);

// Whether a regular file is far larger than what the file system stores for it: its size is more
// than 64 times its allocated bytes plus 1 MiB (`truncate -s 10T`). Such a file in a tree the
// training code writes is refused rather than read (and archived or uploaded) byte for byte.
bool too_sparse(const struct stat& st);

// "/proc/self/fd/N": a path that reopens exactly the open file `fd` (for APIs that take a path).
std::string fd_path(int fd);

// One entry of a walk: its path relative to the walked directory and its lstat.
struct Entry {
  std::string rel;
  struct stat st;
};

// How many directory levels below the walked one a walk enters (see walk).
inline constexpr int kMaxWalkDepth = 256;

// Every entry below `dir` (not `dir` itself), parents before children, names in byte order.
// Links are reported as links and never followed; a directory is entered through openat with
// O_NOFOLLOW, so one swapped for a link after it was listed is skipped, not followed.
// `visit` returns false to skip a directory's contents.
// Only the races of a tree being written meanwhile are skipped quietly: an entry removed after it
// was listed (ENOENT), a directory swapped for a link or a non-directory before it is entered
// (ELOOP, ENOTDIR). Any other failure to read a directory, stat an entry or enter a directory
// (EMFILE, ENOMEM, EACCES, EIO...) throws errno_error naming the path: a walk never loses part of
// a tree silently.
// Depth is capped: the walk holds one descriptor per level (at most kMaxWalkDepth + 1) and
// recurses once per level, so a directory that would be entered more than kMaxWalkDepth (256)
// levels below `dir` throws Error(kInvalidInput) "<path> is more than 256 directories deep"
// (after `visit` saw it; a directory `visit` skips is not entered and does not count).
void walk(int dir, std::string_view shown, const std::function<bool(const Entry&)>& visit);

// rm -rf of `rel` below `dir`, following no link: a link is removed as a link, a directory is
// emptied through descriptors opened O_NOFOLLOW (at most kMaxWalkDepth levels) and then removed.
// Nothing there is not an error. Throws errno_error naming `shown` + the entry that could not be
// removed (a busy mount point, say).
void remove_tree(int dir, std::string_view rel, std::string_view shown);

}  // namespace sluice::beneath
