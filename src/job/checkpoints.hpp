// Checkpoint sync (CheckpointConfig), per host, as SageMaker does it (docs/train.md, step 5):
//  - restore(): every object under S3Uri is downloaded into the local path before training;
//  - while training, a watcher (inotify) uploads each file when it is closed after writing or
//    renamed into the path, as is (no tar), and deletes the object of a file deleted locally;
//  - finish(): a final sync uploads what changed since its last upload and deletes objects of
//    files that are gone, then stops the watcher (also after SIGTERM or a failure).
// Files whose names start with ".sluice-" or end in ".tmp" are not uploaded until renamed; one
// S3 location serves every host (scripts give their files distinct names, as on SageMaker).
// The training code writes the directory and may be hostile (issue 12): everything below it is
// watched, walked, read and restored relative to a handle on it (opened before training starts),
// following no symbolic link; a link is skipped with a warning, never uploaded or written through.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"
#include "store/object_store.hpp"
#include "transfer/engine.hpp"

namespace sluice::job {

class CheckpointSync {
 public:
  // `prefix` is the key prefix (directory semantics: a '/' is added) under which files live.
  // `engine` (the job's, which restore() reads through) and `store` must outlive the sync.
  CheckpointSync(transfer::Engine& engine, store::ObjectStore& store, std::string prefix, std::filesystem::path local_dir,
                 std::string host);
  ~CheckpointSync();  // stops the watcher (no final sync: call finish())

  // Downloads every object under the prefix; returns how many files were restored.
  size_t restore();
  // Starts watching the local directory.
  void start();
  // Stops watching and runs the final sync. Returns the number of objects uploaded by it.
  size_t finish();

  uint64_t uploads() const { return uploads_; }
  uint64_t deletes() const { return deletes_; }

 private:
  void open_root();
  std::string relative(const std::filesystem::path& path) const;
  void warn_link(const std::string& rel);
  void watch_loop();
  void add_watch_recursive(const std::filesystem::path& dir);
  void add_watch(int dir_fd, const std::filesystem::path& dir);
  void each_file(const std::string& rel_dir, const std::function<void(const std::string& rel)>& fn);
  void upload_file(const std::filesystem::path& path);
  void delete_file(const std::filesystem::path& path);
  std::string key_for(const std::filesystem::path& path) const;
  static bool ignored(const std::filesystem::path& path);

  transfer::Engine& engine_;
  store::ObjectStore& store_;
  std::string prefix_;
  std::filesystem::path dir_;
  std::string host_;
  UniqueFd root_;  // dir_, opened by restore() or start(), whichever comes first
  int inotify_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread watcher_;
  std::mutex mu_;
  std::map<int, std::filesystem::path> watches_;  // watch descriptor -> directory
  std::map<std::string, std::pair<uint64_t, int64_t>> uploaded_;  // key -> (size, mtime ns) last uploaded
  std::set<std::string> warned_links_;  // paths (relative to dir_) already warned about
  std::atomic<uint64_t> uploads_{0}, deletes_{0};
};

}  // namespace sluice::job
