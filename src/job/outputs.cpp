#include "job/outputs.hpp"

#include <sys/stat.h>

#include "core/error.hpp"
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

// Files of every host's `sub` tree, later hosts winning, as upload items under key_prefix.
std::vector<transfer::UploadItem> tree_items(const std::vector<fs::path>& roots, const std::string& sub,
                                             const std::string& key_prefix) {
  std::map<std::string, transfer::UploadItem> by_rel;
  for (const auto& root : roots) {
    fs::path dir = root / sub;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = it->path().lexically_relative(dir).generic_string();
      by_rel[rel] = {it->path().string(), static_cast<uint64_t>(it->file_size()), key_prefix + rel};
    }
  }
  std::vector<transfer::UploadItem> items;
  for (auto& [_, item] : by_rel) items.push_back(std::move(item));
  return items;
}

}  // namespace

std::string output_prefix_uri(const JobSpec& spec) {
  return join_uri(spec.output.s3_output_path, spec.training_job_name + "/output/");
}

OutputResult upload_outputs(const JobSpec& spec, const std::vector<fs::path>& host_opt_ml, const fs::path& staging,
                            const dataset::StoreFor& store_for) {
  const std::string base = output_prefix_uri(spec);
  const dataset::ObjectAddress where = dataset::parse_object_address(base);
  store::ObjectStore& store = store_for(where);
  const std::string prefix = dataset::directory_prefix(where.key);
  OutputResult result;

  if (spec.output.compression == OutputCompression::kNone) {
    auto model = tree_items(host_opt_ml, "model", prefix + "model/");
    auto data = tree_items(host_opt_ml, "output/data", prefix + "data/");
    for (const auto* items : {&model, &data}) {
      for (const auto& i : *items) {
        result.files++;
        result.bytes += i.size;
      }
    }
    upload_or_throw(store, model, "the model to " + base + "model/");
    upload_or_throw(store, data, "the output data to " + base + "data/");
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
    for (const auto& root : host_opt_ml) sources.push_back({root / a.sub});
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
