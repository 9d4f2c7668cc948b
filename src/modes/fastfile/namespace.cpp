#include "modes/fastfile/namespace.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "core/error.hpp"

namespace sluice::modes::fastfile {
namespace {

// A path or key as an error message shows it: NUL escaped, long ones cut.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out += c == '\0' ? std::string("\\0") : std::string(1, c);
  if (s.size() > 300) out += "...";
  return out;
}

void check_path(const Entry& e) {
  auto invalid = [&](const std::string& why) {
    return Error(ErrorKind::kInvalidInput,
                 "path '" + shown(e.path) + "' (object key '" + shown(e.key) + "') cannot be shown in the mount", why);
  };
  const std::string& p = e.path;
  if (p.empty()) throw invalid("it is empty");
  if (p.front() == '/') throw invalid("it starts with '/'");
  if (p.back() == '/') throw invalid("it ends with '/'");
  size_t start = 0;
  for (;;) {
    size_t end = p.find('/', start);
    std::string_view seg(p.data() + start, (end == std::string::npos ? p.size() : end) - start);
    if (seg.empty()) throw invalid("it has an empty path segment ('//')");
    if (seg == ".") throw invalid("it has a '.' segment");
    if (seg == "..") throw invalid("it has a '..' segment");
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

// Walk order on whole paths: bytes compared unsigned, '/' below every other byte, so a
// directory's subtree sorts as one block at the place its name sorts among its siblings.
int walk_compare(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    // Eight bytes at a time to the first difference (paths share long prefixes).
    for (; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.data() + i, 8);
      std::memcpy(&y, b.data() + i, 8);
      if (x != y) {
        i += static_cast<size_t>(std::countr_zero(x ^ y)) / 8;
        break;
      }
    }
  }
  while (i < n && a[i] == b[i]) ++i;
  if (i == n) return a.size() == b.size() ? 0 : a.size() < b.size() ? -1 : 1;
  auto ca = static_cast<unsigned char>(a[i]);
  auto cb = static_cast<unsigned char>(b[i]);
  if (ca == '/') return -1;
  if (cb == '/') return 1;
  return ca < cb ? -1 : 1;
}

Error conflict(const Entry& a, const Entry& b, const std::string& why) {
  return Error(ErrorKind::kConflict,
               "paths '" + shown(a.path) + "' (object key '" + shown(a.key) + "') and '" + shown(b.path) +
                   "' (object key '" + shown(b.key) + "') collide",
               why);
}

}  // namespace

Namespace Namespace::build(std::vector<Entry> entries) {
  for (const Entry& e : entries) check_path(e);

  // Entry indices in walk order; ties (duplicates) by input position, so errors are stable.
  struct Item {
    std::string_view path;
    size_t index;
  };
  std::vector<Item> items;
  items.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) items.push_back({entries[i].path, i});
  std::sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    int c = walk_compare(x.path, y.path);
    return c != 0 ? c < 0 : x.index < y.index;
  });

  Namespace ns;
  ns.walk_.reserve(entries.size());
  ns.nodes_.reserve(entries.size() + 1);
  Node root;
  root.ino = kRootIno;
  root.parent = kRootIno;
  root.is_dir = true;
  ns.nodes_.push_back(std::move(root));

  // Directories open on the path of the previous entry: (ino, length of the directory's path).
  std::vector<std::pair<Ino, size_t>> open{{kRootIno, 0}};
  const Entry* prev = nullptr;
  auto add_node = [&](Node node) {
    node.ino = ns.nodes_.size() + 1;
    Node& parent = ns.nodes_[node.parent - 1];
    parent.children.push_back(node.ino);
    if (node.is_dir) ++parent.subdirs;
    ns.nodes_.push_back(std::move(node));
    return ns.nodes_.back().ino;
  };
  for (const Item& item : items) {
    const Entry& e = entries[item.index];
    const std::string& p = e.path;
    size_t common = 0;
    if (prev != nullptr) {
      const std::string& q = prev->path;
      size_t n = std::min(p.size(), q.size());
      while (common < n && p[common] == q[common]) ++common;
      // In walk order a duplicate follows its twin, and a path below a file ("a/...") follows
      // the file ("a") directly.
      if (common == q.size() && common == p.size()) throw conflict(*prev, e, "both are the file '" + shown(p) + "'");
      if (common == q.size() && p[common] == '/') {
        throw conflict(*prev, e, "'" + shown(q) + "' would have to be a file and a directory");
      }
    }
    // Keep the directories this path shares with the previous one: those whose path, plus the
    // '/' after it, is a common prefix of both.
    while (open.size() > 1 && open.back().second >= common) open.pop_back();
    size_t start = open.size() > 1 ? open.back().second + 1 : 0;
    for (size_t slash = p.find('/', start); slash != std::string::npos; slash = p.find('/', start)) {
      Node dir;
      dir.parent = open.back().first;
      dir.name = p.substr(start, slash - start);
      dir.is_dir = true;
      dir.mtime_ns = std::numeric_limits<int64_t>::min();  // raised below to the newest file under it
      open.emplace_back(add_node(std::move(dir)), slash);
      start = slash + 1;
    }
    Node file;
    file.parent = open.back().first;
    file.name = p.substr(start);
    file.size = e.size;
    file.mtime_ns = e.mtime_ns;
    file.entry = item.index;
    file.file_order = ns.walk_.size();
    ns.walk_.push_back(add_node(std::move(file)));
    ns.total_bytes_ += e.size;
    prev = &e;
  }

  // Children have larger numbers than their parent: one backward pass carries mtimes up.
  ns.nodes_.front().mtime_ns = ns.nodes_.size() > 1 ? std::numeric_limits<int64_t>::min() : 0;
  for (size_t i = ns.nodes_.size(); i-- > 1;) {
    Node& parent = ns.nodes_[ns.nodes_[i].parent - 1];
    parent.mtime_ns = std::max(parent.mtime_ns, ns.nodes_[i].mtime_ns);
  }

  ns.entries_ = std::move(entries);
  return ns;
}

const Node* Namespace::find(Ino ino) const {
  if (ino == 0 || ino > nodes_.size()) return nullptr;
  return &nodes_[ino - 1];
}

const Node* Namespace::lookup(Ino parent, std::string_view name) const {
  const Node* dir = find(parent);
  if (dir == nullptr || !dir->is_dir) return nullptr;
  auto it = std::lower_bound(dir->children.begin(), dir->children.end(), name,
                             [&](Ino child, std::string_view n) { return nodes_[child - 1].name < n; });
  if (it == dir->children.end() || nodes_[*it - 1].name != name) return nullptr;
  return &nodes_[*it - 1];
}

}  // namespace sluice::modes::fastfile
