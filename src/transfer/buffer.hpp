// Buffers of fetched data, counted against a MemoryBudget, and the read that fills them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "store/object_store.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::transfer {

inline constexpr size_t kChunkSize = 1u << 20;

// Large buffers come from one pool of chunks mapped once and reused, so that memory freed by one
// thread serves the next buffer of any thread: with malloc, each FUSE and I/O thread's arena kept
// its own freed blocks and the process grew to several times the budget.
class ChunkPool {
 public:
  ChunkPool(size_t chunk, uint64_t keep_bytes);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;
  char* take();
  void give(char* p);
  size_t chunk() const { return chunk_; }

 private:
  size_t chunk_;
  size_t keep_;
  std::mutex mu_;
  std::vector<void*> free_;
};

// Bytes of data held under a reservation. Buffers of kPooled bytes up to a chunk use the pool,
// larger ones a mapping of their own (given back to the system when freed), smaller ones malloc.
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
