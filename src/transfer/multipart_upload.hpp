// One multipart upload in progress, shared by the uploads of files and of streams: parts go up
// in parallel, at most `parts_in_parallel` at once, numbered from 1 in the order they are added;
// the upload is completed when every part made it, and aborted otherwise, so the key holds either
// the complete object or what it held before.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "store/body.hpp"
#include "store/object_store.hpp"
#include "transfer/progress.hpp"

namespace sluice::transfer {

class MultipartUpload {
 public:
  // Starts the upload (CreateMultipartUpload). Each part's bytes count in progress->done_bytes
  // once stored.
  MultipartUpload(store::ObjectStore& store, std::string key, int parts_in_parallel, Progress* progress);
  // An upload neither completed nor aborted is aborted, after its parts in flight (best effort).
  ~MultipartUpload();
  MultipartUpload(const MultipartUpload&) = delete;
  MultipartUpload& operator=(const MultipartUpload&) = delete;

  // Starts the next part once fewer than parts_in_parallel are in flight. False, starting
  // nothing, once a part has failed: complete() then throws that part's error.
  bool add_part(store::Body body);

  // Waits for every part; completes the upload and returns the object's ETag, or aborts it and
  // throws the first part's error (or the completion's).
  std::string complete();
  // Waits for the parts in flight and aborts the upload (a failure to abort is logged).
  void abort();

 private:
  void wait_all(std::unique_lock<std::mutex>& lock);

  store::ObjectStore& store_;
  std::string key_;
  std::string id_;
  int parts_in_parallel_;
  Progress* progress_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::exception_ptr error_;
  std::vector<std::string> etags_;
  bool finished_ = false;  // completed or aborted
};

}  // namespace sluice::transfer
