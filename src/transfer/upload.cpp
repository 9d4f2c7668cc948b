#include "transfer/upload.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/hash.hpp"
#include "core/log.hpp"
#include "transfer/multipart_upload.hpp"

namespace sluice::transfer {
namespace {

class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw errno_error(errno, "opening", path);
  }
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string md5_base64(int fd, uint64_t size, const std::string& path) {
  Digest d(Digest::Algo::kMd5);
  std::string buf(1 << 20, '\0');
  for (uint64_t off = 0; off < size;) {
    ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off)), static_cast<off_t>(off));
    if (n < 0) throw errno_error(errno, "reading", path);
    if (n == 0) throw Error(ErrorKind::kDataLoss, "reading " + path, "the file became shorter while it was being uploaded");
    d.update(buf.data(), static_cast<size_t>(n));
    off += static_cast<uint64_t>(n);
  }
  return base64_encode(d.finish_raw());
}

void upload_multipart(store::ObjectStore& store, const UploadItem& item, int fd, const UploadOptions& options,
                      Progress& progress) {
  const uint64_t part = part_size_for(item.size, options.part_size);
  MultipartUpload upload(store, item.key, options.parts_in_parallel, &progress);
  for (uint64_t off = 0; off < item.size; off += part) {
    if (options.cancelled && options.cancelled()) {
      throw Error(ErrorKind::kCancelled, "uploading " + item.path, "interrupted");  // ~MultipartUpload aborts
    }
    if (!upload.add_part(store::Body::from_file(fd, off, std::min(part, item.size - off)))) break;
  }
  upload.complete();
}

}  // namespace

uint64_t part_size_for(uint64_t size, uint64_t preferred) {
  constexpr uint64_t kMaxParts = 10'000;
  constexpr uint64_t kMiB = 1 << 20;
  uint64_t part = std::max<uint64_t>(preferred, 5 * kMiB);
  if ((size + part - 1) / part > kMaxParts) part = (size + kMaxParts - 1) / kMaxParts;
  return (part + kMiB - 1) / kMiB * kMiB;
}

UploadResult upload(store::ObjectStore& store, const std::vector<UploadItem>& items, const UploadOptions& options) {
  UploadResult result;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  Progress local;
  Progress& progress = options.progress ? *options.progress : local;
  for (const auto& item : items) {
    progress.total_files++;
    progress.total_bytes += item.size;
  }
  auto worker = [&] {
    for (size_t i; !stop && (i = next++) < items.size();) {
      if (options.cancelled && options.cancelled()) {
        std::lock_guard lock(mu);
        if (!stop.exchange(true)) result.failures.emplace_back(ErrorKind::kCancelled, "uploading", "interrupted");
        break;
      }
      const UploadItem& item = items[i];
      try {
        Fd fd(item.path);
        if (item.size > options.multipart_threshold && store.supports_multipart()) {
          upload_multipart(store, item, fd.get(), options, progress);
        } else {
          store::PutOptions put;
          put.content_md5_base64 = md5_base64(fd.get(), item.size, item.path);
          store.put(item.key, store::Body::from_file(fd.get(), 0, item.size), put);
          progress.done_bytes += item.size;
        }
        progress.done_files++;
        std::lock_guard lock(mu);
        result.files++;
        result.bytes += item.size;
      } catch (const Error& e) {
        progress.failed_files++;
        std::lock_guard lock(mu);
        result.failures.push_back(e);
        if (e.kind() == ErrorKind::kAccessDenied || e.kind() == ErrorKind::kRetryable ||
            e.kind() == ErrorKind::kNotFound) {
          stop = true;  // would fail every other file too
        }
      }
    }
  };
  std::vector<std::thread> threads;
  int n = std::max(1, std::min<int>(options.files_in_parallel, static_cast<int>(items.size())));
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return result;
}

}  // namespace sluice::transfer
