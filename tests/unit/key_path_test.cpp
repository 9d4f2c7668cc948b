// Object key -> relative path: every rule of dataset/key_path.hpp, PathSet collisions, and a
// property test that no accepted key can escape the destination.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dataset/key_path.hpp"

namespace sluice::dataset {
namespace {

using namespace std::string_literals;

// The Error thrown for key under prefix; fails the test when nothing (or something else) is thrown.
Error refusal(std::string_view key, std::string_view prefix = "") {
  try {
    auto p = relative_path_for_key(key, prefix);
    ADD_FAILURE() << "key '" << key << "' was accepted as " << (p ? "'" + *p + "'" : "nullopt");
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "key '" << key << "' threw a non-Error: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

void expect_refused(std::string_view key, std::string_view prefix = "", std::string_view cause_part = "") {
  SCOPED_TRACE("key '" + std::string(key) + "' prefix '" + std::string(prefix) + "'");
  Error e = refusal(key, prefix);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
  if (!cause_part.empty()) {
    EXPECT_NE(std::string(e.what()).find(cause_part), std::string::npos) << e.what();
  }
}

std::optional<std::string> path(std::string_view key, std::string_view prefix = "") {
  return relative_path_for_key(key, prefix);
}

// ---- plain keys -----------------------------------------------------------------------------

TEST(KeyPath, PlainKeysMapUnchanged) {
  EXPECT_EQ(path("a"), "a");
  EXPECT_EQ(path("a/b/c.txt"), "a/b/c.txt");
  EXPECT_EQ(path("data/train/part-00000.parquet", "data/"), "train/part-00000.parquet");
  EXPECT_EQ(path("data/x", "data/"), "x");
  EXPECT_EQ(path("datax", "data"), "x");  // the prefix is a byte prefix, not a directory
}

TEST(KeyPath, UnusualButSafeCharactersKept) {
  for (std::string key : {"hello world.txt"s, "a+b"s, "100%"s, "%2e%2e"s, "%2F"s, "caf\xC3\xA9/\xE6\x97\xA5.txt"s,
                          "\xF0\x9F\x98\x80"s, "a b/c d"s, "tab\there"s, "new\nline"s, "back\\slash"s,
                          "..."s, "..a"s, "a.."s, ".hidden"s, "a/.hidden/..b"s, "~"s, "-rf"s, "*?[]"s, "a:b"s}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(path(key), key);
    EXPECT_EQ(path("p/" + key, "p/"), key);
  }
}

// ---- dot segments ---------------------------------------------------------------------------

TEST(KeyPath, DotDotRefused) {
  expect_refused("..", "", "'..'");
  expect_refused("../x", "", "'..'");
  expect_refused("a/../b", "", "'..'");
  expect_refused("a/..", "", "'..'");
  expect_refused("a/b/../../..", "", "'..'");
  expect_refused("data/../../etc/passwd", "data/", "'..'");
  expect_refused("p/..", "p/");
}

TEST(KeyPath, DotRefused) {
  expect_refused(".", "", "'.'");
  expect_refused("./a", "", "'.'");
  expect_refused("a/./b", "", "'.'");
  expect_refused("a/.", "", "'.'");
  expect_refused("p/.", "p/");
}

// ---- empty segments ---------------------------------------------------------------------------

TEST(KeyPath, LeadingSlashRefused) {
  expect_refused("/etc/passwd", "", "absolute");
  expect_refused("/a");
  expect_refused("p//a", "p/", "absolute");  // the relative part starts with '/'
}

TEST(KeyPath, EmptySegmentRefused) {
  expect_refused("a//b", "", "empty path segment");
  expect_refused("a///b");
  expect_refused("a/b//c");
}

// ---- NUL ------------------------------------------------------------------------------------

TEST(KeyPath, NulRefusedAndShownEscaped) {
  std::string key = "a\0b"s;
  Error e = refusal(key);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  std::string what = e.what();
  EXPECT_NE(what.find("NUL"), std::string::npos) << what;
  EXPECT_NE(what.find("a\\0b"), std::string::npos) << what;    // shown escaped
  EXPECT_EQ(what.find('\0'), std::string::npos) << "the raw NUL leaks into the message";
  expect_refused("\0"s);
  expect_refused("dir/\0"s, "dir/");
  expect_refused("a/b\0/"s);    // also in a directory marker
  expect_refused("p\0/x"s, "p\0/"s);  // and in the prefix part of the key
}

// ---- lengths --------------------------------------------------------------------------------

TEST(KeyPath, SegmentOf255BytesAllowed256Refused) {
  std::string s255(255, 'x'), s256(256, 'x');
  EXPECT_EQ(path(s255), s255);
  EXPECT_EQ(path("d/" + s255 + "/f"), "d/" + s255 + "/f");
  expect_refused(s256, "", "255");
  expect_refused("d/" + s256 + "/f", "", "255");
  expect_refused("d/" + s256);
  // Bytes, not characters: 128 two-byte characters are 256 bytes.
  std::string e128;
  for (int i = 0; i < 128; ++i) e128 += "\xC3\xA9";
  expect_refused(e128);
  // The prefix is not part of the segment.
  EXPECT_EQ(path("p/" + s255, "p/"), s255);
}

// A relative path of exactly n bytes made of 255-byte segments plus a shorter last one.
std::string path_of_length(size_t n) {
  std::string out;
  while (out.size() < n) {
    if (!out.empty()) out += '/';
    size_t take = std::min<size_t>(200, n - out.size());
    if (take == 0) {  // ended right after a '/': lengthen the previous segment instead
      out.pop_back();
      out += 'y';
      break;
    }
    out += std::string(take, 'z');
  }
  return out;
}

TEST(KeyPath, Path4095Allowed4096Refused) {
  std::string p4095 = path_of_length(4095), p4096 = path_of_length(4096);
  ASSERT_EQ(p4095.size(), 4095u);
  ASSERT_EQ(p4096.size(), 4096u);
  ASSERT_NE(p4095.back(), '/');
  ASSERT_NE(p4096.back(), '/');
  EXPECT_EQ(path(p4095), p4095);
  expect_refused(p4096, "", "4095");
  // Only the part under the prefix counts.
  EXPECT_EQ(path("prefix/" + p4095, "prefix/"), p4095);
  expect_refused("prefix/" + p4096, "prefix/");
}

TEST(KeyPath, LongKeyMessageIsTruncated) {
  std::string key = path_of_length(5000);
  Error e = refusal(key);
  std::string what = e.what();
  EXPECT_LT(what.size(), 1000u) << "the whole 5000-byte key is in the message";
  EXPECT_NE(what.find("..."), std::string::npos);
  EXPECT_NE(what.find(key.substr(0, 100)), std::string::npos);
}

// ---- directory markers ----------------------------------------------------------------------

TEST(KeyPath, DirectoryMarkersMapToNothing) {
  EXPECT_EQ(path("x/"), std::nullopt);
  EXPECT_EQ(path("a/b/c/"), std::nullopt);
  EXPECT_EQ(path("data/sub/", "data/"), std::nullopt);
  EXPECT_EQ(path("data/", "data/"), std::nullopt);  // the prefix object itself
  EXPECT_EQ(path("data", "data"), std::nullopt);
  EXPECT_EQ(path("", ""), std::nullopt);
}

TEST(KeyPath, UnsafeDirectoryMarkersStillRefused) {
  expect_refused("../", "", "'..'");
  expect_refused("a/../", "", "'..'");
  expect_refused("./");
  expect_refused(".././");
  expect_refused("..//");
  expect_refused(std::string(256, 'm') + "/");
  expect_refused("p/../", "p/");
}

// ---- prefix -----------------------------------------------------------------------------------

TEST(KeyPath, KeyNotUnderPrefixRefused) {
  expect_refused("other/x", "data/", "prefix");
  expect_refused("dat", "data");
  expect_refused("x", "data/");
  Error e = refusal("other/x", "data/");
  EXPECT_NE(std::string(e.what()).find("data/"), std::string::npos) << e.what();
}

TEST(KeyPath, ErrorNamesTheKey) {
  for (std::string key : {"a/../b"s, "/abs"s, "a//b"s, "./x"s, std::string(300, 'q')}) {
    Error e = refusal(key);
    EXPECT_NE(std::string(e.what()).find("'" + key), std::string::npos) << e.what();
    EXPECT_NE(e.message().find(key.substr(0, 50)), std::string::npos) << e.message();
  }
}

// ---- directory_prefix ---------------------------------------------------------------------------

TEST(DirectoryPrefix, AddsOneTrailingSlash) {
  EXPECT_EQ(directory_prefix(""), "");
  EXPECT_EQ(directory_prefix("data"), "data/");
  EXPECT_EQ(directory_prefix("data/"), "data/");
  EXPECT_EQ(directory_prefix("a/b"), "a/b/");
}

// ---- property: no accepted key escapes ---------------------------------------------------------

TEST(KeyPath, RandomKeysNeverEscapeTheDestination) {
  const std::string alphabet = "/.a\0"s;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> len_dist(0, 12), pick(0, alphabet.size() - 1);
  const std::filesystem::path dest("/dest");
  int accepted = 0, markers = 0, refused = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string key;
    size_t len = len_dist(rng);
    for (size_t j = 0; j < len; ++j) key += alphabet[pick(rng)];
    std::optional<std::string> rel;
    try {
      rel = relative_path_for_key(key, "");
    } catch (const Error& e) {
      ++refused;
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
      continue;
    }
    if (!rel) {
      ++markers;
      EXPECT_TRUE(key.empty() || key.back() == '/') << "nullopt for a non-marker key";
      continue;
    }
    ++accepted;
    SCOPED_TRACE("key '" + key + "' -> '" + *rel + "'");
    ASSERT_FALSE(rel->empty());
    EXPECT_EQ(rel->find('\0'), std::string::npos);
    EXPECT_EQ(*rel, key);
    // Every segment is a real name.
    size_t start = 0;
    for (;;) {
      size_t end = rel->find('/', start);
      std::string seg = rel->substr(start, end == std::string::npos ? std::string::npos : end - start);
      EXPECT_FALSE(seg.empty());
      EXPECT_NE(seg, ".");
      EXPECT_NE(seg, "..");
      if (end == std::string::npos) break;
      start = end + 1;
    }
    std::string joined = (dest / *rel).lexically_normal().string();
    EXPECT_TRUE(joined.starts_with("/dest/")) << joined;
    EXPECT_EQ(joined, "/dest/" + *rel) << "the path changes under normalisation";
  }
  // The alphabet makes all three outcomes common; a generator bug would show here.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(markers, 20);
  EXPECT_GT(refused, 1000);
}

// ---- PathSet ------------------------------------------------------------------------------------

Error conflict(PathSet& set, const std::string& path, std::string_view key) {
  try {
    set.add(path, key);
    ADD_FAILURE() << "'" << path << "' was added without a conflict";
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

void expect_conflict(PathSet& set, const std::string& path, const std::string& key, const std::string& other) {
  SCOPED_TRACE("adding '" + path + "'");
  Error e = conflict(set, path, key);
  EXPECT_EQ(e.kind(), ErrorKind::kConflict) << e.what();
  std::string what = e.what();
  EXPECT_NE(what.find("'" + key + "'"), std::string::npos) << what;
  EXPECT_NE(what.find("'" + other + "'"), std::string::npos) << what;
}

TEST(PathSet, FileThenDirectoryConflicts) {
  PathSet s;
  s.add("a", "k/a");
  expect_conflict(s, "a/b", "k/a/b", "k/a");
}

TEST(PathSet, DirectoryThenFileConflicts) {
  PathSet s;
  s.add("a/b", "k/a/b");
  expect_conflict(s, "a", "k/a", "k/a/b");
}

TEST(PathSet, SamePathTwiceConflicts) {
  PathSet s;
  s.add("a/b", "first");
  expect_conflict(s, "a/b", "second", "first");
}

TEST(PathSet, DeepConflictsBothOrders) {
  {
    PathSet s;
    s.add("a/b/c", "K1");
    expect_conflict(s, "a/b", "K2", "K1");
    expect_conflict(s, "a", "K3", "K1");
  }
  {
    PathSet s;
    s.add("a/b", "K1");
    expect_conflict(s, "a/b/c", "K2", "K1");
    expect_conflict(s, "a/b/c/d/e", "K3", "K1");
  }
  {
    PathSet s;
    s.add("a", "K1");
    expect_conflict(s, "a/b/c/d", "K2", "K1");
  }
}

TEST(PathSet, SiblingsAndSharedDirectoriesAreFine) {
  PathSet s;
  EXPECT_NO_THROW(s.add("a/b", "1"));
  EXPECT_NO_THROW(s.add("a/c", "2"));
  EXPECT_NO_THROW(s.add("a/d/e", "3"));
  EXPECT_NO_THROW(s.add("a/d/f", "4"));
  EXPECT_NO_THROW(s.add("ab", "5"));    // "ab" is not under "a"
  EXPECT_NO_THROW(s.add("a-b/c", "6"));
  EXPECT_NO_THROW(s.add("b", "7"));
  EXPECT_NO_THROW(s.add("a.b", "8"));
  expect_conflict(s, "a/d", "9", "3");  // ...but a file where a directory already is still conflicts
}

TEST(PathSet, ManyPathsNoFalseConflicts) {
  PathSet s;
  for (int i = 0; i < 200; ++i) {
    for (int j = 0; j < 5; ++j) {
      std::string p = "d" + std::to_string(i % 17) + "/s" + std::to_string(i) + "/f" + std::to_string(j);
      ASSERT_NO_THROW(s.add(p, "key/" + p)) << p;
    }
  }
}

}  // namespace
}  // namespace sluice::dataset
