// FastFile's block table: per file, the blocks held in memory or being fetched and the reads
// waiting for them, and the LRU order in which ready blocks are dropped when the memory budget
// is short (reader.hpp, "Memory"). Not thread-safe: the Reader calls it under its lock.
//
//  - Ready blocks are in the LRU list: the front is the most recently used, the back is dropped
//    first. Cold blocks (passed by a sequential reader, or of a file nobody has open) go to the
//    back.
//  - make_room() never drops a block a read waits for; for optional work (read-ahead, prefetch)
//    it only drops cold blocks, so that data fetched ahead of a reader is never thrown away to
//    fetch more.
//  - A file's state is forgotten once it holds no block, no pending read and no open handle.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <unordered_map>

#include "modes/fastfile/namespace.hpp"
#include "modes/fastfile/reader.hpp"
#include "transfer/buffer.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::fastfile {

struct LruKey {
  Ino ino;
  uint64_t index;
};

struct Slot {
  bool ready = false;
  transfer::BufferPtr buf;
  uint32_t waiters = 0;  // pending reads that need this block
  bool cold = false;     // passed by a sequential reader or its file closed: dropped first
  bool in_lru = false;
  bool urgent = false;   // fetched (or promoted) as a read someone waits for
  transfer::Engine::Ticket ticket = 0;  // the engine's, once the GET is queued
  std::list<LruKey>::iterator lru;
};

struct PendingRead {
  uint64_t offset = 0;
  size_t size = 0;
  uint64_t first = 0, last = 0;  // blocks needed, inclusive
  ReplyFn reply;
  bool streaming = false;  // the handle reads sequentially: blocks it passes become cold
};

struct FileState {
  const Node* node = nullptr;
  const Entry* entry = nullptr;
  std::map<uint64_t, Slot> blocks;
  std::list<std::shared_ptr<PendingRead>> pending;
  int handles = 0;
};

class BlockTable {
 public:
  using Files = std::unordered_map<Ino, FileState>;

  // `ns` and `budget` must outlive the table.
  BlockTable(const Namespace& ns, transfer::MemoryBudget& budget) : ns_(ns), budget_(budget) {}

  // The state of file `node`, made when there is none.
  FileState& file(const Node& node);
  Files& files() { return files_; }

  // Marks block `index` of `f` used (a ready one only): to the front of the LRU list, or to the
  // back when `cold`.
  void touch(FileState& f, uint64_t index, Slot& slot, bool cold);
  // Drops least recently used blocks nobody waits for until `need` more bytes fit the budget;
  // without `urgent`, only cold blocks. Returns whether they fit.
  bool make_room(uint64_t need, bool urgent);
  // Forgets the file at `it` when nothing refers to it any more.
  void forget_if_unused(Files::iterator it);
  // A sequential reader does not come back more than a little behind itself: the blocks of `f`
  // more than two blocks before `first` are dropped once ready and nobody waits for them.
  void drop_passed(FileState& f, uint64_t first);

 private:
  const Namespace& ns_;
  transfer::MemoryBudget& budget_;
  Files files_;
  std::list<LruKey> lru_;  // ready blocks: front = most recently used, back = first to drop
};

}  // namespace sluice::modes::fastfile
