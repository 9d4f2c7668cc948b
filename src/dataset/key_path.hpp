// Object key -> local path, the one place that decides whether a key can be written to disk.
// A key that would escape the destination or cannot be a file is refused, naming the key:
//  - an empty segment ("a//b", leading '/'),
//  - a "." or ".." segment,
//  - a NUL byte,
//  - a segment longer than 255 bytes (NAME_MAX) or a path longer than 4095 bytes (PATH_MAX).
// Keys ending in '/' (and the prefix itself) are directory markers (consoles create them): they
// map to nothing.
// Two keys collide when one is a file and a directory at once ("a" and "a/b"); PathSet finds it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::dataset {

// The relative path for `key` under a listing of `prefix` (key starts with prefix). nullopt for a
// directory marker. Throws Error(kInvalidInput) for an unsafe key.
std::optional<std::string> relative_path_for_key(std::string_view key, std::string_view prefix);

// The prefix to list for a recursive copy of `key`: "" stays "", else a trailing '/' is added,
// so s3://b/data copies data/x but not data2/y.
std::string directory_prefix(std::string_view key);

class PathSet {
 public:
  // Throws Error(kConflict) naming both keys when path is a file where another key needs a
  // directory, or the reverse, or the same path twice.
  void add(const std::string& path, std::string_view key);

 private:
  std::unordered_map<std::string, std::string> files_;  // path -> key
  std::unordered_map<std::string, std::string> dirs_;   // path -> a key below it
};

}  // namespace sluice::dataset
