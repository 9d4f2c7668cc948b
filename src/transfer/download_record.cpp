#include "transfer/download_record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include "core/log.hpp"

namespace sluice::transfer {
namespace {

constexpr std::string_view kRecordHeader = "sluice-download-record\t1";
using Record = std::map<std::string, RecordEntry>;


std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

bool unescape(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: return false;
    }
  }
  return true;
}

template <typename T>
bool parse_number(std::string_view s, T& value) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

bool parse_record_line(std::string_view line, Record& record) {
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (fields.size() != 7) return false;
  std::string path;
  RecordEntry e;
  if (!unescape(fields[0], path) || path.empty() || !unescape(fields[1], e.key) || !unescape(fields[2], e.etag)) {
    return false;
  }
  if (!parse_number(fields[3], e.size) || !parse_number(fields[4], e.dev) || !parse_number(fields[5], e.ino) ||
      !parse_number(fields[6], e.ctime_ns)) {
    return false;
  }
  record[std::move(path)] = std::move(e);  // a path again: appended later, so it wins
  return true;
}

std::string record_line(const std::string& file, const RecordEntry& e) {
  return escape(file) + '\t' + escape(e.key) + '\t' + escape(e.etag) + '\t' + std::to_string(e.size) + '\t' +
         std::to_string(e.dev) + '\t' + std::to_string(e.ino) + '\t' + std::to_string(e.ctime_ns) + '\n';
}

// The record at `path`; empty when there is none, and (with a warning) when it cannot be read or
// is not a whole record of this format.
Record read_record(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT) {
      log::warn("cannot read the download record {} ({}): every file is downloaded again", path, std::strerror(errno));
    }
    return {};
  }
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      log::warn("cannot read the download record {} ({}): every file is downloaded again", path, std::strerror(errno));
      return {};
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  Record record;
  std::string_view rest = text;
  bool first = true, ok = true;
  while (ok && !rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      ok = !first;  // a last entry cut short (killed while appending it): that file only is not recorded
      break;
    }
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    ok = first ? line == kRecordHeader : parse_record_line(line, record);
    first = false;
  }
  if (!ok || first) {
    log::warn("the download record {} is corrupt: ignored, every file is downloaded again", path);
    return {};
  }
  return record;
}

// Replaces the record at `path` with `record` (a temporary file renamed over it). A failure is a
// warning: the next run downloads again what it cannot prove complete.
void write_record(const std::string& path, const Record& record) {
  std::string text(kRecordHeader);
  text += '\n';
  for (const auto& [file, e] : record) text += record_line(file, e);
  const std::string tmp = path + ".tmp";
  auto give_up = [&](const char* what) {
    log::warn("cannot write the download record {} ({}: {}): the next run downloads every file again", path, what,
              std::strerror(errno));
    ::unlink(tmp.c_str());
  };
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return give_up("creating");
  for (size_t done = 0; done < text.size();) {
    ssize_t w = ::write(fd.get(), text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return give_up("writing");
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd.get()) != 0) return give_up("writing");
  if (::close(fd.release()) != 0) return give_up("writing");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return give_up("renaming");
}

}  // namespace

int64_t ctime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}

DownloadRecord::DownloadRecord(std::string path, const std::vector<std::string>& own_paths)
    : path_(std::move(path)), loaded_(read_record(path_)), others_(loaded_) {
  for (const auto& p : own_paths) others_.erase(p);
  write_record(path_, others_);
  journal_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC));
}

const RecordEntry* DownloadRecord::find(const std::string& path) const {
  auto it = loaded_.find(path);
  return it == loaded_.end() ? nullptr : &it->second;
}

void DownloadRecord::remember(const std::string& path, const RecordEntry& entry) {
  complete_[path] = entry;
  const std::string line = record_line(path, entry);
  if (journal_ && ::write(journal_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    journal_.reset();  // finish() still records it
  }
}

void DownloadRecord::finish() {
  journal_.reset();
  Record out = others_;
  for (const auto& [path, e] : complete_) out[path] = e;
  write_record(path_, out);
}

size_t rebase_record(const std::string& from, const std::string& to, const std::string& old_prefix,
                     const std::string& new_prefix) {
  Record moved;
  for (const auto& [file, entry] : read_record(from)) {
    if (file.size() > old_prefix.size() && file.starts_with(old_prefix)) {
      moved[new_prefix + file.substr(old_prefix.size())] = entry;
    }
  }
  write_record(to, moved);
  return moved.size();
}

}  // namespace sluice::transfer
