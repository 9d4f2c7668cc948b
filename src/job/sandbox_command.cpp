// The training command's program and the host directories it needs (sandbox_command.hpp).
#include "job/sandbox_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "job/mount_plan.hpp"
#include "job/program_lookup.hpp"
#include "job/sandbox_paths.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultExecPath = "/bin:/usr/bin";  // execvp's default without PATH

}  // namespace

std::string resolve_program(const SandboxSpec& spec, const std::string& working_dir, const ToHost& to_host) {
  const std::string& name = spec.argv.front();
  std::vector<std::string> candidates;
  std::string searched;
  if (name.find('/') != std::string::npos) {
    candidates.push_back(name.front() == '/' ? sandbox_path(name, "the command")
                                             : sandbox_path(working_dir + "/" + name, "the command"));
  } else {
    auto it = spec.env.find("PATH");
    std::string_view list = it != spec.env.end() ? std::string_view(it->second) : kDefaultExecPath;
    searched = fmt::format(" (searched PATH={})", list);
    for (std::string dir : list_entries(list)) {
      if (dir.empty() || dir.front() != '/') dir = working_dir + (dir.empty() ? "" : "/" + dir);
      candidates.push_back(fs::path(dir + "/" + name).lexically_normal().string());
    }
  }
  bool not_executable = false;
  std::string hint;
  for (const auto& c : candidates) {
    auto host = to_host(c);
    struct stat st {};
    if (host && spec.minimal_root && is_under(c, kOptMl)) {
      // The job's own tree, where its code may have put links: looked at below the /opt/ml host
      // directory without following any (a link's target means something only inside the
      // sandbox, and must not be probed on the host with Sluice's privileges). A link or a
      // regular file is taken; exec inside the sandbox has the last word.
      std::string rel = c.substr(std::string_view(kOptMl).size());
      while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
      UniqueFd root(::open(spec.opt_ml_host_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      UniqueFd found(root ? beneath::open_at(root.get(), rel, O_PATH | O_NOFOLLOW) : -1);
      if (found && ::fstat(found.get(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) return *host;
      if (!found && errno == ELOOP) return *host;
      continue;
    }
    if (!host) {
      if (is_under(c, "/tmp") && ::stat(c.c_str(), &st) == 0) {
        hint = fmt::format("; {} exists on the host, but the sandbox has its own empty /tmp", c);
      }
      continue;
    }
    if (::stat(host->c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    if (::access(host->c_str(), X_OK) == 0) return *host;
    not_executable = true;
  }
  if (not_executable) {
    throw Error(ErrorKind::kAccessDenied,
                fmt::format("the training command '{}' is not executable", name), "chmod +x it");
  }
  throw Error(ErrorKind::kNotFound, fmt::format("training command not found: '{}'", name),
              fmt::format("no such executable file{}{}", searched, hint));
}

std::vector<std::string> command_directories(const SandboxSpec& spec, const std::optional<std::string>& host_program) {
  std::vector<std::string> dirs;
  auto add = [&dirs](const std::string& raw) {
    if (raw.empty() || raw.front() != '/' || has_nul(raw)) return;
    std::string path = fs::path(raw).lexically_normal().string();
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return;
    fs::path dir = fs::is_directory(st) ? fs::path(path) : fs::path(path).parent_path();
    if (dir.filename() == "bin" && fs::exists(dir.parent_path() / "pyvenv.cfg", ec)) dir = dir.parent_path();
    dirs.push_back(dir.string());
  };
  for (const auto& arg : spec.argv) add(arg);
  for (const char* list : {"PATH", "PYTHONPATH"}) {
    if (auto it = spec.env.find(list); it != spec.env.end()) {
      for (const auto& entry : list_entries(it->second)) add(entry);
    }
  }
  if (auto it = spec.env.find("VIRTUAL_ENV"); it != spec.env.end()) add(it->second);
  if (host_program) add(*host_program);
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  return dirs;
}

}  // namespace sluice::job
