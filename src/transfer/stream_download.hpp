// Downloading one object into a stream (`sluice cp s3://... -`: standard output), in order:
// parts of part_size are read in parallel through the engine (at most parts_in_flight at once,
// each pinned to the object's ETag with If-Match, so the stream never mixes two versions) and
// written as soon as every part before them is. Memory: parts_in_flight x part_size at most.
#pragma once

#include <string>

#include "store/object_store.hpp"
#include "transfer/engine.hpp"
#include "transfer/progress.hpp"

namespace sluice::transfer {

struct StreamDownloadOptions {
  uint64_t part_size = 8ull << 20;
  int parts_in_flight = 8;
  bool verify_md5 = true;                // when the ETag is a plain MD5: checked once all is written
  std::string name = "standard output";  // for messages
  Progress* progress = nullptr;
};

// Writes the object's bytes to fd. Throws Error: the read's (kCancelled when the engine was
// cancelled), errno's for a failed write naming options.name (EPIPE: the reader went away),
// kDataLoss when the bytes do not match the ETag's MD5 (they have been written by then).
// The reads are a FetchGroup of their own (cancelled on an error, the engine's other users left alone).
void download_to_stream(Engine& engine, store::ObjectStore& store, const store::ObjectInfo& object, int fd,
                        const StreamDownloadOptions& options);
// The same from the engine's default store.
void download_to_stream(Engine& engine, const store::ObjectInfo& object, int fd, const StreamDownloadOptions& options);

}  // namespace sluice::transfer
