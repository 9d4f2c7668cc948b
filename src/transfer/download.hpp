// Downloading objects to files: File mode's downloader, and `sluice cp` from a store.
// Every file is written under a temporary name beside its final one (".sluice-partial-NAME"),
// checked (size; MD5 when the ETag is a plain MD5) and renamed into place; its mtime is set to
// the object's LastModified. A rerun skips a file that is already complete (below).
//
// The destination may be writable by someone hostile (a job's training code writes its /opt/ml
// between two runs; issue 12), and Sluice runs as root, so no symbolic link is ever followed where
// it could send tenant bytes elsewhere:
// - Always: the partial file is made with openat(dir, O_CREAT | O_EXCL | O_NOFOLLOW) after a stale
//   one is unlinked (never opened through a link), the final name is looked at with fstatat
//   AT_SYMLINK_NOFOLLOW, and the rename is renameat(dir, partial, dir, name), which replaces a
//   link at the final name instead of writing through it. Everything happens relative to a handle
//   on the file's directory, cached per directory (at most kDirCache cached; each file in flight
//   holds its own), so a large download opens each directory once.
// - With `root` set: every item must lie below root (lexically; an item outside it fails with
//   kInvalidInput naming it). Root is opened once, following links (the caller trusts it; it is
//   created when missing); every directory below it is made and entered with beneath::make_dirs,
//   component by component with O_NOFOLLOW, and nothing below root is opened, checked, created or
//   renamed by path. A symbolic link on the way (a directory swapped for a link to the host) fails
//   that file with kInvalidInput ("a symbolic link is in the way ...", naming the path), nothing is
//   written through it, and the other files go on. kInvalidInput, not kAccessDenied: the local
//   tree is not what a download into it needs, which is this item's problem only; kAccessDenied
//   means the credentials were refused and cancels the whole download (and `cp` reports it as such).
//   Without root (cp to a single file name) the directories are made and opened by path as before;
//   only the last component is protected, as above.
//
// Skipping complete files (skip_complete):
// - Without `record`: a regular file (not a link) at the final name whose size matches and whose
//   mtime matches the object's LastModified (any mtime when the object's is 0).
// - With `record`: only a file listed in the record with the object's key, ETag and size that
//   still has that size, device, inode and ctime (fstatat, no link followed). The ctime cannot be
//   forged by whoever writes the tree: any write, chmod, chown, utime, link or rename sets it to
//   the current time. So an object changed in the store at the same size (new ETag), and a file
//   changed in place (even with its mtime put back), are both downloaded again.
//
// The record file (transfer/download_record.hpp) lives where the tree's writers cannot reach:
// Sluice reads and replaces it by path, following links; its directory must exist. Text, one
// entry a line, fields separated by a tab; in a field a backslash, a tab, a newline and a
// carriage return are written \\, \t, \n, \r:
//   sluice-download-record<TAB>1                                   (first line: format, version)
//   PATH<TAB>KEY<TAB>ETAG<TAB>SIZE<TAB>DEVICE<TAB>INODE<TAB>CTIME_NS   (one line per file)
// PATH is the item's path as given; SIZE, DEVICE, INODE and CTIME_NS are decimal; DEVICE, INODE
// and CTIME_NS come from fstat of the open file after its futimens and rename. It is a journal:
// at the start of download() it is rewritten without this call's paths, each file of this call
// is appended as soon as it is complete (written or skipped), so a run killed midway keeps what
// it finished, and at the end it is rewritten whole (temporary name + rename) with the entries of
// paths this call was not given kept as they were (one record can serve several calls, e.g. one
// per channel). A path twice: the later entry wins; a last line cut short: that entry is dropped.
// A missing record means nothing recorded; an unreadable or corrupt one too, with a warning;
// failing to write it is a warning (the next run downloads again what it cannot prove complete).
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/object_store.hpp"
#include "transfer/engine.hpp"
#include "transfer/progress.hpp"

namespace sluice::transfer {

struct DownloadItem {
  store::ObjectInfo object;
  std::string path;  // final local path
};

struct DownloadOptions {
  uint64_t part_size = 8ull << 20;  // objects larger than this are read in parallel ranged parts
  bool verify_md5 = true;
  bool skip_complete = true;  // skip files that are already complete (see above)
  Progress* progress = nullptr;
  // Empty: items may be anywhere (cp). Set: every item must lie below it, and no link below it is
  // followed (see above).
  std::string root;
  // Empty: completeness is size and mtime. Set: the record file described above.
  std::string record;
};

// Directory handles kept open between files (besides the one each file in flight holds).
inline constexpr size_t kDirCache = 64;

struct DownloadResult {
  uint64_t files = 0, bytes = 0;       // written now
  uint64_t skipped_files = 0, skipped_bytes = 0;
  std::vector<Error> failures;          // one per file that could not be written
};

// Downloads every item through the engine. Files that fail are reported in the result; an error
// that would fail every file (access denied, no space, the store unreachable) cancels the rest.
// The reads are a FetchGroup of their own: cancelling them leaves the engine's other users alone.
DownloadResult download(Engine& engine, store::ObjectStore& store, const std::vector<DownloadItem>& items,
                        const DownloadOptions& options);
// The same from the engine's default store.
DownloadResult download(Engine& engine, const std::vector<DownloadItem>& items, const DownloadOptions& options);

// The temporary name used while `path` is being written.
std::string partial_path(const std::string& path);

// Makes the directory `dir` (below `root`, as DownloadOptions::root; no link below root is
// followed) hold nothing but what `items` put there: every other file, link or directory is
// removed, except an item's partial file (a rerun resumes it). A rerun of a job whose listing
// changed (an object deleted, a narrower prefix) so never leaves the previous run's files in its
// input. Returns how many entries were removed; a missing `dir` is not an error.
size_t remove_others(const std::string& root, const std::string& dir, const std::vector<DownloadItem>& items);

// True when the ETag is a plain MD5 (32 hex digits), i.e. of an object uploaded in one PUT.
bool etag_is_md5(const std::string& etag);

}  // namespace sluice::transfer
