// transfer::RangeStream, the ordered windowed read-ahead Pipe's epochs read through, over an
// in-memory store whose reads complete on threads of their own: exact bytes in order (one object
// in parts, many objects of varied sizes including empty ones and ones fetched whole), the window
// doubling up to its bound, a store's error surfacing with its kind and key, a full budget that
// never stalls the consumer, a piece the consumer waits for jumping the engine's queue, cancel
// and destruction with reads in flight, and the budget back to 0 once the stream is gone.
#include "transfer/range_stream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "store/forwarding_store.hpp"
#include "support/threaded_store.hpp"
#include "support/random_bytes.hpp"
#include "support/watchdog.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::transfer {
namespace {

using namespace std::chrono_literals;
using sluice::testing::ThreadedStore;
using sluice::testing::random_bytes;
using sluice::testing::Watchdog;

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;

// An object of `size` random bytes (from `seed`) put in the store, and its pieces appended to
// `out`: ranges of `part` bytes pinned to its ETag; none for an empty object. Returns the bytes.
std::string add_object(std::vector<RangePiece>& out, ThreadedStore& store, const std::string& key, uint64_t size,
                       uint64_t part, uint64_t seed) {
  std::string data = random_bytes(size, seed);
  store.add(key, data);
  for (uint64_t off = 0; off < size; off += part) {
    RangePiece p;
    p.store = &store;
    p.request.key = key;
    p.request.if_match = store.etag(key);
    p.request.range = store::ByteRange{off, std::min(size, off + part) - 1};
    out.push_back(std::move(p));
  }
  return data;
}

// An object of unknown size, fetched whole.
RangePiece whole(ThreadedStore& store, const std::string& key, uint64_t size_hint) {
  RangePiece p;
  p.store = &store;
  p.request.key = key;
  p.size_hint = size_hint;
  return p;
}

std::string read_all(RangeStream& s) {
  std::string out;
  while (s.has_next()) out.append(s.next());
  return out;
}

RangeStreamOptions window(uint64_t initial, uint64_t max, int in_flight = 64) {
  RangeStreamOptions o;
  o.initial_window = initial;
  o.max_window = max;
  o.max_in_flight = in_flight;
  return o;
}

ErrorKind kind_of_next(RangeStream& s, std::string* message = nullptr) {
  try {
    s.next();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "next() did not throw";
  return ErrorKind::kInternal;
}

// Records the order in which reads reach the store.
class OrderStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void get(const store::GetRequest& request, store::DataSink sink, store::Completion done) override {
    {
      std::lock_guard lock(mu_);
      keys_.push_back(request.key);
    }
    inner().get(request, std::move(sink), std::move(done));
  }
  std::vector<std::string> keys() const {
    std::lock_guard lock(mu_);
    return keys_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> keys_;
};

TEST(RangeStream, OneObjectInPartsArrivesExactlyAndInOrder) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  store.set_piece(100 * KiB + 7);  // sink calls that straddle the parts
  Engine engine(EngineOptions{8});
  MemoryBudget budget(64 * MiB);
  std::vector<RangePiece> pieces;
  const std::string data = add_object(pieces, store, "obj", 10 * MiB + 123, 1 * MiB, 1);
  ASSERT_EQ(pieces.size(), 11u);
  {
    RangeStream s(engine, budget, pieces, window(2 * MiB, 16 * MiB));
    EXPECT_EQ(read_all(s), data);
    EXPECT_FALSE(s.has_next());
    EXPECT_EQ(s.bytes_fetched(), data.size());
    EXPECT_LE(budget.reserved(), 1 * MiB) << "only the piece last returned is still held";
  }
  EXPECT_EQ(budget.reserved(), 0u);
  EXPECT_EQ(store.gets(), 11u);
}

TEST(RangeStream, ManyObjectsOfVariedSizesIncludingEmptyAndWholeOnes) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  const uint64_t part = 256 * KiB;
  const std::vector<uint64_t> sizes = {0, 1, 1000, part, part + 1, 3 * part + 5, 0, 17, 2 * MiB};
  std::vector<RangePiece> pieces;
  std::string expected;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string key = "k/" + std::to_string(i);
    expected += add_object(pieces, store, key, sizes[i], part, 100 + i);
  }
  // Objects of unknown size, fetched whole: empty, smaller and larger than the size hinted.
  for (uint64_t size : {uint64_t{0}, uint64_t{10}, 3 * part}) {
    const std::string key = "whole/" + std::to_string(size);
    const std::string data = random_bytes(size, size);
    store.add(key, data);
    pieces.push_back(whole(store, key, part));
    expected += data;
  }
  Engine engine(EngineOptions{4});
  MemoryBudget budget(64 * MiB);
  {
    RangeStream s(engine, budget, pieces, window(part, 4 * MiB));
    std::vector<size_t> lengths;
    std::string got;
    while (s.has_next()) {
      std::string_view v = s.next();
      lengths.push_back(v.size());
      got.append(v);
    }
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "the bytes differ";
    ASSERT_EQ(lengths.size(), pieces.size());
    EXPECT_EQ(lengths[lengths.size() - 3], 0u);
    EXPECT_EQ(lengths[lengths.size() - 2], 10u);
    EXPECT_EQ(lengths.back(), 3 * part);
    EXPECT_EQ(s.bytes_fetched(), expected.size());
  }
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(RangeStream, TheWindowDoublesWithEachPieceUpToItsBound) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  const uint64_t part = 128 * KiB;
  Engine engine(EngineOptions{64});
  MemoryBudget budget(1ull << 30);
  std::vector<RangePiece> pieces;
  const std::string data = add_object(pieces, store, "obj", 64 * part, part, 2);
  RangeStream s(engine, budget, pieces, window(part, 8 * part));
  EXPECT_EQ(s.window(), part);
  std::vector<uint64_t> windows;
  std::string got;
  while (s.has_next()) {
    got.append(s.next());
    windows.push_back(s.window());
    // What is held: the pieces read ahead (within the window; one piece more when nothing was
    // ahead) and the one the consumer holds.
    EXPECT_LE(budget.reserved(), s.window() + 2 * part);
  }
  EXPECT_EQ(got, data);
  ASSERT_GE(windows.size(), 6u);
  EXPECT_EQ(windows[0], part);  // doubled from the second piece taken on
  EXPECT_EQ(windows[1], 2 * part);
  EXPECT_EQ(windows[2], 4 * part);
  EXPECT_EQ(windows[3], 8 * part);
  for (size_t i = 3; i < windows.size(); ++i) EXPECT_EQ(windows[i], 8 * part) << i;
  EXPECT_LE(budget.peak(), 8 * part + 2 * part);
}

TEST(RangeStream, AStoreErrorSurfacesWithItsKindAndKey) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  Engine engine(EngineOptions{8});
  MemoryBudget budget(64 * MiB);
  std::vector<RangePiece> pieces;
  add_object(pieces, store, "good", 300 * KiB, 100 * KiB, 3);
  add_object(pieces, store, "denied/object", 300 * KiB, 100 * KiB, 4);
  store.fail("denied/object", ErrorKind::kAccessDenied);
  {
    RangeStream s(engine, budget, pieces, window(1 * MiB, 1 * MiB));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(s.next().size(), 100 * KiB);
    std::string message;
    EXPECT_EQ(kind_of_next(s, &message), ErrorKind::kAccessDenied);
    EXPECT_NE(message.find("denied/object"), std::string::npos) << message;
  }
  EXPECT_EQ(budget.reserved(), 0u);

  // A missing object, and one that changed since it was listed (If-Match).
  std::vector<RangePiece> missing;
  missing.push_back(whole(store, "no/such/key", 1 * KiB));
  {
    RangeStream s(engine, budget, missing, window(1 * MiB, 1 * MiB));
    std::string message;
    EXPECT_EQ(kind_of_next(s, &message), ErrorKind::kNotFound);
    EXPECT_NE(message.find("no/such/key"), std::string::npos) << message;
  }
  std::vector<RangePiece> changed;
  add_object(changed, store, "good", 300 * KiB, 100 * KiB, 5);
  store.add("good", random_bytes(300 * KiB, 6));  // a new version
  {
    RangeStream s(engine, budget, changed, window(1 * MiB, 1 * MiB));
    EXPECT_EQ(kind_of_next(s), ErrorKind::kDataLoss);
  }
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(RangeStream, AFullBudgetNeverStallsTheConsumer) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  const uint64_t part = 256 * KiB;
  Engine engine(EngineOptions{8});
  MemoryBudget budget(1 * MiB);
  auto other = budget.try_reserve(1 * MiB);  // another channel holds the whole budget
  ASSERT_TRUE(other);
  std::vector<RangePiece> pieces;
  const std::string data = add_object(pieces, store, "obj", 20 * part, part, 6);
  {
    RangeStream s(engine, budget, pieces, window(4 * MiB, 4 * MiB));
    s.start();  // read-ahead finds no room
    EXPECT_EQ(s.bytes_fetched(), 0u);
    EXPECT_EQ(read_all(s), data) << "each piece is fetched as demand, past the budget";
    // Past the budget by the piece waited for and the one held, never more.
    EXPECT_LE(budget.peak(), 1 * MiB + 2 * part);
  }
  other.reset();
  EXPECT_EQ(budget.reserved(), 0u);

  // Pieces larger than the whole budget still come, one at a time.
  {
    MemoryBudget tiny(64 * KiB);
    RangeStream s(engine, tiny, pieces, window(4 * MiB, 4 * MiB));
    EXPECT_EQ(read_all(s), data);
    EXPECT_LE(tiny.peak(), 2 * part);
  }
}

TEST(RangeStream, APieceTheConsumerWaitsForJumpsTheEnginesQueue) {
  Watchdog watchdog(60s);
  ThreadedStore memory(1);
  memory.set_delay(2ms);
  memory.set_piece(16 * KiB);
  memory.add("flood", random_bytes(64 * KiB, 7));  // 4 pieces: ~8 ms a read
  memory.add("wanted", random_bytes(64 * KiB, 8));
  OrderStore store(memory);
  Engine engine(EngineOptions{1});
  MemoryBudget budget(64 * MiB);

  // Another user of the engine queues 30 reads first.
  FetchGroup flood(engine);
  for (int i = 0; i < 30; ++i) {
    flood.fetch(store, store::GetRequest{"flood", store::ByteRange{0, 64 * KiB - 1}, {}}, [](const char*, size_t) { return true; },
                [](std::exception_ptr) {});
  }
  RangePiece p;
  p.store = &store;
  p.request.key = "wanted";
  p.request.range = store::ByteRange{0, 64 * KiB - 1};
  RangeStream s(engine, budget, {p}, window(1 * MiB, 1 * MiB));
  s.start();  // queued as read-ahead, behind the flood
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(s.next().size(), 64 * KiB);  // now demand: promoted before the flood's rest
  const auto keys = store.keys();
  const auto at = std::find(keys.begin(), keys.end(), "wanted") - keys.begin();
  EXPECT_LE(at, 8) << "the wanted piece waited behind the flood's read-ahead";
  flood.cancel();
  flood.wait_idle();
}

TEST(RangeStream, CancelWithReadsInFlightIsCleanAndGivesEverythingBack) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  store.set_delay(1ms);
  store.set_piece(16 * KiB);
  store.set_linger(20ms);  // the store drops its copies of the callbacks late
  const uint64_t part = 256 * KiB;
  Engine engine(EngineOptions{16});
  MemoryBudget budget(64 * MiB);
  std::vector<RangePiece> pieces;
  const std::string data = add_object(pieces, store, "obj", 64 * part, part, 9);

  {
    RangeStream s(engine, budget, pieces, window(8 * MiB, 8 * MiB));
    std::string_view first = s.next();
    EXPECT_EQ(first, std::string_view(data).substr(0, part));
    EXPECT_GT(store.reading(), 0) << "reads should be in flight now";
    s.cancel();
    EXPECT_EQ(first, std::string_view(data).substr(0, part)) << "the piece held stays valid after cancel()";
    EXPECT_EQ(kind_of_next(s), ErrorKind::kCancelled);
  }
  // Destroyed: every read of the stream has completed and all it held is given back, although
  // the store still holds (empty) wrappers of the callbacks.
  EXPECT_EQ(store.reading(), 0);
  EXPECT_EQ(budget.reserved(), 0u);

  // Cancel from another thread while the consumer waits.
  {
    store.set_delay(20ms);
    RangeStream s(engine, budget, pieces, window(8 * MiB, 8 * MiB));
    auto canceller = std::async(std::launch::async, [&] {
      std::this_thread::sleep_for(30ms);
      s.cancel();
    });
    EXPECT_EQ(kind_of_next(s), ErrorKind::kCancelled);
    canceller.get();
  }
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(RangeStream, DestroyedMidStreamWithReadsInFlight) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  store.set_delay(500us);
  store.set_piece(32 * KiB);
  store.set_linger(5ms);
  const uint64_t part = 128 * KiB;
  Engine engine(EngineOptions{8});
  MemoryBudget budget(64 * MiB);
  std::vector<RangePiece> pieces;
  const std::string data = add_object(pieces, store, "obj", 40 * part, part, 10);
  for (int taken = 0; taken < 6; ++taken) {
    {
      RangeStream s(engine, budget, pieces, window(2 * MiB, 4 * MiB));
      s.start();
      for (int i = 0; i < taken; ++i) EXPECT_EQ(s.next(), std::string_view(data).substr(i * part, part));
    }  // no cancel(): the destructor does it
    EXPECT_EQ(store.reading(), 0) << taken;
    EXPECT_EQ(budget.reserved(), 0u) << taken;
  }
  // The engine serves others as before.
  RangeStream s(engine, budget, pieces, window(2 * MiB, 4 * MiB));
  EXPECT_EQ(read_all(s), data);
}

TEST(RangeStream, StreamsSharingABudgetAndAnEngineReadAtOnce) {
  Watchdog watchdog(120s);
  ThreadedStore store;
  const uint64_t part = 64 * KiB;
  Engine engine(EngineOptions{6});
  MemoryBudget budget(1 * MiB);  // less than the streams would read ahead together
  std::vector<std::string> datas;
  std::vector<std::vector<RangePiece>> pieces(4);
  for (size_t i = 0; i < pieces.size(); ++i) {
    datas.push_back(add_object(pieces[i], store, "s" + std::to_string(i), 3 * MiB + i * 1000, part, 20 + i));
  }
  std::vector<std::future<std::string>> readers;
  for (size_t i = 0; i < pieces.size(); ++i) {
    readers.push_back(std::async(std::launch::async, [&, i] {
      RangeStream s(engine, budget, pieces[i], window(256 * KiB, 1 * MiB));
      return read_all(s);
    }));
  }
  for (size_t i = 0; i < readers.size(); ++i) EXPECT_TRUE(readers[i].get() == datas[i]) << i;
  EXPECT_EQ(budget.reserved(), 0u);
  // Past the budget by at most one piece waited for and one held per stream.
  EXPECT_LE(budget.peak(), 1 * MiB + pieces.size() * 2 * part);
}

}  // namespace
}  // namespace sluice::transfer
