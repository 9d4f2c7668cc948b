#include "formats/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "core/error.hpp"

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

}  // namespace

TarStats write_tar(const std::vector<TarSource>& sources, const fs::path& out, bool gzip) {
  // Relative path -> the source file that provides it (later sources win).
  std::map<std::string, fs::path> entries;
  for (const auto& src : sources) {
    std::error_code ec;
    if (!fs::exists(src.dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(src.dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
      entries[it->path().lexically_relative(src.dir).generic_string()] = it->path();
    }
    if (ec) throw errno_error(ec.value(), "reading", src.dir.string());
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
  try {
    for (const auto& [rel, path] : entries) {
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) throw errno_error(errno, "reading", path.string());
      std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
      archive_entry_copy_stat(e.get(), &st);
      archive_entry_set_pathname(e.get(), rel.c_str());
      archive_entry_set_uname(e.get(), "");
      archive_entry_set_gname(e.get(), "");
      if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        auto target = fs::read_symlink(path, ec);
        if (ec) throw errno_error(ec.value(), "reading the link", path.string());
        archive_entry_set_symlink(e.get(), target.c_str());
      } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        continue;  // sockets, FIFOs, devices: nothing to archive
      }
      if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) throw archive_error(a.get(), "archiving " + rel);
      if (S_ISREG(st.st_mode)) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw errno_error(errno, "opening", path.string());
        for (;;) {
          ssize_t n = ::read(fd, buf.data(), buf.size());
          if (n < 0) {
            int err = errno;
            ::close(fd);
            throw errno_error(err, "reading", path.string());
          }
          if (n == 0) break;
          if (archive_write_data(a.get(), buf.data(), static_cast<size_t>(n)) < 0) {
            ::close(fd);
            throw archive_error(a.get(), "archiving " + rel);
          }
          stats.bytes += static_cast<uint64_t>(n);
        }
        ::close(fd);
        stats.files++;
      }
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
