#include "job/file_systems.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/json_input.hpp"

namespace fs = std::filesystem;

namespace sluice::job {

FileSystemMap FileSystemMap::load(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw errno_error(EISDIR, "reading the file system map", file.string());
  std::ifstream in(file);
  if (!in) throw errno_error(errno, "reading the file system map", file.string());
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = parse_json_input(text.str(), "invalid file system map " + file.string() + ": ");
  if (!doc.is_object()) {
    throw Error(ErrorKind::kInvalidInput, "invalid file system map " + file.string(),
                "expected a JSON object like {\"fs-0123456789abcdef0\": \"/mnt/fsx\"}");
  }
  FileSystemMap map;
  for (const auto& [id, root] : doc.items()) {
    if (!root.is_string()) {
      throw Error(ErrorKind::kInvalidInput, "invalid file system map " + file.string(),
                  "the mount root of '" + id + "' must be a string (an absolute path), got " + std::string(root.type_name()));
    }
    if (root.get<std::string>().empty() || root.get<std::string>().front() != '/') {
      throw Error(ErrorKind::kInvalidInput, "invalid file system map " + file.string(),
                  "the mount root of '" + id + "' must be an absolute path");
    }
    map.roots_[id] = root.get<std::string>();
  }
  return map;
}

bool path_within(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d) {
    if (d->empty()) continue;  // the empty last element of a trailing '/'
    if (p == path.end() || *p != *d) return false;
    ++p;
  }
  return true;
}

fs::path FileSystemMap::resolve(const Channel& channel) const {
  const FileSystemDataSource& src = *channel.file_system;
  fs::path path;
  auto it = roots_.find(src.file_system_id);
  if (it != roots_.end()) {
    fs::path rel = fs::path(src.directory_path).relative_path();  // "/data" under the mount root
    path = (it->second / rel).lexically_normal();
    if (!path_within(path, it->second.lexically_normal())) {
      throw Error(ErrorKind::kInvalidInput, "channel '" + channel.name + "'",
                  "DirectoryPath '" + src.directory_path + "' leaves the mount root of " + src.file_system_id);
    }
  } else {
    path = fs::path(src.directory_path).lexically_normal();
  }
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    std::string how = it != roots_.end() ? " (" + src.file_system_id + " is mounted at " + it->second.string() + ")"
                                         : " (" + src.file_system_id + " is not in the file system map, so DirectoryPath is a path on this machine)";
    throw Error(ErrorKind::kNotFound, "channel '" + channel.name + "'", "no directory " + path.string() + how);
  }
  return path;
}

}  // namespace sluice::job
