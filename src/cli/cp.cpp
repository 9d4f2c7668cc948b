#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "dataset/key_path.hpp"
#include "store/file_store.hpp"
#include "store/open.hpp"
#include "transfer/download.hpp"
#include "transfer/upload.hpp"

namespace fs = std::filesystem;

namespace sluice::cli {
namespace {

std::string basename_of(const std::string& key) {
  auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Prints each failure and returns the exit code of the whole command.
int conclude(const std::vector<Error>& failures, uint64_t refused) {
  bool cancelled = false;
  for (const auto& e : failures) {
    cancelled = cancelled || e.kind() == ErrorKind::kCancelled;
    if (e.kind() != ErrorKind::kCancelled) fmt::print(stderr, "sluice: error: {}\n", e.what());
  }
  if (cancelled || interrupted()) {
    fmt::print(stderr, "sluice: interrupted: no partial file was left under a final name; run the same command to resume\n");
    return 130;
  }
  if (failures.size() == 1 && refused == 0) return exit_code_for(failures.front().kind());
  // An error that stops the whole copy (the disk is full, access denied, the store unreachable)
  // fails every file in flight at once: its own code, not "some failed", however many those were.
  if (!failures.empty() && refused == 0) {
    ErrorKind k = failures.front().kind();
    bool stops_all = k == ErrorKind::kNoSpace || k == ErrorKind::kAccessDenied || k == ErrorKind::kRetryable;
    bool same = std::all_of(failures.begin(), failures.end(), [k](const Error& e) { return e.kind() == k; });
    if (stops_all && same) return exit_code_for(k);
  }
  return failures.empty() && refused == 0 ? kExitOk : kExitSomeFailed;
}

// Cancels `cancel` when the user interrupts, until destroyed.
class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void()> cancel) : thread_([this, cancel = std::move(cancel)] {
      while (!done_) {
        if (interrupted()) {
          cancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }) {}
  ~InterruptWatch() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int download(const GlobalOptions& g, const CpOptions& o, const Location& src, const Location& dst) {
  store::StoreOptions so = store_options(g, g.max_connections);
  auto store = store::open_store(src, so);
  std::vector<transfer::DownloadItem> items;
  std::vector<Error> refused;
  std::string root;  // the destination directory, when the copy goes into one
  if (o.recursive) {
    if (!src.is_s3() && !is_dir(src.path)) {
      throw Error(ErrorKind::kNotFound, "copying " + src.str(), "no such directory");
    }
    std::string prefix = dataset::directory_prefix(store::key_of(src));
    auto objects = store::list_all(*store, prefix);
    dataset::PathSet paths;
    for (auto& obj : objects) {
      try {
        auto rel = dataset::relative_path_for_key(obj.key, prefix);
        if (!rel) continue;
        paths.add(*rel, obj.key);
        items.push_back({std::move(obj), dst.path + "/" + *rel});
      } catch (const Error& e) {
        refused.push_back(e);
      }
    }
    if (objects.empty()) {
      throw Error(ErrorKind::kNotFound, "nothing to copy",
                  "no objects under " + (src.is_s3() ? "s3://" + src.bucket + "/" + prefix : src.path + "/"));
    }
    root = dst.path;
  } else {
    std::string key = store::key_of(src);
    if (src.is_s3() && (key.empty() || key.back() == '/')) {
      throw Error(ErrorKind::kInvalidInput, "copying " + src.str(), "this names a prefix, not an object; add --recursive");
    }
    if (!src.is_s3() && is_dir(src.path)) {
      throw Error(ErrorKind::kInvalidInput, "copying " + src.str(), "this is a directory; add --recursive");
    }
    store::ObjectInfo info = store->head(key);
    bool into_dir = dst.trailing_slash || is_dir(dst.path);
    std::string path = into_dir ? dst.path + "/" + basename_of(key) : dst.path;
    if (into_dir) root = dst.path;
    items.push_back({std::move(info), path});
  }
  for (const auto& e : refused) fmt::print(stderr, "sluice: error: {}\n", e.what());

  transfer::Progress progress;
  ProgressReporter reporter(progress, o.style, "downloaded");
  transfer::Engine engine(*store, transfer::EngineOptions{g.max_connections});
  transfer::DownloadOptions dopts;
  dopts.part_size = o.part_size;
  dopts.verify_md5 = o.verify_md5;
  dopts.progress = &progress;
  dopts.root = root;  // nothing below it is reached through a symbolic link
  transfer::DownloadResult result;
  {
    InterruptWatch watch([&engine] { engine.cancel(); });
    result = transfer::download(engine, items, dopts);
  }
  reporter.finish(result.failures.size() + refused.size());
  return conclude(result.failures, refused.size());
}

int upload(const GlobalOptions& g, const CpOptions& o, const Location& src, const Location& dst) {
  std::vector<transfer::UploadItem> items;
  if (o.recursive) {
    if (!is_dir(src.path)) throw Error(ErrorKind::kNotFound, "copying " + src.str(), "no such directory");
    store::FileStore local("/");
    std::string prefix = dataset::directory_prefix(store::key_of(src));
    std::string dest_prefix = dataset::directory_prefix(dst.key);
    for (auto& obj : store::list_all(local, prefix)) {
      items.push_back({"/" + obj.key, obj.size, dest_prefix + obj.key.substr(prefix.size())});
    }
  } else {
    struct stat st;
    if (::stat(src.path.c_str(), &st) != 0) throw errno_error(errno, "copying", src.path);
    if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::kInvalidInput, "copying " + src.str(), "this is a directory; add --recursive");
    std::string key = dst.key.empty() || dst.key.back() == '/' ? dst.key + basename_of(src.path) : dst.key;
    items.push_back({src.path, static_cast<uint64_t>(st.st_size), key});
  }
  store::StoreOptions so = store_options(g, g.max_connections);
  auto store = store::open_store(dst, so);
  transfer::Progress progress;
  ProgressReporter reporter(progress, o.style, "uploaded");
  transfer::UploadOptions uopts;
  uopts.part_size = o.part_size;
  uopts.multipart_threshold = o.multipart_threshold;
  uopts.progress = &progress;
  uopts.cancelled = [] { return interrupted(); };
  auto result = transfer::upload(*store, items, uopts);
  reporter.finish(result.failures.size());
  return conclude(result.failures, 0);
}

}  // namespace

int run_cp(const GlobalOptions& g, const CpOptions& o) {
  Location src = parse_location(o.source);
  Location dst = parse_location(o.destination);
  if (src.is_s3() && dst.is_s3()) {
    throw Error(ErrorKind::kInvalidInput, "copying " + src.str() + " to " + dst.str(),
                "copying between two s3:// locations is not supported yet; copy to a local directory first");
  }
  if (dst.is_s3()) return upload(g, o, src, dst);
  return download(g, o, src, dst);
}

}  // namespace sluice::cli
