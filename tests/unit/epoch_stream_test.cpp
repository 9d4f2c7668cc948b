// One epoch of a Pipe channel (modes::pipe::EpochStream) over an in-memory store, its output
// collected instead of written to a FIFO: records in order whatever order their parts complete
// in (objects in several parts, empty ones, "-ref" objects of unknown size, inline data), RecordIO
// framing, gzip (also multi-member and with RecordIO), a store's error named with the epoch and
// the object, a reader that goes away, cancel, and a process-wide engine and budget shared with
// another stream, given back in full once the epochs end.
#include "modes/pipe/epoch_stream.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "formats/recordio.hpp"
#include "support/threaded_store.hpp"
#include "support/random_bytes.hpp"
#include "support/watchdog.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::pipe {
namespace {

using namespace std::chrono_literals;
using sluice::testing::ThreadedStore;
using sluice::testing::random_bytes;
using sluice::testing::Watchdog;

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;

std::string gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The records of an epoch, built next to the objects they name.
class Epoch {
 public:
  explicit Epoch(ThreadedStore& store) : store_(store) {}
  // An object listed with its size and ETag (S3Prefix, ManifestFile).
  Epoch& object(const std::string& key, const std::string& data) {
    store_.add(key, data);
    records.push_back(Record{ObjectSource{&store_, key, data.size(), store_.etag(key), "memory://" + key}, {}});
    return *this;
  }
  // An augmented manifest's "-ref" object: size and ETag unknown.
  Epoch& ref(const std::string& key, const std::string& data) {
    store_.add(key, data);
    records.push_back(Record{ObjectSource{&store_, key, std::nullopt, {}, "memory://" + key}, {}});
    return *this;
  }
  Epoch& inline_data(const std::string& data) {
    records.push_back(Record{std::nullopt, data});
    return *this;
  }
  std::vector<Record> records;

 private:
  ThreadedStore& store_;
};

StreamOptions small_parts(Framing framing = Framing::kNone, bool gz = false) {
  StreamOptions o;
  o.framing = framing;
  o.gzip = gz;
  o.part_size = 64 * KiB;
  o.initial_window = 256 * KiB;
  o.max_memory = 4 * MiB;
  o.max_in_flight = 8;
  return o;
}

// small_parts() through a process's engine and budget.
StreamOptions shared(transfer::Engine& engine, transfer::MemoryBudget& budget) {
  StreamOptions o = small_parts();
  o.engine = &engine;
  o.budget = &budget;
  return o;
}

std::string collect(EpochStream& s, bool* complete = nullptr) {
  std::string out;
  bool all = s.write([&](const char* d, size_t n) {
    out.append(d, n);
    return true;
  });
  if (complete) *complete = all;
  return out;
}

TEST(EpochStream, RecordsArriveInOrderBackToBack) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  store.set_piece(10 * KiB + 3);
  const std::vector<std::string> datas = {random_bytes(300 * KiB + 1, 1), "", random_bytes(5, 2), random_bytes(64 * KiB, 3),
                                          random_bytes(1 * MiB + 7, 4)};
  Epoch epoch(store);
  std::string expected;
  for (size_t i = 0; i < datas.size(); ++i) {
    epoch.object("o/" + std::to_string(i), datas[i]);
    expected += datas[i];
  }
  const std::string ref = random_bytes(200 * KiB, 5);  // larger than a part: fetched whole anyway
  epoch.ref("refs/a", ref).inline_data("inline bytes");
  expected += ref + "inline bytes";
  {
    EpochStream s(epoch.records, small_parts(), "channel 'train' epoch 0");
    s.start();
    bool complete = false;
    const std::string got = collect(s, &complete);
    EXPECT_TRUE(complete);
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "the bytes differ";
    EXPECT_EQ(s.bytes_fetched(), expected.size() - std::string("inline bytes").size());
    EXPECT_LE(s.peak_memory(), 4 * MiB + 64 * KiB);
  }
}

TEST(EpochStream, RecordIOWrapsEachRecordAndRefObjectsTakeTheirFetchedSize) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  const std::string a = random_bytes(150 * KiB + 3, 6), ref = random_bytes(70 * KiB + 1, 7);
  Epoch epoch(store);
  epoch.object("a", a).object("empty", "").ref("r", ref).inline_data("{\"label\": 1}");
  EpochStream s(epoch.records, small_parts(Framing::kRecordIO), "channel 'train' epoch 0");
  const std::string expected = formats::recordio_record(a) + formats::recordio_record("") +
                               formats::recordio_record(ref) + formats::recordio_record("{\"label\": 1}");
  EXPECT_TRUE(collect(s) == expected);
}

TEST(EpochStream, GzipObjectsAreDecompressedAlsoWithRecordIO) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  const std::string one = random_bytes(100 * KiB, 8) + std::string(200 * KiB, 'z');
  const std::string two = "second object";
  // A multi-member file (two gzip members back to back) reads as their contents joined.
  const std::string members = gzip(one) + gzip(two);
  {
    Epoch epoch(store);
    epoch.object("m.gz", members).object("t.gz", gzip(two));
    EpochStream s(epoch.records, small_parts(Framing::kNone, true), "channel 'train' epoch 0");
    EXPECT_TRUE(collect(s) == one + two + two);
  }
  {
    Epoch epoch(store);
    epoch.object("m.gz", members).ref("r.gz", gzip(two));
    EpochStream s(epoch.records, small_parts(Framing::kRecordIO, true), "channel 'train' epoch 1");
    EXPECT_TRUE(collect(s) == formats::recordio_record(one + two) + formats::recordio_record(two));
  }
  {
    Epoch epoch(store);
    epoch.object("not.gz", "plain text, not gzip");
    EpochStream s(epoch.records, small_parts(Framing::kNone, true), "channel 'train' epoch 2");
    try {
      collect(s);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kDataLoss) << e.what();
    }
  }
}

TEST(EpochStream, AStoreErrorNamesTheEpochAndTheObjectOnce) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  Epoch epoch(store);
  epoch.object("good", random_bytes(100 * KiB, 9)).object("bad/key", random_bytes(300 * KiB, 10));
  store.fail("bad/key", ErrorKind::kAccessDenied);
  transfer::Engine engine(transfer::EngineOptions{8});
  transfer::MemoryBudget budget(4 * MiB);
  const StreamOptions o = shared(engine, budget);
  {
    EpochStream s(epoch.records, o, "channel 'train' epoch 3");
    std::string out;
    try {
      s.write([&](const char* d, size_t n) {
        out.append(d, n);
        return true;
      });
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kAccessDenied);
      const std::string what = e.what();
      EXPECT_NE(what.find("channel 'train' epoch 3"), std::string::npos) << what;
      const auto at = what.find("memory://bad/key");
      ASSERT_NE(at, std::string::npos) << what;
      EXPECT_EQ(what.find("memory://bad/key", at + 1), std::string::npos) << "the store named it already: " << what;
    }
    EXPECT_GE(out.size(), 100 * KiB) << "the good object came first";
  }
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(EpochStream, AReaderThatGoesAwayEndsTheEpoch) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  Epoch epoch(store);
  for (int i = 0; i < 20; ++i) epoch.object("o" + std::to_string(i), random_bytes(100 * KiB, 20 + i));
  transfer::Engine engine(transfer::EngineOptions{8});
  transfer::MemoryBudget budget(4 * MiB);
  const StreamOptions o = shared(engine, budget);
  {
    EpochStream s(epoch.records, o, "channel 'train' epoch 0");
    uint64_t written = 0;
    const bool complete = s.write([&](const char*, size_t n) {
      written += n;
      return written < 250 * KiB;
    });
    EXPECT_FALSE(complete);
    EXPECT_LT(written, 20 * 100 * KiB);
  }
  EXPECT_EQ(budget.reserved(), 0u);
}

TEST(EpochStream, CancelStopsAWriteWaitingForData) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  store.set_delay(20ms);
  store.set_piece(4 * KiB);
  Epoch epoch(store);
  epoch.object("slow", random_bytes(1 * MiB, 30));
  EpochStream s(epoch.records, small_parts(), "channel 'train' epoch 0");
  auto canceller = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(50ms);
    s.cancel();
  });
  try {
    collect(s);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCancelled) << e.what();
  }
  canceller.get();
}

TEST(EpochStream, StreamsOfTwoChannelsShareOneEngineAndBudget) {
  Watchdog watchdog(120s);
  ThreadedStore store;
  transfer::Engine engine(transfer::EngineOptions{8});
  transfer::MemoryBudget budget(1 * MiB);  // less than both would read ahead
  const StreamOptions o = shared(engine, budget);
  std::vector<std::string> expected(2);
  std::vector<Epoch> epochs{Epoch(store), Epoch(store)};
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < 12; ++i) {
      const std::string data = random_bytes(200 * KiB + i, 100 * c + i);
      epochs[c].object("c" + std::to_string(c) + "/" + std::to_string(i), data);
      expected[c] += data;
    }
  }
  std::vector<std::future<std::string>> channels;
  for (int c = 0; c < 2; ++c) {
    channels.push_back(std::async(std::launch::async, [&, c] {
      EpochStream s(epochs[c].records, o, "channel 'c" + std::to_string(c) + "' epoch 0");
      return collect(s);
    }));
  }
  for (int c = 0; c < 2; ++c) EXPECT_TRUE(channels[c].get() == expected[c]) << c;
  EXPECT_EQ(budget.reserved(), 0u);
  // Past the budget by at most a part waited for and a part held per channel.
  EXPECT_LE(budget.peak(), 1 * MiB + 2 * 2 * 64 * KiB);
}

// A Pipe channel's read-ahead is not given back until its reader takes it: max_window caps it
// below the shared budget, so that the job's other channels still find room for theirs.
TEST(EpochStream, MaxWindowCapsTheReadAheadBelowTheSharedBudget) {
  Watchdog watchdog(60s);
  ThreadedStore store;
  Epoch epoch(store);
  std::string expected;
  for (int i = 0; i < 30; ++i) {
    const std::string data = random_bytes(100 * KiB, 300 + i);
    epoch.object("o" + std::to_string(i), data);
    expected += data;
  }
  for (uint64_t cap : {uint64_t{0}, 512 * KiB}) {
    transfer::Engine engine(transfer::EngineOptions{8});
    transfer::MemoryBudget budget(4 * MiB);
    StreamOptions o = shared(engine, budget);
    o.max_window = cap;
    if (cap) o.initial_window = 2 * cap;  // a starting window above the cap starts at the cap
    EpochStream s(epoch.records, o, "channel 'train' epoch 0");
    std::string out;
    ASSERT_TRUE(s.write([&](const char* d, size_t n) {
      out.append(d, n);
      std::this_thread::sleep_for(1ms);  // a slow reader: the stream reads as far ahead as it may
      return true;
    }));
    EXPECT_TRUE(out == expected);
    if (cap == 0) {
      EXPECT_GT(budget.peak(), 1 * MiB) << "without a cap the window grows past 1 MiB (else this test shows nothing)";
    } else {
      // The window, plus the part the writer holds.
      EXPECT_LE(budget.peak(), cap + 64 * KiB);
    }
  }
}

}  // namespace
}  // namespace sluice::modes::pipe
