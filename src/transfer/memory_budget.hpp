// The memory budget of the process's data plane: every buffer of fetched data that FastFile,
// Pipe or a transfer holds is reserved from one MemoryBudget, so that channels of one job share
// one limit instead of splitting it statically (like Mountpoint's mem_limiter).
//
//  - Optional work (read-ahead, prefetch, upload buffers) uses try_reserve(), which fails when the
//    bytes would not fit; before failing it asks the holders of reclaimable memory (caches) of
//    other users to give some back.
//  - Demand work (a reader is waiting for these bytes) uses reserve(), which always succeeds, past
//    the limit if need be: a read never fails or deadlocks for want of memory.
//  - reserve_waiting() is for callers that would rather wait for memory than go past the limit.
// Thread-safe. The budget must outlive every reservation.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace sluice::transfer {

class ChunkPool;

// The default limit of a process's budget (`--max-memory` of mount and train): 1/8 of physical
// memory, at least 256 MiB and at most 8 GiB.
uint64_t default_memory_limit();

class MemoryBudget {
 public:
  // Bytes held from the budget; given back when destroyed (or on release()). Move-only.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation() { release(); }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

    uint64_t bytes() const { return bytes_; }
    void release();
    // Changes the amount held without asking (the real size of data whose size was only
    // estimated is known now): demand semantics.
    void resize(uint64_t bytes);

   private:
    friend class MemoryBudget;
    Reservation(MemoryBudget* budget, uint64_t bytes) : budget_(budget), bytes_(bytes) {}
    MemoryBudget* budget_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // Frees what it can, so that `bytes` more fit, e.g. by dropping cached data. Called from
  // the thread of a try_reserve() that found the budget full, never with the budget's lock held;
  // it must not block on its owner's lock (try_lock it: the caller may hold another owner's).
  using Reclaimer = std::function<void(uint64_t bytes)>;

  explicit MemoryBudget(uint64_t limit);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Optional work: the bytes, if they fit under the limit (after reclaiming from owners other
  // than `self`, a reclaimer id or 0).
  std::optional<Reservation> try_reserve(uint64_t bytes, uint64_t self = 0);
  // Demand work: always succeeds.
  Reservation reserve(uint64_t bytes);
  // Waits until the bytes fit, or until nothing else is reserved (so a request larger than the
  // limit still proceeds, alone). Returns nullopt when `stop` returns true (checked whenever
  // memory is released, and at least every 50 ms; called with the budget's lock held, so it must
  // not use the budget).
  std::optional<Reservation> reserve_waiting(uint64_t bytes, const std::function<bool()>& stop);

  // A holder of reclaimable memory. remove_reclaimer() waits for a call in progress.
  uint64_t add_reclaimer(Reclaimer reclaimer);
  void remove_reclaimer(uint64_t id);

  uint64_t limit() const { return limit_; }
  uint64_t reserved() const;
  uint64_t peak() const;  // the most ever reserved at once, demand reservations past the limit included
  bool fits(uint64_t bytes) const;

  // Block-sized chunks of memory reused by the buffers counted here (transfer/buffer.hpp): one
  // pool for the whole budget, so that memory one user freed serves the next.
  ChunkPool& pool();

 private:
  void add(uint64_t bytes);
  void sub(uint64_t bytes);
  bool reserve_if_fits(uint64_t bytes);

  const uint64_t limit_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  uint64_t reserved_ = 0, peak_ = 0;

  std::mutex reclaim_mu_;  // held while reclaimers run: one reclaim at a time
  std::map<uint64_t, Reclaimer> reclaimers_;  // under reclaim_mu_
  uint64_t next_reclaimer_ = 1;

  std::unique_ptr<ChunkPool> pool_;
};

}  // namespace sluice::transfer
