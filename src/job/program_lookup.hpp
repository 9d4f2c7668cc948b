// Looking up a program in a colon-separated directory list, as execvp does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::job {

// The entries of a colon-separated list (PATH, PYTHONPATH), empty ones included.
std::vector<std::string> list_entries(std::string_view list);

// The first executable regular file `name` in the directories of `path_list` (an empty entry is
// the current directory); nullopt when none is.
std::optional<std::string> find_in(std::string_view path_list, const std::string& name);

}  // namespace sluice::job
