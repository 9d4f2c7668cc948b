// A SandboxSpec's paths, checked and mapped between the sandbox and the host (sandbox_paths.hpp).
#include "job/sandbox_paths.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "job/mount_plan.hpp"

namespace sluice::job {

namespace fs = std::filesystem;

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string sandbox_path(std::string_view raw, std::string_view what) {
  if (raw.empty() || raw.front() != '/' || has_nul(raw)) {
    throw Error(ErrorKind::kInvalidInput,
                fmt::format("{} must be an absolute path inside the sandbox, got '{}'", what, raw));
  }
  std::string p = fs::path(raw).lexically_normal().string();
  if (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string absolute_host_path(const std::string& raw, std::string_view what) {
  if (raw.empty() || has_nul(raw)) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("{} is empty", what));
  }
  std::error_code ec;
  fs::path p = fs::absolute(raw, ec);
  if (ec) throw Error(ErrorKind::kInvalidInput, fmt::format("{} '{}'", what, raw), ec.message());
  std::string s = p.lexically_normal().string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  struct stat st {};
  if (::stat(s.c_str(), &st) != 0) throw errno_error(errno, std::string(what), s);
  return s;
}

void validate_spec(const SandboxSpec& spec) {
  if (spec.argv.empty()) {
    throw Error(ErrorKind::kInvalidInput,
                "no training command: ContainerEntrypoint and ContainerArguments are both empty");
  }
  for (const auto& a : spec.argv) {
    if (has_nul(a)) throw Error(ErrorKind::kInvalidInput, "a command argument contains a NUL byte");
  }
  if (spec.argv.front().empty()) throw Error(ErrorKind::kInvalidInput, "the training command is empty");
  if (has_nul(spec.etc_hosts)) throw Error(ErrorKind::kInvalidInput, "the sandbox's /etc/hosts contains a NUL byte");
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos || has_nul(name) || has_nul(value)) {
      throw Error(ErrorKind::kInvalidInput,
                  fmt::format("invalid environment variable name '{}'", name));
    }
  }
}

std::vector<Bind> checked_binds(const SandboxSpec& spec) {
  std::vector<Bind> binds;
  for (const auto& b : spec.extra_binds) {
    Bind c;
    c.sandbox_path = sandbox_path(b.sandbox_path, "a bind's sandbox path");
    c.host_path = b.fd >= 0 ? b.host_path
                            : absolute_host_path(b.host_path, fmt::format("the host path bound at {}", c.sandbox_path));
    c.read_only = b.read_only;
    c.fd = b.fd;
    if (c.sandbox_path == "/" || c.sandbox_path == kOptMl || is_under(c.sandbox_path, "/proc") ||
        is_under(c.sandbox_path, "/dev")) {
      throw Error(ErrorKind::kInvalidInput,
                  fmt::format("cannot bind {} at {}: that path belongs to the sandbox itself",
                              c.host_path, c.sandbox_path));
    }
    for (const auto& other : binds) {
      if (other.sandbox_path == c.sandbox_path) {
        throw Error(ErrorKind::kConflict,
                    fmt::format("{} and {} are both bound at {}", other.host_path, c.host_path,
                                c.sandbox_path));
      }
    }
    binds.push_back(std::move(c));
  }
  auto depth = [](const Bind& b) { return std::count(b.sandbox_path.begin(), b.sandbox_path.end(), '/'); };
  std::stable_sort(binds.begin(), binds.end(),
                   [&](const Bind& a, const Bind& b) { return depth(a) < depth(b); });
  return binds;
}

std::string host_path(const SandboxSpec& spec, std::string_view raw) {
  const std::string path = sandbox_path(raw, "a sandbox path");
  std::string best_at;
  std::string best_host;
  auto consider = [&](std::string_view at_raw, const std::string& host) {
    if (at_raw.empty() || at_raw.front() != '/') return;
    std::string at = fs::path(at_raw).lexically_normal().string();
    if (at.size() > 1 && at.back() == '/') at.pop_back();
    if (is_under(path, at) && (best_at.empty() || at.size() >= best_at.size())) {
      best_at = std::move(at);
      best_host = host;
    }
  };
  consider(kOptMl, spec.opt_ml_host_dir);
  for (const auto& b : spec.extra_binds) consider(b.sandbox_path, b.host_path);
  return best_at.empty() ? path : rebase(path, best_at, best_host);
}

}  // namespace sluice::job
