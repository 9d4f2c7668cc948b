#include "job/checkpoints.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "dataset/key_path.hpp"
#include "transfer/download.hpp"
#include "transfer/engine.hpp"
#include "transfer/upload.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CREATE | IN_DELETE_SELF;

}  // namespace

CheckpointSync::CheckpointSync(store::ObjectStore& store, std::string prefix, fs::path local_dir, std::string host)
    : store_(store), prefix_(dataset::directory_prefix(prefix)), dir_(std::move(local_dir)), host_(std::move(host)) {}

CheckpointSync::~CheckpointSync() {
  if (watcher_.joinable()) {
    (void)!::write(stop_pipe_[1], "x", 1);
    watcher_.join();
  }
  for (int fd : {inotify_fd_, stop_pipe_[0], stop_pipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

bool CheckpointSync::ignored(const fs::path& path) {
  std::string name = path.filename().string();
  return name.starts_with(".sluice-") || name.ends_with(".tmp");
}

std::string CheckpointSync::key_for(const fs::path& path) const {
  return prefix_ + path.lexically_relative(dir_).generic_string();
}

size_t CheckpointSync::restore() {
  fs::create_directories(dir_);
  std::vector<transfer::DownloadItem> items;
  dataset::PathSet paths;
  for (auto& obj : store::list_all(store_, prefix_)) {
    auto rel = dataset::relative_path_for_key(obj.key, prefix_);  // throws for an unsafe key
    if (!rel) continue;
    paths.add(*rel, obj.key);
    items.push_back({std::move(obj), (dir_ / *rel).string()});
  }
  if (items.empty()) return 0;
  transfer::Engine engine(store_, {});
  transfer::DownloadOptions opts;
  opts.skip_complete = false;
  auto result = transfer::download(engine, items, opts);
  if (!result.failures.empty()) throw result.failures.front().with_context("restoring checkpoints");
  std::lock_guard lock(mu_);
  for (const auto& item : items) {
    struct stat st;
    if (::stat(item.path.c_str(), &st) == 0) uploaded_[item.object.key] = {st.st_size, mtime_ns(st)};
  }
  return items.size();
}

void CheckpointSync::start() {
  fs::create_directories(dir_);
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) throw errno_error(errno, "watching", dir_.string());
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw errno_error(errno, "watching", dir_.string());
  add_watch_recursive(dir_);
  watcher_ = std::thread([this] { watch_loop(); });
}

void CheckpointSync::add_watch_recursive(const fs::path& dir) {
  int wd = inotify_add_watch(inotify_fd_, dir.c_str(), kEvents);
  if (wd < 0) {
    log::warn("[{}] cannot watch checkpoint directory {}: {}", host_, dir.string(), std::strerror(errno));
    return;
  }
  {
    std::lock_guard lock(mu_);
    watches_[wd] = dir;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory() && !entry.is_symlink()) add_watch_recursive(entry.path());
  }
}

void CheckpointSync::upload_file(const fs::path& path) {
  if (ignored(path)) return;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::string key = key_for(path);
  {
    std::lock_guard lock(mu_);
    auto it = uploaded_.find(key);
    if (it != uploaded_.end() && it->second == std::make_pair<uint64_t, int64_t>(st.st_size, mtime_ns(st))) return;
  }
  auto result = transfer::upload(store_, {{path.string(), static_cast<uint64_t>(st.st_size), key}}, {});
  if (!result.failures.empty()) {
    log::warn("[{}] checkpoint upload of {} failed: {}", host_, path.string(), result.failures.front().what());
    return;
  }
  uploads_++;
  log::info("[{}] checkpoint uploaded: {}", host_, key);
  std::lock_guard lock(mu_);
  uploaded_[key] = {st.st_size, mtime_ns(st)};
}

void CheckpointSync::delete_file(const fs::path& path) {
  if (ignored(path)) return;
  std::string key = key_for(path);
  {
    std::lock_guard lock(mu_);
    if (uploaded_.erase(key) == 0) return;  // never uploaded: nothing to delete
  }
  try {
    store_.remove(key);
    deletes_++;
    log::info("[{}] checkpoint deleted: {}", host_, key);
  } catch (const Error& e) {
    log::warn("[{}] deleting checkpoint {} failed: {}", host_, key, e.what());
  }
}

void CheckpointSync::watch_loop() {
  alignas(struct inotify_event) char buf[64 * 1024];
  for (;;) {
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) continue;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      fs::path dir;
      {
        std::lock_guard lock(mu_);
        auto it = watches_.find(ev->wd);
        if (it == watches_.end()) continue;
        dir = it->second;
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) {
          watches_.erase(it);
          continue;
        }
      }
      if (ev->len == 0) continue;
      fs::path path = dir / ev->name;
      if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
          add_watch_recursive(path);
          std::error_code ec;  // files may have landed before the watch: pick them up
          for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it); it.increment(ec)) {
            if (it->is_regular_file()) upload_file(it->path());
          }
        }
        continue;
      }
      if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) upload_file(path);
      if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) delete_file(path);
    }
  }
}

size_t CheckpointSync::finish() {
  if (watcher_.joinable()) {
    (void)!::write(stop_pipe_[1], "x", 1);
    watcher_.join();
  }
  uint64_t before = uploads_;
  std::set<std::string> present;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (!it->is_regular_file() || ignored(it->path())) continue;
    present.insert(key_for(it->path()));
    upload_file(it->path());
  }
  // Deletions: objects under the prefix with no local file (restored or uploaded by this host).
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, _] : uploaded_) {
      if (!present.count(key)) gone.push_back(key);
    }
  }
  for (const auto& key : gone) delete_file(dir_ / key.substr(prefix_.size()));
  return static_cast<size_t>(uploads_ - before);
}

}  // namespace sluice::job
