// FastFile's read path: serves reads of the mounted files from the store through the process's
// transfer engine, within the process's memory budget (transfer/memory_budget.hpp), which FastFile
// and Pipe channels share. The block cache is block_table.hpp, a handle's read-ahead window
// read_window.hpp, listing-order detection listing_walk.hpp; buffers and the reads that fill them
// are transfer's (transfer/buffer.hpp).
//
//  - Data lives in blocks of `block_size` bytes (1 MiB) per file, fetched by ranged GETs with
//    If-Match on the listing's ETag (an object that changed is an error, never mixed bytes).
//    Contiguous missing blocks are fetched by one GET of up to `max_request` bytes.
//  - Sequential readers: each handle tracks where the next read should start; while reads stay
//    sequential, a read-ahead window ahead of the reader starts at `initial_window` and doubles
//    up to `max_window`. A read elsewhere resets it: random readers get the blocks they ask for.
//  - Listing-order prefetch: when a file is opened soon after its predecessor in walk order
//    (namespace.hpp: among the last 8 opens), the heads of the next files are fetched in the
//    background — 8 files, doubling with each further file opened in order, up to
//    `prefetch_files` (and `prefetch_bytes`) — so a loader walking many small files finds them
//    in memory, and a random order triggers little.
//  - Shuffled-order prefetch: when most recent opens are not part of a walk (a shuffled loader,
//    shuffle_sweep.hpp), the files of up to `sweep_max_file` bytes that this epoch has not
//    opened yet (between the first and last it has opened) are fetched whole in the background,
//    in walk order, within half the budget:
//    a shuffled epoch reads every file once, so each one fetched ahead is one a worker does not
//    wait for. Files read and closed are dropped first to make room for more.
//  - Files the kernel holds: with `kernel_page_cache`, a file whose reads have covered it whole is
//    taken to be in the kernel's page cache, and the opens and prefetches above skip it until a
//    read shows the kernel dropped it (kernel_cache.hpp), so a later epoch of a dataset that fits
//    in memory sends no GET. Once the kernel has served a whole tree's opens in a row,
//    opens_unneeded() tells the mount to let the kernel open files without asking; reads then
//    come without a handle (read_unopened).
//  - Memory: every block in flight or held counts against the budget. Read-ahead and prefetch
//    only start when the budget allows (try_reserve); blocks already read are dropped first (LRU),
//    and other users of a shared budget may have the cold ones dropped for their read-ahead; a
//    read that needs a block is reserved as demand and never fails for want of memory.
//  - With a DiskCache, fetched blocks are also written there, and a block missing from memory is
//    looked up there before the store.
// Thread-safe: open/read/release are called from FUSE worker threads at once.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "modes/fastfile/namespace.hpp"
#include "store/object_store.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::fastfile {

class DiskCache;

struct ReaderOptions {
  // The process's engine and memory budget (not owned); without them the reader makes its own:
  // a budget of max_memory bytes, an engine of max_in_flight reads.
  transfer::Engine* engine = nullptr;
  transfer::MemoryBudget* budget = nullptr;
  uint64_t max_memory = 512ull << 20;  // all buffered and in-flight data
  size_t block_size = 1u << 20;
  uint64_t initial_window = (1u << 20) + (128u << 10);  // first read-ahead after a sequential start
  uint64_t max_window = 64ull << 20;                    // per handle
  size_t max_request = 8u << 20;                        // bytes per ranged GET
  size_t prefetch_files = 64;                           // listing-order prefetch, files ahead
  uint64_t prefetch_bytes = 64ull << 20;                // ... and bytes ahead
  uint64_t sweep_max_file = (1u << 20) + (128u << 10);  // shuffled-order prefetch: files up to this size; 0: off
  int max_in_flight = 64;                               // GETs outstanding at once
  DiskCache* disk_cache = nullptr;                      // optional, not owned
  // The kernel keeps files' pages between opens (a mount without direct I/O): files it has read
  // whole get no head fetch on open and no sweep or listing prefetch (kernel_cache.hpp).
  bool kernel_page_cache = false;
};

struct ReaderStats {
  uint64_t requests = 0;         // GETs sent
  uint64_t reads = 0;            // reads that reached the reader (the page cache served the rest)
  uint64_t opens = 0;            // handles opened (by open() and read_unopened())
  uint64_t bytes_fetched = 0;    // from the store
  uint64_t bytes_from_disk = 0;  // from the disk cache
  uint64_t bytes_served = 0;     // returned to readers
  uint64_t memory_in_use = 0, memory_peak = 0;
  uint64_t errors = 0;
};

// What a read returns: either `error` (the cause; the FUSE edge turns it into EIO and logs it), or
// the bytes as a list of buffers. `iov` points into `pins`, which keep the buffers alive until
// the reply is destroyed; total length < size only at the end of the file.
struct ReadReply {
  std::exception_ptr error;
  std::vector<iovec> iov;
  std::vector<std::shared_ptr<const void>> pins;
  size_t size() const;
};
// Called exactly once per read, either before read() returns or later on an I/O thread.
using ReplyFn = std::function<void(ReadReply&)>;

class Reader {
 public:
  // `ns` and `store` must outlive the reader.
  Reader(const Namespace& ns, store::ObjectStore& store, ReaderOptions options);
  ~Reader();  // shutdown()
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // A handle for reads of `file` (a file node of ns). Asks for the head of the file at once (its
  // first initial_window bytes: most opened files are read from the start), and starts
  // listing-order prefetch when it applies.
  uint64_t open(const Node& file);
  void read(uint64_t handle, uint64_t offset, size_t size, ReplyFn reply);
  void release(uint64_t handle);

  // Whether the kernel's page cache has served the opens of files read before, a whole tree's
  // worth in a row (kernel_cache.hpp): an open then only costs its round trip, and the mount may
  // let the kernel open files without asking it (FUSE's "no open" mode, for good).
  bool opens_unneeded() const;
  // A read through no handle (the kernel opens files without asking): served through one handle
  // per file, opened at the file's first such read (as open() does) and shared by the reads of
  // the file until they have covered it.
  void read_unopened(const Node& file, uint64_t offset, size_t size, ReplyFn reply);

  // Fails pending reads (Error kCancelled), stops starting requests, waits for those in flight.
  void shutdown();

  ReaderStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::modes::fastfile
