// Writes the blocks FastFile's reader fetched into its DiskCache on a thread of its own, so that
// the I/O threads that fetched them never wait for the disk. Blocks queued before stop() are all
// written; each stays in memory (its buffer pinned) until it is.
// Thread-safe: put() may be called from many threads at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "transfer/buffer.hpp"

namespace sluice::modes::fastfile {

class DiskCache;

class DiskCacheWriter {
 public:
  explicit DiskCacheWriter(DiskCache& cache);  // `cache` must outlive the writer
  ~DiskCacheWriter();                          // stop()
  DiskCacheWriter(const DiskCacheWriter&) = delete;
  DiskCacheWriter& operator=(const DiskCacheWriter&) = delete;

  // Queues block `index` of the object (key, etag) for writing.
  void put(std::string key, std::string etag, uint64_t index, transfer::BufferPtr buf);
  // Writes what is queued, then ends the thread. Idempotent.
  void stop();

 private:
  struct Write {
    std::string key, etag;
    uint64_t index;
    transfer::BufferPtr buf;
  };
  void loop();

  DiskCache& cache_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Write> writes_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::modes::fastfile
