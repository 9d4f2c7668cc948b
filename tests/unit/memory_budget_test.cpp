// transfer::MemoryBudget, the process's one budget for fetched data (and its chunk pool and
// Buffer): reservations counted and given back, optional work refused over the limit, demand
// work always let through, waiting reservers woken when memory is released, reclaimers asked
// before optional work fails, chunks reused, and many threads at once never past the limit
// except by demand.
#include "transfer/memory_budget.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "support/watchdog.hpp"
#include "transfer/buffer.hpp"

namespace sluice::transfer {
namespace {

using namespace std::chrono_literals;
using sluice::testing::Watchdog;

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;

TEST(MemoryBudget, ReservationsAreCountedUntilReleasedOrDestroyed) {
  MemoryBudget budget(10 * KiB);
  EXPECT_EQ(budget.limit(), 10 * KiB);
  EXPECT_EQ(budget.reserved(), 0u);
  {
    MemoryBudget::Reservation a = budget.reserve(3 * KiB);
    EXPECT_EQ(a.bytes(), 3 * KiB);
    EXPECT_EQ(budget.reserved(), 3 * KiB);
    std::optional<MemoryBudget::Reservation> b = budget.try_reserve(4 * KiB);
    ASSERT_TRUE(b);
    EXPECT_EQ(budget.reserved(), 7 * KiB);

    MemoryBudget::Reservation moved = std::move(*b);  // a move hands the bytes over, once
    EXPECT_EQ(b->bytes(), 0u);
    EXPECT_EQ(budget.reserved(), 7 * KiB);
    b.reset();
    EXPECT_EQ(budget.reserved(), 7 * KiB);

    moved.release();
    EXPECT_EQ(moved.bytes(), 0u);
    EXPECT_EQ(budget.reserved(), 3 * KiB);
    moved.release();  // twice: nothing more
    EXPECT_EQ(budget.reserved(), 3 * KiB);

    a.resize(5 * KiB);  // the real size was larger than estimated
    EXPECT_EQ(budget.reserved(), 5 * KiB);
    a.resize(1 * KiB);
    EXPECT_EQ(budget.reserved(), 1 * KiB);

    MemoryBudget::Reservation c = budget.reserve(2 * KiB);
    c = std::move(a);  // assigning over c gives c's bytes back
    EXPECT_EQ(budget.reserved(), 1 * KiB);
  }
  EXPECT_EQ(budget.reserved(), 0u);
  EXPECT_EQ(budget.peak(), 7 * KiB);
}

TEST(MemoryBudget, TryReserveFailsWhenTheBytesWouldNotFit) {
  MemoryBudget budget(1000);
  auto a = budget.try_reserve(600);
  ASSERT_TRUE(a);
  EXPECT_TRUE(budget.fits(400));
  EXPECT_FALSE(budget.fits(401));
  EXPECT_FALSE(budget.try_reserve(401));
  EXPECT_EQ(budget.reserved(), 600u);  // a refused reservation leaves nothing behind
  auto b = budget.try_reserve(400);    // exactly up to the limit fits
  ASSERT_TRUE(b);
  EXPECT_EQ(budget.reserved(), 1000u);
  EXPECT_FALSE(budget.try_reserve(1));
  EXPECT_FALSE(MemoryBudget(10).try_reserve(11)) << "more than the whole limit never fits";
}

TEST(MemoryBudget, DemandReservationsProceedPastTheLimit) {
  MemoryBudget budget(1000);
  auto full = budget.try_reserve(1000);
  ASSERT_TRUE(full);
  MemoryBudget::Reservation demand = budget.reserve(500);
  EXPECT_EQ(demand.bytes(), 500u);
  EXPECT_EQ(budget.reserved(), 1500u);
  EXPECT_EQ(budget.peak(), 1500u);
  EXPECT_FALSE(budget.try_reserve(1)) << "optional work waits until the demand is given back";
  demand.release();
  full.reset();
  EXPECT_EQ(budget.reserved(), 0u);
  EXPECT_EQ(budget.peak(), 1500u);
}

// reserve_waiting() on a thread of its own; the future says whether it got the bytes (given back
// at once).
std::future<bool> reserve_waiting_async(MemoryBudget& budget, uint64_t bytes, std::function<bool()> stop) {
  return std::async(std::launch::async, [&budget, bytes, stop] { return budget.reserve_waiting(bytes, stop).has_value(); });
}

TEST(MemoryBudget, ReserveWaitingWakesWhenMemoryIsReleased) {
  Watchdog watchdog(60s);
  MemoryBudget budget(100);
  auto held = budget.try_reserve(80);
  ASSERT_TRUE(held);
  auto waiter = reserve_waiting_async(budget, 50, [] { return false; });
  EXPECT_EQ(waiter.wait_for(200ms), std::future_status::timeout) << "50 more bytes do not fit beside 80";
  held.reset();
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready) << "the release did not wake the waiter";
  EXPECT_TRUE(waiter.get());
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(MemoryBudget, ReserveWaitingStopsWhenAskedAndLetsALargeRequestThroughAlone) {
  Watchdog watchdog(60s);
  MemoryBudget budget(100);
  {
    auto held = budget.reserve(60);
    std::atomic<bool> stop{false};
    auto waiter = reserve_waiting_async(budget, 50, [&] { return stop.load(); });
    EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout);
    stop = true;  // no release: the waiter sees it within its polling interval
    ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready);
    EXPECT_FALSE(waiter.get());
    EXPECT_EQ(budget.reserved(), 60u);
  }
  // Larger than the whole budget: it proceeds once nothing else is reserved.
  auto big = budget.reserve_waiting(500, {});
  ASSERT_TRUE(big);
  EXPECT_EQ(budget.reserved(), 500u);
}

TEST(MemoryBudget, TryReserveAsksTheReclaimersOfOthersFirst) {
  MemoryBudget budget(1000);
  std::optional<MemoryBudget::Reservation> cache = budget.try_reserve(900);  // e.g. FastFile's cold blocks
  ASSERT_TRUE(cache);
  std::atomic<int> calls{0};
  std::atomic<uint64_t> asked{0};
  const uint64_t id = budget.add_reclaimer([&](uint64_t bytes) {
    ++calls;
    asked = bytes;
    cache.reset();
  });
  EXPECT_FALSE(budget.try_reserve(500, id)) << "a reserver is never asked to reclaim for itself";
  EXPECT_EQ(calls.load(), 0);
  auto r = budget.try_reserve(500);
  ASSERT_TRUE(r) << "the reclaimer freed room";
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(asked.load(), 500u);
  EXPECT_EQ(budget.reserved(), 500u);

  auto fits = budget.try_reserve(100);  // fits without reclaiming: nobody is asked
  ASSERT_TRUE(fits);
  EXPECT_EQ(calls.load(), 1);

  budget.remove_reclaimer(id);
  EXPECT_FALSE(budget.try_reserve(500));
  EXPECT_EQ(calls.load(), 1) << "a removed reclaimer is not called";
}

TEST(MemoryBudget, ReclaimersStopOnceTheBytesFit) {
  MemoryBudget budget(100);
  auto a = budget.try_reserve(50);
  auto b = budget.try_reserve(50);
  int first = 0, second = 0;
  budget.add_reclaimer([&](uint64_t) {
    ++first;
    a.reset();
  });
  budget.add_reclaimer([&](uint64_t) {
    ++second;
    b.reset();
  });
  EXPECT_TRUE(budget.try_reserve(40));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0) << "the first reclaimer made room enough";
  EXPECT_EQ(budget.reserved(), 50u);
}

TEST(MemoryBudget, ChunksOfThePoolAreReused) {
  MemoryBudget budget(8 * MiB);
  ChunkPool& pool = budget.pool();
  EXPECT_EQ(pool.chunk(), kChunkSize);
  char* p = pool.take();
  p[0] = 'x';
  p[kChunkSize - 1] = 'y';
  pool.give(p);
  EXPECT_EQ(pool.take(), p) << "a chunk given back serves the next take";
  pool.give(p);

  // A buffer of a chunk's size lives in a pooled chunk; its bytes are counted while it lives.
  char* data = nullptr;
  {
    Buffer buf(kChunkSize, budget.reserve(kChunkSize), pool);
    EXPECT_EQ(buf.size(), kChunkSize);
    EXPECT_EQ(budget.reserved(), kChunkSize);
    data = buf.data();
    EXPECT_EQ(data, p);
  }
  EXPECT_EQ(budget.reserved(), 0u);
  {
    Buffer again(Buffer::kPooled, budget.reserve(Buffer::kPooled), pool);
    EXPECT_EQ(again.data(), data) << "the next pooled buffer reuses the chunk";
  }
  // Small and large buffers (malloc, a mapping of their own) are usable and counted too.
  for (size_t size : {size_t{0}, size_t{1}, size_t{100 * KiB}, size_t{3 * MiB + 5}}) {
    Buffer b(size, budget.reserve(size), pool);
    if (size) {
      b.data()[0] = 1;
      b.data()[size - 1] = 2;
    }
    EXPECT_EQ(budget.reserved(), size);
  }
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(MemoryBudget, ChunkPoolKeepsAtMostItsShareAndUnmapsTheRest) {
  ChunkPool pool(64 * KiB, 128 * KiB);  // keeps 2 chunks
  std::vector<char*> taken;
  for (int i = 0; i < 4; ++i) taken.push_back(pool.take());
  for (char* p : taken) pool.give(p);
  // The two kept are handed out again; further takes map fresh chunks (any address).
  char* a = pool.take();
  char* b = pool.take();
  EXPECT_TRUE(a == taken[0] || a == taken[1]);
  EXPECT_TRUE(b == taken[0] || b == taken[1]);
  pool.give(a);
  pool.give(b);
}

// Buffers larger than a chunk (Pipe's pieces) are mappings of their own; a freed one serves the
// next buffer of the same size (no fresh pages to fault in). What the pool keeps stays within its
// share, the mappings within half of it.
TEST(MemoryBudget, LargeMappingsAreReusedWithinThePoolsShare) {
  ChunkPool pool(64 * KiB, 512 * KiB);  // keeps 512 KiB, mappings 256 KiB of it
  char* big = pool.take_mapped(192 * KiB);
  big[0] = 'a';
  big[192 * KiB - 1] = 'b';
  pool.give_mapped(big, 192 * KiB);
  EXPECT_EQ(pool.kept_bytes(), 192 * KiB);
  char* other = pool.take_mapped(256 * KiB);
  EXPECT_NE(other, big) << "only a mapping of the same size is reused";
  ::munmap(other, 256 * KiB);
  char* again = pool.take_mapped(192 * KiB);
  EXPECT_EQ(again, big);
  EXPECT_EQ(pool.kept_bytes(), 0u);
  EXPECT_EQ(again[192 * KiB - 1], 'b') << "a reused mapping is not cleared (Buffer's bytes are all written before use)";
  pool.give_mapped(again, 192 * KiB);

  // Mappings stay within half the share: a second one given back replaces the oldest.
  char* m2 = pool.take_mapped(192 * KiB);  // the kept one
  char* m3 = pool.take_mapped(192 * KiB);  // a fresh one
  EXPECT_EQ(pool.kept_bytes(), 0u);
  pool.give_mapped(m2, 192 * KiB);
  pool.give_mapped(m3, 192 * KiB);
  EXPECT_EQ(pool.kept_bytes(), 192 * KiB);
  EXPECT_EQ(pool.take_mapped(192 * KiB), m3) << "the newest mapping is the one kept";
  pool.give_mapped(m3, 192 * KiB);
  // One larger than the mappings' half is never kept.
  char* huge = pool.take_mapped(320 * KiB);
  pool.give_mapped(huge, 320 * KiB);
  EXPECT_EQ(pool.kept_bytes(), 192 * KiB);

  // Eight chunks given back fill the share: the mapping is unmapped to make room for them, and a
  // mapping given back then is not kept past the share.
  std::vector<char*> chunks;
  for (int i = 0; i < 8; ++i) chunks.push_back(pool.take());
  for (char* p : chunks) pool.give(p);
  EXPECT_EQ(pool.kept_bytes(), 512 * KiB) << "eight chunks, and the mapping unmapped";
  char* m = pool.take_mapped(192 * KiB);
  pool.give_mapped(m, 192 * KiB);
  EXPECT_EQ(pool.kept_bytes(), 512 * KiB);

  // Through Buffer: a large buffer freed is kept, and serves the next one of its size.
  MemoryBudget budget(64 * MiB);
  { Buffer b(3 * MiB, budget.reserve(3 * MiB), budget.pool()); }
  EXPECT_EQ(budget.pool().kept_bytes(), 3 * MiB);
  Buffer b(3 * MiB, budget.reserve(3 * MiB), budget.pool());
  EXPECT_EQ(budget.pool().kept_bytes(), 0u);
}

TEST(MemoryBudget, ConcurrentOptionalReserversNeverPassTheLimit) {
  Watchdog watchdog(120s);
  constexpr uint64_t kLimit = 64 * KiB;
  MemoryBudget budget(kLimit);
  std::atomic<bool> over{false};
  std::atomic<uint64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<MemoryBudget::Reservation> held;
      for (int i = 0; i < 20000; ++i) {
        const uint64_t want = 1 + rng() % (8 * KiB);
        std::optional<MemoryBudget::Reservation> r;
        if (i % 97 == 0) {
          held.clear();  // (waiting while holding could wait for each other forever)
          r = budget.reserve_waiting(want, {});
        } else {
          r = budget.try_reserve(want);
        }
        if (r) {
          ++granted;
          held.push_back(std::move(*r));
        }
        if (budget.reserved() > kLimit) over = true;
        if (held.size() > 3 || (rng() % 3 == 0 && !held.empty())) held.erase(held.begin());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(over.load());
  EXPECT_LE(budget.peak(), kLimit);
  EXPECT_GT(granted.load(), 1000u);
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(MemoryBudget, ConcurrentReserversPassTheLimitOnlyByDemand) {
  Watchdog watchdog(120s);
  constexpr uint64_t kLimit = 64 * KiB, kDemand = 4 * KiB;
  constexpr int kDemandThreads = 2;
  MemoryBudget budget(kLimit);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    const bool demand = t < kDemandThreads;
    threads.emplace_back([&, t, demand] {
      std::mt19937 rng(t);
      for (int i = 0; i < 20000; ++i) {
        if (demand) {
          MemoryBudget::Reservation r = budget.reserve(kDemand);  // one at a time per thread
        } else {
          auto r = budget.try_reserve(1 + rng() % (8 * KiB));
          if (r && rng() % 2) std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(budget.peak(), kLimit + kDemandThreads * kDemand);
  EXPECT_EQ(budget.reserved(), 0u);
}

}  // namespace
}  // namespace sluice::transfer
