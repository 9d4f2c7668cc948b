// What an upload sends (ObjectStore::put, upload_part): bytes in memory, or a range of a file the
// caller keeps open until the call returns (put) or completes (upload_part). The store layer's own
// type, so that nothing above the store names the transport: S3Store turns it into an http::Body
// in one place (s3_store.cpp), FileStore writes it out with for_each_chunk, MemoryStore keeps read().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace sluice::store {

struct Body {
  std::shared_ptr<const std::string> bytes;  // when set
  int fd = -1;                               // else, when >= 0: `length` bytes from `offset`
  uint64_t offset = 0;
  uint64_t length = 0;

  static Body from_string(std::string s) { return Body{std::make_shared<const std::string>(std::move(s)), -1, 0, 0}; }
  static Body from_file(int fd, uint64_t offset, uint64_t length) { return Body{nullptr, fd, offset, length}; }
  uint64_t size() const { return bytes ? bytes->size() : length; }

  // Hands every byte of the body to `out`, in order, in chunks of at most 1 MiB for a file range
  // (bytes in memory: one call, none when empty). Throws errno_error naming `what` when the file
  // cannot be read, and Error(kDataLoss) when it ends before the range does.
  void for_each_chunk(const std::function<void(const char* data, size_t len)>& out, const std::string& what) const;
  // The whole body in memory.
  std::string read(const std::string& what) const;
};

}  // namespace sluice::store
