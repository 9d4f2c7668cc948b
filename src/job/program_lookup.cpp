#include "job/program_lookup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace sluice::job {

std::vector<std::string> list_entries(std::string_view list) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = std::min(list.find(':', start), list.size());
    entries.emplace_back(list.substr(start, end - start));
    start = end + 1;
  }
  return entries;
}

std::optional<std::string> find_in(std::string_view path_list, const std::string& name) {
  for (const std::string& dir : list_entries(path_list)) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace sluice::job
