// FastFile's disk cache: round trips, misses, LRU eviction within the byte limit, blocks that
// fail their checks (corrupt, truncated, another block's file), the private directory's life
// (removed by the destructor; stale ones of dead processes removed by the constructor), many
// threads at once, and directories that cannot be used.
#include "modes/fastfile/disk_cache.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "support/temp_dir.hpp"
#include "support/watchdog.hpp"

namespace sluice::modes::fastfile {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using sluice::testing::Watchdog;

constexpr size_t kBlock = 1000;

// The bytes of a block: a function of (key, etag, index) and the length.
std::vector<char> block_bytes(const std::string& key, const std::string& etag, uint64_t index, size_t len) {
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(key + '\0' + etag)) ^
                   static_cast<uint32_t>(index * 2654435761u));
  std::vector<char> v(len);
  for (auto& c : v) c = static_cast<char>(rng());
  return v;
}

void put(DiskCache& c, const std::string& key, const std::string& etag, uint64_t index, size_t len = kBlock) {
  const std::vector<char> v = block_bytes(key, etag, index, len);
  c.put(key, etag, index, v.data(), v.size());
}

// True when the block is a hit with exactly the bytes put() was given.
bool has(DiskCache& c, const std::string& key, const std::string& etag, uint64_t index, size_t len = kBlock) {
  auto got = c.get(key, etag, index);
  if (!got) return false;
  EXPECT_EQ(*got, block_bytes(key, etag, index, len)) << key << " " << etag << " " << index;
  return true;
}

// The block files in the cache's directory (no temporaries).
std::vector<fs::path> block_files(const DiskCache& c) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(c.directory())) {
    if (e.path().filename() != "lock") files.push_back(e.path());  // the liveness lock, not a block
  }
  return files;
}

uint64_t file_bytes(const DiskCache& c) {
  uint64_t total = 0;
  for (const auto& f : block_files(c)) total += fs::file_size(f);
  return total;
}

TEST(DiskCache, RoundTrip) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  EXPECT_EQ(c.block_size(), kBlock);
  put(c, "data/a.bin", "\"etag1\"", 0);
  put(c, "data/a.bin", "\"etag1\"", 1);
  EXPECT_TRUE(has(c, "data/a.bin", "\"etag1\"", 0));
  EXPECT_TRUE(has(c, "data/a.bin", "\"etag1\"", 1));
  EXPECT_TRUE(has(c, "data/a.bin", "\"etag1\"", 0));
  const DiskCacheStats s = c.stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 0u);
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.bytes, 2 * kBlock);
  EXPECT_EQ(block_files(c).size(), 2u);
}

TEST(DiskCache, MissesWhatWasNotPut) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  EXPECT_FALSE(c.get("k", "e", 0));
  put(c, "k", "e", 0);
  EXPECT_FALSE(c.get("k", "e", 1));       // another index
  EXPECT_FALSE(c.get("k", "e2", 0));      // a new ETag is a new object
  EXPECT_FALSE(c.get("k2", "e", 0));      // another key
  EXPECT_FALSE(c.get("", "k", 0));
  EXPECT_TRUE(has(c, "k", "e", 0));
  EXPECT_EQ(c.stats().misses, 5u);
  EXPECT_EQ(c.stats().hits, 1u);
}

TEST(DiskCache, DifferentEtagsAreDifferentBlocks) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  put(c, "k", "old", 0);
  EXPECT_FALSE(c.get("k", "new", 0));
  put(c, "k", "new", 0);
  EXPECT_TRUE(has(c, "k", "old", 0));
  EXPECT_TRUE(has(c, "k", "new", 0));
}

TEST(DiskCache, ShortLastBlockAndEmptyBlock) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  put(c, "k", "e", 7, 123);
  put(c, "empty", "e", 0, 0);
  auto got = c.get("k", "e", 7);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 123u);
  EXPECT_EQ(*got, block_bytes("k", "e", 7, 123));
  got = c.get("empty", "e", 0);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(c.stats().bytes, 123u);
}

TEST(DiskCache, EvictsLeastRecentlyUsed) {
  TempDir tmp;
  DiskCache c(tmp.path(), 3 * kBlock, kBlock);
  put(c, "k", "e", 0);
  put(c, "k", "e", 1);
  put(c, "k", "e", 2);
  EXPECT_EQ(c.stats().bytes, 3 * kBlock);
  EXPECT_EQ(c.stats().evictions, 0u);
  put(c, "k", "e", 3);  // evicts 0
  EXPECT_EQ(c.stats().evictions, 1u);
  EXPECT_EQ(c.stats().blocks, 3u);
  EXPECT_EQ(c.stats().bytes, 3 * kBlock);
  EXPECT_EQ(block_files(c).size(), 3u);
  EXPECT_FALSE(c.get("k", "e", 0));
  put(c, "k", "e", 4);  // evicts 1 (2, 3 and 4 are left)
  EXPECT_FALSE(c.get("k", "e", 1));
  EXPECT_TRUE(has(c, "k", "e", 2));
  EXPECT_TRUE(has(c, "k", "e", 3));
  EXPECT_TRUE(has(c, "k", "e", 4));
  EXPECT_EQ(c.stats().evictions, 2u);
}

TEST(DiskCache, GetAndPutRefreshRecency) {
  TempDir tmp;
  DiskCache c(tmp.path(), 3 * kBlock, kBlock);
  put(c, "k", "e", 0);
  put(c, "k", "e", 1);
  put(c, "k", "e", 2);
  EXPECT_TRUE(has(c, "k", "e", 0));  // order now 0, 2, 1
  put(c, "k", "e", 3);               // evicts 1
  EXPECT_FALSE(c.get("k", "e", 1));
  put(c, "k", "e", 2);               // already there: a use, not a second copy; order 2, 3, 0
  EXPECT_EQ(c.stats().blocks, 3u);
  put(c, "k", "e", 4);               // evicts 0
  EXPECT_FALSE(c.get("k", "e", 0));
  EXPECT_TRUE(has(c, "k", "e", 2));
  EXPECT_TRUE(has(c, "k", "e", 3));
  EXPECT_TRUE(has(c, "k", "e", 4));
}

TEST(DiskCache, StaysWithinTheByteLimit) {
  TempDir tmp;
  const uint64_t max = 10 * kBlock + 500;
  DiskCache c(tmp.path(), max, kBlock);
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    const uint64_t index = rng() % 40;
    const size_t len = index % 5 == 4 ? index * 37 % kBlock : kBlock;  // some short blocks
    put(c, "k" + std::to_string(index % 3), "e", index, len);
    const DiskCacheStats s = c.stats();
    ASSERT_LE(s.bytes, max);
    ASSERT_EQ(block_files(c).size(), s.blocks);
    ASSERT_EQ(file_bytes(c) - s.blocks * 64, s.bytes);  // each file: a 64-byte header and the data
  }
  EXPECT_GT(c.stats().evictions, 0u);
}

TEST(DiskCache, BlockLargerThanTheLimitIsNotCached) {
  TempDir tmp;
  DiskCache c(tmp.path(), kBlock - 1, kBlock);
  put(c, "k", "e", 0, kBlock);
  EXPECT_FALSE(c.get("k", "e", 0));
  EXPECT_EQ(c.stats().blocks, 0u);
  EXPECT_EQ(c.stats().bytes, 0u);
  EXPECT_TRUE(block_files(c).empty());
  put(c, "k", "e", 1, kBlock - 1);  // exactly the limit fits
  EXPECT_TRUE(has(c, "k", "e", 1, kBlock - 1));
}

void flip_byte(const fs::path& file, std::streamoff offset_from_end) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-offset_from_end, std::ios::end);
  char b = 0;
  f.get(b);
  f.seekp(-offset_from_end, std::ios::end);
  f.put(static_cast<char>(b ^ 0x01));
}

TEST(DiskCache, CorruptDataIsAMissAndRemoved) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  put(c, "k", "e", 0);
  put(c, "k", "e", 1);
  ASSERT_TRUE(has(c, "k", "e", 0));
  const auto files = block_files(c);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) flip_byte(f, 10);  // a data byte of each block
  EXPECT_FALSE(c.get("k", "e", 0));
  DiskCacheStats s = c.stats();
  EXPECT_EQ(s.corrupt, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.blocks, 1u);
  EXPECT_EQ(s.bytes, kBlock);
  EXPECT_EQ(block_files(c).size(), 1u);
  EXPECT_FALSE(c.get("k", "e", 1));
  EXPECT_TRUE(block_files(c).empty());
  EXPECT_FALSE(c.get("k", "e", 0));  // gone from the index too: a plain miss now
  s = c.stats();
  EXPECT_EQ(s.corrupt, 2u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.blocks, 0u);
  EXPECT_EQ(s.bytes, 0u);
  put(c, "k", "e", 0);  // and can be cached again
  EXPECT_TRUE(has(c, "k", "e", 0));
}

TEST(DiskCache, CorruptHeaderIsAMiss) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  put(c, "k", "e", 0);
  const auto files = block_files(c);
  ASSERT_EQ(files.size(), 1u);
  flip_byte(files[0], static_cast<std::streamoff>(kBlock + 64));  // the magic
  EXPECT_FALSE(c.get("k", "e", 0));
  EXPECT_EQ(c.stats().corrupt, 1u);
  EXPECT_TRUE(block_files(c).empty());
}

TEST(DiskCache, TruncatedOrLongerFileIsAMiss) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  const auto only_file = [&] {
    const auto files = block_files(c);
    EXPECT_EQ(files.size(), 1u);
    return files.at(0);
  };
  put(c, "k", "e", 0);
  fs::resize_file(only_file(), 64 + kBlock - 1);  // one data byte short
  EXPECT_FALSE(c.get("k", "e", 0));
  put(c, "k", "e", 1);
  fs::resize_file(only_file(), 10);  // not even a whole header
  EXPECT_FALSE(c.get("k", "e", 1));
  put(c, "k", "e", 2);
  fs::resize_file(only_file(), 64 + kBlock + 2);  // trailing bytes
  EXPECT_FALSE(c.get("k", "e", 2));
  put(c, "k", "e", 3);
  fs::resize_file(only_file(), 0);
  EXPECT_FALSE(c.get("k", "e", 3));
  EXPECT_EQ(c.stats().corrupt, 4u);
  EXPECT_TRUE(block_files(c).empty());
}

TEST(DiskCache, AnotherBlocksFileIsAMiss) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  // The same length and index, so only the key (and ETag) in the header tell them apart.
  put(c, "a", "e", 0);
  const fs::path a = block_files(c).at(0);
  put(c, "b", "e", 0);
  put(c, "a", "e2", 0);
  fs::path b, a2;
  for (const auto& f : block_files(c)) {
    if (f == a) continue;
    (b.empty() ? b : a2) = f;
  }
  ASSERT_FALSE(a2.empty());
  // Which of the two new files is b's is not known here: try both ways.
  fs::copy_file(a, b, fs::copy_options::overwrite_existing);
  fs::copy_file(a, a2, fs::copy_options::overwrite_existing);
  EXPECT_FALSE(c.get("b", "e", 0));
  EXPECT_FALSE(c.get("a", "e2", 0));  // a different ETag of the same key
  EXPECT_EQ(c.stats().corrupt, 2u);
  EXPECT_TRUE(has(c, "a", "e", 0));

  // Another index of the same object.
  put(c, "a", "e", 1);
  fs::path a1;
  for (const auto& f : block_files(c)) {
    if (f != a) a1 = f;
  }
  fs::rename(a, a1);
  EXPECT_FALSE(c.get("a", "e", 1));
  EXPECT_FALSE(c.get("a", "e", 0));  // its file is gone: a miss, not corrupt
  EXPECT_EQ(c.stats().corrupt, 3u);
}

TEST(DiskCache, MissingFileIsAMiss) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  put(c, "k", "e", 0);
  fs::remove(block_files(c).at(0));
  EXPECT_FALSE(c.get("k", "e", 0));
  EXPECT_EQ(c.stats().blocks, 0u);
  EXPECT_EQ(c.stats().bytes, 0u);
  EXPECT_EQ(c.stats().corrupt, 0u);
}

TEST(DiskCache, FailedWriteIsNoEntry) {
  TempDir tmp;
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);
  fs::remove_all(c.directory());  // every write now fails
  EXPECT_NO_THROW(put(c, "k", "e", 0));
  EXPECT_FALSE(c.get("k", "e", 0));
  EXPECT_EQ(c.stats().blocks, 0u);
  EXPECT_EQ(c.stats().bytes, 0u);
}

TEST(DiskCache, PrivateDirectoryIsRemovedOnDestruction) {
  TempDir tmp;
  fs::path dir;
  {
    DiskCache c(tmp / "cache/sub", 100 * kBlock, kBlock);  // created with its parents
    put(c, "k", "e", 0);
    dir = c.directory();
    EXPECT_EQ(dir.parent_path(), fs::path(tmp / "cache/sub"));
    EXPECT_EQ(dir.filename().string().rfind("sluice-cache-" + std::to_string(::getpid()) + "-", 0), 0u);
    EXPECT_TRUE(fs::is_directory(dir));
    DiskCache other(tmp / "cache/sub", 100 * kBlock, kBlock);  // a second cache of this process
    EXPECT_NE(other.directory(), dir);
    EXPECT_TRUE(has(c, "k", "e", 0));
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::is_empty(tmp / "cache/sub"));
}

TEST(DiskCache, ConstructorRemovesStaleDirectoriesOfDeadProcesses) {
  TempDir tmp;
  // A pid that no longer runs: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  // A pid that runs: a sleeping child.
  const pid_t live = ::fork();
  ASSERT_GE(live, 0);
  if (live == 0) {
    ::pause();
    ::_exit(0);
  }
  const auto make = [&](const std::string& name) {
    fs::create_directories(tmp / (name + "/inner"));
    std::ofstream(tmp / (name + "/block")) << "x";
    return fs::path(tmp / name);
  };
  const fs::path stale = make("sluice-cache-" + std::to_string(dead) + "-aB3xYz");
  const fs::path running = make("sluice-cache-" + std::to_string(live) + "-Qw12er");
  const fs::path init = make("sluice-cache-1-abcdef");
  const fs::path not_ours1 = make("sluice-cache-x12-abcdef");
  const fs::path not_ours2 = make("sluice-cache-" + std::to_string(dead));
  const fs::path not_ours3 = make("other-" + std::to_string(dead) + "-abc");
  std::ofstream(tmp / ("sluice-cache-" + std::to_string(dead) + "-file")) << "a file, not a directory";

  {
    DiskCache c(tmp.path(), 100 * kBlock, kBlock);
    EXPECT_FALSE(fs::exists(stale));
    EXPECT_TRUE(fs::exists(running / "block"));
    EXPECT_TRUE(fs::exists(init / "block"));
    EXPECT_TRUE(fs::exists(not_ours1));
    EXPECT_TRUE(fs::exists(not_ours2));
    EXPECT_TRUE(fs::exists(not_ours3));
    EXPECT_TRUE(fs::exists(tmp / ("sluice-cache-" + std::to_string(dead) + "-file")));
  }
  ::kill(live, SIGKILL);
  ASSERT_EQ(::waitpid(live, nullptr, 0), live);
  DiskCache c(tmp.path(), 100 * kBlock, kBlock);  // now that one is stale too
  EXPECT_FALSE(fs::exists(running));
  EXPECT_TRUE(fs::exists(init));
}

TEST(DiskCache, DirectoryUnderAFileIsInvalidInput) {
  TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  const std::string under_file = tmp / "file/cache";  // fails for root too
  try {
    DiskCache c(under_file, 100 * kBlock, kBlock);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find(under_file), std::string::npos) << e.what();
  }
}

TEST(DiskCache, ReadOnlyDirectoryIsInvalidInput) {
  if (::geteuid() == 0) GTEST_SKIP() << "permission bits do not stop root";
  TempDir tmp;
  const std::string read_only = tmp / "ro";
  fs::create_directory(read_only);
  fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
  try {
    DiskCache c(read_only, 100 * kBlock, kBlock);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find(read_only), std::string::npos) << e.what();
  }
  fs::permissions(read_only, fs::perms::owner_all);
}

TEST(DiskCache, ManyThreadsGetTheBytesThatWerePut) {
  Watchdog watchdog(std::chrono::seconds(120));
  TempDir tmp;
  constexpr size_t kSmall = 4096;
  DiskCache c(tmp.path(), 12 * kSmall, kSmall);
  const std::vector<std::string> keys = {"k0", "k1", "k2", "dir/k3"};
  const std::vector<std::string> etags = {"e1", "e2"};
  // The length of a block: whole, except the last (index 15) of each object.
  const auto length = [&](const std::string& key, uint64_t index) {
    return index == 15 ? 100 + key.size() * 300 : kSmall;
  };
  std::atomic<uint64_t> gets{0}, hits{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < 3000; ++i) {
        const std::string& key = keys[rng() % keys.size()];
        const std::string& etag = etags[rng() % etags.size()];
        const uint64_t index = rng() % 16;
        const size_t len = length(key, index);
        if (rng() % 2 == 0) {
          put(c, key, etag, index, len);
        } else {
          ++gets;
          auto got = c.get(key, etag, index);
          if (got) {
            ++hits;
            if (*got != block_bytes(key, etag, index, len)) ++wrong;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  const DiskCacheStats s = c.stats();
  EXPECT_EQ(s.hits, hits.load());
  EXPECT_EQ(s.hits + s.misses, gets.load());
  EXPECT_EQ(s.corrupt, 0u);
  EXPECT_LE(s.bytes, 12 * kSmall);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_LE(block_files(c).size(), s.blocks);  // no file outside the index, no temporary left
  EXPECT_LE(file_bytes(c), s.bytes + 64 * s.blocks);
}

// A private directory whose lock is held by a live cache is kept even when the pid in its name
// belongs to no process (another pid namespace); once the owner is gone, the lock is free and
// the directory is removed.
TEST(DiskCache, StaleDirectoriesAreJudgedByTheirLock) {
  TempDir tmp;
  fs::path held;
  {
    auto owner = std::make_unique<DiskCache>(tmp.path(), 1 << 20, 4096);
    held = fs::path(tmp.path()) / "sluice-cache-999999999-held";
    fs::rename(owner->directory(), held);  // a name whose pid does not exist
    DiskCache other(tmp.path(), 1 << 20, 4096);
    EXPECT_TRUE(fs::exists(held)) << "a directory whose lock is held was removed";
    fs::rename(held, owner->directory());
  }
  // The owner is gone: a directory with a free lock and a dead pid goes.
  fs::path dead = fs::path(tmp.path()) / "sluice-cache-999999999-dead";
  fs::create_directories(dead);
  { std::ofstream(dead / "lock") << ""; }
  DiskCache again(tmp.path(), 1 << 20, 4096);
  EXPECT_FALSE(fs::exists(dead));
}


}  // namespace
}  // namespace sluice::modes::fastfile
