#include "transfer/multipart_upload.hpp"

#include <algorithm>

#include "core/log.hpp"

namespace sluice::transfer {

MultipartUpload::MultipartUpload(store::ObjectStore& store, std::string key, int parts_in_parallel, Progress* progress)
    : store_(store), key_(std::move(key)), parts_in_parallel_(std::max(1, parts_in_parallel)), progress_(progress) {
  id_ = store_.create_multipart(key_);
}

MultipartUpload::~MultipartUpload() {
  if (!finished_) abort();
}

void MultipartUpload::wait_all(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

bool MultipartUpload::add_part(store::Body body) {
  size_t index;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < parts_in_parallel_ || error_; });
    if (error_) return false;
    ++in_flight_;
    index = etags_.size();
    etags_.emplace_back();
  }
  const uint64_t len = body.size();
  store_.upload_part(key_, id_, static_cast<int>(index) + 1, std::move(body),
                     [this, index, len](std::exception_ptr e, std::string etag) {
                       std::lock_guard lock(mu_);
                       if (e && !error_) error_ = e;
                       if (!e) {
                         etags_[index] = std::move(etag);
                         if (progress_) progress_->done_bytes += len;
                       }
                       --in_flight_;
                       cv_.notify_all();
                     });
  return true;
}

std::string MultipartUpload::complete() {
  std::exception_ptr error;
  {
    std::unique_lock lock(mu_);
    wait_all(lock);
    error = error_;
  }
  try {
    if (error) std::rethrow_exception(error);
    std::string etag = store_.complete_multipart(key_, id_, etags_);
    finished_ = true;
    return etag;
  } catch (...) {
    abort();
    throw;
  }
}

void MultipartUpload::abort() {
  {
    std::unique_lock lock(mu_);
    wait_all(lock);
  }
  finished_ = true;
  try {
    store_.abort_multipart(key_, id_);
  } catch (const std::exception& e) {
    log::warn("could not abort the multipart upload of {}: {}", key_, e.what());
  }
}

}  // namespace sluice::transfer
