// Uploading local files to a store: `sluice cp` to s3://, and (later) model and checkpoint
// upload. Small files go up in one PUT with Content-MD5; files above the threshold go multipart,
// parts in parallel, and the upload is aborted if any part fails, so the key holds either the
// complete object or what it held before.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/object_store.hpp"
#include "transfer/progress.hpp"

namespace sluice::transfer {

struct UploadItem {
  std::string path;  // local file
  uint64_t size = 0;
  std::string key;
};

struct UploadOptions {
  uint64_t multipart_threshold = 8ull << 20;
  uint64_t part_size = 8ull << 20;  // raised automatically to stay within 10,000 parts
  int files_in_parallel = 16;
  int parts_in_parallel = 8;  // per multipart file
  Progress* progress = nullptr;
  std::function<bool()> cancelled;  // polled between files and parts; a cancelled upload is aborted
};

struct UploadResult {
  uint64_t files = 0, bytes = 0;
  std::vector<Error> failures;
};

UploadResult upload(store::ObjectStore& store, const std::vector<UploadItem>& items, const UploadOptions& options);

// The part size used for a file of `size` bytes: `preferred`, or larger so that there are at most
// 10,000 parts (the S3 limit), rounded up to a MiB.
uint64_t part_size_for(uint64_t size, uint64_t preferred);

}  // namespace sluice::transfer
