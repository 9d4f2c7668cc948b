// The file tree a FastFile mount shows: built once, at mount, from the channel's resolved object
// list, and never changed afterwards (the mount is read-only and the listing is not refreshed).
// Pure: no I/O. `ls`, `stat`, `find` and `du` are answered from here without a request.
//
//  - Every entry is a file at its relative path (dataset/key_path.hpp rules, checked by the
//    resolver); '/' separates directories, and every proper prefix of a path is a directory.
//  - Inode numbers: 1 is the root (FUSE_ROOT_ID); the others are dense, 2.., assigned in
//    walk order (below), so they are the same on every mount of the same listing.
//  - A directory's children are sorted by the bytes of their names; this is the order readdir
//    returns and the order `ls`, `find` and `tar` walk.
//  - Walk order: the depth-first, pre-order walk of that tree (a directory's files and
//    subdirectories interleaved by name). Files are numbered 0.. in walk order (Node::file_order);
//    a reader that walks the tree the way `find` or `tar` do opens files in this order, which is
//    what listing-order prefetch follows. It differs from the key order of the listing where a
//    name is a prefix of another ("a/x" vs "a.txt": key order puts "a.txt" first, the walk "a/").
//  - Sizes, ETags and mtimes come from the listing. A directory's mtime is the newest mtime of
//    anything below it (the root's too; 0 for an empty root), so it is stable across mounts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::modes::fastfile {

using Ino = uint64_t;
inline constexpr Ino kRootIno = 1;

// One object of the channel, as the mount shows it.
struct Entry {
  std::string path;  // relative path, e.g. "train/part-0001.rec" (no leading or trailing '/')
  std::string key;   // the object's key in the store
  uint64_t size = 0;
  std::string etag;  // without quotes; every read of the object asks for this ETag
  int64_t mtime_ns = 0;
};

struct Node {
  Ino ino = 0;
  Ino parent = 0;        // the root's parent is the root
  std::string name;      // "" for the root
  bool is_dir = false;
  uint64_t size = 0;     // files only (directories: 0)
  int64_t mtime_ns = 0;
  std::vector<Ino> children;  // directories only, sorted by name bytes
  uint32_t subdirs = 0;       // directories only: how many children are directories (st_nlink = 2 + subdirs)
  size_t entry = 0;           // files only: index into the Entry vector given to build()
  size_t file_order = 0;      // files only: position in walk order, 0..file_count()-1
};

class Namespace {
 public:
  // Throws Error(kInvalidInput) naming the path for an empty path, a leading or trailing '/',
  // an empty, "." or ".." segment; Error(kConflict) naming both paths when a path is both a file
  // and a directory ("a" and "a/b") or appears twice.
  static Namespace build(std::vector<Entry> entries);

  Namespace() = default;

  // nullptr for an unknown inode number.
  const Node* find(Ino ino) const;
  // The child called `name` of directory `parent`; nullptr when there is none (or parent is not
  // a directory). Binary search over the sorted children.
  const Node* lookup(Ino parent, std::string_view name) const;
  const Node& root() const { return nodes_.front(); }

  const Entry& entry(const Node& file) const { return entries_[file.entry]; }
  const std::vector<Entry>& entries() const { return entries_; }

  size_t file_count() const { return walk_.size(); }
  // The file at position `order` of the walk (order < file_count()).
  const Node& file_at(size_t order) const { return nodes_[walk_[order] - 1]; }

  size_t node_count() const { return nodes_.size(); }  // files + directories, root included
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  std::vector<Entry> entries_;
  std::vector<Node> nodes_;  // nodes_[ino - 1]
  std::vector<Ino> walk_;    // file inode numbers in walk order
  uint64_t total_bytes_ = 0;
};

}  // namespace sluice::modes::fastfile
