#include "job/bwrap_probe.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "job/process_spawn.hpp"
#include "job/program_lookup.hpp"

namespace sluice::job {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> capability_flags() {
  if (::geteuid() != 0) return {};  // unprivileged bwrap drops every capability anyway
  // Root keeps Docker's default set (what a SageMaker training container gets), never
  // CAP_SYS_ADMIN: the training command cannot remount the read-only host root.
  static const std::pair<int, const char*> kDockerDefault[] = {
      {0, "CAP_CHOWN"},     {1, "CAP_DAC_OVERRIDE"}, {3, "CAP_FOWNER"},
      {4, "CAP_FSETID"},    {5, "CAP_KILL"},         {6, "CAP_SETGID"},
      {7, "CAP_SETUID"},    {8, "CAP_SETPCAP"},      {10, "CAP_NET_BIND_SERVICE"},
      {13, "CAP_NET_RAW"},  {18, "CAP_SYS_CHROOT"},  {27, "CAP_MKNOD"},
      {29, "CAP_AUDIT_WRITE"}, {31, "CAP_SETFCAP"}};
  unsigned long long permitted = ~0ULL;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapPrm:", 0) == 0) permitted = std::stoull(line.substr(7), nullptr, 16);
  }
  std::vector<std::string> flags{"--cap-drop", "ALL"};
  for (const auto& [bit, name] : kDockerDefault) {
    if (permitted & (1ULL << bit)) {
      flags.push_back("--cap-add");
      flags.push_back(name);
    }
  }
  return flags;
}

Probe run_probe() {
  Probe probe;
  if (const char* chosen = std::getenv("SLUICE_BWRAP"); chosen != nullptr && *chosen != '\0') {
    if (::access(chosen, X_OK) != 0) {
      probe.why_not = fmt::format("SLUICE_BWRAP={} is not an executable file", chosen);
      return probe;
    }
    probe.bwrap = chosen;
  } else {
    const char* path_env = std::getenv("PATH");
    auto found = find_in(path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin", "bwrap");
    if (!found) found = find_in("/usr/bin:/bin", "bwrap");
    if (!found) {
      probe.why_not = "bwrap is not installed (Debian package bubblewrap)";
      return probe;
    }
    probe.bwrap = *found;
  }
  ExecImage image;
  image.path = probe.bwrap;
  image.argv = {probe.bwrap};
  for (auto& f : common_bwrap_flags()) image.argv.push_back(std::move(f));
  for (const char* a : {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"}) {
    image.argv.emplace_back(a);
  }
  image.envp = {"PATH=/usr/bin:/bin"};
  try {
    Spawned child = spawn(image, false);
    std::string output;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (child.output) {
      pollfd pfd{child.output.get(), POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        ::kill(child.pid, SIGKILL);  // not reaped yet, so the pid is still ours
        break;
      }
      int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno != EINTR) {
        ::kill(child.pid, SIGKILL);
        break;
      }
      if (r <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(child.output.get(), buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) child.output.reset();
      if (n > 0 && output.size() < 4096) output.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    // Killed by us after the deadline counts as a failure too.
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      probe.ok = true;
      return probe;
    }
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    probe.why_not = output.empty() ? fmt::format("'{} ... true' failed", probe.bwrap)
                                   : fmt::format("{}", output.substr(0, output.find('\n')));
  } catch (const std::exception& e) {
    probe.why_not = e.what();
  }
  return probe;
}

}  // namespace

std::vector<std::string> common_bwrap_flags() {
  std::vector<std::string> flags{"--unshare-pid", "--die-with-parent", "--new-session"};
  for (auto& f : capability_flags()) flags.push_back(std::move(f));
  return flags;
}

const Probe& probe() {
  static const Probe cached = run_probe();  // thread-safe initialisation, once per process
  return cached;
}

}  // namespace sluice::job
