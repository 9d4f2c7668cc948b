#include "dataset/source.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/error.hpp"
#include "dataset/key_path.hpp"

namespace sluice::dataset {
namespace {

constexpr size_t kMissingShown = 20;

std::string read_object(store::ObjectStore& store, const store::Address& where) {
  store::GetRequest req;
  req.key = where.key;
  return store::get_string(store, req);
}

// The SDK local-mode path of `key` listed under `prefix` (docs/manifests.md). nullopt: a
// directory marker. Throws (naming the key) when the path is unsafe.
std::optional<std::string> prefix_relative_path(std::string_view key, std::string_view prefix) {
  if (key.size() == prefix.size() && !prefix.empty() && prefix.back() != '/') {
    // The prefix names this very object: it is saved under its base name.
    size_t slash = key.rfind('/');
    return relative_path_for_key(key, key.substr(0, slash == std::string_view::npos ? 0 : slash + 1));
  }
  size_t strip = prefix.size();
  while (strip < key.size() && key[strip] == '/') ++strip;  // .lstrip("/")
  return relative_path_for_key(key, key.substr(0, strip));
}

// HEADs keys[i] for every i in `which`, `parallelism` at a time. infos[i] is set for keys that
// exist; a kNotFound leaves it empty; any other error is rethrown after all workers stop.
void head_all(store::ObjectStore& store, const std::vector<std::string>& keys, const std::vector<size_t>& which,
              std::vector<std::optional<store::ObjectInfo>>& infos, size_t parallelism) {
  if (which.empty()) return;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mu;
  auto work = [&] {
    for (;;) {
      if (failed.load()) return;
      size_t n = next.fetch_add(1);
      if (n >= which.size()) return;
      size_t i = which[n];
      try {
        infos[i] = store.head(keys[i]);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::kNotFound) continue;
        std::lock_guard lock(error_mu);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  size_t threads = std::clamp<size_t>(parallelism, 1, which.size());
  if (threads == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace

std::vector<SourceObject> resolve_s3_prefix(const store::StoreFor& store_for, std::string_view uri,
                                            const ResolveOptions& options) {
  std::string context = "S3Prefix " + std::string(uri);
  try {
    store::Address prefix = store::parse_address(uri);
    store::ObjectStore& store = store_for(prefix);
    std::vector<store::ObjectInfo> listed = store::list_all(store, prefix.key);
    std::vector<SourceObject> objects;
    objects.reserve(listed.size());
    PathSet paths;
    for (auto& info : listed) {
      if (!info.key.empty() && info.key.back() == '/') continue;  // directory marker
      if (!info.key.starts_with(prefix.key)) continue;             // never, with a conforming store
      SourceObject o{store::Address{prefix.scheme, prefix.bucket, std::move(info.key)}, info.size,
                     std::move(info.etag), {}, info.mtime_epoch_ns};
      if (options.file_paths) {
        try {
          auto rel = prefix_relative_path(o.address.key, prefix.key);
          if (!rel) continue;  // only slashes after the prefix: a marker too
          paths.add(*rel, o.address.key);
          o.relative_path = std::move(*rel);
        } catch (const Error& e) {
          if (!options.skipped || (e.kind() != ErrorKind::kInvalidInput && e.kind() != ErrorKind::kConflict)) throw;
          options.skipped->push_back(e);
          continue;
        }
      }
      objects.push_back(std::move(o));
    }
    if (objects.empty()) {
      throw Error(ErrorKind::kNotFound, "no objects found",
                  "nothing in " + store.describe() + " has a key starting with '" + prefix.key +
                      "' (directory markers do not count)");
    }
    return objects;
  } catch (const Error& e) {
    throw e.with_context(context);
  }
}

std::vector<SourceObject> resolve_manifest_file(const store::StoreFor& store_for, std::string_view uri,
                                                const ResolveOptions& options) {
  std::string context = "ManifestFile " + std::string(uri);
  try {
    store::Address where = store::parse_address(uri);
    if (where.key.empty() || where.key.back() == '/') {
      throw Error(ErrorKind::kInvalidInput, "the S3Uri of a ManifestFile must name the manifest object, not a prefix");
    }
    Manifest manifest = parse_manifest(read_object(store_for(where), where));
    const size_t n = manifest.size();
    std::vector<std::string> keys(n);
    for (size_t i = 0; i < n; ++i) keys[i] = manifest.key(i);

    // File mode paths first: a manifest that cannot be written fails before any request.
    std::vector<std::string> rel(n);
    if (options.file_paths) {
      std::unordered_map<std::string_view, size_t> first;
      PathSet paths;
      for (size_t i = 0; i < n; ++i) {
        auto [it, fresh] = first.emplace(keys[i], i);
        if (!fresh) {
          throw Error(ErrorKind::kConflict, "entry '" + manifest.entries[i] + "' is listed twice",
                      "elements " + std::to_string(it->second + 1) + " and " + std::to_string(i + 1) +
                          "; in File mode each object becomes one file");
        }
        auto p = relative_path_for_key(keys[i], manifest.prefix.key);
        if (!p) {
          throw Error(ErrorKind::kInvalidInput, "entry '" + manifest.entries[i] + "' (element " + std::to_string(i + 1) + ")",
                      "it ends in '/', a directory marker, which cannot be a file in File mode");
        }
        paths.add(*p, keys[i]);
        rel[i] = std::move(*p);
      }
    }

    // Distinct keys in byte order, each with the entries that name it.
    std::vector<size_t> by_key(n);
    for (size_t i = 0; i < n; ++i) by_key[i] = i;
    std::stable_sort(by_key.begin(), by_key.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    std::vector<size_t> distinct;  // one entry index per distinct key, sorted by key
    for (size_t i : by_key) {
      if (distinct.empty() || keys[distinct.back()] != keys[i]) distinct.push_back(i);
    }

    store::ObjectStore& store = store_for(manifest.prefix);
    std::vector<std::optional<store::ObjectInfo>> infos(n);  // indexed by entry; set on the distinct ones
    if (distinct.size() > options.head_threshold) {
      // The longest common prefix of all keys (sorted: of the first and the last).
      const std::string& lo = keys[distinct.front()];
      const std::string& hi = keys[distinct.back()];
      size_t common = 0;
      while (common < lo.size() && common < hi.size() && lo[common] == hi[common]) ++common;
      store::ListRequest req;
      req.prefix = lo.substr(0, common);
      size_t cursor = 0, unmatched = distinct.size(), pages = 0;
      try {
        store::Pager pager(store, std::move(req));
        while (auto page = pager.next()) {
          ++pages;
          for (auto& o : page->objects) {
            while (cursor < distinct.size() && keys[distinct[cursor]] < o.key) ++cursor;
            if (cursor < distinct.size() && keys[distinct[cursor]] == o.key) {
              infos[distinct[cursor]] = std::move(o);
              --unmatched;
              ++cursor;
            }
          }
          bool past_last = cursor >= distinct.size() ||
                           (!page->objects.empty() && page->objects.back().key >= hi);
          if (past_last || pages >= unmatched) break;
        }
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kAccessDenied) throw;  // not allowed to list: HEAD everything
      }
    }
    std::vector<size_t> to_head;
    for (size_t i : distinct) {
      if (!infos[i]) to_head.push_back(i);
    }
    head_all(store, keys, to_head, infos, options.head_parallelism);

    // Entries that share a key share its info; collect what is missing, in manifest order.
    std::vector<size_t> owner(n);
    for (size_t k = 0, d = 0; k < n; ++k) {
      size_t i = by_key[k];
      while (keys[distinct[d]] != keys[i]) ++d;
      owner[i] = distinct[d];
    }
    std::vector<size_t> missing;
    for (size_t i = 0; i < n; ++i) {
      if (!infos[owner[i]]) missing.push_back(i);
    }
    if (!missing.empty()) {
      std::string list;
      for (size_t m = 0; m < missing.size() && m < kMissingShown; ++m) {
        list += (m ? ", " : "") + manifest.address(missing[m]).uri() + " (element " + std::to_string(missing[m] + 1) + ")";
      }
      if (missing.size() > kMissingShown) list += " and " + std::to_string(missing.size() - kMissingShown) + " more";
      throw Error(ErrorKind::kNotFound,
                  std::to_string(missing.size()) + " of " + std::to_string(n) +
                      (missing.size() == 1 ? " listed object does not exist" : " listed objects do not exist"),
                  list);
    }
    std::vector<SourceObject> objects;
    objects.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const store::ObjectInfo& info = *infos[owner[i]];
      objects.push_back(SourceObject{manifest.address(i), info.size, info.etag, std::move(rel[i]), info.mtime_epoch_ns});
    }
    return objects;
  } catch (const Error& e) {
    throw e.with_context(context);
  }
}

std::vector<AugmentedLine> resolve_augmented_manifest(const store::StoreFor& store_for, std::string_view uri,
                                                      const std::vector<std::string>& attribute_names) {
  std::string context = "AugmentedManifestFile " + std::string(uri);
  try {
    store::Address where = store::parse_address(uri);
    if (where.key.empty() || where.key.back() == '/') {
      throw Error(ErrorKind::kInvalidInput,
                  "the S3Uri of an AugmentedManifestFile must name the manifest object, not a prefix");
    }
    std::vector<AugmentedLine> lines = parse_augmented_manifest(read_object(store_for(where), where), attribute_names);
    if (lines.empty()) throw Error(ErrorKind::kInvalidInput, "invalid augmented manifest", "it has no JSON lines");
    return lines;
  } catch (const Error& e) {
    throw e.with_context(context);
  }
}

ResolvedSource resolve_source(const store::StoreFor& store_for, SourceType type, std::string_view uri,
                              const std::vector<std::string>& attribute_names, const ResolveOptions& options) {
  ResolvedSource out;
  out.type = type;
  switch (type) {
    case SourceType::kS3Prefix: out.objects = resolve_s3_prefix(store_for, uri, options); break;
    case SourceType::kManifestFile: out.objects = resolve_manifest_file(store_for, uri, options); break;
    case SourceType::kAugmentedManifestFile: out.lines = resolve_augmented_manifest(store_for, uri, attribute_names); break;
  }
  return out;
}

}  // namespace sluice::dataset
