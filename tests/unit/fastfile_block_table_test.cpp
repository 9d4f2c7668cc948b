// FastFile's block table (modes/fastfile/block_table.hpp): which blocks make_room() drops to fit
// the memory budget (least recently used first, cold ones only for optional work, never one a
// read waits for), what a sequential reader leaves behind, and when a file's state is forgotten.
#include "modes/fastfile/block_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "transfer/buffer.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::fastfile {
namespace {

constexpr uint64_t kBlock = 64 * 1024;

class FastFileBlockTable : public ::testing::Test {
 protected:
  FastFileBlockTable()
      : ns(Namespace::build({Entry{"a", "a", 8 * kBlock, "e1", 0}, Entry{"b", "b", 8 * kBlock, "e2", 0}})),
        budget(4 * kBlock),
        table(ns, budget) {}

  const Node& node(const char* name) { return *ns.lookup(kRootIno, name); }

  // Block `index` of `f`, filled and used now.
  Slot& add_ready(FileState& f, uint64_t index, bool cold = false) {
    Slot& slot = f.blocks[index];
    slot.buf = std::make_shared<transfer::Buffer>(kBlock, budget.reserve(kBlock), budget.pool());
    slot.ready = true;
    table.touch(f, index, slot, cold);
    return slot;
  }

  std::vector<uint64_t> held(const FileState& f) {
    std::vector<uint64_t> out;
    for (const auto& [index, slot] : f.blocks) out.push_back(index);
    return out;
  }

  Namespace ns;
  transfer::MemoryBudget budget;
  BlockTable table;
};

TEST_F(FastFileBlockTable, MakeRoomDropsTheLeastRecentlyUsedBlocks) {
  FileState& f = table.file(node("a"));
  f.handles = 1;
  for (uint64_t i = 0; i < 4; ++i) add_ready(f, i);
  table.touch(f, 0, f.blocks.at(0), false);  // 0 is now the most recently used, 1 the least
  EXPECT_FALSE(budget.fits(kBlock));
  EXPECT_TRUE(table.make_room(2 * kBlock, true));
  EXPECT_EQ(held(f), (std::vector<uint64_t>{0, 3}));
}

TEST_F(FastFileBlockTable, OptionalWorkOnlyDropsColdBlocks) {
  FileState& f = table.file(node("a"));
  f.handles = 1;
  for (uint64_t i = 0; i < 4; ++i) add_ready(f, i);
  EXPECT_FALSE(table.make_room(kBlock, false));
  EXPECT_EQ(f.blocks.size(), 4u);

  table.touch(f, 2, f.blocks.at(2), true);  // passed by a sequential reader
  EXPECT_TRUE(table.make_room(kBlock, false));
  EXPECT_EQ(held(f), (std::vector<uint64_t>{0, 1, 3}));
  // Nothing cold is left for more.
  EXPECT_FALSE(table.make_room(2 * kBlock, false));
  EXPECT_EQ(f.blocks.size(), 3u);
}

TEST_F(FastFileBlockTable, BlocksAReadWaitsForAreNeverDropped) {
  FileState& f = table.file(node("a"));
  f.handles = 1;
  for (uint64_t i = 0; i < 4; ++i) add_ready(f, i).waiters = 1;
  EXPECT_FALSE(table.make_room(kBlock, true));
  EXPECT_EQ(f.blocks.size(), 4u);
  f.blocks.at(3).waiters = 0;
  EXPECT_TRUE(table.make_room(kBlock, true));
  EXPECT_EQ(held(f), (std::vector<uint64_t>{0, 1, 2}));
}

TEST_F(FastFileBlockTable, AFileWithNothingLeftIsForgotten) {
  FileState& a = table.file(node("a"));
  add_ready(a, 0, true);  // no handle: a closed file's blocks are cold
  FileState& b = table.file(node("b"));
  b.handles = 1;
  for (uint64_t i = 0; i < 3; ++i) add_ready(b, i);
  EXPECT_TRUE(table.make_room(kBlock, false));
  EXPECT_EQ(table.files().count(node("a").ino), 0u);
  EXPECT_EQ(table.files().count(node("b").ino), 1u);

  // forget_if_unused keeps a file while a handle is open.
  auto it = table.files().find(node("b").ino);
  it->second.blocks.clear();
  table.forget_if_unused(it);
  EXPECT_EQ(table.files().count(node("b").ino), 1u);
  it->second.handles = 0;
  table.forget_if_unused(it);
  EXPECT_TRUE(table.files().empty());
}

TEST_F(FastFileBlockTable, ASequentialReaderKeepsOnlyTwoBlocksBehindIt) {
  FileState& f = table.file(node("a"));
  f.handles = 1;
  for (uint64_t i = 0; i < 4; ++i) add_ready(f, i);
  f.blocks[4].waiters = 1;  // being fetched
  table.drop_passed(f, 4);
  EXPECT_EQ(held(f), (std::vector<uint64_t>{2, 3, 4}));
  // A block not yet ready (or waited for) stops the dropping.
  f.blocks.at(2).waiters = 1;
  table.drop_passed(f, 6);
  EXPECT_EQ(held(f), (std::vector<uint64_t>{2, 3, 4}));
  f.blocks.at(2).waiters = 0;
  table.drop_passed(f, 6);
  EXPECT_EQ(held(f), (std::vector<uint64_t>{4}));
}

TEST_F(FastFileBlockTable, FileStateNamesTheNodeAndItsEntry) {
  FileState& f = table.file(node("b"));
  EXPECT_EQ(f.node, &node("b"));
  EXPECT_EQ(f.entry->key, "b");
  EXPECT_EQ(f.entry->etag, "e2");
  EXPECT_EQ(&table.file(node("b")), &f);
}

}  // namespace
}  // namespace sluice::modes::fastfile
