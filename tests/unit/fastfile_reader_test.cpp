// FastFile's read path (modes::fastfile::Reader), driven directly (no FUSE) over a real FileStore
// on a temporary directory. A recording decorator in front of the store counts the GETs and
// keeps their ranges (and can hold them back), so the tests see what the reader asks the store
// for: exact bytes at every size and offset, few large requests for a sequential reader, small
// ones for a random reader, listing-order prefetch, the memory budget, objects that change or
// vanish under the mount, the disk cache, shutdown, and many threads at once.
#include "modes/fastfile/reader.hpp"
#include "modes/fastfile/shuffle_sweep.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "modes/fastfile/disk_cache.hpp"
#include "modes/fastfile/namespace.hpp"
#include "store/file_store.hpp"
#include "store/forwarding_store.hpp"
#include "support/temp_dir.hpp"
#include "support/watchdog.hpp"

namespace sluice::modes::fastfile {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sluice::testing::TempDir;
using sluice::testing::Watchdog;

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;
constexpr uint64_t kBlock = 1 * MiB;  // ReaderOptions' default block size

// How long one read may take before the test calls it hung (it then fails; the reader's
// destructor cancels the read, so the test goes on). The Watchdog catches hangs elsewhere.
constexpr auto kReadLimit = 30s;

// Deterministic bytes: a function of (seed, size).
std::string pattern(uint64_t size, uint64_t seed) {
  std::string s(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
  for (uint64_t i = 0; i < size; i += 8) {
    x += 0x9E3779B97F4A7C15ull;  // splitmix64
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(s.data() + i, &z, std::min<uint64_t>(8, size - i));
  }
  return s;
}

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  f.close();
  ASSERT_TRUE(f.good()) << path;
}

std::optional<ErrorKind> kind_of(std::exception_ptr e) {
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    return x.kind();
  } catch (...) {
  }
  return ErrorKind::kInternal;  // not a sluice::Error at all
}

std::string describe(std::exception_ptr e) {
  if (!e) return "no error";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "a non-std exception";
}

// --- a recording store ---------------------------------------------------------------------

struct GetRecord {
  std::string key;
  uint64_t first = 0, last = 0;  // inclusive; whole object: 0 .. UINT64_MAX
  uint64_t seq = 0;              // on the shared clock (Bench::tick)
  bool if_match = false;
};

// Forwards everything to the real store; records each get() (key, range, when), and while
// holding, keeps gets back until release().
class RecordingStore final : public store::ForwardingStore {
 public:
  RecordingStore(store::ObjectStore& inner, std::atomic<uint64_t>& clock) : ForwardingStore(inner), clock_(clock) {}

  std::string describe() const override { return "recording " + inner().describe(); }
  void get(const store::GetRequest& request, store::DataSink sink, store::Completion done) override {
    {
      std::lock_guard lock(mu_);
      GetRecord rec;
      rec.key = request.key;
      rec.first = request.range ? request.range->first : 0;
      rec.last = request.range ? request.range->last : UINT64_MAX;
      rec.seq = clock_++;
      rec.if_match = !request.if_match.empty();
      records_.push_back(rec);
      if (holding_) {
        held_.push_back(Held{request, std::move(sink), std::move(done)});
        return;
      }
    }
    inner().get(request, std::move(sink), std::move(done));
  }

  std::vector<GetRecord> gets() const {
    std::lock_guard lock(mu_);
    return records_;
  }
  size_t get_count() const {
    std::lock_guard lock(mu_);
    return records_.size();
  }
  void clear() {
    std::lock_guard lock(mu_);
    records_.clear();
  }
  void hold() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  size_t held_count() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  // Stops holding and sends what was held on to the real store.
  void release() {
    std::vector<Held> held;
    {
      std::lock_guard lock(mu_);
      holding_ = false;
      held.swap(held_);
    }
    for (auto& h : held) inner().get(h.request, std::move(h.sink), std::move(h.done));
  }

 private:
  struct Held {
    store::GetRequest request;
    store::DataSink sink;
    store::Completion done;
  };
  std::atomic<uint64_t>& clock_;
  mutable std::mutex mu_;
  std::vector<GetRecord> records_;
  bool holding_ = false;
  std::vector<Held> held_;
};

// --- a bucket of files and its namespace ----------------------------------------------------

class Bench {
 public:
  Bench() : files_(dir_.path(), 8), store_(files_, clock_) {}
  ~Bench() { store_.release(); }  // nothing held back past the test

  // Writes key with `size` bytes of pattern(seed) and returns the content.
  const std::string& add(const std::string& key, uint64_t size, uint64_t seed) {
    std::string& c = content_[key];
    c = pattern(size, seed);
    write_file(dir_ / key, c);
    return c;
  }
  // The namespace of everything written so far, with keys, sizes and ETags as listed.
  void build() {
    std::vector<Entry> entries;
    for (const auto& o : store::list_all(files_, "")) {
      entries.push_back(Entry{o.key, o.key, o.size, o.etag, o.mtime_epoch_ns});
    }
    ns_ = Namespace::build(std::move(entries));
    by_key_.clear();
    for (size_t i = 0; i < ns_.file_count(); ++i) by_key_[ns_.entry(ns_.file_at(i)).key] = &ns_.file_at(i);
  }

  const Node& node(const std::string& key) const { return *by_key_.at(key); }
  const std::string& content(const std::string& key) const { return content_.at(key); }
  const Namespace& ns() const { return ns_; }
  RecordingStore& store() { return store_; }
  store::FileStore& files() { return files_; }
  std::string path(const std::string& key) const { return dir_ / key; }
  uint64_t tick() { return clock_++; }

  // Replaces key's file (atomically, by rename, like any writer of a bucket) with other bytes of
  // the same size, and moves its mtime on by `seconds`, so its ETag changes.
  const std::string& rewrite(const std::string& key, uint64_t seed, int seconds) {
    const std::string& old = content_.at(key);
    std::string fresh = pattern(old.size(), seed);
    const std::string tmp = dir_ / ("tmp-rewrite-" + std::to_string(seed));
    write_file(tmp, fresh);
    const int64_t mtime = node_mtime(key) + int64_t{seconds} * 1'000'000'000;
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = mtime / 1'000'000'000;
    times[0].tv_nsec = times[1].tv_nsec = mtime % 1'000'000'000;
    EXPECT_EQ(::utimensat(AT_FDCWD, tmp.c_str(), times, 0), 0);
    fs::rename(tmp, path(key));
    content_[key + "#new"] = std::move(fresh);
    return content_.at(key + "#new");
  }
  int64_t node_mtime(const std::string& key) const { return ns_.entry(node(key)).mtime_ns; }

 private:
  TempDir dir_{"sluice-reader"};
  std::atomic<uint64_t> clock_{0};
  store::FileStore files_;
  RecordingStore store_;
  Namespace ns_;
  std::map<std::string, std::string> content_;
  std::map<std::string, const Node*> by_key_;
};

// --- reading ---------------------------------------------------------------------------------

struct Got {
  std::exception_ptr error;
  std::string data;
  bool hung = false;  // no reply within kReadLimit
  std::vector<std::shared_ptr<const void>> pins;  // only when asked to keep them
};

// Starts a read (`start` hands the reader the reply function); the future gets the reply's bytes
// (the iovecs concatenated) or its error.
std::future<Got> read_async_with(const std::function<void(ReplyFn)>& start, bool keep_pins = false) {
  auto promise = std::make_shared<std::promise<Got>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::future<Got> f = promise->get_future();
  start([promise, calls, keep_pins](ReadReply& reply) {
    if (calls->fetch_add(1) != 0) {
      ADD_FAILURE() << "a read was replied to more than once";
      return;
    }
    Got g;
    g.error = reply.error;
    if (!reply.error) {
      g.data.reserve(reply.size());
      for (const iovec& v : reply.iov) g.data.append(static_cast<const char*>(v.iov_base), v.iov_len);
      if (keep_pins) g.pins = reply.pins;
    } else if (!reply.iov.empty()) {
      ADD_FAILURE() << "a reply has both an error and bytes";
    }
    promise->set_value(std::move(g));
  });
  return f;
}

std::future<Got> read_async(Reader& r, uint64_t handle, uint64_t offset, size_t size, bool keep_pins = false) {
  return read_async_with([&](ReplyFn reply) { r.read(handle, offset, size, std::move(reply)); }, keep_pins);
}

Got wait(std::future<Got>& f, std::chrono::seconds limit = kReadLimit) {
  if (f.wait_for(limit) != std::future_status::ready) {
    Got g;
    g.hung = true;
    return g;
  }
  return f.get();
}

Got read_sync(Reader& r, uint64_t handle, uint64_t offset, size_t size, bool keep_pins = false,
              std::chrono::seconds limit = kReadLimit) {
  auto f = read_async(r, handle, offset, size, keep_pins);
  return wait(f, limit);
}

// A read through no handle (Reader::read_unopened), waited for.
Got read_unopened_sync(Reader& r, const Node& file, uint64_t offset, size_t size) {
  auto f = read_async_with([&](ReplyFn reply) { r.read_unopened(file, offset, size, std::move(reply)); });
  return wait(f);
}

// The bytes of [offset, offset + size) of `content` a correct read returns (cut at the end).
std::string expected(const std::string& content, uint64_t offset, size_t size) {
  if (offset >= content.size()) return {};
  return content.substr(offset, size);
}

// Byte-exact comparison that names the first difference instead of printing megabytes.
::testing::AssertionResult same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at byte " << i;
}

// Reads all of a file from the start in reads of `step` bytes, then a read at the end.
// Returns "" on success, or what went wrong.
std::string read_whole(Reader& r, uint64_t handle, const std::string& content, size_t step) {
  uint64_t off = 0;
  while (off < content.size()) {
    Got g = read_sync(r, handle, off, step);
    if (g.hung) return "read at " + std::to_string(off) + " hung";
    if (g.error) return "read at " + std::to_string(off) + ": " + describe(g.error);
    if (g.data.size() != std::min<uint64_t>(step, content.size() - off)) {
      return "read at " + std::to_string(off) + " returned " + std::to_string(g.data.size()) + " bytes";
    }
    if (g.data != expected(content, off, step)) return "read at " + std::to_string(off) + " returned wrong bytes";
    off += g.data.size();
  }
  Got g = read_sync(r, handle, content.size(), step);
  if (g.hung || g.error || !g.data.empty()) return "the read at the end of the file did not return 0 bytes";
  return "";
}

uint64_t bytes_of(const std::vector<GetRecord>& gets) {
  uint64_t n = 0;
  for (const auto& g : gets) n += g.last - g.first + 1;
  return n;
}

std::vector<GetRecord> gets_of(const std::vector<GetRecord>& gets, const std::string& key) {
  std::vector<GetRecord> out;
  for (const auto& g : gets) {
    if (g.key == key) out.push_back(g);
  }
  return out;
}

// --- exact bytes ----------------------------------------------------------------------------

TEST(FastFileReader, SequentialReadsOfEverySizeReturnTheFile) {
  Watchdog dog(300s);
  Bench b;
  const std::vector<uint64_t> sizes = {0, 1, kBlock - 1, kBlock, kBlock + 1, 5 * kBlock + 7};
  for (uint64_t size : sizes) b.add("seq/size-" + std::to_string(size), size, size + 1);
  b.build();
  Reader r(b.ns(), b.store(), {});
  for (uint64_t size : sizes) {
    const std::string key = "seq/size-" + std::to_string(size);
    const std::string& content = b.content(key);
    for (size_t step : {4 * KiB, 128 * KiB, 1 * MiB, 3 * MiB}) {
      SCOPED_TRACE(key + " in reads of " + std::to_string(step));
      const uint64_t h = r.open(b.node(key));
      EXPECT_EQ(read_whole(r, h, content, step), "");
      // Past the end: nothing; across the end: cut at the end; zero bytes: nothing.
      for (uint64_t off : {size, size + 1, size + 5 * MiB}) {
        Got g = read_sync(r, h, off, step);
        EXPECT_FALSE(g.hung);
        EXPECT_FALSE(g.error) << describe(g.error);
        EXPECT_EQ(g.data.size(), 0u) << "read at " << off;
      }
      if (size > 0) {
        const uint64_t off = size - std::min<uint64_t>(size, 10);
        Got g = read_sync(r, h, off, 100);
        EXPECT_FALSE(g.error) << describe(g.error);
        EXPECT_TRUE(same_bytes(g.data, content.substr(off))) << "a read across the end is cut there";
        g = read_sync(r, h, 0, 0);
        EXPECT_FALSE(g.error) << describe(g.error);
        EXPECT_EQ(g.data.size(), 0u);
      }
      r.release(h);
    }
  }
  const ReaderStats s = r.stats();
  EXPECT_EQ(s.errors, 0u);
  EXPECT_GT(s.bytes_served, 0u);
}

TEST(FastFileReader, RandomReadsReturnTheFile) {
  Watchdog dog(300s);
  Bench b;
  const std::string& content = b.add("rand/big", 40 * MiB, 7);
  b.build();
  Reader r(b.ns(), b.store(), {});
  const uint64_t h = r.open(b.node("rand/big"));
  std::mt19937_64 rng(20240611);
  int bad = 0;
  for (int i = 0; i < 2000 && bad < 5; ++i) {
    // Mostly inside the file, some across or past its end; sizes from 1 byte to 2.5 MiB.
    uint64_t off = rng() % (content.size() + 64 * KiB);
    size_t size = static_cast<size_t>(1 + rng() % (i % 4 == 0 ? 2560 * KiB : 64 * KiB));
    Got g = read_sync(r, h, off, size);
    if (g.hung || g.error || g.data != expected(content, off, size)) {
      ++bad;
      ADD_FAILURE() << "read " << i << " of " << size << " bytes at " << off << ": "
                    << (g.hung    ? "hung"
                        : g.error ? describe(g.error)
                                  : "wrong bytes (" + std::to_string(g.data.size()) + " bytes)");
    }
  }
  r.release(h);
  EXPECT_EQ(r.stats().errors, 0u);
}

// --- what is asked of the store -------------------------------------------------------------

TEST(FastFileReader, SequentialReadMakesFewLargeRequestsAndFetchesEachByteOnce) {
  Watchdog dog(300s);
  Bench b;
  const std::string& content = b.add("stream/big", 64 * MiB, 11);
  b.build();
  Reader r(b.ns(), b.store(), {});
  const uint64_t h = r.open(b.node("stream/big"));
  EXPECT_EQ(read_whole(r, h, content, 128 * KiB), "");  // the kernel's usual read size
  r.release(h);
  r.shutdown();  // nothing in flight any more

  std::vector<GetRecord> gets = b.store().gets();
  ASSERT_FALSE(gets.empty());
  RecordProperty("requests", std::to_string(gets.size()));
  EXPECT_LE(gets.size(), 64u) << "a sequential reader makes fewer requests than blocks";
  size_t large = 0;
  for (const auto& g : gets) {
    EXPECT_EQ(g.key, "stream/big");
    EXPECT_TRUE(g.if_match) << "every GET asks for the listing's ETag";
    EXPECT_NE(g.last, UINT64_MAX) << "every GET has a bounded range";
    if (g.last - g.first + 1 > kBlock) ++large;
  }
  EXPECT_GE(large * 4, gets.size() * 3) << large << " of " << gets.size() << " GETs are longer than one block";
  std::sort(gets.begin(), gets.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (size_t i = 1; i < gets.size(); ++i) {
    EXPECT_GT(gets[i].first, gets[i - 1].last) << "GETs overlap: a byte was fetched twice";
  }
  EXPECT_EQ(bytes_of(gets), content.size());
  const ReaderStats s = r.stats();
  EXPECT_EQ(s.requests, gets.size());
  EXPECT_EQ(s.bytes_fetched, content.size());
  EXPECT_EQ(s.bytes_served, content.size());
  EXPECT_EQ(s.errors, 0u);
}

TEST(FastFileReader, RandomSmallReadsFetchAboutWhatTheyAsk) {
  Watchdog dog(120s);
  Bench b;
  const std::string& content = b.add("random/big", 64 * MiB, 13);
  b.build();
  Reader r(b.ns(), b.store(), {});
  const uint64_t h = r.open(b.node("random/big"));
  // open() may ask for the head of the file (most files are read from the start); the GETs it
  // starts are made before it returns (fewer than max_in_flight) and are not the reads' doing.
  const size_t at_open = b.store().get_count();
  const uint64_t head_end = [&] {
    uint64_t end = 0;
    for (const auto& g : b.store().gets()) end = std::max(end, g.last + 1);
    return end;
  }();
  std::mt19937_64 rng(99);
  uint64_t asked = 0;
  for (int i = 0; i < 300; ++i) {
    uint64_t off = rng() % (content.size() - 4 * KiB);
    Got g = read_sync(r, h, off, 4 * KiB);
    ASSERT_FALSE(g.hung);
    ASSERT_FALSE(g.error) << describe(g.error);
    ASSERT_TRUE(same_bytes(g.data, expected(content, off, 4 * KiB))) << "read at " << off;
    if (off >= head_end) asked += 4 * KiB;
  }
  r.release(h);
  r.shutdown();
  const std::vector<GetRecord> all = b.store().gets();
  const std::vector<GetRecord> reads(all.begin() + static_cast<std::ptrdiff_t>(at_open), all.end());
  for (const auto& g : reads) {
    EXPECT_LE(g.last - g.first + 1, 64 * KiB) << "a GET of " << g.last - g.first + 1 << " bytes at " << g.first
                                              << " for 4 KiB random reads";
  }
  EXPECT_LE(bytes_of(reads), 2 * asked) << "random reads fetch about what they ask, not whole blocks";
  EXPECT_GE(bytes_of(reads), asked / 2);
}

// --- listing-order prefetch -----------------------------------------------------------------

// 300 files of 16 KiB in 30 directories; file_at() gives the walk order.
void add_walk_files(Bench& b) {
  for (int i = 0; i < 300; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "walk/d%02d/f%03d.bin", i / 10, i % 10);
    b.add(key, 16 * KiB, 1000 + static_cast<uint64_t>(i));
  }
  b.build();
}

TEST(FastFileReader, WalkOrderPrefetchesFilesBeforeTheyAreOpened) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ASSERT_EQ(b.ns().file_count(), 300u);
  ReaderOptions o;
  o.max_in_flight = 512;  // every GET starts (and is recorded) while the call that queued it runs
  Reader r(b.ns(), b.store(), o);
  std::vector<uint64_t> opened_at(300);
  for (size_t i = 0; i < 300; ++i) {
    const Node& node = b.ns().file_at(i);
    const std::string& key = b.ns().entry(node).key;
    opened_at[i] = b.tick();
    const uint64_t h = r.open(node);
    Got g = read_sync(r, h, 0, 128 * KiB);
    ASSERT_FALSE(g.hung) << key;
    ASSERT_FALSE(g.error) << key << ": " << describe(g.error);
    ASSERT_TRUE(same_bytes(g.data, b.content(key))) << key;
    r.release(h);
  }
  const std::vector<GetRecord> gets = b.store().gets();
  EXPECT_EQ(gets.size(), 300u) << "each file is fetched once";
  for (size_t i = 0; i < 300; ++i) {
    const std::string& key = b.ns().entry(b.ns().file_at(i)).key;
    const auto mine = gets_of(gets, key);
    ASSERT_EQ(mine.size(), 1u) << key;
    EXPECT_EQ(mine[0].first, 0u);
    EXPECT_EQ(mine[0].last, 16 * KiB - 1);
    if (i >= 2) {
      EXPECT_LT(mine[0].seq, opened_at[i]) << key << " (walk position " << i << ") was not prefetched";
    }
  }
  EXPECT_EQ(r.stats().bytes_fetched, 300 * 16 * KiB);
}

// Opens the files at walk positions `order`, one after another, reads each whole and checks its
// bytes, closes it; with `opened_at`, records when each was opened (Bench::tick), by position.
void read_files_in_order(Bench& b, Reader& r, const std::vector<size_t>& order, std::vector<uint64_t>* opened_at = nullptr) {
  for (size_t i : order) {
    const Node& node = b.ns().file_at(i);
    if (opened_at) (*opened_at)[i] = b.tick();
    const uint64_t h = r.open(node);
    Got g = read_sync(r, h, 0, 128 * KiB);
    ASSERT_FALSE(g.hung);
    ASSERT_FALSE(g.error) << describe(g.error);
    ASSERT_TRUE(same_bytes(g.data, b.content(b.ns().entry(node).key)));
    r.release(h);
  }
}

// Walk positions 0 .. n-1 in a random order.
std::vector<size_t> shuffled_positions(size_t n, unsigned seed) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  return order;
}

TEST(FastFileReader, RandomOrderOpensPrefetchLittle) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ReaderOptions o;
  o.max_in_flight = 512;
  Reader r(b.ns(), b.store(), o);
  std::vector<size_t> order = shuffled_positions(300, 4242);
  order.resize(40);  // a few files opened in a random order (fewer than wake the shuffled-order sweep)
  read_files_in_order(b, r, order);
  r.shutdown();
  // A chance neighbour (a file opened shortly after the one before it in walk order) may start
  // one burst of prefetch; a shuffled loader must not keep starting them.
  const std::vector<GetRecord> gets = b.store().gets();
  std::set<std::string> opened_keys, fetched_keys;
  for (size_t i : order) opened_keys.insert(b.ns().entry(b.ns().file_at(i)).key);
  for (const auto& g : gets) fetched_keys.insert(g.key);
  size_t never_opened = 0;
  for (const auto& k : fetched_keys) never_opened += opened_keys.count(k) == 0;
  RecordProperty("requests", std::to_string(gets.size()));
  EXPECT_LE(gets.size(), order.size() + o.prefetch_files)
      << "opening " << order.size() << " of 300 files in a random order fetched " << never_opened
      << " files that were never opened";
}

// A shuffled epoch: once the order shows (shuffle_sweep.hpp), the files not opened yet are
// fetched ahead, each once, so most opens find their file already fetched.
TEST(FastFileReader, AShuffledEpochIsFetchedAheadOfItsOpens) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ReaderOptions o;
  o.max_in_flight = 512;
  Reader r(b.ns(), b.store(), o);
  std::vector<uint64_t> opened_at(300);
  read_files_in_order(b, r, shuffled_positions(300, 977), &opened_at);
  if (HasFatalFailure()) return;
  const std::vector<GetRecord> gets = b.store().gets();
  EXPECT_EQ(gets.size(), 300u) << "each file is fetched once";
  size_t ahead = 0;
  for (size_t i = 0; i < 300; ++i) {
    const auto mine = gets_of(gets, b.ns().entry(b.ns().file_at(i)).key);
    ASSERT_EQ(mine.size(), 1u);
    ahead += mine[0].seq < opened_at[i];
  }
  RecordProperty("fetched_ahead", std::to_string(ahead));
  // The first ShuffleSweep::kRecentOpens opens show the order; nearly all after them are ahead.
  EXPECT_GE(ahead, 300u - ShuffleSweep::kRecentOpens - 16);
  EXPECT_EQ(r.stats().bytes_fetched, 300 * 16 * KiB);

  // The next epoch, in another order, is a new pass: nothing is fetched again while it all fits.
  read_files_in_order(b, r, shuffled_positions(300, 978));
  EXPECT_EQ(b.store().gets().size(), 300u);
}

// A shuffled epoch over more than the budget holds: exact bytes, memory within the budget, and
// what is fetched ahead is mostly read before it is dropped.
TEST(FastFileReader, AShuffledEpochLargerThanTheBudget) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ReaderOptions o;
  o.max_in_flight = 512;
  o.max_memory = 64 * 16 * KiB;  // a fifth of the files
  Reader r(b.ns(), b.store(), o);
  for (unsigned epoch = 0; epoch < 2; ++epoch) {
    read_files_in_order(b, r, shuffled_positions(300, 1000 + epoch));
    if (HasFatalFailure()) return;
  }
  const ReaderStats s = r.stats();
  RecordProperty("requests", std::to_string(s.requests));
  RecordProperty("memory_peak", std::to_string(s.memory_peak));
  EXPECT_LE(s.memory_peak, o.max_memory + 16 * KiB);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_LE(s.bytes_fetched, 2 * 300 * 16 * KiB * 5 / 4) << "two epochs, at most a quarter fetched twice";
}

// --- files the kernel holds ---------------------------------------------------------------

// Opens each file of `order` and closes it without a read: what a loader's epoch looks like to
// the reader when the kernel's page cache serves every file.
void open_and_close(Bench& b, Reader& r, const std::vector<size_t>& order) {
  for (size_t i : order) r.release(r.open(b.ns().file_at(i)));
}

// Many reads at once, and memory for a fifth of add_walk_files' files: what the kernel's page
// cache serves, the reader itself no longer holds.
ReaderOptions page_cache_options(bool kernel_page_cache) {
  ReaderOptions o;
  o.max_in_flight = 512;
  o.max_memory = 64 * 16 * KiB;
  o.kernel_page_cache = kernel_page_cache;
  return o;
}

// With kernel_page_cache, a later epoch whose files the kernel serves sends no GET, although
// the reader's own memory (a fifth of the files) no longer has them; without it, every open
// fetches the file's head again.
TEST(FastFileReader, FilesTheKernelHoldsAreNotFetchedAgain) {
  Watchdog dog(120s);
  for (bool kernel : {true, false}) {
    SCOPED_TRACE(kernel ? "kernel_page_cache" : "without kernel_page_cache");
    Bench b;
    add_walk_files(b);
    Reader r(b.ns(), b.store(), page_cache_options(kernel));
    read_files_in_order(b, r, shuffled_positions(300, 31));
    if (HasFatalFailure()) return;
    const size_t after_first = b.store().gets().size();
    open_and_close(b, r, shuffled_positions(300, 32));
    open_and_close(b, r, shuffled_positions(300, 33));
    r.shutdown();
    const size_t again = b.store().gets().size() - after_first;
    if (kernel) {
      EXPECT_EQ(again, 0u) << "GETs in two epochs the kernel served";
    } else {
      EXPECT_GE(again, 300u) << "files dropped from memory are fetched again on their opens";
    }
  }
}

// A read through a handle opened while the file was taken as held shows the kernel dropped it:
// the bytes are fetched and exact, and until a read covers the file again, opening it fetches
// its head as before.
TEST(FastFileReader, AFileTheKernelDroppedIsFetchedAgain) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ReaderOptions o;
  o.max_in_flight = 512;
  o.max_memory = 16 * KiB;  // the reader itself keeps one file
  o.kernel_page_cache = true;
  o.sweep_max_file = 0;
  o.prefetch_files = 0;
  Reader r(b.ns(), b.store(), o);
  read_files_in_order(b, r, {7, 100, 200});
  if (HasFatalFailure()) return;
  const Node& node = b.ns().file_at(7);
  const std::string& want = b.content(b.ns().entry(node).key);
  size_t gets = b.store().gets().size();

  // The kernel dropped the file's second half: it reads [8 KiB, 16 KiB).
  uint64_t h = r.open(node);
  EXPECT_EQ(b.store().gets().size(), gets) << "taken as held: no head fetched on open";
  Got g = read_sync(r, h, 8 * KiB, 8 * KiB);
  ASSERT_FALSE(g.hung);
  ASSERT_FALSE(g.error) << describe(g.error);
  EXPECT_TRUE(same_bytes(g.data, want.substr(8 * KiB)));
  r.release(h);
  EXPECT_GT(b.store().gets().size(), gets);

  // Not held any more: an open fetches the head.
  gets = b.store().gets().size();
  h = r.open(node);
  r.release(h);
  r.shutdown();
  const auto mine = gets_of(b.store().gets(), b.ns().entry(node).key);
  EXPECT_EQ(b.store().gets().size(), gets + 1);
  EXPECT_EQ(mine.back().first, 0u) << "the head";
}

// After a tree's worth of opens that the kernel served (every file read whole once, then opened
// and closed with no read), the reader says opens are unneeded; never without kernel_page_cache.
// Reads then come with no handle: read_unopened opens one per file at the file's first such read
// and shares it until the file's reads have covered it, and the bytes are exact, also when many
// threads read files for the first time at once.
TEST(FastFileReader, ReadsWithoutAHandleAfterOpensBecameUnneeded) {
  Watchdog dog(120s);
  for (bool kernel : {true, false}) {
    SCOPED_TRACE(kernel ? "kernel_page_cache" : "without kernel_page_cache");
    Bench b;
    add_walk_files(b);
    Reader r(b.ns(), b.store(), page_cache_options(kernel));
    read_files_in_order(b, r, shuffled_positions(300, 41));
    if (HasFatalFailure()) return;
    EXPECT_FALSE(r.opens_unneeded()) << "a first epoch is no evidence";
    open_and_close(b, r, shuffled_positions(300, 42));
    EXPECT_EQ(r.opens_unneeded(), kernel);
    if (!kernel) continue;

    // The kernel dropped file 7: its reads come with no handle.
    const Node& node = b.ns().file_at(7);
    const std::string& want = b.content(b.ns().entry(node).key);
    const uint64_t opens = r.stats().opens;
    const size_t gets = b.store().gets().size();
    for (uint64_t offset : {uint64_t{0}, 8 * KiB, 4 * KiB}) {
      Got g = read_unopened_sync(r, node, offset, 4 * KiB);
      ASSERT_FALSE(g.hung);
      ASSERT_FALSE(g.error) << describe(g.error);
      EXPECT_TRUE(same_bytes(g.data, want.substr(offset, 4 * KiB))) << "at " << offset;
    }
    EXPECT_EQ(r.stats().opens, opens + 1) << "one handle for the file's reads";
    EXPECT_GT(b.store().gets().size(), gets) << "a file the kernel dropped is fetched";
    // Once the reads have covered the file its handle goes: a later read opens a new one.
    EXPECT_TRUE(same_bytes(read_unopened_sync(r, node, 0, 16 * KiB).data, want));
    EXPECT_EQ(r.stats().opens, opens + 1);
    EXPECT_TRUE(same_bytes(read_unopened_sync(r, node, 0, 16 * KiB).data, want));
    EXPECT_EQ(r.stats().opens, opens + 2) << "the covered file's handle was released";

    // Files read with no handle for the first time, from many threads at once.
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0}, done{0};
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = 100; i < 140; ++i) {
          const Node& n = b.ns().file_at(i);
          const uint64_t offset = static_cast<uint64_t>(t % 4) * 4 * KiB;
          Got g = read_unopened_sync(r, n, offset, 4 * KiB);
          if (g.hung || g.error || g.data != b.content(b.ns().entry(n).key).substr(offset, 4 * KiB)) wrong++;
          done++;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(done.load(), 8 * 40);
    r.shutdown();
  }
}

// When most opens of files taken as held are followed by reads (a page cache too small for the
// dataset), the guess turns off and opens fetch heads again.
TEST(FastFileReader, APageCacheThatKeepsNothingTurnsTheGuessOff) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ReaderOptions o;
  o.max_in_flight = 512;
  o.max_memory = 16 * KiB;
  o.kernel_page_cache = true;
  o.sweep_max_file = 0;
  o.prefetch_files = 0;
  Reader r(b.ns(), b.store(), o);
  std::vector<size_t> all = shuffled_positions(300, 5);
  read_files_in_order(b, r, all);  // every file marked
  read_files_in_order(b, r, all);  // every open was followed by a read: 300 misses
  if (HasFatalFailure()) return;
  const size_t gets = b.store().gets().size();
  open_and_close(b, r, {all[0], all[1], all[2], all[3]});  // marked, but not trusted
  r.shutdown();
  EXPECT_EQ(b.store().gets().size(), gets + 4) << "each open fetched its head";
}

TEST(FastFileReader, AReadWaitingForPrefetchedBlocksJumpsTheQueue) {
  Watchdog dog(120s);
  Bench b;
  add_walk_files(b);
  ReaderOptions o;
  o.max_in_flight = 1;  // one GET at a time: the rest wait in the engine's queue, in order
  Reader r(b.ns(), b.store(), o);
  b.store().hold();
  const uint64_t first = r.open(b.ns().file_at(0));  // its head is fetched (held), the next files prefetched
  ASSERT_EQ(b.store().held_count(), 1u);
  const Node& later = b.ns().file_at(6);  // prefetched, queued behind files 1 to 5
  const std::string& key = b.ns().entry(later).key;
  const uint64_t h = r.open(later);
  auto f = read_async(r, h, 0, 16 * KiB);
  b.store().release();
  Got g = wait(f);
  ASSERT_FALSE(g.hung);
  ASSERT_FALSE(g.error) << describe(g.error);
  EXPECT_TRUE(same_bytes(g.data, b.content(key)));
  const std::vector<GetRecord> gets = b.store().gets();
  ASSERT_GE(gets.size(), 2u);
  EXPECT_EQ(gets[1].key, key) << "the read waited behind the prefetch of the files before it";
  EXPECT_EQ(gets_of(gets, key).size(), 1u) << "promoted, not fetched twice";
  r.release(h);
  r.release(first);
}

// --- memory -----------------------------------------------------------------------------------

TEST(FastFileReader, MemoryStaysWithinTheBudget) {
  Watchdog dog(300s);
  Bench b;
  const std::string& big = b.add("mem/big", 64 * MiB, 21);
  for (int i = 0; i < 100; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "mem/small/s%03d", i);
    b.add(key, 100 * KiB + static_cast<uint64_t>(i) * 517, 2100 + static_cast<uint64_t>(i));
  }
  b.build();
  ReaderOptions o;
  o.max_memory = 8 * MiB;
  Reader r(b.ns(), b.store(), o);

  uint64_t h = r.open(b.node("mem/big"));
  EXPECT_EQ(read_whole(r, h, big, 128 * KiB), "");
  r.release(h);
  for (int i = 0; i < 100; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "mem/small/s%03d", i);
    h = r.open(b.node(key));
    EXPECT_EQ(read_whole(r, h, b.content(key), 128 * KiB), "") << key;
    r.release(h);
  }
  const ReaderStats s = r.stats();
  // Read-ahead and prefetch only start within the budget; a block a reader waits for is fetched
  // even when everything held is in flight or pinned (a read waits for budget rather than fails),
  // so the budget can be passed by what one read needs: less than one request's worth here.
  RecordProperty("memory_peak", std::to_string(s.memory_peak));
  RecordProperty("memory_in_use", std::to_string(s.memory_in_use));
  EXPECT_LE(s.memory_peak, o.max_memory + o.max_request);
  EXPECT_LE(s.memory_in_use, o.max_memory) << "memory in use once every file is closed";
  EXPECT_EQ(s.errors, 0u);
}

TEST(FastFileReader, ConcurrentReadersShareASmallBudget) {
  Watchdog dog(300s);
  Bench b;
  constexpr int kThreads = 8;
  for (int t = 0; t < kThreads; ++t) {
    b.add("conc/f" + std::to_string(t), 12 * MiB + static_cast<uint64_t>(t) * 4099, 300 + static_cast<uint64_t>(t));
  }
  b.build();
  ReaderOptions o;
  o.max_memory = 16 * MiB;
  Reader r(b.ns(), b.store(), o);
  std::vector<std::string> problems(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "conc/f" + std::to_string(t);
      const std::string& content = b.content(key);
      const uint64_t h = r.open(b.node(key));
      problems[t] = read_whole(r, h, content, t % 2 ? 128 * KiB : 1 * MiB);
      std::mt19937_64 rng(static_cast<uint64_t>(t));
      for (int i = 0; i < 100 && problems[t].empty(); ++i) {
        uint64_t off = rng() % content.size();
        size_t size = static_cast<size_t>(1 + rng() % (1536 * KiB));
        Got g = read_sync(r, h, off, size);
        if (g.hung || g.error || g.data != expected(content, off, size)) {
          problems[t] = "random read of " + std::to_string(size) + " at " + std::to_string(off) + ": " +
                        (g.hung ? "hung" : g.error ? describe(g.error) : "wrong bytes");
        }
      }
      r.release(h);
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
  const ReaderStats s = r.stats();
  RecordProperty("memory_peak", std::to_string(s.memory_peak));
  EXPECT_LE(s.memory_peak, o.max_memory + kThreads * o.max_request);
  EXPECT_EQ(s.errors, 0u);
}

// A read needs blocks 1 and 2; block 1 is in memory and nobody waits for it, block 2 is not,
// and the budget is full of bytes still pinned by an earlier reply. Making room for block 2
// must not throw away block 1, the very block this read needs.
TEST(FastFileReader, MakingRoomForAReadKeepsTheBlocksItNeeds) {
  Watchdog dog(120s);
  Bench b;
  const std::string& content = b.add("evict/f", 16 * MiB, 31);
  b.build();
  ReaderOptions o;
  o.max_memory = 2 * kBlock;
  Reader r(b.ns(), b.store(), o);
  const uint64_t h = r.open(b.node("evict/f"));
  // Blocks 0 and 1; its reply is kept, as the FUSE edge keeps one while it writes it out.
  Got first = read_sync(r, h, 0, 1536 * KiB, /*keep_pins=*/true);
  ASSERT_FALSE(first.hung);
  ASSERT_FALSE(first.error) << describe(first.error);
  ASSERT_TRUE(same_bytes(first.data, expected(content, 0, 1536 * KiB)));
  // Blocks 1 (in memory) and 2 (not).
  Got second = read_sync(r, h, 1536 * KiB, 1 * MiB, false, 10s);
  EXPECT_FALSE(second.hung) << "the read never completed: the block it needs was dropped to make room for another";
  EXPECT_FALSE(second.error) << describe(second.error);
  EXPECT_TRUE(same_bytes(second.data, expected(content, 1536 * KiB, 1 * MiB)));
  first.pins.clear();
}

// Listing-order prefetch asks for the head of a closed file (no handles) whose only block left
// in memory is cold, with the budget full: making room for the missing block drops that cold
// block, which leaves the file with nothing in memory. The reader must not forget the file it
// is fetching blocks for at that moment (a use after free, which AddressSanitizer reports;
// an ordinary build may not notice).
TEST(FastFileReader, PrefetchMakingRoomKeepsTheFileItFetches) {
  Watchdog dog(120s);
  Bench b;
  b.add("pf/a0", 0, 1);                                   // walk position 0: opening it starts a walk
  const std::string& x = b.add("pf/a1", 2 * kBlock, 2);   // position 1: prefetched by that walk
  b.add("pf/a2", 16 * KiB, 3);
  const std::string& y = b.add("pf/z", 1 * kBlock, 4);    // far from the others in walk order
  b.build();
  ASSERT_EQ(b.node("pf/a1").file_order, 1u);
  ReaderOptions o;
  o.max_memory = 2 * kBlock;
  Reader r(b.ns(), b.store(), o);
  // x read whole and closed: both its blocks are cold.
  uint64_t hx = r.open(b.node("pf/a1"));
  EXPECT_EQ(read_whole(r, hx, x, 2 * kBlock), "");
  r.release(hx);
  // y's head takes the room of x's block 1; y stays open and its block in use.
  const uint64_t hy = r.open(b.node("pf/z"));
  Got g = read_sync(r, hy, 0, 4 * KiB);
  ASSERT_FALSE(g.hung);
  ASSERT_FALSE(g.error) << describe(g.error);
  ASSERT_TRUE(same_bytes(g.data, expected(y, 0, 4 * KiB)));
  // The walk starts: x's head is prefetched, with only x's block 0 (cold) to make room from.
  const uint64_t h0 = r.open(b.node("pf/a0"));
  r.release(h0);
  hx = r.open(b.node("pf/a1"));
  EXPECT_EQ(read_whole(r, hx, x, 128 * KiB), "");
  r.release(hx);
  r.release(hy);
  EXPECT_EQ(r.stats().errors, 0u);
}

// --- objects that change or vanish ----------------------------------------------------------

TEST(FastFileReader, ChangedObjectIsDataLossNeverMixedBytes) {
  Watchdog dog(120s);
  Bench b;
  const std::string old = b.add("etag/f", 16 * MiB, 41);  // a copy: rewrite() keeps the map
  const std::string& other = b.add("etag/other", 3 * MiB + 5, 42);
  b.build();
  Reader r(b.ns(), b.store(), {});
  const uint64_t h = r.open(b.node("etag/f"));
  Got g = read_sync(r, h, 0, 1 * MiB);
  ASSERT_FALSE(g.error) << describe(g.error);
  ASSERT_TRUE(same_bytes(g.data, expected(old, 0, 1 * MiB)));

  const std::string fresh = b.rewrite("etag/f", 43, 5);
  ASSERT_EQ(fresh.size(), old.size());
  ASSERT_NE(b.files().head("etag/f").etag, b.ns().entry(b.node("etag/f")).etag);

  size_t errors = 0, served = 0;
  auto check = [&](uint64_t off, size_t size) {
    Got x = read_sync(r, h, off, size);
    ASSERT_FALSE(x.hung) << "read at " << off;
    if (x.error) {
      ++errors;
      EXPECT_EQ(kind_of(x.error), ErrorKind::kDataLoss) << describe(x.error);
    } else {
      ++served;
      // Bytes of the listed version only: never the new file's, never a mix.
      EXPECT_TRUE(same_bytes(x.data, expected(old, off, size)))
          << "read at " << off << " returned bytes that are not the listed version's";
    }
  };
  for (uint64_t off = 1 * MiB; off < old.size(); off += 128 * KiB) check(off, 128 * KiB);
  // Random reads (served by exact-range GETs) and a read spanning what was and was not fetched.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 50; ++i) check(rng() % old.size(), static_cast<size_t>(1 + rng() % (256 * KiB)));
  check(512 * KiB, 4 * MiB);
  EXPECT_GT(errors, 0u) << "reads of bytes not fetched before the change must fail";
  EXPECT_GE(r.stats().errors, 1u);
  r.release(h);

  // Another file is not affected.
  const uint64_t h2 = r.open(b.node("etag/other"));
  EXPECT_EQ(read_whole(r, h2, other, 128 * KiB), "");
  r.release(h2);
  // Nor is a fresh handle on the changed file any luckier: still an error, never new bytes.
  const uint64_t h3 = r.open(b.node("etag/f"));
  Got late = read_sync(r, h3, 10 * MiB, 4 * KiB);
  ASSERT_FALSE(late.hung);
  EXPECT_EQ(kind_of(late.error), ErrorKind::kDataLoss) << describe(late.error);
  r.release(h3);
}

TEST(FastFileReader, DeletedObjectIsNotFoundAndOtherFilesStillRead) {
  Watchdog dog(120s);
  Bench b;
  b.add("gone/a", 2 * MiB + 3, 51);
  const std::string& keep = b.add("gone/b", 2 * MiB + 3, 52);
  b.build();
  fs::remove(b.path("gone/a"));
  Reader r(b.ns(), b.store(), {});
  const uint64_t ha = r.open(b.node("gone/a"));
  for (uint64_t off : {uint64_t{0}, 1 * MiB, 5 * KiB}) {
    Got g = read_sync(r, ha, off, 64 * KiB);
    ASSERT_FALSE(g.hung);
    EXPECT_EQ(kind_of(g.error), ErrorKind::kNotFound) << "read at " << off << ": " << describe(g.error);
    EXPECT_TRUE(g.data.empty());
  }
  const uint64_t hb = r.open(b.node("gone/b"));
  EXPECT_EQ(read_whole(r, hb, keep, 128 * KiB), "");
  Got again = read_sync(r, ha, 0, 4 * KiB);
  EXPECT_EQ(kind_of(again.error), ErrorKind::kNotFound) << describe(again.error);
  r.release(ha);
  r.release(hb);
  EXPECT_GE(r.stats().errors, 1u);
}

// --- disk cache -------------------------------------------------------------------------------

TEST(FastFileReader, DiskCacheServesASecondPassAndRefetchesACorruptBlock) {
  Watchdog dog(120s);
  Bench b;
  const std::string& content = b.add("disk/f", 10 * MiB, 61);
  b.build();
  TempDir cache_dir("sluice-reader-cache");
  DiskCache cache(cache_dir.path(), 64 * MiB, kBlock);
  ReaderOptions o;
  o.disk_cache = &cache;
  {
    Reader r(b.ns(), b.store(), o);
    const uint64_t h = r.open(b.node("disk/f"));
    EXPECT_EQ(read_whole(r, h, content, 128 * KiB), "");
    r.release(h);
    EXPECT_EQ(r.stats().bytes_fetched, 10 * MiB);
  }  // the destructor waits for the cache writes
  EXPECT_EQ(cache.stats().blocks, 10u);
  EXPECT_EQ(cache.stats().bytes, 10 * MiB);

  b.store().clear();
  {
    Reader r(b.ns(), b.store(), o);
    const uint64_t h = r.open(b.node("disk/f"));
    EXPECT_EQ(read_whole(r, h, content, 128 * KiB), "");
    r.release(h);
    const ReaderStats s = r.stats();
    EXPECT_EQ(s.requests, 0u);
    EXPECT_EQ(s.bytes_fetched, 0u);
    EXPECT_EQ(s.bytes_from_disk, 10 * MiB);
  }
  EXPECT_EQ(b.store().get_count(), 0u) << "a second pass is read from the disk cache";

  // Corrupt block 3's file: that block comes from the store again, the others from disk.
  const std::string& etag = b.ns().entry(b.node("disk/f")).etag;
  std::string id = "disk/f";
  id.push_back('\0');
  id += etag;
  id.push_back('\0');
  id += "3";
  const fs::path block3 = cache.directory() / sha256_hex(id);
  ASSERT_TRUE(fs::exists(block3)) << block3;
  {
    std::fstream f(block3, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-100, std::ios::end);
    char c = 0;
    f.get(c);
    f.seekp(-100, std::ios::end);
    f.put(static_cast<char>(c ^ 0x40));
  }
  b.store().clear();
  {
    Reader r(b.ns(), b.store(), o);
    const uint64_t h = r.open(b.node("disk/f"));
    EXPECT_EQ(read_whole(r, h, content, 1 * MiB), "");
    r.release(h);
    const ReaderStats s = r.stats();
    EXPECT_EQ(s.bytes_fetched, 1 * MiB);
    EXPECT_EQ(s.bytes_from_disk, 9 * MiB);
  }
  const auto gets = b.store().gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].first, 3 * kBlock);
  EXPECT_EQ(gets[0].last, 4 * kBlock - 1);
  EXPECT_GE(cache.stats().corrupt, 1u);
}

// --- shutdown ---------------------------------------------------------------------------------

TEST(FastFileReader, ShutdownCancelsPendingReads) {
  Watchdog dog(120s);
  Bench b;
  const std::string& content = b.add("stop/f", 8 * MiB, 71);
  b.build();
  Reader r(b.ns(), b.store(), {});
  b.store().hold();
  const uint64_t h = r.open(b.node("stop/f"));
  const uint64_t h2 = r.open(b.node("stop/f"));
  auto sequential = read_async(r, h, 0, 128 * KiB);      // waits for the head open() asked for
  auto spanning = read_async(r, h, 128 * KiB, 3 * MiB);  // and for blocks behind it
  auto random = read_async(r, h2, 5 * MiB + 3, 4 * KiB); // its own GET
  EXPECT_GT(b.store().held_count(), 0u);
  EXPECT_NE(sequential.wait_for(100ms), std::future_status::ready);

  std::thread stopper([&] { r.shutdown(); });  // returns once the held GETs are done
  // Failed by shutdown() itself, before the GETs they wait for (still held back) end.
  for (auto* f : {&sequential, &spanning}) {
    Got g = wait(*f);
    EXPECT_FALSE(g.hung) << "shutdown() did not fail a pending read";
    if (!g.hung) {
      EXPECT_EQ(kind_of(g.error), ErrorKind::kCancelled) << describe(g.error);
    }
  }
  b.store().release();
  stopper.join();
  Got g = wait(random);
  ASSERT_FALSE(g.hung);
  if (g.error) {
    EXPECT_EQ(kind_of(g.error), ErrorKind::kCancelled) << describe(g.error);
  } else {
    EXPECT_TRUE(same_bytes(g.data, expected(content, 5 * MiB + 3, 4 * KiB)));
  }

  // After shutdown: errors, at once.
  Got after = read_sync(r, h, 0, 4 * KiB);
  ASSERT_FALSE(after.hung);
  EXPECT_EQ(kind_of(after.error), ErrorKind::kCancelled) << describe(after.error);
  const uint64_t h3 = r.open(b.node("stop/f"));
  after = read_sync(r, h3, 0, 4 * KiB);
  ASSERT_FALSE(after.hung);
  EXPECT_TRUE(after.error);
  r.release(h);
  r.release(h2);
  r.release(h3);
  r.shutdown();  // again: nothing to do
}

TEST(FastFileReader, DestroyingWithReadsInFlightRepliesToEveryRead) {
  Watchdog dog(120s);
  Bench b;
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) {
    keys.push_back("bye/f" + std::to_string(i));
    b.add(keys.back(), 24 * MiB, 80 + static_cast<uint64_t>(i));
  }
  b.build();
  for (int round = 0; round < 5; ++round) {
    std::vector<std::future<Got>> futures;
    {
      ReaderOptions o;
      o.max_memory = 32 * MiB;
      Reader r(b.ns(), b.store(), o);
      std::mt19937_64 rng(static_cast<uint64_t>(round));
      for (const auto& key : keys) {
        const uint64_t h = r.open(b.node(key));
        for (uint64_t off = 0; off < 8 * MiB; off += 1 * MiB) futures.push_back(read_async(r, h, off, 1 * MiB));
        for (int i = 0; i < 8; ++i) futures.push_back(read_async(r, h, rng() % (24 * MiB), 200 * KiB));
      }
      if (round % 2) std::this_thread::sleep_for(std::chrono::milliseconds(round));
    }  // handles still open, reads in flight
    for (size_t i = 0; i < futures.size(); ++i) {
      ASSERT_EQ(futures[i].wait_for(0s), std::future_status::ready) << "read " << i << " got no reply";
      Got g = futures[i].get();
      if (g.error) {
        EXPECT_EQ(kind_of(g.error), ErrorKind::kCancelled) << describe(g.error);
      }
    }
  }
}

// --- many threads -----------------------------------------------------------------------------

TEST(FastFileReader, ManyThreadsRandomReadsAreExact) {
  Watchdog dog(300s);
  Bench b;
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) {
    keys.push_back("many/f" + std::to_string(i));
    b.add(keys.back(), 16 * MiB + static_cast<uint64_t>(i) * 333, 90 + static_cast<uint64_t>(i));
  }
  b.build();
  ReaderOptions o;
  o.max_memory = 32 * MiB;
  Reader r(b.ns(), b.store(), o);
  constexpr int kThreads = 16;
  std::vector<std::string> problems(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string& key = keys[static_cast<size_t>(t) % keys.size()];
      const std::string& content = b.content(key);
      std::mt19937_64 rng(1000 + static_cast<uint64_t>(t));
      uint64_t h = r.open(b.node(key));
      uint64_t off = 0;
      for (int i = 0; i < 300 && problems[t].empty(); ++i) {
        // Mostly random; now and then a run of sequential reads, a reopen, or a read past the end.
        const uint64_t pick = rng() % 10;
        if (pick < 6) {
          off = rng() % content.size();
        } else if (pick == 9) {
          r.release(h);
          h = r.open(b.node(key));
          off = rng() % 2 ? 0 : rng() % content.size();
        }
        size_t size = static_cast<size_t>(1 + rng() % (pick < 6 ? 300 * KiB : 1 * MiB));
        Got g = read_sync(r, h, off, size);
        if (g.hung || g.error || g.data != expected(content, off, size)) {
          problems[t] = key + ": read of " + std::to_string(size) + " at " + std::to_string(off) + ": " +
                        (g.hung ? "hung" : g.error ? describe(g.error) : "wrong bytes");
        }
        off += g.data.size();
        if (off >= content.size()) off = 0;
      }
      r.release(h);
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
  EXPECT_EQ(r.stats().errors, 0u);
}

}  // namespace
}  // namespace sluice::modes::fastfile
