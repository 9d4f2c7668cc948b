// Which files or keys a copy takes, the way the AWS CLI's --exclude and --include choose them
// (`aws s3 cp --recursive`): the rules are tried in the order given and every one whose pattern
// matches decides anew, so the last matching rule wins; a path no rule matches is included.
// Patterns are matched against the path relative to the source directory or prefix, whole, as
// Python's fnmatch does: '*' any run of characters, '/' included; '?' one character; [seq] one
// character of seq (ranges as a-z); [!seq] one character not in it; a '[' without its ']' is
// itself. Characters are UTF-8 code points; nothing else is special (no escapes, case matters).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::dataset {

class KeyFilter {
 public:
  enum class Action { kInclude, kExclude };

  void add(Action action, std::string pattern) { rules_.emplace_back(action, std::move(pattern)); }
  bool empty() const { return rules_.empty(); }
  // True when `relative` is copied.
  bool selects(std::string_view relative) const;

 private:
  std::vector<std::pair<Action, std::string>> rules_;
};

// fnmatch as described above: does `pattern` match all of `text`?
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace sluice::dataset
