// /proc/self/mountinfo, read and unescaped (mountinfo.hpp).
#include "modes/fastfile/mountinfo.hpp"

#include <sys/sysmacros.h>

#include <charconv>
#include <fstream>
#include <system_error>
#include <vector>

namespace sluice::modes::fastfile {

namespace fs = std::filesystem;

std::string normalize_mount_path(const fs::path& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.has_parent_path() && p.filename().empty()) p = p.parent_path();
  if (p.has_parent_path() && p != p.root_path()) {
    std::error_code ec;
    fs::path parent = fs::canonical(p.parent_path(), ec);
    if (!ec) p = parent / p.filename();
  }
  return p.string();
}

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto oct = [&](size_t j) { return s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && i + 3 < s.size() && oct(i + 1) && oct(i + 2) && oct(i + 3)) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<MountEntry> parse_mountinfo_line(std::string_view line) {
  std::vector<std::string_view> f;
  std::string_view rest(line);
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    f.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  if (f.size() < 7) return std::nullopt;
  size_t dash = 6;
  while (dash < f.size() && f[dash] != "-") ++dash;
  MountEntry e;
  const std::string_view devno = f[2];
  const size_t colon = devno.find(':');
  unsigned maj = 0, min = 0;
  // Each number must be the whole of its side of the ':'.
  auto whole = [](const char* first, const char* last, unsigned& out) {
    auto [end, ec] = std::from_chars(first, last, out);
    return ec == std::errc() && end == last;
  };
  if (colon != std::string_view::npos && whole(devno.data(), devno.data() + colon, maj) &&
      whole(devno.data() + colon + 1, devno.data() + devno.size(), min)) {
    e.dev = makedev(maj, min);
  }
  e.mountpoint = unescape_mountinfo(f[4]);
  if (dash + 1 < f.size()) e.fstype = std::string(f[dash + 1]);
  if (dash + 2 < f.size()) e.source = unescape_mountinfo(f[dash + 2]);
  return e;
}

std::optional<MountEntry> find_mount(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::optional<MountEntry> found;
  std::string line;
  while (std::getline(in, line)) {
    auto e = parse_mountinfo_line(line);
    if (e && e->mountpoint == path) found = std::move(e);
  }
  return found;
}

}  // namespace sluice::modes::fastfile
