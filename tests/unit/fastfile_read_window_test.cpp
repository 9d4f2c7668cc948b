// FastFile's per-handle read-ahead window (modes/fastfile/read_window.hpp): which reads count as
// sequential, how the window grows and resets, and which blocks a read asks to read ahead.
#include "modes/fastfile/read_window.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace sluice::modes::fastfile {
namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;
const ReadWindowOptions kOptions{1 * MiB, 1 * MiB + 128 * KiB, 8 * MiB, 8 * MiB};

TEST(FastFileReadWindow, AFreshHandleReadingFromZeroStreams) {
  ReadWindow w;
  EXPECT_TRUE(w.on_read(0, 128 * KiB, kOptions));
  EXPECT_TRUE(w.streaming());
  EXPECT_EQ(w.window(), kOptions.initial_window);
  EXPECT_EQ(w.next_offset(), 128 * KiB);
}

TEST(FastFileReadWindow, SequentialReadsDoubleTheWindowUpToTheMaximum) {
  ReadWindow w;
  uint64_t offset = 0;
  std::vector<uint64_t> windows;
  for (int i = 0; i < 6; ++i, offset += 128 * KiB) {
    ASSERT_TRUE(w.on_read(offset, offset + 128 * KiB, kOptions));
    windows.push_back(w.window());
  }
  const uint64_t first = kOptions.initial_window;
  EXPECT_EQ(windows, (std::vector<uint64_t>{first, 2 * first, 4 * first, 8 * MiB, 8 * MiB, 8 * MiB}));
}

TEST(FastFileReadWindow, AReadElsewhereResetsTheWindow) {
  ReadWindow w;
  w.on_read(0, 128 * KiB, kOptions);
  EXPECT_FALSE(w.on_read(500 * MiB, 500 * MiB + 4 * KiB, kOptions));
  EXPECT_EQ(w.window(), 0u);
  EXPECT_EQ(w.next_offset(), 500 * MiB + 4 * KiB);
  EXPECT_FALSE(w.ahead(500 * MiB + 4 * KiB, 1000 * MiB, kOptions.block_size));
  // Reading on from where the random read ended starts streaming again.
  EXPECT_TRUE(w.on_read(500 * MiB + 4 * KiB, 500 * MiB + 8 * KiB, kOptions));
  EXPECT_EQ(w.window(), kOptions.initial_window);
}

TEST(FastFileReadWindow, ReadsSlightlyOutOfOrderStillStream) {
  ReadWindow w;
  w.on_read(0, 1 * MiB, kOptions);
  w.on_read(1 * MiB, 2 * MiB, kOptions);
  // The kernel's read-ahead sent a later piece first, then the one before it.
  EXPECT_TRUE(w.on_read(3 * MiB, 4 * MiB, kOptions));
  EXPECT_TRUE(w.on_read(2 * MiB, 3 * MiB, kOptions));
  EXPECT_EQ(w.next_offset(), 4 * MiB);
  // More than two blocks behind is not sequential any more.
  EXPECT_FALSE(w.on_read(1 * MiB - 1, 1 * MiB, kOptions));
}

TEST(FastFileReadWindow, ReadAheadCoversTheWindowAndIsToppedUpAtHalf) {
  ReadWindow w;
  const uint64_t size = 100 * MiB, B = kOptions.block_size;
  w.on_read(0, 128 * KiB, kOptions);
  auto a = w.ahead(128 * KiB, size, B);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, 1u);  // block 0 is what the read itself needs
  EXPECT_EQ(a->target, 128 * KiB + kOptions.initial_window);
  EXPECT_EQ(a->last, (a->target - 1) / B);
  w.issued(*a);

  // The next read doubles the window: more than half of it is missing ahead, so it is topped up
  // from where the last read-ahead ended.
  w.on_read(128 * KiB, 256 * KiB, kOptions);
  auto b = w.ahead(256 * KiB, size, B);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, (a->target + B - 1) / B);
  EXPECT_EQ(b->target, 256 * KiB + w.window());
  w.issued(*b);

  // Asked again for the same read: enough is ahead.
  EXPECT_FALSE(w.ahead(256 * KiB, size, B));
}

TEST(FastFileReadWindow, ReadAheadWaitsUntilHalfTheWindowIsUsed) {
  ReadWindowOptions fixed = kOptions;
  fixed.initial_window = fixed.max_window = 4 * MiB;
  const uint64_t size = 100 * MiB, B = fixed.block_size;
  ReadWindow w;
  w.on_read(0, 128 * KiB, fixed);
  auto a = w.ahead(128 * KiB, size, B);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, 1u);
  EXPECT_EQ(a->last, 4u);
  w.issued(*a);  // ahead up to 4 MiB + 128 KiB
  w.on_read(128 * KiB, 1 * MiB, fixed);
  EXPECT_FALSE(w.ahead(1 * MiB, size, B));  // 3 MiB + 128 KiB still ahead: more than half
  w.on_read(1 * MiB, 2 * MiB + 256 * KiB, fixed);
  auto b = w.ahead(2 * MiB + 256 * KiB, size, B);  // 1 MiB + 896 KiB ahead: less than half
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, 5u);
  EXPECT_EQ(b->last, 6u);
  EXPECT_EQ(b->target, 6 * MiB + 256 * KiB);
}

TEST(FastFileReadWindow, NoReadAheadPastTheEndOfTheFile) {
  ReadWindow w;
  const uint64_t B = kOptions.block_size;
  w.on_read(0, 128 * KiB, kOptions);
  auto a = w.ahead(128 * KiB, 600 * KiB, B);
  EXPECT_FALSE(a);  // the whole file is in block 0, which the read itself fetches
  EXPECT_FALSE(w.ahead(600 * KiB, 600 * KiB, B));

  ReadWindow v;
  v.on_read(0, 128 * KiB, kOptions);
  auto b = v.ahead(128 * KiB, 1 * MiB + 10, B);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, 1u);
  EXPECT_EQ(b->last, 1u);
  EXPECT_EQ(b->target, 1 * MiB + 10);
}

TEST(FastFileReadWindow, ReadAheadThatWasNotIssuedIsAskedForAgain) {
  ReadWindow w;
  const uint64_t size = 100 * MiB, B = kOptions.block_size;
  w.on_read(0, 128 * KiB, kOptions);
  auto a = w.ahead(128 * KiB, size, B);
  ASSERT_TRUE(a);  // not issued: the budget was full
  w.on_read(128 * KiB, 256 * KiB, kOptions);
  auto b = w.ahead(256 * KiB, size, B);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, 1u);
}

}  // namespace
}  // namespace sluice::modes::fastfile
