#include "transfer/stream_download.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "transfer/download.hpp"

namespace sluice::transfer {
namespace {

struct Part {
  std::string bytes;
  bool done = false;
  std::exception_ptr error;
};

// What the reads' callbacks share with the writer; they may outlive the call when it throws.
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
};

void write_all(int fd, const std::string& bytes, const std::string& name) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error(errno, "writing", name);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void download_to_stream(Engine& engine, const store::ObjectInfo& object, int fd, const StreamDownloadOptions& o) {
  download_to_stream(engine, engine.store(), object, fd, o);
}

void download_to_stream(Engine& engine, store::ObjectStore& store, const store::ObjectInfo& object, int fd,
                        const StreamDownloadOptions& o) {
  FetchGroup group(engine);
  Progress local;
  Progress& progress = o.progress ? *o.progress : local;
  progress.total_files++;
  progress.total_bytes += object.size;
  const uint64_t part_size = std::max<uint64_t>(1, o.part_size);
  const uint64_t parts = (object.size + part_size - 1) / part_size;
  const size_t window = static_cast<size_t>(std::max(1, o.parts_in_flight));
  auto shared = std::make_shared<Shared>();
  std::deque<std::shared_ptr<Part>> in_order;  // the parts started and not yet written
  const bool check_md5 = o.verify_md5 && etag_is_md5(object.etag);
  Digest md5(Digest::Algo::kMd5);
  uint64_t next = 0;
  try {
    while (next < parts || !in_order.empty()) {
      while (next < parts && in_order.size() < window) {
        store::GetRequest req;
        req.key = object.key;
        req.range = store::ByteRange{next * part_size, std::min(object.size, (next + 1) * part_size) - 1};
        req.if_match = object.etag;
        auto part = std::make_shared<Part>();
        part->bytes.reserve(static_cast<size_t>(req.range->length()));
        in_order.push_back(part);
        group.fetch(
            store, std::move(req),
            [part](const char* d, size_t n) {
              part->bytes.append(d, n);
              return true;
            },
            [part, shared](std::exception_ptr e) {
              std::lock_guard lock(shared->mu);
              part->error = e;
              part->done = true;
              shared->cv.notify_all();
            });
        ++next;
      }
      std::shared_ptr<Part> first = in_order.front();
      {
        std::unique_lock lock(shared->mu);
        shared->cv.wait(lock, [&] { return first->done; });
      }
      if (first->error) std::rethrow_exception(first->error);
      write_all(fd, first->bytes, o.name);
      if (check_md5) md5.update(first->bytes.data(), first->bytes.size());
      progress.done_bytes += first->bytes.size();
      in_order.pop_front();
    }
  } catch (...) {
    group.cancel();  // the parts still in flight are of no use any more
    throw;
  }
  if (check_md5 && md5.finish_hex() != object.etag) {
    throw Error(ErrorKind::kDataLoss, "checking what was written to " + o.name,
                "the bytes do not match the MD5 of object '" + object.key + "' (its ETag)");
  }
  progress.done_files++;
}

}  // namespace sluice::transfer
