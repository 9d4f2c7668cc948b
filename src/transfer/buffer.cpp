#include "transfer/buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <new>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace sluice::transfer {

namespace {
char* map(size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
}
}  // namespace

ChunkPool::ChunkPool(size_t chunk, uint64_t keep_bytes) : chunk_(chunk), keep_(std::max<uint64_t>(keep_bytes, chunk)) {}

ChunkPool::~ChunkPool() {
  for (void* p : free_) ::munmap(p, chunk_);
  for (auto& [p, size] : mapped_) ::munmap(p, size);
}

namespace {
void unmap_all(const std::vector<std::pair<char*, size_t>>& maps) {
  for (const auto& [p, size] : maps) ::munmap(p, size);
}
}  // namespace

char* ChunkPool::take() {
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      void* p = free_.back();
      free_.pop_back();
      kept_ -= chunk_;
      return static_cast<char*>(p);
    }
  }
  return map(chunk_);
}

void ChunkPool::give(char* p) {
  std::vector<Mapping> victims;
  bool kept = false;
  {
    std::lock_guard lock(mu_);
    victims = trim_locked(chunk_, 0);
    if (kept_ + chunk_ <= keep_) {
      free_.push_back(p);
      kept_ += chunk_;
      kept = true;
    }
  }
  unmap_all(victims);
  if (!kept) ::munmap(p, chunk_);
}

char* ChunkPool::take_mapped(size_t size) {
  {
    std::lock_guard lock(mu_);
    for (auto it = mapped_.rbegin(); it != mapped_.rend(); ++it) {
      if (it->second != size) continue;
      char* p = it->first;
      mapped_.erase(std::next(it).base());
      kept_ -= size;
      mapped_bytes_ -= size;
      return p;
    }
  }
  return map(size);
}

void ChunkPool::give_mapped(char* p, size_t size) {
  std::vector<Mapping> victims;
  bool kept = false;
  {
    std::lock_guard lock(mu_);
    // Kept only when it fits beside the chunks kept, and within the mappings' half.
    if (free_.size() * chunk_ + size <= keep_ && size <= keep_ / 2) {
      victims = trim_locked(size, size);
      mapped_.emplace_back(p, size);
      kept_ += size;
      mapped_bytes_ += size;
      kept = true;
    }
  }
  unmap_all(victims);
  if (!kept) ::munmap(p, size);
}

std::vector<ChunkPool::Mapping> ChunkPool::trim_locked(uint64_t room, uint64_t mapped_room) {
  size_t drop = 0;
  while (drop < mapped_.size() && (kept_ + room > keep_ || mapped_bytes_ + mapped_room > keep_ / 2)) {
    kept_ -= mapped_[drop].second;
    mapped_bytes_ -= mapped_[drop].second;
    ++drop;
  }
  std::vector<Mapping> victims(mapped_.begin(), mapped_.begin() + static_cast<std::ptrdiff_t>(drop));
  mapped_.erase(mapped_.begin(), mapped_.begin() + static_cast<std::ptrdiff_t>(drop));
  return victims;
}

uint64_t ChunkPool::kept_bytes() const {
  std::lock_guard lock(mu_);
  return kept_;
}

Buffer::Buffer(size_t size, MemoryBudget::Reservation reservation, ChunkPool& pool)
    : size_(size), reservation_(std::move(reservation)) {
  if (size >= kPooled && size <= pool.chunk()) {
    kind_ = Kind::kPool;
    pool_ = &pool;
    data_ = pool.take();
  } else if (size > pool.chunk()) {
    kind_ = Kind::kMapped;
    pool_ = &pool;
    data_ = pool.take_mapped(size);
  } else {
    data_ = new char[size];
  }
}

Buffer::~Buffer() {
  switch (kind_) {
    case Kind::kPool:
      pool_->give(data_);
      break;
    case Kind::kMapped:
      pool_->give_mapped(data_, size_);
      break;
    case Kind::kHeap:
      delete[] data_;
      break;
  }
}

Engine::Ticket fetch_into(FetchGroup& group, store::ObjectStore& store, store::GetRequest request, std::vector<BufferPtr> bufs,
                          std::function<void(size_t k)> filled, std::function<void(size_t k, std::exception_ptr error)> failed,
                          Engine::Priority priority) {
  struct State {
    std::vector<BufferPtr> bufs;
    size_t block = 0, used = 0;  // the buffer being filled, and its bytes so far
    std::function<void(size_t)> filled;
    std::function<void(size_t, std::exception_ptr)> failed;
  };
  auto s = std::make_shared<State>(State{std::move(bufs), 0, 0, std::move(filled), std::move(failed)});
  const std::string key = request.key;
  auto sink = [s](const char* data, size_t len) {
    while (len > 0) {
      if (s->block >= s->bufs.size()) return false;  // more than asked for
      Buffer& b = *s->bufs[s->block];
      size_t n = std::min(len, b.size() - s->used);
      std::memcpy(b.data() + s->used, data, n);
      s->used += n;
      data += n;
      len -= n;
      if (s->used == b.size()) {
        // The read needs a full buffer no more, and its owner keeps a reference of its own: once
        // the owner drops it, its memory goes back at once, not when the store ends the read.
        s->bufs[s->block].reset();
        s->used = 0;
        s->filled(s->block++);
      }
    }
    return true;
  };
  auto done = [s, key](std::exception_ptr error) {
    if (!error && s->block < s->bufs.size()) {
      error = std::make_exception_ptr(Error(ErrorKind::kDataLoss, "reading " + key, "the store sent fewer bytes than asked for"));
    }
    if (error) s->failed(s->block, error);
  };
  return group.fetch(store, std::move(request), std::move(sink), std::move(done), priority);
}

}  // namespace sluice::transfer
