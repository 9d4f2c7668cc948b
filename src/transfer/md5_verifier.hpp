// Computes the MD5 of files that were just written (so their bytes are still in the page cache),
// several files at once in the lanes of a multi-buffer MD5 (core/md5_lanes.hpp).
//
// Each worker thread keeps up to Md5Lanes::kLanes files in flight: it preads a chunk of each into
// that lane's buffer, hashes the lanes in lockstep over the whole blocks they all have, and when a
// file ends, pads it, calls its `done` and gives the lane to the next queued file. It starts on the
// first file submitted; it does not wait for a full set of lanes.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/md5_lanes.hpp"

namespace sluice::transfer {

class Md5Verifier {
 public:
  // md5_hex: the lower-case hex MD5 of the file's first `size` bytes (empty when error is set).
  // error: a sluice::Error: from pread (errno_error), kDataLoss if the file ends before `size`,
  // kCancelled if the verifier was destroyed first. Called once per submit, from a worker thread,
  // with no lock held (it may submit more work); it must not throw, nor call wait_idle().
  using Done = std::function<void(std::string md5_hex, std::exception_ptr error)>;

  static constexpr size_t kDefaultChunk = 64 * 1024;  // bytes read per lane at a time

  // threads >= 1 workers, each with its own lanes and kLanes * chunk_bytes of buffer (chunk_bytes
  // is rounded up to a multiple of 64). backend: Md5Lanes::Backend::kScalar forces OpenSSL.
  explicit Md5Verifier(int threads = 1, Md5Lanes::Backend backend = Md5Lanes::Backend::kAuto,
                       size_t chunk_bytes = kDefaultChunk);
  // Jobs not yet done are failed with kCancelled (call wait_idle() first to have them hashed);
  // returns once every `done` has returned and the workers have exited.
  ~Md5Verifier();
  Md5Verifier(const Md5Verifier&) = delete;
  Md5Verifier& operator=(const Md5Verifier&) = delete;

  // Hashes bytes [0, size) of the open file `fd` (read with pread, so the file offset is not
  // used or moved). The caller keeps fd open until `done` has been called.
  void submit(int fd, uint64_t size, Done done);

  // Returns when every job submitted so far (and any submitted by their callbacks) is done.
  void wait_idle();

 private:
  struct Job {
    int fd = -1;
    uint64_t size = 0;
    Done done;
  };
  void worker();
  void complete(Job& job, std::string md5_hex, std::exception_ptr error) noexcept;

  const Md5Lanes::Backend backend_;
  const size_t chunk_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> queue_;
  size_t outstanding_ = 0;  // submitted, `done` not yet returned
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::transfer
