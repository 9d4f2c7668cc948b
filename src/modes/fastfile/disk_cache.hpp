// FastFile's optional local block cache (`--cache DIR`): blocks of an object fetched once are
// kept on local disk, so a second epoch reads them locally instead of from the store.
//
//  - A block is identified by (object key, ETag, block index); blocks are `block_size` bytes
//    (the last block of an object may be shorter). A new ETag is a different object: its
//    blocks never match the old ones.
//  - Each block is one file under a private directory the cache creates inside DIR
//    (DIR/sluice-cache-<pid>-<random>/), named from a SHA-256 of (key, ETag, index); it starts
//    with a header (magic, format version, block index, length, CRC-32C of the data, SHA-256 of
//    key and ETag) and the data follows. get() checks all of it and the CRC; a block that fails
//    any check is removed and reported as a miss, with a warning log line.
//  - put() writes to a temporary name in the same directory and renames, so a reader never sees
//    a half-written block; a failed write (disk full ...) is a warning and no entry, never an
//    error to the reader.
//  - The total size of cached blocks stays within max_bytes: put() evicts least recently used
//    blocks (get() and put() both count as a use) before writing. A block larger than max_bytes
//    is not cached.
//  - The private directory is removed when the cache is destroyed, and stale private directories
//    (sluice-cache-<pid>-*) whose owner no longer runs are removed by the constructor, so a
//    crashed mount does not leave its blocks behind forever. The owner holds a flock on the
//    directory's `lock` file while it lives, so liveness does not depend on pids (containers,
//    reuse).
// Thread-safe: get() and put() may be called from many threads at once; file I/O happens outside
// the index lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::modes::fastfile {

struct DiskCacheStats {
  uint64_t hits = 0, misses = 0, corrupt = 0, evictions = 0, bytes = 0, blocks = 0;
};

class DiskCache {
 public:
  // Throws Error(kInvalidInput) naming dir when it cannot be created or written.
  DiskCache(const std::filesystem::path& dir, uint64_t max_bytes, size_t block_size);
  ~DiskCache();
  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;

  // The block's bytes, or nullopt when it is not cached (or failed its checks).
  std::optional<std::vector<char>> get(std::string_view key, std::string_view etag, uint64_t index);
  void put(std::string_view key, std::string_view etag, uint64_t index, const char* data, size_t len);

  size_t block_size() const { return block_size_; }
  DiskCacheStats stats() const;
  const std::filesystem::path& directory() const { return dir_; }

 private:
  struct Slot {
    uint64_t bytes = 0;
    std::list<std::string>::iterator lru;  // position in lru_ (front = most recent)
    uint64_t generation = 0;               // tells a re-put block from the entry it replaced
    bool writing = true;                   // put() has not renamed the file into place yet
  };
  // Removes the entry for name if it is still the one of that generation (under mu_).
  void drop_locked(const std::string& name, uint64_t generation);
  std::filesystem::path dir_;
  uint64_t max_bytes_;
  size_t block_size_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;                    // file names, most recently used first
  std::unordered_map<std::string, Slot> index_;   // file name -> slot
  DiskCacheStats stats_;
  int lock_fd_ = -1;            // flock held while this cache lives (stale-directory detection)
  uint64_t writing_bytes_ = 0;  // of the entries still being written (not evictable)
  uint64_t next_generation_ = 1;
};

}  // namespace sluice::modes::fastfile
