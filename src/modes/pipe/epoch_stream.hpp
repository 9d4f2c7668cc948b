// One epoch of a Pipe channel: its records, in order, fetched ahead through the process's
// transfer engine within its memory budget (transfer::RangeStream) and written, framed, into the
// epoch's FIFO (docs/pipe.md). This file keeps the ordering of records, framing and gzip.
//
//  - A record is an object (S3Prefix, ManifestFile, or an augmented manifest's "-ref" attribute)
//    or inline bytes (an augmented manifest's other attributes).
//  - Objects of known size are fetched as ranged GETs of `part_size` bytes pinned to their ETag
//    (If-Match), many in flight, in delivery order; "-ref" objects (size unknown) in one GET.
//    The read-ahead window starts at `initial_window` and grows up to `max_window` (by default
//    the whole budget).
//  - Framing: kNone writes the payloads back to back; kRecordIO wraps each record in one
//    RecordIO record (formats/recordio.hpp; objects of 2^29 bytes or more are split with
//    continuation flags).
//  - Gzip: each object is gunzipped on its way into the FIFO (multi-member files too). With
//    RecordIO the decompressed size must be known before the header, so such an object is
//    decompressed whole in memory first.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/object_store.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::modes::pipe {

enum class Framing { kNone, kRecordIO };

struct ObjectSource {
  store::ObjectStore* store = nullptr;  // the store holding the object
  std::string key;
  std::optional<uint64_t> size;  // from the listing; unknown for "-ref" objects
  std::string etag;              // pinned with If-Match when known
  std::string uri;               // for messages
};

struct Record {
  std::optional<ObjectSource> object;
  std::string data;  // inline bytes when object is empty
};

struct StreamOptions {
  Framing framing = Framing::kNone;
  bool gzip = false;
  uint64_t part_size = 8ull << 20;
  uint64_t initial_window = 64ull << 20;  // read-ahead when the epoch starts; doubles per part written
  // The process's engine and memory budget (not owned). Without them the stream makes its own:
  // a budget of max_memory bytes, an engine of max_in_flight reads.
  transfer::Engine* engine = nullptr;
  transfer::MemoryBudget* budget = nullptr;
  uint64_t max_memory = 256ull << 20;  // fetched and in-flight bytes not yet written
  uint64_t max_window = 0;             // read-ahead cap; 0: the budget's limit
  int max_in_flight = 64;              // also this stream's cap on parts in flight
};

// Writes bytes to the FIFO; returns false when the reader has gone (EPIPE): the epoch ends there.
using Writer = std::function<bool(const char* data, size_t len)>;

class EpochStream {
 public:
  // `what` names the epoch in messages, e.g. "channel 'train' epoch 2".
  EpochStream(std::vector<Record> records, StreamOptions options, std::string what);
  ~EpochStream();  // cancels what is still in flight and waits for it
  EpochStream(const EpochStream&) = delete;
  EpochStream& operator=(const EpochStream&) = delete;

  // Starts fetching ahead (before the reader has opened the FIFO: the first bytes are ready
  // when it does). Idempotent.
  void start();
  // Writes the whole epoch. Returns true when everything was written, false when the reader
  // closed early. Throws Error (the cause, with `what` and the object) when an object cannot be
  // fetched or decompressed; the bytes written so far then end in the middle of a record.
  bool write(const Writer& out);
  // Makes write() stop (it throws kCancelled) and drops the prefetched data.
  void cancel();

  uint64_t bytes_fetched() const;
  uint64_t peak_memory() const;  // the budget's peak (of every user of a shared budget)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::modes::pipe
