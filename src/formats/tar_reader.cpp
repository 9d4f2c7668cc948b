#include "formats/tar_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace sluice::formats {
namespace {

struct ReaderFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// "./a//b/" -> "a/b"; throws for an absolute name or a ".." component.
std::string safe_name(const char* raw, const std::string& archive) {
  std::string name = raw ? raw : "";
  if (!name.empty() && name.front() == '/') {
    throw Error(ErrorKind::kInvalidInput, fmt::format("unpacking {}", archive),
                fmt::format("entry '{}' has an absolute name", name));
  }
  std::string out;
  size_t at = 0;
  while (at <= name.size()) {
    size_t end = name.find('/', at);
    if (end == std::string::npos) end = name.size();
    std::string part = name.substr(at, end - at);
    if (part == "..") {
      throw Error(ErrorKind::kInvalidInput, fmt::format("unpacking {}", archive),
                  fmt::format("entry '{}' leads out of the directory (..)", name));
    }
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    at = end + 1;
  }
  return out;
}

std::pair<std::string, std::string> split(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

void write_all(int fd, const char* data, size_t size, const std::string& shown) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errno_error(errno, "unpacking", shown);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

UnpackResult unpack_tar(const std::string& archive_path, int dir, const std::string& shown, const UnpackLimits& limits) {
  std::unique_ptr<archive, ReaderFree> in(archive_read_new());
  // libarchive's own decoders only: filter_all would run external programs (lrzip, lzop...) on
  // the archive, as root.
  archive_read_support_filter_none(in.get());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_bzip2(in.get());
  archive_read_support_filter_xz(in.get());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("reading {}", archive_path),
                archive_error_string(in.get()) ? archive_error_string(in.get()) : "not a tar archive");
  }
  UnpackResult result;
  uint64_t entries = 0;
  auto count = [&](uint64_t n) {
    result.bytes += n;
    if (result.bytes > limits.max_bytes) {
      throw Error(ErrorKind::kNoSpace, fmt::format("unpacking {}", archive_path),
                  fmt::format("it holds more than {} bytes", limits.max_bytes));
    }
  };
  archive_entry* entry = nullptr;
  std::vector<char> buf(1 << 16);
  for (;;) {
    int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("reading {}", archive_path),
                  archive_error_string(in.get()) ? archive_error_string(in.get()) : "a damaged archive");
    }
    const std::string rel = safe_name(archive_entry_pathname(entry), archive_path);
    if (rel.empty()) continue;  // "./" itself
    if (++entries > limits.max_entries) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("unpacking {}", archive_path),
                  fmt::format("more than {} entries", limits.max_entries));
    }
    if (std::count(rel.begin(), rel.end(), '/') >= limits.max_depth) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("unpacking {}", archive_path),
                  fmt::format("'{}' is more than {} directories deep", rel, limits.max_depth));
    }
    const std::string where = shown + "/" + rel;
    const auto [parent, name] = split(rel);
    UniqueFd at = beneath::make_dirs(dir, parent, 0755, shown);
    const mode_t mode = archive_entry_perm(entry) & 0777;
    const char* hardlink = archive_entry_hardlink(entry);
    const mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      if (::mkdirat(at.get(), name.c_str(), mode | 0700) != 0 && errno != EEXIST) throw errno_error(errno, "unpacking", where);
      UniqueFd sub(beneath::open_at(at.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (!sub) throw errno_error(errno, "unpacking", where);
      (void)::fchmod(sub.get(), mode | 0700);
      continue;
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      (void)::unlinkat(at.get(), name.c_str(), 0);
      if (!target || ::symlinkat(target, at.get(), name.c_str()) != 0) throw errno_error(errno ? errno : EINVAL, "unpacking", where);
      ++result.files;
      continue;
    }
    if (type == AE_IFREG && !hardlink && archive_entry_size_is_set(entry)) {
      // A declared size past the limit (a sparse entry, say) is refused before it is written.
      const auto declared = archive_entry_size(entry);
      if (declared > 0 && result.bytes + static_cast<uint64_t>(declared) > limits.max_bytes) count(static_cast<uint64_t>(declared));
    }
    if (hardlink) {
      // A copy of the file unpacked before under that name (read without following a link).
      const std::string first = safe_name(hardlink, archive_path);
      UniqueFd src(beneath::open_at(dir, first, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
      struct stat first_st;
      if (!src) throw errno_error(errno, "unpacking " + where + " (a hard link to)", shown + "/" + first);
      if (::fstat(src.get(), &first_st) != 0 || !S_ISREG(first_st.st_mode) || beneath::too_sparse(first_st)) {
        throw Error(ErrorKind::kInvalidInput, fmt::format("unpacking {}", archive_path),
                    fmt::format("'{}' is a hard link to '{}', which is not a file it unpacked", rel, first));
      }
      (void)::unlinkat(at.get(), name.c_str(), 0);
      UniqueFd dst(beneath::open_at(at.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644));
      if (!dst) throw errno_error(errno, "unpacking", where);
      ssize_t n;
      while ((n = ::read(src.get(), buf.data(), buf.size())) > 0) {
        count(static_cast<uint64_t>(n));
        write_all(dst.get(), buf.data(), static_cast<size_t>(n), where);
      }
      if (n < 0) throw errno_error(errno, "unpacking", where);
      struct stat st;
      if (::fstat(src.get(), &st) == 0) (void)::fchmod(dst.get(), st.st_mode & 0777);
      ++result.files;
      continue;
    }
    if (type != AE_IFREG) {
      log::warn("unpacking {}: skipped {} (not a file, directory or link)", archive_path, rel);
      continue;
    }
    // A file that is there is replaced, never written through (it could be a link or a FIFO).
    if (::unlinkat(at.get(), name.c_str(), 0) != 0 && errno != ENOENT) throw errno_error(errno, "unpacking", where);
    UniqueFd out(beneath::open_at(at.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
    if (!out) throw errno_error(errno, "unpacking", where);
    for (;;) {
      la_ssize_t n = archive_read_data(in.get(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        throw Error(ErrorKind::kInvalidInput, fmt::format("reading {}", archive_path),
                    archive_error_string(in.get()) ? archive_error_string(in.get()) : "a damaged archive");
      }
      count(static_cast<uint64_t>(n));
      write_all(out.get(), buf.data(), static_cast<size_t>(n), where);
    }
    if (::fchmod(out.get(), mode) != 0) throw errno_error(errno, "unpacking", where);
    ++result.files;
  }
  return result;
}

}  // namespace sluice::formats
