// Ordered, windowed delivery of a list of byte ranges (pieces of one object, or of many objects
// one after another) to one sequential consumer, fetched ahead through the process's engine
// within its memory budget. Pipe's epochs read their objects through it.
//
//  - Read-ahead: pieces are requested in order while the bytes requested and not yet taken stay
//    within a window that starts at `initial_window` and doubles with each piece taken, up to
//    `max_window` — a stream read to the end soon reads far ahead, a short one costs little. An
//    initial window above max_window starts at max_window.
//  - Memory: read-ahead reserves its buffers with try_reserve() and waits for a later chance when
//    the budget is full. A piece the consumer waits for and that is not requested yet is requested
//    at once, urgent and reserved as demand (past the budget if need be), so the consumer never
//    stalls for memory: at most one piece beyond the budget per stream. A piece it waits for that
//    was requested as read-ahead and is still queued in the engine is promoted (Engine::promote),
//    so it does not wait behind other users' read-ahead either.
//  - A piece without a range is an object of unknown size, fetched whole; `size_hint` bytes are
//    reserved for it until its size is known.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/object_store.hpp"
#include "transfer/buffer.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::transfer {

struct RangePiece {
  store::ObjectStore* store = nullptr;
  store::GetRequest request;  // key, range (none: the whole object), if_match
  uint64_t size_hint = 0;     // without a range: bytes reserved until the size is known
};

struct RangeStreamOptions {
  uint64_t initial_window = 64ull << 20;
  uint64_t max_window = 1ull << 30;
  int max_in_flight = 64;  // pieces requested and not yet complete
};

class RangeStream {
 public:
  // `engine` and `budget` must outlive the stream.
  RangeStream(Engine& engine, MemoryBudget& budget, std::vector<RangePiece> pieces, RangeStreamOptions options);
  ~RangeStream();  // cancel(), then waits for the reads in flight
  RangeStream(const RangeStream&) = delete;
  RangeStream& operator=(const RangeStream&) = delete;

  // Starts reading ahead (before the consumer asks). Idempotent; next() starts too.
  void start();
  // The next piece's bytes, in order; valid until the next call to next() (which gives them
  // back) or the end of the stream. Blocks until the piece is complete. Throws the piece's error
  // as the store reported it, or Error(kCancelled) after cancel(). Only while has_next().
  std::string_view next();
  bool has_next() const;
  // Makes next() throw kCancelled, drops what was read ahead, cancels the reads in flight.
  void cancel();

  uint64_t bytes_fetched() const;
  uint64_t window() const;  // the read-ahead window now

 private:
  struct Slot {
    BufferPtr buf;                      // a piece with a range
    std::string whole;                  // a piece without
    MemoryBudget::Reservation reserved;  // for `whole`
    uint64_t need = 0;                  // bytes counted in ahead_
    Engine::Ticket ticket = 0;          // once queued
    bool issued = false, done = false;
    bool urgent = false;                // queued (or promoted) as a read the consumer waits for
    std::exception_ptr error;
  };
  void pump();
  void issue(size_t i, MemoryBudget::Reservation reservation, bool urgent);
  void complete(size_t i, std::exception_ptr error);
  void give_back(Slot& slot);
  uint64_t need_of(size_t i) const;

  MemoryBudget& budget_;
  std::vector<RangePiece> pieces_;
  RangeStreamOptions opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  size_t next_issue_ = 0, taken_ = 0;
  int in_flight_ = 0;
  uint64_t ahead_ = 0;  // bytes of pieces requested and not yet taken
  uint64_t window_;
  uint64_t fetched_ = 0;
  bool started_ = false, waiting_ = false, cancelled_ = false;
  FetchGroup group_;  // last: destroyed (cancelled and waited for) first
};

}  // namespace sluice::transfer
