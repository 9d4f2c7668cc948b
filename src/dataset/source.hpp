// A channel's S3DataSource resolved into its ordered list of objects (or augmented-manifest
// lines), before sharding and shuffling (docs/manifests.md and docs/sharding-and-shuffling.md:
// the sources and Sluice's choices).
//
//  - S3Prefix: every object whose key starts with the prefix, in UTF-8 byte order of keys (the
//    listing order). Keys ending in '/' (directory markers, "folder objects") are skipped. No
//    object at all is an error (kNotFound), as in SageMaker.
//  - ManifestFile: the manifest object is read and parsed (manifest.hpp); the objects come in
//    manifest order, duplicates kept. Sizes and ETags come from one listing of the entries'
//    common prefix, stopped early, with HEAD for the rest (see resolve_manifest_file). Entries that
//    do not exist are one error (kNotFound) naming them.
//  - AugmentedManifestFile: the manifest is read and parsed into lines; "-ref" objects are not
//    looked up here (the Pipe sink fetches them and reports a missing one).
//
// File mode paths (ResolveOptions::file_paths): relative to /opt/ml/input/data/<channel>/.
//  - S3Prefix (the SDK local-mode rule, docs/manifests.md): key minus the prefix, leading '/'
//    removed; a key equal to a prefix that does not end in '/' is saved under its base name.
//  - ManifestFile: the entry as written (key minus the manifest prefix).
// Every path passes dataset/key_path.hpp (no "..", "//", NUL, over-long names) and the paths
// of a channel must not collide (PathSet); a ManifestFile listing a key twice is refused for File
// mode (one file cannot be two objects' destination), as is an entry ending in '/'.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "dataset/manifest.hpp"
#include "store/object_store.hpp"
#include "store/registry.hpp"

namespace sluice::dataset {

// S3DataSource.S3DataType, the kinds Sluice resolves.
enum class SourceType { kS3Prefix, kManifestFile, kAugmentedManifestFile };

struct SourceObject {
  store::Address address;
  uint64_t size = 0;
  std::string etag;           // as the store reports it, without quotes
  std::string relative_path;  // File mode destination; empty when paths were not computed
  int64_t mtime_epoch_ns = 0;  // last modified, from the listing or HEAD

  bool operator==(const SourceObject&) const = default;
};

struct ResolveOptions {
  bool file_paths = true;        // compute and check File mode paths
  size_t head_parallelism = 16;  // HEAD requests in flight for manifest entries
  size_t head_threshold = 32;    // manifests with at most this many distinct keys are only HEADed
  // S3Prefix with file_paths: when set, an object whose key cannot be a path (key_path.hpp) or
  // collides with another is left out and its error appended here, instead of failing the whole
  // listing (a FastFile mount shows the rest and reports these).
  std::vector<Error>* skipped = nullptr;
};

std::vector<SourceObject> resolve_s3_prefix(const store::StoreFor& store_for, std::string_view uri,
                                            const ResolveOptions& options = {});

// Reads the manifest at `uri`, then finds every entry: with more distinct keys than
// options.head_threshold, lists the longest common prefix of the keys page by page, matching
// keys as the (byte-ordered) listing passes them, and stops once the listing is past the greatest
// key, or once it has taken as many pages as there are keys still unmatched; keys still
// unmatched (or all, if listing is refused with kAccessDenied, since a role may read objects it
// cannot list) are HEADed, options.head_parallelism at a time.
std::vector<SourceObject> resolve_manifest_file(const store::StoreFor& store_for, std::string_view uri,
                                                const ResolveOptions& options = {});

std::vector<AugmentedLine> resolve_augmented_manifest(const store::StoreFor& store_for, std::string_view uri,
                                                      const std::vector<std::string>& attribute_names);

struct ResolvedSource {
  SourceType type = SourceType::kS3Prefix;
  std::vector<SourceObject> objects;  // kS3Prefix, kManifestFile
  std::vector<AugmentedLine> lines;   // kAugmentedManifestFile
  // The number of units sharding and shuffling work on: objects, or lines.
  size_t size() const { return type == SourceType::kAugmentedManifestFile ? lines.size() : objects.size(); }
};

ResolvedSource resolve_source(const store::StoreFor& store_for, SourceType type, std::string_view uri,
                              const std::vector<std::string>& attribute_names = {},
                              const ResolveOptions& options = {});

}  // namespace sluice::dataset
