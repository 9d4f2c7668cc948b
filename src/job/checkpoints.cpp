#include "job/checkpoints.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/beneath.hpp"
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

CheckpointSync::CheckpointSync(transfer::Engine& engine, store::ObjectStore& store, std::string prefix, fs::path local_dir,
                               std::string host)
    : engine_(engine),
      store_(store), prefix_(dataset::directory_prefix(prefix)), dir_(std::move(local_dir)), host_(std::move(host)) {}

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

std::string CheckpointSync::key_for(const fs::path& path) const { return prefix_ + relative(path); }

std::string CheckpointSync::relative(const fs::path& path) const {
  std::string rel = path.lexically_relative(dir_).generic_string();
  return rel == "." ? std::string() : rel;
}

void CheckpointSync::open_root() {
  if (root_) return;
  fs::create_directories(dir_);
  root_ = beneath::open_root(dir_.string());
}

void CheckpointSync::warn_link(const std::string& rel) {
  {
    std::lock_guard lock(mu_);
    if (!warned_links_.insert(rel).second) return;
  }
  log::warn("[{}] checkpoint {} is a symbolic link (or lies behind one): not followed, not uploaded", host_, rel);
}

size_t CheckpointSync::restore() {
  open_root();
  std::vector<transfer::DownloadItem> items;
  std::vector<std::string> rels;
  dataset::PathSet paths;
  for (auto& obj : store::list_all(store_, prefix_)) {
    auto rel = dataset::relative_path_for_key(obj.key, prefix_);  // throws for an unsafe key
    if (!rel) continue;
    paths.add(*rel, obj.key);
    rels.push_back(*rel);
    items.push_back({std::move(obj), (dir_ / *rel).string()});
  }
  if (items.empty()) return 0;
  transfer::DownloadOptions opts;
  opts.skip_complete = false;
  opts.root = dir_.string();  // directories and files below dir_ made without following a link
  auto result = transfer::download(engine_, store_, items, opts);
  if (!result.failures.empty()) throw result.failures.front().with_context("restoring checkpoints");
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < items.size(); ++i) {
    UniqueFd fd(beneath::open_at(root_.get(), rels[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    struct stat st;
    if (fd && ::fstat(fd.get(), &st) == 0) uploaded_[items[i].object.key] = {st.st_size, mtime_ns(st)};
  }
  return items.size();
}

void CheckpointSync::start() {
  open_root();
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) throw errno_error(errno, "watching", dir_.string());
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw errno_error(errno, "watching", dir_.string());
  add_watch_recursive(dir_);
  watcher_ = std::thread([this] { watch_loop(); });
}

// Watches the directory open as dir_fd, through its handle: the watch is on that directory
// whatever its path names by now.
void CheckpointSync::add_watch(int dir_fd, const fs::path& dir) {
  int wd = inotify_add_watch(inotify_fd_, beneath::fd_path(dir_fd).c_str(), kEvents | IN_ONLYDIR);
  if (wd < 0) {
    log::warn("[{}] cannot watch checkpoint directory {}: {}", host_, dir.string(), std::strerror(errno));
    return;
  }
  std::lock_guard lock(mu_);
  watches_[wd] = dir;
}

void CheckpointSync::add_watch_recursive(const fs::path& dir) {
  const std::string rel = relative(dir);
  UniqueFd fd(beneath::open_at(root_.get(), rel, O_RDONLY | O_DIRECTORY));
  if (!fd) {
    if (errno == ELOOP) {
      warn_link(rel);
    } else if (errno != ENOENT) {
      log::warn("[{}] cannot watch checkpoint directory {}: {}", host_, dir.string(), std::strerror(errno));
    }
    return;
  }
  add_watch(fd.get(), dir);
  try {
    beneath::walk(fd.get(), dir.string(), [&](const beneath::Entry& e) {
      if (!S_ISDIR(e.st.st_mode)) return true;
      UniqueFd sub(beneath::open_at(fd.get(), e.rel, O_RDONLY | O_DIRECTORY));
      if (!sub) return false;  // swapped for a link or removed since it was listed
      add_watch(sub.get(), dir / e.rel);
      return true;
    });
  } catch (const Error& e) {
    log::warn("[{}] cannot watch all of checkpoint directory {}: {}", host_, dir.string(), e.what());
  }
}

// fn(rel) for every regular file below rel_dir (relative to dir_), walked without following a
// link; a link is skipped with a warning. Throws Error when a directory cannot be read.
void CheckpointSync::each_file(const std::string& rel_dir, const std::function<void(const std::string&)>& fn) {
  UniqueFd fd(beneath::open_at(root_.get(), rel_dir, O_RDONLY | O_DIRECTORY));
  if (!fd) {
    if (errno == ELOOP) warn_link(rel_dir);
    return;
  }
  const std::string prefix = rel_dir.empty() ? "" : rel_dir + "/";
  beneath::walk(fd.get(), (dir_ / rel_dir).string(), [&](const beneath::Entry& e) {
    if (S_ISLNK(e.st.st_mode)) warn_link(prefix + e.rel);
    if (S_ISREG(e.st.st_mode)) fn(prefix + e.rel);
    return true;
  });
}

void CheckpointSync::upload_file(const fs::path& path) {
  if (ignored(path)) return;
  const std::string rel = relative(path);
  UniqueFd fd(beneath::open_at(root_.get(), rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) {
    if (errno == ELOOP) warn_link(rel);
    return;  // gone meanwhile
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::string key = prefix_ + rel;
  {
    std::lock_guard lock(mu_);
    auto it = uploaded_.find(key);
    if (it != uploaded_.end() && it->second == std::make_pair<uint64_t, int64_t>(st.st_size, mtime_ns(st))) return;
  }
  auto result = transfer::upload(store_, {{beneath::fd_path(fd.get()), static_cast<uint64_t>(st.st_size), key}}, {});
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
      try {
        if (ev->mask & IN_ISDIR) {
          if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            add_watch_recursive(path);
            // Files may have landed before the watch: pick them up.
            each_file(relative(path), [&](const std::string& rel) { upload_file(dir_ / rel); });
          }
          continue;
        }
        if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) upload_file(path);
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) delete_file(path);
      } catch (const std::exception& e) {
        log::warn("[{}] checkpoint sync of {} failed: {}", host_, path.string(), e.what());
      }
    }
  }
}

size_t CheckpointSync::finish() {
  if (watcher_.joinable()) {
    (void)!::write(stop_pipe_[1], "x", 1);
    watcher_.join();
  }
  uint64_t before = uploads_;
  open_root();
  std::set<std::string> present;
  each_file("", [&](const std::string& rel) {
    fs::path path = dir_ / rel;
    if (ignored(path)) return;
    present.insert(prefix_ + rel);
    upload_file(path);
  });
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
