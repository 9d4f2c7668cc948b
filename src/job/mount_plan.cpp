#include "job/mount_plan.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sluice::job {

namespace fs = std::filesystem;

// `path` is `dir` or below it, comparing whole components ("/opt/mlx" is not under "/opt/ml").
bool is_under(std::string_view path, std::string_view dir) {
  if (dir == "/") return !path.empty() && path.front() == '/';
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

// `path` (under `from`) moved to the same place under `to`.
std::string rebase(std::string_view path, std::string_view from, std::string_view to) {
  std::string_view rest = from == "/" ? path.substr(1) : path.substr(from.size());
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  if (rest.empty()) return std::string(to);
  std::string out(to);
  if (out.empty() || out.back() != '/') out += '/';
  out += rest;
  return out;
}

MountPlan::MountPlan(bool minimal) {
  if (!minimal) {
    table_.push_back({"/", "/", Kind::kHost, false, true});
    return;
  }
  minimal_ = true;
  table_.push_back({"/", "", Kind::kFresh, true, false});
  for (const char* dir : {"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    struct stat st {};
    if (::lstat(dir, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 256, '\0');
      ssize_t n = ::readlink(dir, target.data(), target.size());
      if (n <= 0) continue;
      target.resize(static_cast<std::size_t>(n));
      root_.insert(root_.end(), {"--symlink", target, dir});
      links_.emplace_back(dir, target.front() == '/' ? target : "/" + target);
    } else if (S_ISDIR(st.st_mode)) {
      root_.insert(root_.end(), {"--ro-bind", dir, dir});
      table_.push_back({dir, dir, Kind::kHost, false, false});
    }
  }
}

void MountPlan::hide(const std::string& path) {
  auto host = to_host(path);
  if (!host) return;  // on a private tmpfs: nothing of the host there
  struct stat st {};
  if (::stat(host->c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    hidden_.insert(hidden_.end(), {"--tmpfs", path});
  } else {
    hidden_.insert(hidden_.end(), {"--ro-bind", "/dev/null", path});
  }
}

void MountPlan::special(std::string_view flag, const std::string& at) {
  ensure_mount_point(at);
  body_.insert(body_.end(), {std::string(flag), at});
  table_.push_back({at, "", flag == "--proc" ? Kind::kProc : Kind::kFresh, true, false});
}

void MountPlan::dev_bind(const std::string& path) {
  body_.insert(body_.end(), {"--dev-bind", path, path});
  table_.push_back({path, path, Kind::kHost, true, false});
}

void MountPlan::bind(const std::string& host, const std::string& at, bool read_only, int fd_number) {
  ensure_mount_point(at);
  if (fd_number >= 0) {
    body_.insert(body_.end(), {read_only ? "--ro-bind-fd" : "--bind-fd", std::to_string(fd_number), at});
  } else {
    body_.insert(body_.end(), {read_only ? "--ro-bind" : "--bind", host, at});
  }
  table_.push_back({at, host, Kind::kHost, !read_only, false});
}

void MountPlan::data_file(int fd_number, const std::string& at) {
  ensure_mount_point(at);
  body_.insert(body_.end(), {"--perms", "0644", "--ro-bind-data", std::to_string(fd_number), at});
  table_.push_back({at, "", Kind::kFresh, false, false});
}

void MountPlan::shared_tmpfs(const std::string& at, uint64_t size) {
  ensure_mount_point(at);
  body_.insert(body_.end(), {"--perms", "1777"});
  if (size > 0) body_.insert(body_.end(), {"--size", std::to_string(size)});
  body_.insert(body_.end(), {"--tmpfs", at});
  table_.push_back({at, "", Kind::kFresh, true, false});
}

void MountPlan::flag(std::initializer_list<std::string> args) { tail_.insert(tail_.end(), args); }

std::optional<std::string> MountPlan::to_host(const std::string& raw) const {
  std::string path = raw;
  for (const auto& [link, target] : links_) {  // /bin/sh -> /usr/bin/sh on a minimal root
    if (is_under(path, link)) path = rebase(path, link, target);
  }
  const Entry& m = covering(path);
  switch (m.kind) {
    case Kind::kHost: return rebase(path, m.at, m.host);
    case Kind::kShadow: return path;
    case Kind::kProc: return path;
    case Kind::kFresh: return std::nullopt;
  }
  return std::nullopt;
}

bool MountPlan::mounted_at(const std::string& path) const {
  return std::any_of(table_.begin(), table_.end(), [&](const Entry& e) { return e.at == path; });
}

std::vector<std::string> MountPlan::args() const {
  std::vector<std::string> out;
  if (minimal_ || root_shadowed_) {
    out.insert(out.end(), root_.begin(), root_.end());
  } else {
    out.insert(out.end(), {"--ro-bind", "/", "/"});
  }
  out.insert(out.end(), body_.begin(), body_.end());
  for (const auto& s : shadows_) out.insert(out.end(), {"--remount-ro", s});
  out.insert(out.end(), hidden_.begin(), hidden_.end());
  out.insert(out.end(), tail_.begin(), tail_.end());
  return out;
}

const MountPlan::Entry& MountPlan::covering(const std::string& path) const {
  const Entry* best = &table_.front();
  for (const auto& e : table_) {
    if (is_under(path, e.at) && e.at.size() >= best->at.size()) best = &e;
  }
  return *best;
}

bool MountPlan::exists(const std::string& path) const {
  for (const auto& e : table_) {
    if (is_under(e.at, path)) return true;  // a mount point, or a directory above one
  }
  auto host = to_host(path);
  struct stat st {};
  return host && ::lstat(host->c_str(), &st) == 0;
}

void MountPlan::ensure_mount_point(const std::string& at) {
  if (exists(at)) return;
  fs::path parent = fs::path(at).parent_path();
  while (!exists(parent.string())) parent = parent.parent_path();
  const std::string dir = parent.string();
  const Entry& m = covering(dir);
  if (m.kind == Kind::kFresh && minimal_ && m.at == "/") {
    // bwrap would make the missing parents 0700, closing them to an unprivileged command:
    // make each one 0755 first.
    std::vector<std::string> missing;
    for (fs::path p = fs::path(at).parent_path(); p.string() != dir && p.has_relative_path(); p = p.parent_path()) {
      missing.push_back(p.string());
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      body_.insert(body_.end(), {"--perms", "0755", "--dir", *it});
      table_.push_back({*it, "", Kind::kFresh, true, false});
    }
    return;
  }
  if (m.kind == Kind::kFresh || m.kind == Kind::kShadow || m.writable) return;  // mkdir works
  if (m.kind == Kind::kProc || !m.host_root) {
    throw Error(ErrorKind::kInvalidInput,
                fmt::format("cannot mount at {}: {} is read-only inside the sandbox", at, dir));
  }
  shadow(dir);
}

void MountPlan::shadow(const std::string& dir) {
  std::vector<std::string>& out = dir == "/" ? root_ : body_;
  if (dir == "/") {
    root_shadowed_ = true;
    table_.front().kind = Kind::kShadow;
  } else {
    out.insert(out.end(), {"--tmpfs", dir});
    table_.push_back({dir, dir, Kind::kShadow, true, false});
  }
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name == "." || name == "..") continue;
      if (dir == "/" && (name == "dev" || name == "proc" || name == "tmp")) continue;
      names.push_back(std::move(name));
    }
    ::closedir(d);
  } else {
    throw errno_error(errno, "listing", dir);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string path = dir == "/" ? "/" + name : dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 256, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n <= 0) continue;
      target.resize(static_cast<std::size_t>(n));
      out.insert(out.end(), {"--symlink", target, path});
    } else {
      out.insert(out.end(), {"--ro-bind", path, path});
      table_.push_back({path, path, Kind::kHost, false, true});
    }
  }
  shadows_.push_back(dir);
}

}  // namespace sluice::job
