// KeyFilter and glob_match: the AWS CLI's --exclude/--include semantics (later rules win) and
// Python fnmatch's patterns. The expected values of GlobMatchesAsPythonFnmatch were produced with
// Python 3's fnmatch.fnmatchcase.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "dataset/key_filter.hpp"

namespace sluice::dataset {
namespace {

TEST(GlobMatch, MatchesAsPythonFnmatch) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Case cases[] = {
      {"*.txt", "a.txt", true},         {"*.txt", "dir/a.txt", true},      {"*.txt", "a.txt.gz", false},
      {"a?c", "abc", true},             {"a?c", "a/c", true},              {"a?c", "ac", false},
      {"?", "\xC3\xA9", true},          {"??", "\xC3\xA9", false},         {"[abc]x", "bx", true},
      {"[!abc]x", "bx", false},         {"[!abc]x", "dx", true},           {"[a-c]", "b", true},
      {"[a-c]", "d", false},            {"[]]", "]", true},                {"[!]]", "]", false},
      {"[!]]", "a", true},              {"[", "[", true},                  {"a[b", "a[b", true},
      {"[a-]", "-", true},              {"[-a]", "-", true},               {"*", "", true},
      {"", "", true},                   {"", "a", false},                  {"dir/*", "dir/a/b", true},
      {"dir/*", "dir2/a", false},       {"*/*.bin", "a/b/c.bin", true},    {"*/*.bin", "c.bin", false},
      {"a*b*c", "aXbYbZc", true},       {"a*b*c", "aXbYbZ", false},        {"[\xC3\xA9]", "\xC3\xA9", true},
      {"[\xC3\xA0-\xC3\xBC]", "\xC3\xA9", true},                           {"\\*", "\\x", true},
      {"\\*", "*", false},              {"*a", "bbbbba", true},            {"**a**", "xxaxx", true},
      {"A*", "a", false},               {"[z-a]", "m", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(glob_match(c.pattern, c.text), c.match) << "pattern '" << c.pattern << "', text '" << c.text << "'";
  }
}

TEST(GlobMatch, ManyStarsDoNotTakeExponentialTime) {
  std::string text(2000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*a*a*", text));
}

TEST(KeyFilter, NoRulesSelectsEverything) {
  KeyFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.selects("anything/at/all"));
}

using A = KeyFilter::Action;

KeyFilter rules(std::initializer_list<std::pair<A, const char*>> list) {
  KeyFilter f;
  for (const auto& [action, pattern] : list) f.add(action, pattern);
  return f;
}

TEST(KeyFilter, LaterRulesWin) {
  struct Case {
    KeyFilter filter;
    std::vector<std::pair<const char*, bool>> selects;
  };
  const Case cases[] = {
      // aws s3 cp --recursive --exclude "*" --include "*.txt": only .txt files.
      {rules({{A::kExclude, "*"}, {A::kInclude, "*.txt"}}), {{"a.txt", true}, {"d/e/b.txt", true}, {"a.bin", false}}},
      // The same rules the other way round: the exclude comes last and takes everything.
      {rules({{A::kInclude, "*.txt"}, {A::kExclude, "*"}}), {{"a.txt", false}, {"a.bin", false}}},
      // Exclude a directory but keep one file in it; a pattern is matched whole (logs/* is not logs2/*).
      {rules({{A::kExclude, "logs/*"}, {A::kInclude, "logs/keep.log"}}),
       {{"data/x", true}, {"logs/a.log", false}, {"logs/keep.log", true}, {"logs2/a.log", true}}},
  };
  for (const auto& c : cases) {
    for (const auto& [path, selected] : c.selects) EXPECT_EQ(c.filter.selects(path), selected) << path;
  }
}

TEST(KeyFilter, RulesThatDoNotMatchDecideNothing) {
  KeyFilter f = rules({{A::kInclude, "*.txt"}});  // an include alone narrows nothing
  EXPECT_TRUE(f.selects("a.bin"));
  f.add(A::kExclude, "*.bin");
  EXPECT_FALSE(f.selects("a.bin"));
  EXPECT_TRUE(f.selects("a.txt"));
  EXPECT_TRUE(f.selects("a.csv"));
}

}  // namespace
}  // namespace sluice::dataset
