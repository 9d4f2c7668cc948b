#include "job/outputs.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "dataset/key_path.hpp"
#include "formats/tar_writer.hpp"
#include "store/file_store.hpp"
#include "transfer/upload.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

std::string join_uri(std::string base, const std::string& tail) {
  if (!base.empty() && base.back() != '/') base += '/';
  return base + tail;
}

void upload_or_throw(store::ObjectStore& store, const std::vector<transfer::UploadItem>& items, const std::string& what) {
  auto result = transfer::upload(store, items, {});
  if (!result.failures.empty()) throw result.failures.front().with_context("uploading " + what);
}

// Every host's `sub` tree (a handle on each, empty where missing) and its regular files, later
// hosts winning: relative path -> host. A symbolic link is left out with a warning.
struct Tree {
  std::vector<UniqueFd> hosts;
  std::map<std::string, size_t> files;
};

Tree walk_trees(const std::vector<fs::path>& roots, const std::string& sub) {
  Tree tree;
  for (size_t i = 0; i < roots.size(); ++i) {
    const formats::TarSource source{roots[i], sub};
    tree.hosts.push_back(formats::open_tree(source));
    if (!tree.hosts.back()) continue;
    const std::string shown = formats::tree_path(source);
    beneath::walk(tree.hosts.back().get(), shown, [&](const beneath::Entry& e) {
      if (S_ISLNK(e.st.st_mode)) {
        log::warn("{}: {} is a symbolic link, not followed; not uploaded", shown, e.rel);
      } else if (S_ISREG(e.st.st_mode)) {
        tree.files[e.rel] = i;
      }
      return true;
    });
  }
  return tree;
}

// Uploads the tree's files under key_prefix. Each file is opened below its host's handle without
// following a link and uploaded from that open file (fd_path), a batch of files at a time so
// that a tree of many files stays within the open-file limit.
void upload_tree(store::ObjectStore& store, const Tree& tree, const std::vector<fs::path>& roots,
                 const std::string& sub, const std::string& key_prefix, const std::string& what,
                 OutputResult& result) {
  constexpr size_t kOpenAtOnce = 256;
  auto it = tree.files.begin();
  while (it != tree.files.end()) {
    std::vector<UniqueFd> open;
    std::vector<transfer::UploadItem> items;
    for (; it != tree.files.end() && items.size() < kOpenAtOnce; ++it) {
      const auto& [rel, host] = *it;
      const std::string path = (roots[host] / sub / rel).string();
      UniqueFd fd(beneath::open_at(tree.hosts[host].get(), rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
      if (!fd) {
        if (errno != ELOOP) throw errno_error(errno, "opening", path).with_context("uploading " + what);
        log::warn("{}: {} became a symbolic link, not followed; not uploaded", (roots[host] / sub).string(), rel);
        continue;
      }
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) throw errno_error(errno, "reading", path).with_context("uploading " + what);
      if (!S_ISREG(st.st_mode)) continue;  // replaced by a FIFO or device since the walk
      if (beneath::too_sparse(st)) {
        throw Error(ErrorKind::kInvalidInput,
                    path + " is a sparse file of " + std::to_string(st.st_size) + " bytes with only " +
                        std::to_string(static_cast<uint64_t>(st.st_blocks) * 512) + " bytes stored",
                    "files larger than 64 times their stored size (plus 1 MiB) are not uploaded")
            .with_context("uploading " + what);
      }
      items.push_back({beneath::fd_path(fd.get()), static_cast<uint64_t>(st.st_size), key_prefix + rel});
      open.push_back(std::move(fd));
      result.files++;
      result.bytes += static_cast<uint64_t>(st.st_size);
    }
    upload_or_throw(store, items, what);
  }
}

}  // namespace

std::string output_prefix_uri(const JobSpec& spec) {
  return join_uri(spec.output.s3_output_path, spec.training_job_name + "/output/");
}

OutputResult upload_outputs(const JobSpec& spec, const std::vector<fs::path>& host_opt_ml, const fs::path& staging,
                            const store::StoreFor& store_for) {
  const std::string base = output_prefix_uri(spec);
  const store::Address where = store::parse_address(base);
  store::ObjectStore& store = store_for(where);
  const std::string prefix = dataset::directory_prefix(where.key);
  OutputResult result;

  if (spec.output.compression == OutputCompression::kNone) {
    Tree model = walk_trees(host_opt_ml, "model");
    Tree data = walk_trees(host_opt_ml, "output/data");
    upload_tree(store, model, host_opt_ml, "model", prefix + "model/", "the model to " + base + "model/", result);
    upload_tree(store, data, host_opt_ml, "output/data", prefix + "data/", "the output data to " + base + "data/",
                result);
    result.model_artifacts = base + "model/";
    return result;
  }

  fs::create_directories(staging);
  struct Archive {
    const char* sub;
    const char* name;
  };
  for (const Archive& a : {Archive{"model", "model.tar.gz"}, Archive{"output/data", "output.tar.gz"}}) {
    std::vector<formats::TarSource> sources;
    for (const auto& root : host_opt_ml) sources.push_back({root, a.sub});
    fs::path archive = staging / a.name;
    auto stats = formats::write_tar(sources, archive, true);
    result.files += stats.files;
    result.bytes += stats.bytes;
    upload_or_throw(store, {{archive.string(), static_cast<uint64_t>(fs::file_size(archive)), prefix + a.name}},
                    std::string(a.name) + " to " + base);
  }
  result.model_artifacts = base + "model.tar.gz";
  return result;
}

}  // namespace sluice::job
