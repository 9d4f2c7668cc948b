// FastFile namespace: inode numbering, walk order, lookups, directory attributes, and the paths
// and collisions build() refuses. Walk order is checked against independent references.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "modes/fastfile/namespace.hpp"

namespace sluice::modes::fastfile {
namespace {

using namespace std::string_literals;

Entry entry(std::string path, uint64_t size = 0, int64_t mtime_ns = 0) {
  Entry e;
  e.key = "prefix/" + path;
  e.path = std::move(path);
  e.size = size;
  e.etag = "etag-" + e.path;
  e.mtime_ns = mtime_ns;
  return e;
}

std::vector<Entry> entries(const std::vector<std::string>& paths) {
  std::vector<Entry> out;
  for (const auto& p : paths) out.push_back(entry(p));
  return out;
}

// The full path of a node, from its parents.
std::string path_of(const Namespace& ns, const Node& node) {
  std::string path = node.name;
  for (const Node* n = ns.find(node.parent); n != nullptr && n->ino != kRootIno; n = ns.find(n->parent)) {
    path = n->name + "/" + path;
  }
  return path;
}

// The node at `path` ("" is the root), found by lookups from the root.
const Node* at(const Namespace& ns, const std::string& path) {
  const Node* n = &ns.root();
  size_t start = 0;
  while (n != nullptr && start <= path.size() && !path.empty()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    n = ns.lookup(n->ino, std::string_view(path).substr(start, end - start));
    start = end + 1;
  }
  return n;
}

// Full paths of all nodes in inode order (root excluded), dirs with a trailing '/'.
std::vector<std::string> node_paths(const Namespace& ns) {
  std::vector<std::string> out;
  for (Ino ino = 2; ino <= ns.node_count(); ++ino) {
    const Node* n = ns.find(ino);
    out.push_back(path_of(ns, *n) + (n->is_dir ? "/" : ""));
  }
  return out;
}

std::vector<std::string> walk_paths(const Namespace& ns) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ns.file_count(); ++i) out.push_back(path_of(ns, ns.file_at(i)));
  return out;
}

// The Error build() throws; fails the test when nothing (or something else) is thrown.
Error refusal(std::vector<Entry> in) {
  try {
    Namespace ns = Namespace::build(std::move(in));
    ADD_FAILURE() << "accepted, " << ns.file_count() << " files";
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-Error: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Structural invariants every namespace holds.
void expect_consistent(const Namespace& ns) {
  ASSERT_GE(ns.node_count(), 1u);
  const Node& root = ns.root();
  EXPECT_EQ(root.ino, kRootIno);
  EXPECT_EQ(root.parent, kRootIno);
  EXPECT_TRUE(root.is_dir);
  EXPECT_EQ(root.name, "");
  uint64_t bytes = 0;
  size_t files = 0;
  for (Ino ino = 1; ino <= ns.node_count(); ++ino) {
    const Node* n = ns.find(ino);
    ASSERT_NE(n, nullptr);
    ASSERT_EQ(n->ino, ino);
    if (ino != kRootIno) {
      const Node* p = ns.find(n->parent);
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(p->is_dir);
      EXPECT_LT(n->parent, ino);  // pre-order: a parent comes first
      EXPECT_TRUE(std::count(p->children.begin(), p->children.end(), ino) == 1) << "ino " << ino;
      EXPECT_EQ(ns.lookup(n->parent, n->name), n);
      EXPECT_FALSE(n->name.empty());
      EXPECT_EQ(n->name.find('/'), std::string::npos);
    }
    if (n->is_dir) {
      EXPECT_EQ(n->size, 0u);
      uint32_t subdirs = 0;
      for (size_t i = 0; i < n->children.size(); ++i) {
        const Node* c = ns.find(n->children[i]);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->parent, ino);
        if (c->is_dir) ++subdirs;
        if (i > 0) {
          EXPECT_LT(ns.find(n->children[i - 1])->name, c->name);  // sorted, unique
        }
        EXPECT_LE(c->mtime_ns, n->mtime_ns);
      }
      EXPECT_EQ(n->subdirs, subdirs);
      if (ino != kRootIno) {
        EXPECT_FALSE(n->children.empty()) << "directory with nothing below it";
      }
    } else {
      ++files;
      EXPECT_TRUE(n->children.empty());
      ASSERT_LT(n->entry, ns.entries().size());
      const Entry& e = ns.entry(*n);
      EXPECT_EQ(e.path, path_of(ns, *n));
      EXPECT_EQ(n->size, e.size);
      EXPECT_EQ(n->mtime_ns, e.mtime_ns);
      ASSERT_LT(n->file_order, ns.file_count());
      EXPECT_EQ(&ns.file_at(n->file_order), n);
      bytes += e.size;
    }
  }
  EXPECT_EQ(files, ns.file_count());
  EXPECT_EQ(ns.file_count(), ns.entries().size());
  EXPECT_EQ(ns.total_bytes(), bytes);
  for (size_t i = 0; i < ns.file_count(); ++i) {
    EXPECT_EQ(ns.file_at(i).file_order, i);
    EXPECT_FALSE(ns.file_at(i).is_dir);
    if (i > 0) {
      EXPECT_LT(ns.file_at(i - 1).ino, ns.file_at(i).ino);
    }
  }
}

// ---- independent references -----------------------------------------------------------------

// A tree of std::map (std::string's < compares bytes unsigned), walked recursively.
struct RefNode {
  bool is_file = false;
  std::map<std::string, std::unique_ptr<RefNode>> children;
};

void ref_walk(const RefNode& dir, const std::string& prefix, std::vector<std::string>& nodes,
              std::vector<std::string>& files) {
  for (const auto& [name, child] : dir.children) {
    std::string path = prefix + name;
    if (child->is_file) {
      nodes.push_back(path);
      files.push_back(path);
    } else {
      nodes.push_back(path + "/");
      ref_walk(*child, path + "/", nodes, files);
    }
  }
}

// Nodes (dirs with a trailing '/') and files in walk order, by walking a map tree.
std::pair<std::vector<std::string>, std::vector<std::string>> reference_walk(const std::vector<Entry>& in) {
  RefNode root;
  for (const Entry& e : in) {
    RefNode* n = &root;
    size_t start = 0;
    for (size_t slash = e.path.find('/'); slash != std::string::npos; slash = e.path.find('/', start)) {
      auto& c = n->children[e.path.substr(start, slash - start)];
      if (!c) c = std::make_unique<RefNode>();
      n = c.get();
      start = slash + 1;
    }
    auto& f = n->children[e.path.substr(start)];
    f = std::make_unique<RefNode>();
    f->is_file = true;
  }
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  ref_walk(root, "", out.first, out.second);
  return out;
}

// Files in walk order by sorting full paths with '/' replaced by '\x01' (below every name byte).
std::vector<std::string> reference_sorted(const std::vector<Entry>& in) {
  std::vector<std::string> keys;
  for (const Entry& e : in) {
    std::string k = e.path;
    std::replace(k.begin(), k.end(), '/', '\x01');
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  for (auto& k : keys) std::replace(k.begin(), k.end(), '\x01', '/');
  return keys;
}

// `count` distinct, collision-free paths with names that share prefixes and straddle '/' (0x2f)
// in byte order, plus UTF-8 and high bytes.
std::vector<Entry> random_tree(size_t count, uint32_t seed) {
  static const std::vector<std::string> parts = {"a", "a", "b", "A", "-", ".", "0", "z", "~", "_", "a.txt",
                                                 "\xC3\xA9", "\xE6\x97\xA5", "\xFF", " ", "ab", ".."};
  std::mt19937 rng(seed);
  std::set<std::string> files, dirs;
  std::vector<Entry> out;
  while (out.size() < count) {
    size_t depth = 1 + rng() % 4;
    std::string path;
    bool ok = true;
    for (size_t d = 0; d < depth; ++d) {
      std::string seg;
      size_t len = 1 + rng() % 3;
      for (size_t i = 0; i < len; ++i) seg += parts[rng() % parts.size()];
      if (seg == "." || seg == "..") {
        ok = false;
        break;
      }
      if (d > 0) {
        if (files.count(path)) ok = false;
        path += "/";
      }
      path += seg;
    }
    if (!ok || files.count(path) || dirs.count(path)) continue;
    // Also refused when a parent is already a file (checked above for each prefix).
    files.insert(path);
    for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
      dirs.insert(path.substr(0, pos));
    }
    out.push_back(entry(path, rng() % 100000, static_cast<int64_t>(rng() % 1000000) - 1000));
  }
  return out;
}

// ---- shapes ---------------------------------------------------------------------------------

TEST(FastfileNamespace, EmptyIsRootOnly) {
  Namespace ns = Namespace::build({});
  EXPECT_EQ(ns.node_count(), 1u);
  EXPECT_EQ(ns.file_count(), 0u);
  EXPECT_EQ(ns.total_bytes(), 0u);
  EXPECT_TRUE(ns.entries().empty());
  const Node& root = ns.root();
  EXPECT_EQ(root.ino, kRootIno);
  EXPECT_EQ(root.parent, kRootIno);
  EXPECT_TRUE(root.is_dir);
  EXPECT_EQ(root.name, "");
  EXPECT_EQ(root.mtime_ns, 0);
  EXPECT_EQ(root.subdirs, 0u);
  EXPECT_TRUE(root.children.empty());
  EXPECT_EQ(ns.find(kRootIno), &root);
  EXPECT_EQ(ns.find(2), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, "a"), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, ""), nullptr);
  expect_consistent(ns);
}

TEST(FastfileNamespace, DefaultConstructedFindsNothing) {
  Namespace ns;
  EXPECT_EQ(ns.node_count(), 0u);
  EXPECT_EQ(ns.file_count(), 0u);
  EXPECT_EQ(ns.find(0), nullptr);
  EXPECT_EQ(ns.find(kRootIno), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, "a"), nullptr);
}

TEST(FastfileNamespace, SingleFile) {
  Entry e = entry("a.txt", 1234, 5'000'000'000);
  Namespace ns = Namespace::build({e});
  ASSERT_EQ(ns.node_count(), 2u);
  ASSERT_EQ(ns.file_count(), 1u);
  const Node* f = ns.find(2);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->ino, 2u);
  EXPECT_EQ(f->parent, kRootIno);
  EXPECT_EQ(f->name, "a.txt");
  EXPECT_FALSE(f->is_dir);
  EXPECT_EQ(f->size, 1234u);
  EXPECT_EQ(f->mtime_ns, 5'000'000'000);
  EXPECT_EQ(f->entry, 0u);
  EXPECT_EQ(f->file_order, 0u);
  EXPECT_TRUE(f->children.empty());
  EXPECT_EQ(f->subdirs, 0u);
  EXPECT_EQ(&ns.file_at(0), f);
  EXPECT_EQ(ns.entry(*f).key, "prefix/a.txt");
  EXPECT_EQ(ns.entry(*f).etag, "etag-a.txt");
  EXPECT_EQ(ns.lookup(kRootIno, "a.txt"), f);
  EXPECT_EQ(ns.root().children, std::vector<Ino>{2});
  EXPECT_EQ(ns.root().subdirs, 0u);
  EXPECT_EQ(ns.root().mtime_ns, 5'000'000'000);
  EXPECT_EQ(ns.total_bytes(), 1234u);
  expect_consistent(ns);
}

TEST(FastfileNamespace, NestedDirectoriesNumberedInPreOrder) {
  Namespace ns = Namespace::build(entries({"e", "a/d.txt", "a/b/c.txt"}));
  // root 1, a 2, a/b 3, a/b/c.txt 4, a/d.txt 5, e 6
  ASSERT_EQ(ns.node_count(), 6u);
  EXPECT_EQ(node_paths(ns), (std::vector<std::string>{"a/", "a/b/", "a/b/c.txt", "a/d.txt", "e"}));
  EXPECT_EQ(walk_paths(ns), (std::vector<std::string>{"a/b/c.txt", "a/d.txt", "e"}));
  const Node* a = ns.lookup(kRootIno, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ino, 2u);
  EXPECT_TRUE(a->is_dir);
  EXPECT_EQ(a->parent, kRootIno);
  EXPECT_EQ(a->children, (std::vector<Ino>{3, 5}));
  EXPECT_EQ(a->subdirs, 1u);
  const Node* b = ns.lookup(2, "b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->ino, 3u);
  EXPECT_EQ(b->parent, 2u);
  EXPECT_EQ(b->children, std::vector<Ino>{4});
  EXPECT_EQ(b->subdirs, 0u);
  const Node* c = ns.lookup(3, "c.txt");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->ino, 4u);
  EXPECT_EQ(c->file_order, 0u);
  EXPECT_EQ(ns.entry(*c).path, "a/b/c.txt");
  EXPECT_EQ(c->entry, 2u);  // index in the input, not in walk order
  EXPECT_EQ(ns.lookup(2, "d.txt")->file_order, 1u);
  EXPECT_EQ(ns.lookup(2, "d.txt")->entry, 1u);
  EXPECT_EQ(ns.lookup(kRootIno, "e")->ino, 6u);
  EXPECT_EQ(ns.lookup(kRootIno, "e")->file_order, 2u);
  EXPECT_EQ(ns.lookup(kRootIno, "e")->entry, 0u);
  EXPECT_EQ(ns.root().children, (std::vector<Ino>{2, 6}));
  EXPECT_EQ(ns.root().subdirs, 1u);
  EXPECT_EQ(at(ns, "a/b/c.txt"), c);
  expect_consistent(ns);
}

TEST(FastfileNamespace, DeepChainMakesEveryPrefixADirectory) {
  std::string path;
  for (int i = 0; i < 100; ++i) path += "d" + std::to_string(i) + "/";
  path += "f";
  Namespace ns = Namespace::build({entry(path, 7, 42)});
  EXPECT_EQ(ns.node_count(), 102u);
  EXPECT_EQ(ns.file_count(), 1u);
  EXPECT_EQ(ns.file_at(0).ino, 102u);
  const Node* n = at(ns, path);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->size, 7u);
  for (Ino ino = 1; ino <= 101; ++ino) {
    EXPECT_TRUE(ns.find(ino)->is_dir);
    EXPECT_EQ(ns.find(ino)->mtime_ns, 42);
    EXPECT_EQ(ns.find(ino)->children, std::vector<Ino>{ino + 1});
  }
  expect_consistent(ns);
}

TEST(FastfileNamespace, SiblingDirectoriesReopenedAfterDeeperPaths) {
  // Paths leave a deep directory and return to a shallower one several times.
  Namespace ns = Namespace::build(entries({"x/y/z/1", "x/y/2", "x/3", "x/y/z/w/4", "x/y/z/5", "x/y2/6", "x/4"}));
  EXPECT_EQ(node_paths(ns), (std::vector<std::string>{"x/", "x/3", "x/4", "x/y/", "x/y/2", "x/y/z/", "x/y/z/1",
                                                      "x/y/z/5", "x/y/z/w/", "x/y/z/w/4", "x/y2/", "x/y2/6"}));
  expect_consistent(ns);
}

// ---- ordering -------------------------------------------------------------------------------

TEST(FastfileNamespace, DirectoryNameThatIsAPrefixSortsBeforeLongerNames) {
  // Key order: "A" < "a-b" < "a.txt" < "a/x" < "a0" < "b"; the walk puts the directory "a" where
  // its name sorts: before "a-b" and "a.txt" ('-' and '.' are below '/').
  Namespace ns = Namespace::build(entries({"b", "a0", "a/x", "a.txt", "a-b", "A"}));
  EXPECT_EQ(walk_paths(ns), (std::vector<std::string>{"A", "a/x", "a-b", "a.txt", "a0", "b"}));
  EXPECT_EQ(node_paths(ns), (std::vector<std::string>{"A", "a/", "a/x", "a-b", "a.txt", "a0", "b"}));
  std::vector<std::string> names;
  for (Ino c : ns.root().children) names.push_back(ns.find(c)->name);
  EXPECT_EQ(names, (std::vector<std::string>{"A", "a", "a-b", "a.txt", "a0", "b"}));
  for (const auto& n : names) EXPECT_NE(ns.lookup(kRootIno, n), nullptr) << n;
  expect_consistent(ns);
}

TEST(FastfileNamespace, NestedPrefixTraps) {
  Namespace ns = Namespace::build(entries({"a/b.c", "a/b/c", "a.b/c", "a/b-c/d", "a/b0", "ab/c", "a/b/c.d"}));
  EXPECT_EQ(walk_paths(ns),
            (std::vector<std::string>{"a/b/c", "a/b/c.d", "a/b-c/d", "a/b.c", "a/b0", "a.b/c", "ab/c"}));
  expect_consistent(ns);
}

TEST(FastfileNamespace, HighBytesSortAfterAscii) {
  // 0xC3 (é), 0xE6 (日), 0xFF sort after every ASCII byte, '~' (0x7E) included; a signed char
  // comparison would put them first.
  std::vector<std::string> paths = {"\xC3\xA9.txt", "z.txt", "Z", "\xE6\x97\xA5\xE6\x9C\xAC/x", "~",
                                    "\xFF", "0", "e\xCC\x81", "e", "\x7F"};
  Namespace ns = Namespace::build(entries(paths));
  std::vector<std::string> names;
  for (Ino c : ns.root().children) names.push_back(ns.find(c)->name);
  EXPECT_EQ(names, (std::vector<std::string>{"0", "Z", "e", "e\xCC\x81", "z.txt", "~", "\x7F", "\xC3\xA9.txt",
                                             "\xE6\x97\xA5\xE6\x9C\xAC", "\xFF"}));
  for (const auto& p : paths) {
    const Node* n = at(ns, p);
    ASSERT_NE(n, nullptr) << p;
    EXPECT_EQ(path_of(ns, *n), p);
  }
  EXPECT_EQ(ns.lookup(kRootIno, "\xC3"), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, "\xC3\xA9"), nullptr);
  EXPECT_EQ(walk_paths(ns), reference_sorted(ns.entries()));
  expect_consistent(ns);
}

TEST(FastfileNamespace, LookupInLargeMixedDirectory) {
  // One directory with many ASCII and non-ASCII names: every lookup must land (binary search
  // over unsigned bytes).
  std::vector<Entry> in;
  std::set<std::string> names;
  std::mt19937 rng(7);
  while (names.size() < 3000) {
    std::string n;
    size_t len = 1 + rng() % 6;
    for (size_t i = 0; i < len; ++i) {
      char c = static_cast<char>(1 + rng() % 255);
      if (c == '/') c = 'x';
      n += c;
    }
    if (n == "." || n == "..") continue;
    names.insert(n);
  }
  for (const auto& n : names) in.push_back(entry("d/" + n));
  Namespace ns = Namespace::build(in);
  const Node* d = ns.lookup(kRootIno, "d");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->children.size(), names.size());
  size_t i = 0;
  for (const auto& n : names) {  // std::set<std::string> orders by unsigned bytes too
    const Node* c = ns.lookup(d->ino, n);
    ASSERT_NE(c, nullptr) << i;
    EXPECT_EQ(c->name, n);
    EXPECT_EQ(c->ino, d->children[i]);
    ++i;
  }
  expect_consistent(ns);
}

TEST(FastfileNamespace, RandomTreeWalkMatchesReferences) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::vector<Entry> in = random_tree(5000, seed);
    auto [ref_nodes, ref_files] = reference_walk(in);
    Namespace ns = Namespace::build(in);
    ASSERT_EQ(ns.file_count(), 5000u);
    EXPECT_EQ(ns.node_count(), ref_nodes.size() + 1);
    EXPECT_EQ(node_paths(ns), ref_nodes);  // inode numbers follow the walk
    EXPECT_EQ(walk_paths(ns), ref_files);
    EXPECT_EQ(ref_files, reference_sorted(in));  // the two references agree
    // The listing's key order differs from the walk here (otherwise the test proves little).
    std::vector<std::string> key_order;
    for (const auto& e : in) key_order.push_back(e.path);
    std::sort(key_order.begin(), key_order.end());
    EXPECT_NE(key_order, ref_files);
    for (size_t i = 0; i < in.size(); ++i) {
      const Node* n = at(ns, in[i].path);
      ASSERT_NE(n, nullptr) << in[i].path;
      EXPECT_EQ(n->entry, i);
      EXPECT_EQ(&ns.entry(*n), &ns.entries()[i]);
    }
    expect_consistent(ns);
  }
}

// ---- lookup and find ------------------------------------------------------------------------

TEST(FastfileNamespace, LookupHitsAndMisses) {
  Namespace ns = Namespace::build(entries({"train/a.rec", "train/b.rec", "train/sub/c.rec", "val/d.rec", "x"}));
  const Node* train = ns.lookup(kRootIno, "train");
  ASSERT_NE(train, nullptr);
  EXPECT_TRUE(train->is_dir);
  EXPECT_NE(ns.lookup(train->ino, "a.rec"), nullptr);
  EXPECT_NE(ns.lookup(train->ino, "b.rec"), nullptr);
  EXPECT_NE(ns.lookup(train->ino, "sub"), nullptr);
  EXPECT_EQ(ns.lookup(train->ino, "c.rec"), nullptr);       // one level too deep
  EXPECT_EQ(ns.lookup(kRootIno, "a.rec"), nullptr);         // wrong directory
  EXPECT_EQ(ns.lookup(kRootIno, "train/a.rec"), nullptr);   // a name, not a path
  EXPECT_EQ(ns.lookup(kRootIno, "trai"), nullptr);          // a prefix of a name
  EXPECT_EQ(ns.lookup(kRootIno, "trains"), nullptr);        // a name plus more
  EXPECT_EQ(ns.lookup(kRootIno, "Train"), nullptr);         // case matters
  EXPECT_EQ(ns.lookup(kRootIno, ""), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, "."), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, ".."), nullptr);
  EXPECT_EQ(ns.lookup(kRootIno, "zzz"), nullptr);           // after the last child
  EXPECT_EQ(ns.lookup(kRootIno, "\x01"), nullptr);          // before the first child
  EXPECT_EQ(ns.lookup(kRootIno, "x\0"s), nullptr);          // the name is compared whole
  const Node* x = ns.lookup(kRootIno, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(ns.lookup(x->ino, ""), nullptr);                // a file has no children
  EXPECT_EQ(ns.lookup(x->ino, "x"), nullptr);
  EXPECT_EQ(ns.lookup(ns.lookup(train->ino, "a.rec")->ino, "a.rec"), nullptr);
  EXPECT_EQ(ns.lookup(0, "train"), nullptr);                // unknown inodes
  EXPECT_EQ(ns.lookup(ns.node_count() + 1, "train"), nullptr);
  EXPECT_EQ(ns.lookup(std::numeric_limits<Ino>::max(), "train"), nullptr);
  EXPECT_EQ(at(ns, "val/d.rec"), &ns.file_at(3));
  expect_consistent(ns);
}

TEST(FastfileNamespace, FindOutOfRange) {
  Namespace ns = Namespace::build(entries({"a/b", "c"}));
  ASSERT_EQ(ns.node_count(), 4u);
  EXPECT_EQ(ns.find(0), nullptr);
  EXPECT_EQ(ns.find(5), nullptr);
  EXPECT_EQ(ns.find(1000), nullptr);
  EXPECT_EQ(ns.find(std::numeric_limits<Ino>::max()), nullptr);
  EXPECT_EQ(ns.find(std::numeric_limits<Ino>::max() - 1), nullptr);
  for (Ino ino = 1; ino <= 4; ++ino) {
    ASSERT_NE(ns.find(ino), nullptr);
    EXPECT_EQ(ns.find(ino)->ino, ino);
  }
  EXPECT_EQ(ns.find(kRootIno), &ns.root());
}

// ---- stability ------------------------------------------------------------------------------

TEST(FastfileNamespace, InodesIndependentOfInputOrder) {
  std::vector<Entry> in = random_tree(5000, 11);
  Namespace first = Namespace::build(in);
  std::mt19937 rng(12);
  for (int round = 0; round < 3; ++round) {
    std::vector<Entry> shuffled = in;
    if (round == 0) {
      std::reverse(shuffled.begin(), shuffled.end());
    } else {
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
    }
    Namespace ns = Namespace::build(shuffled);
    ASSERT_EQ(ns.node_count(), first.node_count());
    ASSERT_EQ(ns.file_count(), first.file_count());
    for (Ino ino = 1; ino <= ns.node_count(); ++ino) {
      const Node& a = *first.find(ino);
      const Node& b = *ns.find(ino);
      ASSERT_EQ(a.name, b.name) << "ino " << ino;
      EXPECT_EQ(a.parent, b.parent);
      EXPECT_EQ(a.is_dir, b.is_dir);
      EXPECT_EQ(a.size, b.size);
      EXPECT_EQ(a.mtime_ns, b.mtime_ns);
      EXPECT_EQ(a.children, b.children);
      EXPECT_EQ(a.subdirs, b.subdirs);
      EXPECT_EQ(a.file_order, b.file_order);
      if (!a.is_dir) {
        EXPECT_EQ(first.entry(a).key, ns.entry(b).key);
      }
    }
    for (size_t i = 0; i < ns.file_count(); ++i) EXPECT_EQ(ns.file_at(i).ino, first.file_at(i).ino);
    // The entries stay in the order given, and the nodes point into that order.
    for (size_t i = 0; i < shuffled.size(); ++i) EXPECT_EQ(ns.entries()[i].key, shuffled[i].key);
  }
}

// ---- attributes -----------------------------------------------------------------------------

TEST(FastfileNamespace, DirectoryMtimeSubdirsAndSizes) {
  constexpr uint64_t kBig = 5ull << 30;  // sizes above 4 GiB
  std::vector<Entry> in = {
      entry("a/old", 10, 100),       entry("a/b/new", kBig, 900), entry("a/b/c/mid", 1, 500),
      entry("a/d/e", 2, 50),         entry("f", 3, 300),          entry("g/h/i/j", 4, -20),
  };
  Namespace ns = Namespace::build(in);
  const Node* a = at(ns, "a");
  const Node* b = at(ns, "a/b");
  const Node* c = at(ns, "a/b/c");
  const Node* d = at(ns, "a/d");
  const Node* g = at(ns, "g");
  const Node* h = at(ns, "g/h");
  ASSERT_TRUE(a && b && c && d && g && h);
  EXPECT_EQ(ns.root().mtime_ns, 900);
  EXPECT_EQ(a->mtime_ns, 900);
  EXPECT_EQ(b->mtime_ns, 900);
  EXPECT_EQ(c->mtime_ns, 500);
  EXPECT_EQ(d->mtime_ns, 50);
  EXPECT_EQ(g->mtime_ns, -20);  // only older-than-epoch files below: not clamped to 0
  EXPECT_EQ(h->mtime_ns, -20);
  EXPECT_EQ(ns.root().subdirs, 2u);  // a, g
  EXPECT_EQ(a->subdirs, 2u);         // b, d
  EXPECT_EQ(b->subdirs, 1u);         // c
  EXPECT_EQ(c->subdirs, 0u);
  EXPECT_EQ(g->subdirs, 1u);
  EXPECT_EQ(a->children.size(), 3u);
  for (const Node* dir : {a, b, c, d, g, h, &ns.root()}) EXPECT_EQ(dir->size, 0u);
  EXPECT_EQ(at(ns, "a/b/new")->size, kBig);
  EXPECT_EQ(at(ns, "g/h/i/j")->mtime_ns, -20);
  EXPECT_EQ(ns.total_bytes(), 10 + kBig + 1 + 2 + 3 + 4);
  expect_consistent(ns);
}

TEST(FastfileNamespace, RootMtimeWithOnlyOldFiles) {
  Namespace ns = Namespace::build({entry("x", 0, -5), entry("y", 0, -7)});
  EXPECT_EQ(ns.root().mtime_ns, -5);
  Namespace zero = Namespace::build({entry("x", 0, 0)});
  EXPECT_EQ(zero.root().mtime_ns, 0);
}

TEST(FastfileNamespace, EntriesKeptAsGiven) {
  std::vector<Entry> in = {entry("b", 1, 1), entry("a/c", 2, 2)};
  in[0].key = "odd key \xC3\xA9";
  in[1].etag = "abc-3";
  Namespace ns = Namespace::build(in);
  ASSERT_EQ(ns.entries().size(), 2u);
  EXPECT_EQ(ns.entries()[0].key, "odd key \xC3\xA9");
  EXPECT_EQ(ns.entries()[1].etag, "abc-3");
  EXPECT_EQ(ns.entry(ns.file_at(0)).path, "a/c");
  EXPECT_EQ(ns.file_at(0).entry, 1u);
  EXPECT_EQ(ns.entry(ns.file_at(1)).key, "odd key \xC3\xA9");
}

TEST(FastfileNamespace, OddButValidNamesAccepted) {
  std::vector<std::string> paths = {"...", ".hidden", "a..", "..a", "a/.x/..y", "sp ace", "tab\t", "new\nline",
                                    "back\\slash", "%2F", "\xF0\x9F\x98\x80", "-", "a/b/...."};
  Namespace ns = Namespace::build(entries(paths));
  EXPECT_EQ(ns.file_count(), paths.size());
  for (const auto& p : paths) EXPECT_NE(at(ns, p), nullptr) << p;
  EXPECT_EQ(walk_paths(ns), reference_sorted(ns.entries()));
  expect_consistent(ns);
}

// ---- refusals -------------------------------------------------------------------------------

TEST(FastfileNamespace, InvalidPathsRefused) {
  for (std::string bad : {""s, "/"s, "/a"s, "a/"s, "a//b"s, "./a"s, "a/../b"s, "."s, ".."s, "a/."s, "a/.."s,
                          "../a"s, "a/./b"s, "//"s, "a///b"s, "/a/"s}) {
    SCOPED_TRACE("path '" + bad + "'");
    // Alone, and after valid entries (refused wherever it is).
    for (bool alone : {true, false}) {
      std::vector<Entry> in;
      if (!alone) in = entries({"ok", "z/ok"});
      in.push_back(entry(bad));
      Error e = refusal(in);
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
      EXPECT_TRUE(contains(e.what(), "'" + bad + "'")) << e.what();
      EXPECT_TRUE(contains(e.what(), "prefix/" + bad)) << e.what();  // the key too
    }
  }
}

TEST(FastfileNamespace, InvalidPathCauseSaysWhy) {
  EXPECT_TRUE(contains(refusal({entry("")}).what(), "empty"));
  EXPECT_TRUE(contains(refusal({entry("/a")}).what(), "starts with '/'"));
  EXPECT_TRUE(contains(refusal({entry("a/")}).what(), "ends with '/'"));
  EXPECT_TRUE(contains(refusal({entry("a//b")}).what(), "empty path segment"));
  EXPECT_TRUE(contains(refusal({entry("./a")}).what(), "'.'"));
  EXPECT_TRUE(contains(refusal({entry("a/../b")}).what(), "'..'"));
}

TEST(FastfileNamespace, FileAndDirectoryConflictEitherOrder) {
  for (bool file_first : {true, false}) {
    SCOPED_TRACE(file_first ? "file first" : "directory first");
    std::vector<Entry> in = {entry("a"), entry("a/b")};
    if (!file_first) std::swap(in[0], in[1]);
    Error e = refusal(in);
    EXPECT_EQ(e.kind(), ErrorKind::kConflict) << e.what();
    std::string what = e.what();
    EXPECT_TRUE(contains(what, "'a'")) << what;
    EXPECT_TRUE(contains(what, "'a/b'")) << what;
    EXPECT_TRUE(contains(what, "prefix/a'")) << what;
    EXPECT_TRUE(contains(what, "prefix/a/b'")) << what;
  }
}

TEST(FastfileNamespace, ConflictsNotAdjacentInKeyOrder) {
  // In key order "a/b.txt" sits between "a/b" and "a/b/c"; the conflict must still be found.
  for (auto paths : {std::vector<std::string>{"a/b", "a/b.txt", "a/b/c"},
                     std::vector<std::string>{"a/b/c", "a/b-x", "a/b.txt", "a/b"},
                     std::vector<std::string>{"x/y/z/w", "x/y/z.", "x/y", "x/y-"},
                     std::vector<std::string>{"q", "q.txt", "q-", "q/r/s/t"}}) {
    Error e = refusal(entries(paths));
    EXPECT_EQ(e.kind(), ErrorKind::kConflict) << e.what();
  }
  Error deep = refusal(entries({"p/q/r", "p/q/r/s/t/u", "p/q/r.s"}));
  EXPECT_EQ(deep.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(contains(deep.what(), "'p/q/r'")) << deep.what();
  EXPECT_TRUE(contains(deep.what(), "'p/q/r/s/t/u'")) << deep.what();
}

TEST(FastfileNamespace, DuplicatePathRefused) {
  std::vector<Entry> in = entries({"x", "d/f", "y"});
  Entry dup = entry("d/f");
  dup.key = "other/key";
  in.push_back(dup);
  Error e = refusal(in);
  EXPECT_EQ(e.kind(), ErrorKind::kConflict) << e.what();
  std::string what = e.what();
  EXPECT_TRUE(contains(what, "'d/f'")) << what;
  EXPECT_TRUE(contains(what, "prefix/d/f")) << what;
  EXPECT_TRUE(contains(what, "other/key")) << what;
  // The same entry twice too.
  EXPECT_EQ(refusal({entry("same"), entry("same")}).kind(), ErrorKind::kConflict);
}

TEST(FastfileNamespace, RandomConflictsAlwaysFound) {
  std::vector<Entry> base = random_tree(2000, 21);
  std::mt19937 rng(22);
  for (int i = 0; i < 40; ++i) {
    std::vector<Entry> in = base;
    const std::string& p = base[rng() % base.size()].path;
    switch (i % 3) {
      case 0: in.push_back(entry(p)); break;                          // duplicate
      case 1: in.push_back(entry(p + "/below")); break;               // the file as a directory
      case 2: {                                                       // a directory as a file
        size_t slash = p.find('/');
        if (slash == std::string::npos) {
          in.push_back(entry(p + "/below"));
        } else {
          in.push_back(entry(p.substr(0, slash)));
        }
        break;
      }
    }
    std::shuffle(in.begin(), in.end(), rng);
    EXPECT_EQ(refusal(in).kind(), ErrorKind::kConflict) << "case " << i << " path '" << p << "'";
  }
}

// ---- scale ----------------------------------------------------------------------------------

TEST(FastfileNamespace, TwoHundredThousandEntries) {
  std::vector<Entry> in;
  in.reserve(200000);
  std::mt19937 rng(5);
  for (size_t i = 0; i < 200000; ++i) {
    std::string p = "shard-" + std::to_string(i % 37) + "/group-" + std::to_string((i / 37) % 101) + "/part-" +
                    std::to_string(i) + ".rec";
    in.push_back(entry(p, i, static_cast<int64_t>(i)));
  }
  std::shuffle(in.begin(), in.end(), rng);
  Namespace ns = Namespace::build(std::move(in));
  EXPECT_EQ(ns.file_count(), 200000u);
  EXPECT_EQ(ns.node_count(), 1 + 37 + 37 * 101 + 200000u);
  EXPECT_EQ(ns.total_bytes(), 199999ull * 200000 / 2);
  EXPECT_EQ(ns.root().mtime_ns, 199999);
  EXPECT_EQ(ns.root().subdirs, 37u);
  for (size_t i = 1; i < ns.file_count(); ++i) {
    ASSERT_EQ(ns.file_at(i).file_order, i);
    ASSERT_LT(ns.file_at(i - 1).ino, ns.file_at(i).ino);
  }
  const Node* f = at(ns, "shard-5/group-3/part-" + std::to_string(5 + 37 * 3) + ".rec");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(ns.entry(*f).size, 5u + 37 * 3);
  EXPECT_EQ(at(ns, "shard-5/group-3/part-5.rec"), nullptr);
  const Node* first = &ns.file_at(0);
  EXPECT_EQ(path_of(ns, *first), "shard-0/group-0/part-0.rec");
}

}  // namespace
}  // namespace sluice::modes::fastfile
