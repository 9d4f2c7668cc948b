#include "dataset/key_path.hpp"

#include "core/error.hpp"

namespace sluice::dataset {
namespace {

constexpr size_t kNameMax = 255;
constexpr size_t kPathMax = 4095;

Error unsafe(std::string_view key, const std::string& why) {
  std::string shown;
  for (char c : key.substr(0, 300)) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
  if (key.size() > 300) shown += "...";
  return Error(ErrorKind::kInvalidInput, "object key '" + shown + "' cannot be written to disk", why);
}

}  // namespace

std::optional<std::string> relative_path_for_key(std::string_view key, std::string_view prefix) {
  if (!key.starts_with(prefix)) throw unsafe(key, "it is not under the prefix '" + std::string(prefix) + "'");
  std::string_view rel = key.substr(prefix.size());
  if (key.find('\0') != std::string_view::npos) throw unsafe(key, "it contains a NUL byte");
  if (rel.empty() || rel.back() == '/') {
    // A directory marker (or the prefix object itself): nothing to write, unless it hides an
    // unsafe path, which is still worth refusing loudly.
    if (rel.empty()) return std::nullopt;
    rel.remove_suffix(1);
    if (rel.empty()) return std::nullopt;
    (void)relative_path_for_key(std::string(prefix) + std::string(rel), prefix);
    return std::nullopt;
  }
  if (rel.size() > kPathMax) throw unsafe(key, "the path would be longer than 4095 bytes");
  size_t start = 0;
  for (;;) {
    size_t end = rel.find('/', start);
    std::string_view seg = rel.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg.empty()) {
      throw unsafe(key, start == 0 ? "it is an absolute path (starts with '/')" : "it has an empty path segment ('//')");
    }
    if (seg == "..") throw unsafe(key, "it has a '..' segment, which would escape the destination");
    if (seg == ".") throw unsafe(key, "it has a '.' segment");
    if (seg.size() > kNameMax) throw unsafe(key, "a path segment is longer than 255 bytes");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return std::string(rel);
}

std::string directory_prefix(std::string_view key) {
  if (key.empty() || key.back() == '/') return std::string(key);
  return std::string(key) + "/";
}

void PathSet::add(const std::string& path, std::string_view key) {
  auto conflict = [&](const std::string& other, const std::string& why) {
    return Error(ErrorKind::kConflict, "object keys '" + other + "' and '" + std::string(key) + "' collide", why);
  };
  if (auto it = files_.find(path); it != files_.end()) throw conflict(it->second, "both map to the file '" + path + "'");
  if (auto it = dirs_.find(path); it != dirs_.end()) {
    throw conflict(it->second, "'" + path + "' would have to be a directory and a file");
  }
  for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    std::string dir = path.substr(0, pos);
    if (auto it = files_.find(dir); it != files_.end()) {
      throw conflict(it->second, "'" + dir + "' would have to be a file and a directory");
    }
  }
  // No conflict: record the path and its parents (after the checks, so a refused key leaves no trace).
  for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    dirs_.emplace(path.substr(0, pos), std::string(key));
  }
  files_.emplace(path, std::string(key));
}

}  // namespace sluice::dataset
