// Downloading objects to files: File mode's downloader, and `sluice cp` from a store.
// Every file is written under a temporary name beside its final one (".sluice-partial-NAME"),
// checked (size; MD5 when the ETag is a plain MD5) and renamed into place; its mtime is set to
// the object's LastModified. A rerun skips a file whose size and mtime already match.
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
  bool skip_complete = true;  // skip files whose size and mtime already match
  Progress* progress = nullptr;
};

struct DownloadResult {
  uint64_t files = 0, bytes = 0;       // written now
  uint64_t skipped_files = 0, skipped_bytes = 0;
  std::vector<Error> failures;          // one per file that could not be written
};

// Downloads every item through the engine. Files that fail are reported in the result; an error
// that would fail every file (access denied, no space, the store unreachable) cancels the rest.
DownloadResult download(Engine& engine, const std::vector<DownloadItem>& items, const DownloadOptions& options);

// The temporary name used while `path` is being written.
std::string partial_path(const std::string& path);

// True when the ETag is a plain MD5 (32 hex digits), i.e. of an object uploaded in one PUT.
bool etag_is_md5(const std::string& etag);

}  // namespace sluice::transfer
