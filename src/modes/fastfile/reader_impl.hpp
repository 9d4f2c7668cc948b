// Private to FastFile's reader (reader.hpp): the state a Reader keeps and the steps of a read,
// shared by reader.cpp (the Reader's calls, and serving reads from the block table) and
// reader_fetch.cpp (filling the table: GETs and disk cache lookups, and their completions).
//
// Everything is guarded by `mu`. Work found under the lock (GETs to start, replies to send,
// queued GETs to promote) is collected in Actions and done by finish() once the lock is released.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "modes/fastfile/block_table.hpp"
#include "modes/fastfile/disk_cache_writer.hpp"
#include "modes/fastfile/kernel_cache.hpp"
#include "modes/fastfile/listing_walk.hpp"
#include "modes/fastfile/namespace.hpp"
#include "modes/fastfile/read_window.hpp"
#include "modes/fastfile/reader.hpp"
#include "modes/fastfile/shuffle_sweep.hpp"
#include "store/object_store.hpp"
#include "transfer/buffer.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::fastfile {

struct Reader::Impl {
  using Buffer = transfer::Buffer;
  using BufferPtr = transfer::BufferPtr;

  struct Handle {
    Ino ino = 0;
    ReadWindow window;
    uint64_t covered = 0;         // reads have covered [0, covered) of the file
    bool marked_at_open = false;  // kernel_cache marked the file when this handle opened it
    bool read_any = false;
  };

  // Blocks [first, first + count) of a file, fetched by one ranged GET (or from the disk cache).
  struct Run {
    Ino ino = 0;
    std::string key, etag;
    uint64_t first = 0;
    std::vector<BufferPtr> bufs;
    bool urgent = false;
  };

  // A read served straight from a ranged GET of the bytes asked for (random reads, no disk cache).
  struct Direct {
    Ino ino = 0;
    std::string key, etag;
    uint64_t offset = 0;
    BufferPtr buf;
    ReplyFn reply;
  };

  struct Reply {
    ReplyFn fn;
    ReadReply reply;
  };

  // What to do once the lock is released.
  struct Actions {
    std::vector<Run> runs;
    std::vector<Direct> directs;
    std::vector<Reply> replies;
    std::vector<transfer::Engine::Ticket> promote;  // read-ahead a reader now waits for
  };

  Impl(const Namespace& n, store::ObjectStore& s, ReaderOptions o);

  const Namespace& ns;
  ReaderOptions opt;
  store::ObjectStore& store;
  std::unique_ptr<transfer::MemoryBudget> own_budget;  // without a shared budget
  std::unique_ptr<transfer::Engine> own_engine;        // without a shared engine
  transfer::MemoryBudget& budget;
  transfer::FetchGroup group;
  uint64_t reclaimer = 0;

  std::mutex mu;
  BlockTable table;  // guarded by mu, as everything below
  ListingWalk walk;
  ShuffleSweep sweep;
  KernelCache kernel;  // used only with opt.kernel_page_cache
  std::unordered_map<uint64_t, Handle> handles;
  // read_unopened's handle of each file, and how many of its calls are using it.
  struct Unopened {
    uint64_t handle = 0;
    int users = 0;
  };
  std::unordered_map<Ino, Unopened> unopened;
  uint64_t next_handle = 1;
  bool stopping = false;
  ReaderStats st;

  std::unique_ptr<DiskCacheWriter> writer;  // with a disk cache

  ReadWindowOptions window_options() const {
    return ReadWindowOptions{opt.block_size, opt.initial_window, opt.max_window, opt.max_request};
  }

  uint64_t block_len(const Node& node, uint64_t index) const {
    uint64_t start = index * opt.block_size;
    return std::min<uint64_t>(opt.block_size, node.size - start);
  }

  // --- serving (reader.cpp) ---------------------------------------------------------------

  // A read of [offset, offset + size) through `h` reaches the reader: what it tells of the
  // kernel's page cache (kernel_cache.hpp).
  void note_read(Handle& h, const Node& file, uint64_t offset, size_t size);

  // Serves `r` if every block it needs is ready. Blocks missing from the map (dropped while
  // others were fetched) are fetched again.
  bool try_serve(FileState& f, PendingRead& r, Actions& a);

  // Fails the pending reads of `f` that need a block of [first, last] with `error`.
  void fail_waiters(FileState& f, uint64_t first, uint64_t last, std::exception_ptr error, Actions& a);

  // Serves the pending reads of `f` whose blocks are all ready.
  void serve_pending(FileState& f, Actions& a);

  // A read waits for block `slot`: read ahead and still queued, its GET becomes urgent.
  void wait_for(Slot& slot, Actions& a);

  // --- fetching (reader_fetch.cpp) ---------------------------------------------------------

  // Makes pending slots for the missing blocks of [first, last] and queues runs to fetch them.
  // Optional work (read-ahead, prefetch) only starts within the budget and returns false when it
  // had to stop; urgent work always starts.
  bool issue(FileState& f, uint64_t first, uint64_t last, bool urgent, Actions& a);

  // The head of each of the next `depth` files after `order` in walk order (at most
  // prefetch_bytes). Files already (being) fetched are skipped by issue().
  void prefetch_after(size_t order, size_t depth, Actions& a);

  // Shuffled-order prefetch: starts fetching the next files the sweep hands out, within half the
  // budget; per call, at most kSweepBytesPerCall bytes started and kSweepStepsPerCall walk
  // positions looked at (bounded work under the lock, and for the disk cache's reads).
  void pump_sweep(Actions& a);
  static constexpr uint64_t kSweepBytesPerCall = 16ull << 20;
  static constexpr size_t kSweepStepsPerCall = 1024;

  // Does what was collected under the lock (call it without the lock).
  void finish(Actions& a);

  // Serves the blocks of `run` the disk cache holds, fetches the rest (fetch()).
  void start_run(Run run);
  // One ranged GET for the blocks of `run`.
  void fetch(Run run);
  // One ranged GET of the bytes a random read asks for, its reply sent from the buffer.
  void start_direct(Direct d);

  // Completions (I/O threads): block `k` of `run` is filled; or blocks `from`.. of `run` failed.
  void block_ready(const Run& run, size_t k, bool from_disk);
  void run_failed(const Run& run, size_t from, std::exception_ptr error);
};

}  // namespace sluice::modes::fastfile
