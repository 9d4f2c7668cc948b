#include "transfer/md5_verifier.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include "core/error.hpp"

namespace sluice::transfer {

Md5Verifier::Md5Verifier(int threads, Md5Lanes::Backend backend, size_t chunk_bytes)
    : backend_(backend),
      chunk_((std::max<size_t>(chunk_bytes, 1) + Md5Lanes::kBlockSize - 1) / Md5Lanes::kBlockSize *
             Md5Lanes::kBlockSize) {
  if (threads < 1) throw Error(ErrorKind::kInternal, "MD5 verifier", "needs at least one thread");
  { Md5Lanes check(backend); }  // throws here, not in a worker, if the backend cannot run
  threads_.reserve(static_cast<size_t>(threads));
  try {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
  } catch (...) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    throw;
  }
}

Md5Verifier::~Md5Verifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Md5Verifier::submit(int fd, uint64_t size, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Job{fd, size, std::move(done)});
    ++outstanding_;
  }
  work_cv_.notify_one();
}

void Md5Verifier::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return outstanding_ == 0; });
}

void Md5Verifier::complete(Job& job, std::string md5_hex, std::exception_ptr error) noexcept {
  Done done = std::move(job.done);
  job = Job{};
  done(std::move(md5_hex), std::move(error));  // a throwing callback terminates (noexcept)
  done = nullptr;  // whatever the callback holds is released before wait_idle() can return
  std::lock_guard lock(mu_);
  if (--outstanding_ == 0) idle_cv_.notify_all();
}

namespace {

std::exception_ptr cancelled() {
  return std::make_exception_ptr(Error(ErrorKind::kCancelled, "computing MD5", "the verifier was shut down"));
}

std::string fd_name(int fd) { return "file descriptor " + std::to_string(fd); }

}  // namespace

void Md5Verifier::worker() {
  constexpr int kLanes = Md5Lanes::kLanes;
  constexpr size_t kBlock = Md5Lanes::kBlockSize;
  Md5Lanes lanes(backend_);
  struct Lane {
    Job job;
    uint64_t read = 0;  // bytes of the file read so far
    size_t pos = 0;     // bytes of buf hashed
    size_t len = 0;     // bytes in buf
    unsigned char* buf = nullptr;
  };
  std::vector<unsigned char> buffers(chunk_ * kLanes);  // one allocation, reused for every file
  std::array<Lane, kLanes> lane;
  for (size_t l = 0; l < lane.size(); ++l) lane[l].buf = buffers.data() + l * chunk_;
  int busy = 0;

  auto fail = [&](int l, std::exception_ptr error) {
    lanes.abandon(l);
    --busy;
    complete(lane[static_cast<size_t>(l)].job, {}, std::move(error));
  };

  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (busy == 0) work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      for (int l = 0; l < kLanes && !queue_.empty(); ++l) {
        if (lanes.busy(l)) continue;
        Lane& ln = lane[static_cast<size_t>(l)];
        ln.job = std::move(queue_.front());
        queue_.pop_front();
        ln.read = ln.pos = ln.len = 0;
        lanes.start(l);
        ++busy;
      }
    }

    // Lanes that have hashed their buffer read the next chunk of their file.
    for (int l = 0; l < kLanes; ++l) {
      Lane& ln = lane[static_cast<size_t>(l)];
      if (!lanes.busy(l) || ln.pos < ln.len || ln.read == ln.job.size) continue;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_, ln.job.size - ln.read));
      size_t got = 0;
      std::exception_ptr error;
      while (got < want) {
        const ssize_t n = ::pread(ln.job.fd, ln.buf + got, want - got, static_cast<off_t>(ln.read + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          error = std::make_exception_ptr(errno_error(errno, "reading back for the MD5 check", fd_name(ln.job.fd)));
          break;
        }
        if (n == 0) {
          error = std::make_exception_ptr(
              Error(ErrorKind::kDataLoss, "reading back " + fd_name(ln.job.fd) + " for the MD5 check",
                    "the file ends at byte " + std::to_string(ln.read + got) + ", expected " +
                        std::to_string(ln.job.size) + " bytes"));
          break;
        }
        got += static_cast<size_t>(n);
      }
      if (error) {
        fail(l, std::move(error));
        continue;
      }
      ln.read += want;
      ln.pos = 0;
      ln.len = want;
    }

    // Files read to the end with less than a block left are padded and finished together.
    unsigned ending = 0;
    std::array<std::string_view, kLanes> tails{};
    for (int l = 0; l < kLanes; ++l) {
      const Lane& ln = lane[static_cast<size_t>(l)];
      if (!lanes.busy(l) || ln.read != ln.job.size || ln.len - ln.pos >= kBlock) continue;
      ending |= 1u << l;
      tails[static_cast<size_t>(l)] = std::string_view(reinterpret_cast<const char*>(ln.buf + ln.pos), ln.len - ln.pos);
    }
    if (ending != 0) {
      std::array<Md5Lanes::Sum, kLanes> sums{};
      lanes.finish(ending, tails, sums);
      for (int l = 0; l < kLanes; ++l) {
        if (!((ending >> l) & 1)) continue;
        --busy;
        complete(lane[static_cast<size_t>(l)].job, md5_hex(sums[static_cast<size_t>(l)]), nullptr);
      }
    }

    // The busy lanes in lockstep over the whole blocks they all have. (A chunk is a whole number
    // of blocks unless it is a file's last, so every busy lane has at least one here.)
    size_t blocks = SIZE_MAX;
    std::array<const void*, kLanes> data{};
    for (int l = 0; l < kLanes; ++l) {
      const Lane& ln = lane[static_cast<size_t>(l)];
      if (!lanes.busy(l) || ln.len - ln.pos < kBlock) continue;
      data[static_cast<size_t>(l)] = ln.buf + ln.pos;
      blocks = std::min(blocks, (ln.len - ln.pos) / kBlock);
    }
    if (blocks == SIZE_MAX) continue;
    lanes.update(data, blocks);
    for (int l = 0; l < kLanes; ++l) {
      if (data[static_cast<size_t>(l)] != nullptr) lane[static_cast<size_t>(l)].pos += blocks * kBlock;
    }
  }

  // Shut down: fail what this worker holds, and whatever is still queued.
  for (int l = 0; l < kLanes; ++l) {
    if (lanes.busy(l)) fail(l, cancelled());
  }
  for (;;) {
    Job job;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) break;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    complete(job, {}, cancelled());
  }
}

}  // namespace sluice::transfer
