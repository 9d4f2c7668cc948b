#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "cli/commands.hpp"
#include "cli/cp_stream.hpp"
#include "cli/exit_code.hpp"
#include "cli/interrupt_watch.hpp"
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

// A local path as the AWS CLI shows it: its directory relative to the working directory.
std::string shown_local(const std::string& path) {
  fs::path p(path);
  fs::path dir = p.parent_path().lexically_relative(fs::current_path());
  return dir.empty() ? path : (dir / p.filename()).string();
}

std::string shown_s3(const Location& loc, const std::string& key) { return "s3://" + loc.bucket + "/" + key; }

// --dryrun: "(dryrun) download: FROM to TO" for each copy (nothing with --quiet); exit 0.
template <class Items, class Describe>
int dry_run(const CpOptions& o, const char* verb, const Items& items, Describe describe) {
  if (o.style == OutputStyle::kQuiet) return kExitOk;
  for (const auto& item : items) {
    auto [from, to] = describe(item);
    fmt::print("(dryrun) {}: {} to {}\n", verb, from, to);
  }
  return kExitOk;
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

int download(const GlobalOptions& g, const CpOptions& o, const Location& src, const Location& dst) {
  store::StoreOptions so = store_options(g, g.max_connections);
  const store::Address from = store::Address::of(src);
  auto store = store::open_store(from, so);
  std::vector<transfer::DownloadItem> items;
  std::vector<Error> refused;
  std::string root;  // the destination directory, when the copy goes into one
  if (o.recursive) {
    if (!src.is_s3() && !is_dir(src.path)) {
      throw Error(ErrorKind::kNotFound, "copying " + src.str(), "no such directory");
    }
    std::string prefix = dataset::directory_prefix(from.key);
    auto objects = store::list_all(*store, prefix);
    dataset::PathSet paths;
    for (auto& obj : objects) {
      if (!o.filter.selects(std::string_view(obj.key).substr(prefix.size()))) continue;
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
    std::string key = from.key;
    if (src.is_s3() && (key.empty() || key.back() == '/')) {
      throw Error(ErrorKind::kInvalidInput, "copying " + src.str(), "this names a prefix, not an object; add --recursive");
    }
    if (!src.is_s3() && is_dir(src.path)) {
      throw Error(ErrorKind::kInvalidInput, "copying " + src.str(), "this is a directory; add --recursive");
    }
    if (!o.filter.selects(basename_of(key))) return kExitOk;
    store::ObjectInfo info = store->head(key);
    bool into_dir = dst.trailing_slash || is_dir(dst.path);
    std::string path = into_dir ? dst.path + "/" + basename_of(key) : dst.path;
    if (into_dir) root = dst.path;
    items.push_back({std::move(info), path});
  }
  for (const auto& e : refused) fmt::print(stderr, "sluice: error: {}\n", e.what());
  if (o.dryrun) {
    dry_run(o, src.is_s3() ? "download" : "copy", items, [&](const transfer::DownloadItem& i) {
      return std::pair(src.is_s3() ? shown_s3(src, i.object.key) : shown_local("/" + i.object.key), shown_local(i.path));
    });
    return refused.empty() ? kExitOk : kExitSomeFailed;
  }

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
    std::string prefix = dataset::directory_prefix(store::Address::of(src).key);
    std::string dest_prefix = dataset::directory_prefix(dst.key);
    for (auto& obj : store::list_all(local, prefix)) {
      if (!o.filter.selects(std::string_view(obj.key).substr(prefix.size()))) continue;
      items.push_back({"/" + obj.key, obj.size, dest_prefix + obj.key.substr(prefix.size())});
    }
  } else {
    struct stat st;
    if (::stat(src.path.c_str(), &st) != 0) throw errno_error(errno, "copying", src.path);
    if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::kInvalidInput, "copying " + src.str(), "this is a directory; add --recursive");
    if (!o.filter.selects(basename_of(src.path))) return kExitOk;
    std::string key = dst.key.empty() || dst.key.back() == '/' ? dst.key + basename_of(src.path) : dst.key;
    items.push_back({src.path, static_cast<uint64_t>(st.st_size), key});
  }
  if (o.dryrun) {
    return dry_run(o, "upload", items, [&](const transfer::UploadItem& i) {
      return std::pair(shown_local(i.path), shown_s3(dst, i.key));
    });
  }
  store::StoreOptions so = store_options(g, g.max_connections);
  auto store = store::open_store(store::Address::of(dst), so);
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
  if (o.source == "-" || o.destination == "-") return copy_stream(g, o);
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
