#include "transfer/download.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/beneath.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "transfer/download_record.hpp"
#include "transfer/md5_verifier.hpp"

namespace fs = std::filesystem;

namespace sluice::transfer {
namespace {

// ------------------------------------------------------------------------------------------------
// Directories

// Open directory handles by directory, the most recently used first; at most `capacity` kept
// (a file in flight keeps its own reference, so evicting never closes a handle in use).
class DirCache {
 public:
  using Dir = std::shared_ptr<UniqueFd>;
  explicit DirCache(size_t capacity) : capacity_(capacity) {}

  template <typename Open>
  Dir get(const std::string& dir, Open&& open) {
    if (auto it = index_.find(dir); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
    auto fd = std::make_shared<UniqueFd>(open(dir));
    lru_.emplace_front(dir, fd);
    index_[dir] = lru_.begin();
    if (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
    return fd;
  }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, Dir>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Dir>>::iterator> index_;
};

// Where an item goes: the directory (relative to root, "" for root itself; or a path when there
// is no root, "" for the working directory) and the file's name in it.
struct Place {
  std::string dir;
  std::string name;
};

// `root`, lexically normal and without a trailing separator.
fs::path normal_root(const std::string& root) {
  fs::path r = fs::path(root).lexically_normal();
  if (!r.has_filename() && r.has_relative_path()) r = r.parent_path();
  return r;
}

Error bad_item(const DownloadItem& item, std::string why) {
  return Error(ErrorKind::kInvalidInput, "downloading " + item.object.key + " to " + item.path, std::move(why));
}

Place place_of(const DownloadItem& item, const std::optional<fs::path>& root, const std::string& root_shown) {
  if (root) {
    fs::path rel = fs::path(item.path).lexically_normal().lexically_relative(*root);
    bool below = !rel.empty() && rel.has_filename();
    for (const auto& part : rel) below = below && part != ".." && part != "." && !part.empty();
    if (!below) throw bad_item(item, "the path does not name a file below the destination " + root_shown);
    return {rel.parent_path().generic_string(), rel.filename().string()};
  }
  fs::path p(item.path);
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") throw bad_item(item, "the path does not name a file");
  return {p.parent_path().string(), name};
}

// The first symbolic link on the way to `rel` below `root` ("a/b" of "a/b/c"), or "" if none is
// found (any more: the tree may be changing).
std::string link_on_the_way(int root, const std::string& rel) {
  std::string prefix;
  for (const auto& part : fs::path(rel)) {
    prefix += (prefix.empty() ? "" : "/") + part.string();
    UniqueFd fd(beneath::open_at(root, prefix, O_PATH | O_NOFOLLOW));
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0) return {};
    if (S_ISLNK(st.st_mode)) return prefix;
  }
  return {};
}

std::string partial_name(const std::string& base) {
  // ".sluice-" names are never listed by the file:// backend, so partial files are not uploaded
  // or copied by a later `cp -r` of the directory.
  std::string name = ".sluice-partial-";
  name.append(base.size() + name.size() <= 255 ? base : sha256_hex(base));
  return name;
}

// ------------------------------------------------------------------------------------------------
// Files

// One file being written, shared by its parts.
struct FileJob {
  const DownloadItem* item = nullptr;
  DirCache::Dir dir;      // the directory it is written in
  std::string name;       // its final name there
  std::string tmp_name;   // its partial name there
  std::string tmp;        // the partial file's path, for messages
  int fd = -1;
  int parts_left = 0;
  std::mutex mu;
  std::exception_ptr error;
};

bool fatal_for_all(ErrorKind k) {
  return k == ErrorKind::kAccessDenied || k == ErrorKind::kNoSpace || k == ErrorKind::kRetryable ||
         k == ErrorKind::kInternal;
}

// Whether `name` in `dir` is already the complete object: by the record's entry when there is a
// record (nullptr: not recorded), by size and mtime otherwise. Never follows a link.
bool already_complete(int dir, const std::string& name, const DownloadItem& item, bool use_record,
                      const RecordEntry* recorded) {
  if (use_record && (recorded == nullptr || recorded->key != item.object.key || recorded->etag != item.object.etag ||
                     recorded->size != item.object.size)) {
    return false;
  }
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<uint64_t>(st.st_size) != item.object.size) return false;
  if (use_record) {
    return static_cast<uint64_t>(st.st_dev) == recorded->dev && static_cast<uint64_t>(st.st_ino) == recorded->ino &&
           ctime_ns(st) == recorded->ctime_ns;
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return item.object.mtime_epoch_ns == 0 || mtime == item.object.mtime_epoch_ns;
}

}  // namespace

std::string partial_path(const std::string& path) {
  fs::path p(path);
  return (p.parent_path() / partial_name(p.filename().string())).string();
}

size_t remove_others(const std::string& root, const std::string& dir, const std::vector<DownloadItem>& items) {
  const fs::path base = fs::path(dir).lexically_relative(root);
  if (base.empty() || *base.begin() == "..") {
    throw Error(ErrorKind::kInternal, "pruning " + dir, "the directory is not below " + root);
  }
  std::set<std::string> keep, ways;  // paths relative to dir: files to keep, directories leading to them
  for (const auto& item : items) {
    const fs::path rel = fs::path(item.path).lexically_relative(dir);
    if (rel.empty() || *rel.begin() == "..") continue;
    keep.insert(rel.generic_string());
    keep.insert(fs::path(partial_path(rel.generic_string())).generic_string());
    for (fs::path p = rel.parent_path(); !p.empty(); p = p.parent_path()) ways.insert(p.generic_string());
  }
  UniqueFd top = beneath::open_root(root);
  UniqueFd at(beneath::open_at(top.get(), base.generic_string(), O_RDONLY | O_DIRECTORY));
  if (!at) {
    if (errno == ENOENT) return 0;
    throw errno_error(errno, "pruning", dir);
  }
  std::vector<std::string> extra;
  beneath::walk(at.get(), dir, [&](const beneath::Entry& e) {
    if (S_ISDIR(e.st.st_mode) && ways.count(e.rel)) return true;
    if (!S_ISDIR(e.st.st_mode) && keep.count(e.rel)) return true;
    extra.push_back(e.rel);
    return false;  // removed whole
  });
  for (const auto& rel : extra) beneath::remove_tree(at.get(), rel, dir);
  return extra.size();
}

bool etag_is_md5(const std::string& etag) {
  if (etag.size() != 32) return false;
  for (char c : etag) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

DownloadResult download(Engine& engine, const std::vector<DownloadItem>& items, const DownloadOptions& options) {
  return download(engine, engine.store(), items, options);
}

DownloadResult download(Engine& engine, store::ObjectStore& store, const std::vector<DownloadItem>& items,
                        const DownloadOptions& options) {
  FetchGroup group(engine);
  DownloadResult result;
  std::mutex result_mu;
  Progress local_progress;
  Progress& progress = options.progress ? *options.progress : local_progress;
  // Files open at once: enough to keep every read slot busy, far below the fd limit. Each also
  // holds its directory, and up to kDirCache more directories stay open: at most
  // 2 * 256 + kDirCache descriptors, with the default soft limit at 1024.
  const int max_open = 256;
  int open_files = 0;
  std::condition_variable open_cv;

  // The root: trusted, so made and opened by path (links followed); nothing below it is.
  std::optional<fs::path> root;
  UniqueFd root_fd;
  if (!options.root.empty() && !items.empty()) {
    root = normal_root(options.root);
    std::error_code ec;
    fs::create_directories(options.root, ec);
    if (ec) throw errno_error(ec.value(), "creating the directory", options.root);
    root_fd = beneath::open_root(options.root);
  }
  const bool use_record = !options.record.empty();
  std::optional<DownloadRecord> record;  // remember() under result_mu
  if (use_record) {
    std::vector<std::string> paths;
    for (const DownloadItem& item : items) paths.push_back(item.path);
    record.emplace(options.record, paths);
  }

  DirCache dirs(kDirCache);
  auto open_dir = [&](const std::string& dir) -> UniqueFd {
    if (root) return beneath::make_dirs(root_fd.get(), dir, 0755, options.root);
    std::string path = dir.empty() ? "." : dir;
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw errno_error(ec.value(), "creating the directory", path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw errno_error(errno, "opening the directory", path);
    return fd;
  };

  auto fail = [&](const DownloadItem& item, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      {
        std::lock_guard lock(result_mu);
        // After a cancel, the many "cancelled" failures it causes say nothing new.
        if (err.kind() != ErrorKind::kCancelled || result.failures.empty()) result.failures.push_back(err);
      }
      if (fatal_for_all(err.kind()) && !group.cancelled()) group.cancel();
    } catch (const std::exception& ex) {
      std::lock_guard lock(result_mu);
      result.failures.emplace_back(ErrorKind::kInternal, "downloading " + item.object.key, ex.what());
    }
    progress.failed_files++;
  };

  // MD5 of complete files, several at once in the lanes of a multi-buffer MD5, read back from
  // the page cache: cheaper than hashing each stream serially as it arrives.
  Md5Verifier verifier;

  // The end of a file: checks, mtime, rename, identity for the record, close. md5_hex is empty
  // when not verified.
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
    const int dir = job->dir->get();
    bool renamed = false;
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
      // renameat replaces whatever is at the final name (a link included) and follows nothing.
      if (::renameat(dir, job->tmp_name.c_str(), dir, job->name.c_str()) != 0) {
        throw errno_error(errno, "renaming into place", item.path);
      }
      renamed = true;
      // The identity after the rename, which sets the ctime on most file systems.
      if (::fstat(job->fd, &st) != 0) throw errno_error(errno, "checking", item.path);
      int fd = job->fd;
      job->fd = -1;
      if (::close(fd) != 0) throw errno_error(errno, "writing", item.path);
      progress.done_files++;
      std::lock_guard lock(result_mu);
      result.files++;
      result.bytes += item.object.size;
      if (use_record) {
        record->remember(item.path, {item.object.key, item.object.etag, item.object.size, static_cast<uint64_t>(st.st_dev),
                             static_cast<uint64_t>(st.st_ino), ctime_ns(st)});
      }
    } catch (...) {
      if (job->fd >= 0) ::close(job->fd);
      job->fd = -1;
      // Nothing incomplete stays under a final name.
      ::unlinkat(dir, (renamed ? job->name : job->tmp_name).c_str(), 0);
      fail(item, std::current_exception());
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
    if (group.cancelled()) break;
    auto job = std::make_shared<FileJob>();
    job->item = &item;
    job->tmp = partial_path(item.path);
    Place place;
    try {
      place = place_of(item, root, options.root);
      try {
        job->dir = dirs.get(place.dir, open_dir);
      } catch (const Error& e) {
        if (!root || e.cause() != std::strerror(ELOOP)) throw;
        std::string link = link_on_the_way(root_fd.get(), place.dir);
        fs::path shown = fs::path(options.root) / (link.empty() ? place.dir : link);
        throw bad_item(item, "a symbolic link is in the way at " + shown.string() +
                                 " (links below the destination are never followed)");
      }
    } catch (...) {
      fail(item, std::current_exception());
      continue;
    }
    job->name = place.name;
    job->tmp_name = partial_name(place.name);
    const RecordEntry* recorded = nullptr;
    if (record) recorded = record->find(item.path);
    if (options.skip_complete && already_complete(job->dir->get(), job->name, item, use_record, recorded)) {
      progress.done_files++;
      progress.done_bytes += item.object.size;
      progress.skipped_files++;
      progress.skipped_bytes += item.object.size;
      std::lock_guard lock(result_mu);
      result.skipped_files++;
      result.skipped_bytes += item.object.size;
      if (use_record) record->remember(item.path, *recorded);
      continue;
    }
    {
      std::unique_lock lock(result_mu);
      open_cv.wait(lock, [&] { return open_files < max_open; });
      ++open_files;
    }
    try {
      // A stale partial file (or whatever was put under its name) goes first; O_EXCL | O_NOFOLLOW
      // then creates a new file or fails, and never opens through a link.
      const int dir = job->dir->get();
      ::unlinkat(dir, job->tmp_name.c_str(), 0);
      job->fd = ::openat(dir, job->tmp_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0644);  // RDWR: the MD5 check reads it back
      if (job->fd < 0) throw errno_error(errno, "creating", job->tmp);
    } catch (...) {
      {
        std::lock_guard lock(result_mu);
        --open_files;
      }
      fail(item, std::current_exception());
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
      group.fetch(store, std::move(req), std::move(sink), std::move(done));
    }
  }
  group.wait_idle();
  verifier.wait_idle();
  if (record) record->finish();
  return result;
}

}  // namespace sluice::transfer
