// The record of a download (DownloadOptions::record, format in transfer/download.hpp): which
// files are complete, as what (key, ETag, size) and as which local file (device, inode, ctime).
// A journal: loaded at the start of a download, where this download's own paths are dropped and
// the rest rewritten; each file appended as it completes (a kill -9 keeps what was done); rewritten
// whole at the end. Unreadable or corrupt means nothing recorded (a warning); a last line cut
// short drops that entry only; a path twice: the later entry wins. Failing to write is a warning.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"

namespace sluice::transfer {

struct RecordEntry {
  std::string key, etag;
  uint64_t size = 0, dev = 0, ino = 0;
  int64_t ctime_ns = 0;
};

int64_t ctime_ns(const struct stat& st);

class DownloadRecord {
 public:
  // Reads the record at `path` and rewrites it without `own_paths` (this download's items: they
  // are recorded again only once complete), then keeps it open for appending.
  DownloadRecord(std::string path, const std::vector<std::string>& own_paths);

  // What the record says of `path` (nullptr: nothing).
  const RecordEntry* find(const std::string& path) const;

  // `path` is complete: appended now, kept for finish(). Not thread-safe: callers serialize.
  void remember(const std::string& path, const RecordEntry& entry);

  // Rewrites the record whole: the entries of other downloads' paths as loaded, and what this one
  // remembered (its paths that are not complete are gone).
  void finish();

 private:
  std::string path_;
  // By the item's path: as read; as read less this download's paths; what this download completed.
  std::map<std::string, RecordEntry> loaded_, others_, complete_;
  UniqueFd journal_;
};

// Writes the record at `from` to `to` with every path under `old_prefix` moved under `new_prefix`
// (the files were moved there, keeping their device, inode and ctime: a warm pool's inputs taken
// over by the next job); entries outside `old_prefix` are dropped. Returns how many were kept.
// Nothing recorded (missing, unreadable, corrupt) writes an empty record.
size_t rebase_record(const std::string& from, const std::string& to, const std::string& old_prefix,
                     const std::string& new_prefix);

}  // namespace sluice::transfer
