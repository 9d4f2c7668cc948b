#include "store/file_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace fs = std::filesystem;

namespace sluice::store {
namespace {

constexpr const char* kStagingPrefix = ".sluice-";
constexpr size_t kChunk = 1 << 20;

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// Writes all of body to fd from its start.
void write_body(int fd, const Body& body, const std::string& path) {
  body.for_each_chunk(
      [&](const char* data, size_t len) {
        for (size_t done = 0; done < len;) {
          ssize_t w = ::write(fd, data + done, len - done);
          if (w < 0) throw errno_error(errno, "writing", path);
          done += static_cast<size_t>(w);
        }
      },
      path);
}

}  // namespace

FileStore::FileStore(std::string root, int io_threads) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  for (int i = 0; i < std::max(1, io_threads); ++i) {
    workers_.emplace_back([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
  }
}

FileStore::~FileStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void FileStore::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::string FileStore::etag_of(int64_t mtime, uint64_t size) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llx-%llu", static_cast<unsigned long long>(mtime),
                static_cast<unsigned long long>(size));
  return buf;
}

std::string FileStore::path_of(const std::string& key) const {
  if (key.find('\0') != std::string::npos) throw Error(ErrorKind::kInvalidInput, "key contains a NUL byte");
  return (root_ == "/" ? "" : root_) + "/" + key;
}

ListPage FileStore::list(const ListRequest& request) {
  std::shared_ptr<const std::vector<ObjectInfo>> listing;
  {
    std::lock_guard lock(cache_mu_);
    if (!cached_ || request.continuation_token.empty() || cached_prefix_ != request.prefix) {
      auto fresh = std::make_shared<std::vector<ObjectInfo>>();
      cached_prefix_ = request.prefix;
      // Walk only the deepest directory the prefix names.
      auto slash = request.prefix.rfind('/');
      std::string dir_key = slash == std::string::npos ? "" : request.prefix.substr(0, slash + 1);
      std::string start = dir_key.empty() ? root_ : path_of(dir_key.substr(0, dir_key.size() - 1));
      std::error_code ec;
      if (fs::is_directory(start, ec)) {
        auto opts = fs::directory_options::skip_permission_denied;
        for (auto it = fs::recursive_directory_iterator(start, opts, ec); !ec && it != fs::end(it); it.increment(ec)) {
          std::string name = it->path().filename().string();
          if (name.starts_with(kStagingPrefix)) {
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
          }
          struct stat st;
          if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
          std::string key = it->path().lexically_relative(root_).generic_string();
          if (!key.starts_with(request.prefix)) continue;
          fresh->push_back(ObjectInfo{key, static_cast<uint64_t>(st.st_size), etag_of(mtime_ns(st), st.st_size), mtime_ns(st)});
        }
        if (ec) throw errno_error(ec.value(), "listing", start);
      } else if (!fs::exists(root_, ec)) {
        throw Error(ErrorKind::kNotFound, "listing file://" + root_, "directory does not exist");
      }
      std::sort(fresh->begin(), fresh->end(), [](const auto& a, const auto& b) { return a.key < b.key; });
      cached_ = std::move(fresh);
    }
    listing = cached_;
  }
  const std::vector<ObjectInfo>& all = *listing;
  ListPage page;
  auto it = all.begin();
  if (!request.continuation_token.empty()) {
    it = std::upper_bound(all.begin(), all.end(), request.continuation_token,
                          [](const std::string& k, const ObjectInfo& o) { return k < o.key; });
  }
  int count = 0;
  std::string last;
  for (; it != all.end(); ++it) {
    if (count >= request.max_keys) {
      page.next_continuation_token = last;
      break;
    }
    if (!request.delimiter.empty()) {
      auto pos = it->key.find(request.delimiter, request.prefix.size());
      if (pos != std::string::npos) {
        std::string cp = it->key.substr(0, pos + request.delimiter.size());
        page.common_prefixes.push_back(cp);
        ++count;
        // Skip every key under this common prefix; the token is the greatest of them.
        while (std::next(it) != all.end() && std::next(it)->key.starts_with(cp)) ++it;
        last = it->key;
        continue;
      }
    }
    page.objects.push_back(*it);
    last = it->key;
    ++count;
  }
  return page;
}

ObjectInfo FileStore::head(const std::string& key) {
  struct stat st;
  std::string path = path_of(key);
  if (::stat(path.c_str(), &st) != 0) throw errno_error(errno, "reading the metadata of", path);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::kNotFound, "reading the metadata of " + path, "not a regular file");
  return ObjectInfo{key, static_cast<uint64_t>(st.st_size), etag_of(mtime_ns(st), st.st_size), mtime_ns(st)};
}

void FileStore::get(const GetRequest& request, DataSink sink, Completion done) {
  post([this, request, sink = std::move(sink), done = std::move(done)] {
    std::string path = path_of(request.key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    try {
      if (fd < 0) throw errno_error(errno, "opening", path);
      struct stat st;
      if (::fstat(fd, &st) != 0) throw errno_error(errno, "reading the metadata of", path);
      if (!request.if_match.empty() && request.if_match != etag_of(mtime_ns(st), st.st_size)) {
        throw Error(ErrorKind::kDataLoss, "reading " + path, "the file changed while it was being read");
      }
      uint64_t first = request.range ? request.range->first : 0;
      uint64_t end = request.range ? request.range->last + 1 : static_cast<uint64_t>(st.st_size);
      if (end > static_cast<uint64_t>(st.st_size)) {
        throw Error(ErrorKind::kInvalidInput, "reading " + path, "range ends past the end of the file");
      }
      std::string buf(static_cast<size_t>(std::min<uint64_t>(kChunk, end - first)), '\0');
      for (uint64_t off = first; off < end;) {
        ssize_t got = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), end - off)),
                              static_cast<off_t>(off));
        if (got < 0) throw errno_error(errno, "reading", path);
        if (got == 0) throw Error(ErrorKind::kDataLoss, "reading " + path, "the file became shorter while it was being read");
        if (!sink(buf.data(), static_cast<size_t>(got))) {
          throw Error(ErrorKind::kCancelled, "reading " + path, "stopped by the reader");
        }
        off += static_cast<uint64_t>(got);
      }
      ::close(fd);
      done(nullptr);
    } catch (...) {
      if (fd >= 0) ::close(fd);
      done(std::current_exception());
    }
  });
}

void FileStore::write_atomically(const std::string& key, const Body& body) {
  std::string path = path_of(key);
  fs::path p(path);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) throw errno_error(ec.value(), "creating the directory", p.parent_path().string());
  std::string tmp = (p.parent_path() / (std::string(kStagingPrefix) + p.filename().string() + "." + random_suffix())).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw errno_error(errno, "creating", tmp);
  try {
    write_body(fd, body, path);
    if (::close(fd) != 0) {
      fd = -1;
      throw errno_error(errno, "writing", path);
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw errno_error(errno, "renaming into place", path);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
}

std::string FileStore::put(const std::string& key, Body body, const PutOptions&) {
  write_atomically(key, body);
  return head(key).etag;
}

std::string FileStore::create_multipart(const std::string& key) {
  std::string id = random_suffix();
  std::string dir = root_ + "/" + kStagingPrefix + "uploads/" + id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw errno_error(ec.value(), "starting a multipart upload of", path_of(key));
  return id;
}

void FileStore::upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                            std::function<void(std::exception_ptr, std::string)> done) {
  post([this, key, upload_id, part_number, body, done] {
    try {
      std::string part_key = std::string(kStagingPrefix) + "uploads/" + upload_id + "/" + std::to_string(part_number);
      write_atomically(part_key, body);
      done(nullptr, std::to_string(part_number));
    } catch (...) {
      done(std::current_exception(), "");
    }
  });
}

std::string FileStore::complete_multipart(const std::string& key, const std::string& upload_id,
                                          const std::vector<std::string>& part_etags) {
  std::string dir = root_ + "/" + kStagingPrefix + "uploads/" + upload_id;
  std::string path = path_of(key);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) throw errno_error(ec.value(), "creating the directory of", path);
  std::string tmp = (fs::path(path).parent_path() / (std::string(kStagingPrefix) + upload_id + ".partial")).string();
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) throw errno_error(errno, "creating", tmp);
  try {
    for (size_t i = 0; i < part_etags.size(); ++i) {
      std::string part = dir + "/" + std::to_string(i + 1);
      int in = ::open(part.c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0) throw errno_error(errno, "reading part of", path);
      struct stat st;
      if (::fstat(in, &st) != 0) {
        int err = errno;
        ::close(in);
        throw errno_error(err, "reading part of", path);
      }
      Body b = Body::from_file(in, 0, static_cast<uint64_t>(st.st_size));
      try {
        write_body(out, b, path);
      } catch (...) {
        ::close(in);
        throw;
      }
      ::close(in);
    }
    if (::close(out) != 0) {
      out = -1;
      throw errno_error(errno, "writing", path);
    }
    out = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw errno_error(errno, "renaming into place", path);
  } catch (...) {
    if (out >= 0) ::close(out);
    ::unlink(tmp.c_str());
    throw;
  }
  fs::remove_all(dir, ec);  // staging left behind is harmless: never listed
  return head(key).etag;
}

void FileStore::abort_multipart(const std::string&, const std::string& upload_id) {
  std::error_code ec;
  fs::remove_all(root_ + "/" + kStagingPrefix + "uploads/" + upload_id, ec);
}

void FileStore::remove(const std::string& key) {
  std::string path = path_of(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw errno_error(errno, "deleting", path);
  // Like S3, directories exist only through their keys: drop the ones left empty.
  fs::path dir = fs::path(path).parent_path();
  while (dir.string().size() > root_.size() && ::rmdir(dir.c_str()) == 0) dir = dir.parent_path();
}

}  // namespace sluice::store
