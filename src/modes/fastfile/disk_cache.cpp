#include "modes/fastfile/disk_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "core/crc32c.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"

namespace sluice::modes::fastfile {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[4] = {'S', 'L', 'C', 'B'};
constexpr uint32_t kVersion = 1;
constexpr std::string_view kPrefix = "sluice-cache-";

// The start of every block file, in host byte order (the files never leave this process).
struct BlockHeader {
  char magic[4];
  uint32_t version;
  uint64_t index;
  uint64_t length;            // data bytes after the header
  uint32_t crc;               // CRC-32C of the data
  uint32_t reserved;          // 0
  unsigned char object[32];   // SHA-256 of key '\0' etag
};
static_assert(sizeof(BlockHeader) == 64);

std::string object_id(std::string_view key, std::string_view etag) {
  std::string s;
  s.reserve(key.size() + etag.size() + 1);
  s.append(key).push_back('\0');
  s.append(etag);
  return sha256(s);
}

std::string file_name(std::string_view key, std::string_view etag, uint64_t index) {
  std::string s;
  s.reserve(key.size() + etag.size() + 22);
  s.append(key).push_back('\0');
  s.append(etag).push_back('\0');
  s.append(std::to_string(index));
  return sha256_hex(s);
}

// The pid in a private directory's name (sluice-cache-<pid>-*), or 0 when the name is not one.
pid_t owner_pid(const std::string& name) {
  if (name.compare(0, kPrefix.size(), kPrefix) != 0) return 0;
  const char* first = name.data() + kPrefix.size();
  const char* last = name.data() + name.size();
  long pid = 0;
  auto [end, ec] = std::from_chars(first, last, pid);
  if (ec != std::errc() || end == first || end == last || *end != '-' || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

constexpr const char* kLockName = "lock";

// Whether the private directory `path` (owner `pid`) still belongs to a running cache. Its owner
// holds an exclusive flock on `path/lock` for as long as it lives (the kernel drops it when the
// process dies, whatever its pid namespace and even if the pid was reused); a directory without
// the lock file (being created) falls back to the pid.
bool in_use(const fs::path& path, pid_t pid) {
  int fd = ::open((path / kLockName).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return process_exists(pid);
  bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return locked;
}

void remove_stale_directories(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = owner_pid(it->path().filename().string());
    if (pid == 0 || !it->is_directory(ec) || in_use(it->path(), pid)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (rm) {
      log::warn("cannot remove stale cache directory {}: {}", it->path().string(), rm.message());
    } else {
      log::info("removed stale cache directory {} (its process is gone)", it->path().string());
    }
  }
}

// Moves past n transferred bytes of the iovecs.
void advance(iovec*& iov, int& count, size_t n) {
  for (; count > 0 && n >= iov->iov_len; ++iov, --count) n -= iov->iov_len;
  if (count > 0) {
    iov->iov_base = static_cast<char*>(iov->iov_base) + n;
    iov->iov_len -= n;
  }
}

// Writes all of the iovecs from offset 0; 0, or the errno of the failure.
int write_all(int fd, iovec* iov, int count) {
  off_t offset = 0;
  while (count > 0) {
    const ssize_t n = ::pwritev(fd, iov, count, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    offset += n;
    advance(iov, count, static_cast<size_t>(n));
  }
  return 0;
}

// Reads into the iovecs from offset 0 until they are full or the file ends; the bytes read, or -1.
ssize_t read_all(int fd, iovec* iov, int count) {
  ssize_t total = 0;
  while (count > 0) {
    const ssize_t n = ::preadv(fd, iov, count, total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    total += n;
    advance(iov, count, static_cast<size_t>(n));
  }
  return total;
}

}  // namespace

DiskCache::DiskCache(const std::filesystem::path& dir, uint64_t max_bytes, size_t block_size)
    : max_bytes_(max_bytes), block_size_(block_size) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::kInvalidInput, "cannot create cache directory " + dir.string(), ec.message());
  remove_stale_directories(dir);
  std::string tmpl = (dir / (std::string(kPrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw Error(ErrorKind::kInvalidInput, "cannot write to cache directory " + dir.string(), std::strerror(errno));
  }
  dir_ = tmpl;
  lock_fd_ = ::open((dir_ / kLockName).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0) {
    int err = errno;
    fs::remove_all(dir_, ec);
    throw Error(ErrorKind::kInvalidInput, "cannot write to cache directory " + dir.string(), std::strerror(err));
  }
}

DiskCache::~DiskCache() {
  std::error_code ec;
  if (lock_fd_ >= 0) ::close(lock_fd_);
  fs::remove_all(dir_, ec);
  if (ec) log::warn("cannot remove cache directory {}: {}", dir_.string(), ec.message());
}

void DiskCache::drop_locked(const std::string& name, uint64_t generation) {
  auto it = index_.find(name);
  if (it == index_.end() || it->second.generation != generation) return;
  stats_.bytes -= it->second.bytes;
  if (it->second.writing) writing_bytes_ -= it->second.bytes;
  --stats_.blocks;
  lru_.erase(it->second.lru);
  index_.erase(it);
}

std::optional<std::vector<char>> DiskCache::get(std::string_view key, std::string_view etag, uint64_t index) {
  const std::string name = file_name(key, etag, index);
  uint64_t length = 0, generation = 0;
  {
    std::lock_guard lock(mu_);
    auto it = index_.find(name);
    if (it == index_.end() || it->second.writing) {
      ++stats_.misses;
      return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    length = it->second.bytes;
    generation = it->second.generation;
  }

  const fs::path path = dir_ / name;
  const char* problem = nullptr;
  std::vector<char> data(length);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // Gone: evicted and unlinked by another thread after we looked, or removed from outside.
    if (errno != ENOENT) log::warn("cannot open cached block {}: {}", path.string(), std::strerror(errno));
  } else {
    BlockHeader h{};
    char extra = 0;
    iovec iov[3] = {{&h, sizeof h}, {data.data(), data.size()}, {&extra, 1}};
    const ssize_t n = read_all(fd, iov, 3);
    const int err = errno;
    ::close(fd);
    if (n < 0) {
      log::warn("cannot read cached block {}: {}", path.string(), std::strerror(err));
    } else if (static_cast<size_t>(n) != sizeof h + length) {
      problem = static_cast<size_t>(n) < sizeof h + length ? "truncated" : "longer than its header says";
    } else if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion) {
      problem = "not a block file of this version";
    } else if (h.index != index || h.length != length ||
               std::memcmp(h.object, object_id(key, etag).data(), sizeof h.object) != 0) {
      problem = "the header is for another block";
    } else if (crc32c(data.data(), data.size()) != h.crc) {
      problem = "checksum mismatch";
    } else {
      std::lock_guard lock(mu_);
      ++stats_.hits;
      return data;
    }
  }

  if (problem != nullptr) {
    log::warn("cached block {} of {} is corrupt ({}); removing it", index, key, problem);
    // Unlink before dropping the entry: while the entry exists no put() rewrites this name.
    ::unlink(path.c_str());
  }
  std::lock_guard lock(mu_);
  ++stats_.misses;
  if (problem != nullptr) ++stats_.corrupt;
  drop_locked(name, generation);
  return std::nullopt;
}

void DiskCache::put(std::string_view key, std::string_view etag, uint64_t index, const char* data, size_t len) {
  if (len > max_bytes_) return;
  const std::string name = file_name(key, etag, index);
  uint64_t generation = 0;
  std::vector<std::string> evicted;
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(name); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);  // same key, ETag and index: same bytes
      return;
    }
    // Blocks still being written are not evicted; give up when the rest cannot make room.
    if (writing_bytes_ + len > max_bytes_) return;
    for (auto it = lru_.end(); stats_.bytes + len > max_bytes_;) {
      --it;
      Slot& victim = index_.at(*it);
      if (victim.writing) continue;
      stats_.bytes -= victim.bytes;
      --stats_.blocks;
      ++stats_.evictions;
      evicted.push_back(*it);
      index_.erase(*it);
      it = lru_.erase(it);
    }
    lru_.push_front(name);
    generation = next_generation_++;
    index_.emplace(name, Slot{len, lru_.begin(), generation, true});
    stats_.bytes += len;
    writing_bytes_ += len;
    ++stats_.blocks;
  }

  for (const std::string& victim : evicted) ::unlink((dir_ / victim).c_str());

  BlockHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.index = index;
  h.length = len;
  h.crc = crc32c(data, len);
  const std::string id = object_id(key, etag);
  std::memcpy(h.object, id.data(), sizeof h.object);

  const fs::path path = dir_ / name;
  const fs::path temp = dir_ / (name + ".tmp");  // one writer per name: the entry is marked writing
  int err = 0;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = errno;
  } else {
    iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(data), len}};
    err = write_all(fd, iov, 2);
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0 && ::rename(temp.c_str(), path.c_str()) != 0) err = errno;
  }
  const bool ok = err == 0;
  if (!ok) {
    log::warn("cannot write block {} of {} to the disk cache {}: {}", index, key, dir_.string(), std::strerror(err));
    ::unlink(temp.c_str());
  }

  std::lock_guard lock(mu_);
  if (ok) {
    auto it = index_.find(name);
    if (it != index_.end() && it->second.generation == generation) {
      it->second.writing = false;
      writing_bytes_ -= len;
    }
  } else {
    drop_locked(name, generation);
  }
}

DiskCacheStats DiskCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace sluice::modes::fastfile
