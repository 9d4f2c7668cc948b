#include "formats/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace fs = std::filesystem;

namespace sluice::formats {
namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

Error archive_error(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(ErrorKind::kIo, what, msg ? msg : "libarchive error");
}

// What provides one archive entry: which source, and the entry's lstat when it was walked.
struct Provider {
  size_t source = 0;
  struct stat st;
};

// The text of the link `rel` below `tree`, read through a handle on its directory (readlinkat on
// a longer path would follow links in its middle components). Returns an errno value, 0 on success.
int read_link(int tree, const std::string& rel, const struct stat& st, std::string& target) {
  size_t slash = rel.rfind('/');
  std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  UniqueFd dir(beneath::open_at(tree, parent, O_RDONLY | O_DIRECTORY));
  if (!dir) return errno;
  target.assign(static_cast<size_t>(st.st_size) + 1, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir.get(), name.c_str(), target.data(), target.size());
    if (n < 0) return errno;
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return 0;
    }
    target.resize(target.size() * 2);  // it changed since it was walked
  }
}

void warn_not_followed(const std::string& tree, const std::string& rel) {
  log::warn("{}: {} became a symbolic link while it was being archived; not followed, left out", tree, rel);
}

}  // namespace

std::string tree_path(const TarSource& source) {
  return source.below.empty() ? source.dir.string() : (source.dir / source.below).string();
}

UniqueFd open_tree(const TarSource& source) {
  int fd = ::open(source.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    throw errno_error(errno, "opening the directory", source.dir.string());
  }
  UniqueFd dir(fd);
  if (source.below.empty()) return dir;
  UniqueFd tree(beneath::open_at(dir.get(), source.below, O_RDONLY | O_DIRECTORY));
  if (!tree) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    if (errno == ELOOP) {
      log::warn("{}: {} is a symbolic link (or has one on the way), not followed; left out", source.dir.string(),
                source.below);
      return {};
    }
    throw errno_error(errno, "opening the directory", tree_path(source));
  }
  return tree;
}

TarStats write_tar(const std::vector<TarSource>& sources, const fs::path& out, bool gzip) {
  // Relative path -> the source that provides it (later sources win). Every tree is walked and
  // read relative to its handle, following no link.
  std::vector<UniqueFd> trees;
  std::map<std::string, Provider> entries;
  for (size_t i = 0; i < sources.size(); ++i) {
    trees.push_back(open_tree(sources[i]));
    if (!trees.back()) continue;
    beneath::walk(trees.back().get(), tree_path(sources[i]), [&](const beneath::Entry& e) {
      if (!S_ISDIR(e.st.st_mode)) {
        // An earlier source's entries below this path would be extracted through a link, or
        // fail against a file: the later source wins here too.
        const std::string below = e.rel + "/";
        auto it = entries.lower_bound(below);
        while (it != entries.end() && it->first.starts_with(below)) it = entries.erase(it);
      }
      entries[e.rel] = Provider{i, e.st};
      return true;
    });
  }

  fs::path tmp = out.parent_path() / (".sluice-partial-" + out.filename().string());
  std::unique_ptr<archive, ArchiveCloser> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (gzip) archive_write_add_filter_gzip(a.get());
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) {
    throw archive_error(a.get(), "creating " + tmp.string());
  }
  TarStats stats;
  std::vector<char> buf(1 << 20);
  // (device, inode) of each regular file with more than one link already in the archive -> the
  // entry that holds its contents. Only entries actually written go here (a name a later source
  // replaced never was), so a hard-link entry always refers to an earlier entry of this archive.
  std::map<std::pair<dev_t, ino_t>, std::string> linked;
  try {
    for (const auto& [rel, from] : entries) {
      const int tree = trees[from.source].get();
      const std::string shown = tree_path(sources[from.source]);
      const std::string path = shown + "/" + rel;
      struct stat st = from.st;
      UniqueFd file;
      std::string target;
      if (S_ISREG(st.st_mode)) {
        file.reset(beneath::open_at(tree, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
        if (!file) {
          if (errno == ELOOP) {
            warn_not_followed(shown, rel);
            continue;
          }
          throw errno_error(errno, "opening", path);
        }
        if (::fstat(file.get(), &st) != 0) throw errno_error(errno, "reading", path);
        if (!S_ISREG(st.st_mode)) continue;  // replaced by a FIFO or device since the walk
        if (st.st_nlink > 1) {
          if (auto it = linked.find({st.st_dev, st.st_ino}); it != linked.end()) {
            // Another name of a file already archived: a hard-link entry, no contents (as GNU
            // tar does), so N links to a large file do not make the archive N times larger.
            std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
            archive_entry_copy_stat(e.get(), &st);
            archive_entry_set_pathname(e.get(), rel.c_str());
            archive_entry_set_hardlink(e.get(), it->second.c_str());
            archive_entry_set_size(e.get(), 0);
            archive_entry_set_uname(e.get(), "");
            archive_entry_set_gname(e.get(), "");
            if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) throw archive_error(a.get(), "archiving " + rel);
            stats.files++;
            continue;
          }
        }
        if (beneath::too_sparse(st)) {
          throw Error(ErrorKind::kInvalidInput,
                      path + " is a sparse file of " + std::to_string(st.st_size) + " bytes with only " +
                          std::to_string(static_cast<uint64_t>(st.st_blocks) * 512) + " bytes stored",
                      "files larger than 64 times their stored size (plus 1 MiB) are not archived");
        }
      } else if (S_ISLNK(st.st_mode)) {
        if (int err = read_link(tree, rel, st, target); err != 0) {
          if (err == ELOOP) {
            warn_not_followed(shown, rel);
            continue;
          }
          throw errno_error(err, "reading the link", path);
        }
      } else if (!S_ISDIR(st.st_mode)) {
        continue;  // sockets, FIFOs, devices: nothing to archive
      }
      std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
      archive_entry_copy_stat(e.get(), &st);
      archive_entry_set_pathname(e.get(), rel.c_str());
      archive_entry_set_uname(e.get(), "");
      archive_entry_set_gname(e.get(), "");
      if (S_ISLNK(st.st_mode)) archive_entry_set_symlink(e.get(), target.c_str());
      if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) throw archive_error(a.get(), "archiving " + rel);
      if (!file) continue;
      // The header holds the size fstat gave: no more is read (a shorter file is padded).
      for (uint64_t left = static_cast<uint64_t>(st.st_size); left > 0;) {
        ssize_t n = ::read(file.get(), buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), left)));
        if (n < 0) throw errno_error(errno, "reading", path);
        if (n == 0) break;
        if (archive_write_data(a.get(), buf.data(), static_cast<size_t>(n)) < 0) {
          throw archive_error(a.get(), "archiving " + rel);
        }
        stats.bytes += static_cast<uint64_t>(n);
        left -= static_cast<uint64_t>(n);
      }
      stats.files++;
      if (st.st_nlink > 1) linked.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) throw archive_error(a.get(), "writing " + out.string());
  } catch (...) {
    a.reset();
    ::unlink(tmp.c_str());
    throw;
  }
  a.reset();
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw errno_error(err, "renaming into place", out.string());
  }
  return stats;
}

}  // namespace sluice::formats
