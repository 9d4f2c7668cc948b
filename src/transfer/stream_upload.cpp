#include "transfer/stream_upload.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "transfer/multipart_upload.hpp"

namespace sluice::transfer {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr int kMaxParts = 10'000;

// Reads up to n bytes (fewer only at the end of the stream).
std::string read_up_to(int fd, uint64_t n, const StreamUploadOptions& o) {
  std::string out(static_cast<size_t>(n), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0 && errno == EINTR) {
      if (o.cancelled && o.cancelled()) throw Error(ErrorKind::kCancelled, "reading " + o.name, "interrupted");
      continue;
    }
    if (r < 0) throw errno_error(errno, "reading", o.name);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  if (o.progress) o.progress->total_bytes += got;
  return out;
}

}  // namespace

uint64_t stream_part_size(int number, uint64_t preferred) {
  constexpr uint64_t kMaxPart = 5ull << 30;
  uint64_t part = std::max<uint64_t>(preferred, 5 * kMiB);
  for (int doubled = 0; doubled < (number - 1) / 1000 && part < kMaxPart; ++doubled) part *= 2;
  return std::min(part, kMaxPart);
}

uint64_t upload_stream(store::ObjectStore& store, int fd, const std::string& key, const StreamUploadOptions& o) {
  Progress local;
  Progress& progress = o.progress ? *o.progress : local;
  progress.total_files++;
  // One byte past the threshold tells a stream that fits in one PUT from one that does not.
  std::string head = read_up_to(fd, o.multipart_threshold + 1, o);
  if (head.size() <= o.multipart_threshold || !store.supports_multipart()) {
    while (head.size() > o.multipart_threshold) {  // a store without multipart: all in one PUT
      std::string more = read_up_to(fd, 8 * kMiB, o);
      if (more.empty()) break;
      head += more;
    }
    Digest md5(Digest::Algo::kMd5);
    md5.update(head.data(), head.size());
    store::PutOptions put;
    put.content_md5_base64 = base64_encode(md5.finish_raw());
    const uint64_t size = head.size();
    store.put(key, store::Body::from_string(std::move(head)), put);
    progress.done_bytes += size;
    progress.done_files++;
    return size;
  }

  MultipartUpload upload(store, key, o.parts_in_parallel, &progress);
  uint64_t total = 0;
  size_t head_used = 0;
  for (int number = 1;; ++number) {
    if (o.cancelled && o.cancelled()) throw Error(ErrorKind::kCancelled, "uploading " + o.name, "interrupted");
    const uint64_t want = stream_part_size(number, o.part_size);
    // What is left of the first read, then the stream.
    std::string part;
    if (head_used < head.size()) {
      part = head.substr(head_used, static_cast<size_t>(want));
      head_used += part.size();
      if (head_used == head.size()) {  // all of it is in parts now: free it
        std::string().swap(head);
        head_used = 0;
      }
    }
    if (part.size() < want) part += read_up_to(fd, want - part.size(), o);
    if (part.empty()) break;
    if (number > kMaxParts) {
      throw Error(ErrorKind::kInvalidInput, "uploading " + o.name + " to " + key,
                  "it is longer than 10,000 parts can hold; use a larger --part-size");
    }
    total += part.size();
    if (!upload.add_part(store::Body::from_string(std::move(part)))) break;
  }
  upload.complete();
  progress.done_files++;
  return total;
}

}  // namespace sluice::transfer
