// FastFile's disk cache writes, off the I/O threads (disk_cache_writer.hpp).
#include "modes/fastfile/disk_cache_writer.hpp"

#include <utility>

#include "modes/fastfile/disk_cache.hpp"

namespace sluice::modes::fastfile {

DiskCacheWriter::DiskCacheWriter(DiskCache& cache) : cache_(cache), thread_([this] { loop(); }) {}

DiskCacheWriter::~DiskCacheWriter() { stop(); }

void DiskCacheWriter::put(std::string key, std::string etag, uint64_t index, transfer::BufferPtr buf) {
  std::lock_guard lock(mu_);
  writes_.push_back(Write{std::move(key), std::move(etag), index, std::move(buf)});
  cv_.notify_one();
}

void DiskCacheWriter::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void DiskCacheWriter::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !writes_.empty(); });
    if (writes_.empty()) return;
    Write w = std::move(writes_.front());
    writes_.pop_front();
    lock.unlock();
    cache_.put(w.key, w.etag, w.index, w.buf->data(), w.buf->size());
    w.buf.reset();
    lock.lock();
  }
}

}  // namespace sluice::modes::fastfile
