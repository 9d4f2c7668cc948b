// Uploading a stream of unknown size (`sluice cp - s3://...`: standard input). What fits under
// the multipart threshold goes up in one PUT with Content-MD5; a longer stream goes multipart as
// it is read, parts in parallel, and the upload is aborted if anything fails, so the key holds the
// whole stream or what it held before. A stream cannot be read twice: every part in flight is
// held in memory (parts_in_parallel x part size at most), and so is the whole of a single PUT.
#pragma once

#include <functional>
#include <string>

#include "store/object_store.hpp"
#include "transfer/progress.hpp"

namespace sluice::transfer {

struct StreamUploadOptions {
  uint64_t multipart_threshold = 8ull << 20;
  // At least 5 MiB. The size is unknown, so to stay within S3's 10,000 parts it doubles after
  // every 1,000 parts (at most 5 GiB): 8 MiB parts reach some 8 TiB.
  uint64_t part_size = 8ull << 20;
  int parts_in_parallel = 8;
  std::string name = "standard input";  // for messages
  Progress* progress = nullptr;         // total_bytes grows as the stream is read
  std::function<bool()> cancelled;      // polled between parts and when a read is interrupted
};

// Reads `fd` to its end and stores it as `key`; returns the number of bytes. Throws Error: the
// store's, errno's for a failed read (naming options.name), kCancelled, kInvalidInput for a
// stream longer than 10,000 parts can hold.
uint64_t upload_stream(store::ObjectStore& store, int fd, const std::string& key, const StreamUploadOptions& options);

// The size of part `number` (from 1) of a stream: see StreamUploadOptions::part_size.
uint64_t stream_part_size(int number, uint64_t preferred);

}  // namespace sluice::transfer
