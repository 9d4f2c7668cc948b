// Buffers of fetched data, counted against a MemoryBudget, and the read that fills them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "store/object_store.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::transfer {

inline constexpr size_t kChunkSize = 1u << 20;

// Large buffers come from one pool of chunks mapped once and reused, so that memory freed by one
// thread serves the next buffer of any thread: with malloc, each FUSE and I/O thread's arena kept
// its own freed blocks and the process grew to several times the budget. Buffers larger than a
// chunk (Pipe's pieces) are mappings of their own, and freed ones are kept for the next buffer of
// the same size: a fresh mapping costs a page fault per 4 KiB page as it is filled, which was
// most of a Pipe channel's CPU. What the pool keeps stays within `keep_bytes`, the mappings
// within half of it; the oldest mappings are given back first (unmapped outside the lock).
class ChunkPool {
 public:
  ChunkPool(size_t chunk, uint64_t keep_bytes);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;
  char* take();
  void give(char* p);
  // A mapping of `size` (> chunk()) bytes, and giving it back.
  char* take_mapped(size_t size);
  void give_mapped(char* p, size_t size);
  size_t chunk() const { return chunk_; }
  uint64_t kept_bytes() const;

 private:
  using Mapping = std::pair<char*, size_t>;
  // Takes the oldest kept mappings out until `room` more bytes fit within keep_ and
  // `mapped_room` more within the mappings' half; the caller unmaps them once unlocked.
  std::vector<Mapping> trim_locked(uint64_t room, uint64_t mapped_room);
  size_t chunk_;
  uint64_t keep_;  // bytes
  mutable std::mutex mu_;
  std::vector<void*> free_;
  std::vector<Mapping> mapped_;  // oldest first
  uint64_t kept_ = 0;            // bytes in free_ and mapped_
  uint64_t mapped_bytes_ = 0;    // bytes in mapped_
};

// Bytes of data held under a reservation. Buffers of kPooled bytes up to a chunk use the pool's
// chunks, larger ones a mapping of their own (kept by the pool for reuse), smaller ones malloc.
class Buffer {
 public:
  static constexpr size_t kPooled = 256 << 10;
  Buffer(size_t size, MemoryBudget::Reservation reservation, ChunkPool& pool);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  enum class Kind { kHeap, kPool, kMapped };
  char* data_ = nullptr;
  size_t size_;
  Kind kind_ = Kind::kHeap;
  ChunkPool* pool_ = nullptr;
  MemoryBudget::Reservation reservation_;
};
using BufferPtr = std::shared_ptr<Buffer>;

// One ranged GET (`request.range` covers the buffers exactly) streamed into consecutive buffers.
// The caller keeps its own references to the buffers: the read drops its own as each is filled.
// `filled(k)` runs as buffer k becomes full; `failed(k, error)` once if the read ends before all
// are (k: the first buffer not filled; a short body is kDataLoss). Both run on I/O threads.
// Returns the engine's ticket (Engine::promote).
Engine::Ticket fetch_into(FetchGroup& group, store::ObjectStore& store, store::GetRequest request, std::vector<BufferPtr> bufs,
                          std::function<void(size_t k)> filled, std::function<void(size_t k, std::exception_ptr error)> failed,
                          Engine::Priority priority);

}  // namespace sluice::transfer
