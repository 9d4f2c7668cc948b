#include "store/body.hpp"

#include <unistd.h>

#include <algorithm>

#include "core/error.hpp"

namespace sluice::store {

namespace {
constexpr size_t kChunk = 1 << 20;
}

void Body::for_each_chunk(const std::function<void(const char* data, size_t len)>& out, const std::string& what) const {
  if (bytes) {
    if (!bytes->empty()) out(bytes->data(), bytes->size());
    return;
  }
  std::string buf;
  for (uint64_t done = 0; done < length;) {
    buf.resize(static_cast<size_t>(std::min<uint64_t>(kChunk, length - done)));
    ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset + done));
    if (got < 0) throw errno_error(errno, "reading the source of", what);
    if (got == 0) throw Error(ErrorKind::kDataLoss, "reading the source of " + what, "source ended early");
    out(buf.data(), static_cast<size_t>(got));
    done += static_cast<uint64_t>(got);
  }
}

std::string Body::read(const std::string& what) const {
  if (bytes) return *bytes;
  std::string out;
  out.reserve(static_cast<size_t>(length));
  for_each_chunk([&](const char* data, size_t len) { out.append(data, len); }, what);
  return out;
}

}  // namespace sluice::store
