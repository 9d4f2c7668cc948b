#include "transfer/download.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <unordered_set>

#include "core/hash.hpp"
#include "core/log.hpp"
#include "transfer/md5_verifier.hpp"

namespace fs = std::filesystem;

namespace sluice::transfer {
namespace {

// One file being written, shared by its parts.
struct FileJob {
  const DownloadItem* item = nullptr;
  std::string tmp;
  int fd = -1;
  int parts_left = 0;
  std::mutex mu;
  std::exception_ptr error;
};

bool fatal_for_all(ErrorKind k) {
  return k == ErrorKind::kAccessDenied || k == ErrorKind::kNoSpace || k == ErrorKind::kRetryable ||
         k == ErrorKind::kInternal;
}

bool already_complete(const DownloadItem& item) {
  struct stat st;
  if (::stat(item.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<uint64_t>(st.st_size) != item.object.size) return false;
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return item.object.mtime_epoch_ns == 0 || mtime == item.object.mtime_epoch_ns;
}

}  // namespace

std::string partial_path(const std::string& path) {
  fs::path p(path);
  // ".sluice-" names are never listed by the file:// backend, so partial files are not uploaded
  // or copied by a later `cp -r` of the directory.
  std::string name = ".sluice-partial-";
  std::string base = p.filename().string();
  name.append(base.size() + name.size() <= 255 ? base : sha256_hex(base));
  return (p.parent_path() / name).string();
}

bool etag_is_md5(const std::string& etag) {
  if (etag.size() != 32) return false;
  for (char c : etag) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

DownloadResult download(Engine& engine, const std::vector<DownloadItem>& items, const DownloadOptions& options) {
  DownloadResult result;
  std::mutex result_mu;
  Progress local_progress;
  Progress& progress = options.progress ? *options.progress : local_progress;
  std::unordered_set<std::string> made_dirs;
  // Files open at once: enough to keep every read slot busy, far below the fd limit.
  const int max_open = 256;
  int open_files = 0;
  std::condition_variable open_cv;

  auto fail = [&](FileJob& job, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      {
        std::lock_guard lock(result_mu);
        // After a cancel, the many "cancelled" failures it causes say nothing new.
        if (err.kind() != ErrorKind::kCancelled || result.failures.empty()) result.failures.push_back(err);
      }
      if (fatal_for_all(err.kind()) && !engine.cancelled()) engine.cancel();
    } catch (const std::exception& ex) {
      std::lock_guard lock(result_mu);
      result.failures.emplace_back(ErrorKind::kInternal, "downloading " + job.item->object.key, ex.what());
    }
    progress.failed_files++;
  };

  // MD5 of complete files, several at once in the lanes of a multi-buffer MD5, read back from
  // the page cache: cheaper than hashing each stream serially as it arrives.
  Md5Verifier verifier;

  // The end of a file: checks, mtime, close, rename. md5_hex is empty when not verified.
  auto finalize = [&](const std::shared_ptr<FileJob>& job, const std::string& md5_hex, std::exception_ptr md5_error) {
    const DownloadItem& item = *job->item;
    struct Release {
      std::mutex& mu;
      int& open;
      std::condition_variable& cv;
      ~Release() {
        std::lock_guard lock(mu);
        --open;
        cv.notify_one();
      }
    } release{result_mu, open_files, open_cv};
    try {
      if (md5_error) std::rethrow_exception(md5_error);
      if (!md5_hex.empty() && !std::equal(md5_hex.begin(), md5_hex.end(), item.object.etag.begin(), item.object.etag.end(),
                                          [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        throw Error(ErrorKind::kDataLoss, "downloading " + item.object.key,
                    "MD5 of the received bytes is " + md5_hex + ", the store says " + item.object.etag);
      }
      struct stat st;
      if (::fstat(job->fd, &st) != 0) throw errno_error(errno, "checking", job->tmp);
      if (static_cast<uint64_t>(st.st_size) != item.object.size) {
        throw Error(ErrorKind::kDataLoss, "downloading " + item.object.key,
                    "wrote " + std::to_string(st.st_size) + " bytes, expected " + std::to_string(item.object.size));
      }
      if (item.object.mtime_epoch_ns != 0) {
        struct timespec times[2];
        times[0].tv_sec = times[1].tv_sec = item.object.mtime_epoch_ns / 1'000'000'000;
        times[0].tv_nsec = times[1].tv_nsec = item.object.mtime_epoch_ns % 1'000'000'000;
        ::futimens(job->fd, times);
      }
      int fd = job->fd;
      job->fd = -1;
      if (::close(fd) != 0) throw errno_error(errno, "writing", job->tmp);
      if (::rename(job->tmp.c_str(), item.path.c_str()) != 0) throw errno_error(errno, "renaming into place", item.path);
      progress.done_files++;
      std::lock_guard lock(result_mu);
      result.files++;
      result.bytes += item.object.size;
    } catch (...) {
      if (job->fd >= 0) ::close(job->fd);
      job->fd = -1;
      ::unlink(job->tmp.c_str());
      fail(*job, std::current_exception());
    }
  };

  // Runs when the last part of a file completed (successfully or not).
  auto finish = [&](const std::shared_ptr<FileJob>& job) {
    if (!job->error && options.verify_md5 && etag_is_md5(job->item->object.etag)) {
      verifier.submit(job->fd, job->item->object.size,
                      [job, &finalize](std::string hex, std::exception_ptr e) { finalize(job, hex, e); });
      return;
    }
    finalize(job, "", job->error);
  };

  for (const DownloadItem& item : items) {
    progress.total_files++;
    progress.total_bytes += item.object.size;
  }

  for (const DownloadItem& item : items) {
    if (engine.cancelled()) break;
    if (options.skip_complete && already_complete(item)) {
      progress.done_files++;
      progress.done_bytes += item.object.size;
      progress.skipped_files++;
      progress.skipped_bytes += item.object.size;
      std::lock_guard lock(result_mu);
      result.skipped_files++;
      result.skipped_bytes += item.object.size;
      continue;
    }
    {
      std::unique_lock lock(result_mu);
      open_cv.wait(lock, [&] { return open_files < max_open; });
      ++open_files;
    }
    auto job = std::make_shared<FileJob>();
    job->item = &item;
    job->tmp = partial_path(item.path);
    try {
      std::string dir = fs::path(item.path).parent_path().string();
      if (made_dirs.insert(dir).second) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw errno_error(ec.value(), "creating the directory", dir);
      }
      job->fd = ::open(job->tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);  // RDWR: the MD5 check reads it back
      if (job->fd < 0) throw errno_error(errno, "creating", job->tmp);
    } catch (...) {
      {
        std::lock_guard lock(result_mu);
        --open_files;
      }
      fail(*job, std::current_exception());
      continue;
    }
    const uint64_t size = item.object.size;
    const uint64_t parts = size == 0 ? 0 : (size + options.part_size - 1) / options.part_size;
    if (parts == 0) {
      finish(job);
      continue;
    }
    job->parts_left = static_cast<int>(parts);
    for (uint64_t p = 0; p < parts; ++p) {
      store::GetRequest req;
      req.key = item.object.key;
      req.range = store::ByteRange{p * options.part_size, std::min(size, (p + 1) * options.part_size) - 1};
      req.if_match = item.object.etag;
      auto offset = std::make_shared<uint64_t>(req.range->first);
      auto sink = [job, offset, &progress](const char* data, size_t len) {
        for (size_t done = 0; done < len;) {
          ssize_t w = ::pwrite(job->fd, data + done, len - done, static_cast<off_t>(*offset));
          if (w < 0) {
            std::lock_guard lock(job->mu);
            if (!job->error) job->error = std::make_exception_ptr(errno_error(errno, "writing", job->tmp));
            return false;
          }
          done += static_cast<size_t>(w);
          *offset += static_cast<uint64_t>(w);
        }
        progress.done_bytes += len;
        return true;
      };
      auto done = [job, finish](std::exception_ptr e) {
        bool last;
        {
          std::lock_guard lock(job->mu);
          if (e && !job->error) job->error = e;
          last = --job->parts_left == 0;
        }
        if (last) finish(job);
      };
      engine.fetch(std::move(req), std::move(sink), std::move(done));
    }
  }
  engine.wait_idle();
  verifier.wait_idle();
  return result;
}

}  // namespace sluice::transfer
