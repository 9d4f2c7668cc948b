#include "serve/local_executor.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace sluice::serve {
namespace {

struct Pid {
  pid_t pid = 0;
  unsigned long long start = 0;
};

std::optional<Pid> parse_handle(const std::string& handle) {
  Pid p;
  long long pid = 0;
  int used = 0;
  if (std::sscanf(handle.c_str(), "local:%lld:%llu%n", &pid, &p.start, &used) != 2 ||
      used != static_cast<int>(handle.size()) || pid <= 1) {
    return std::nullopt;
  }
  p.pid = static_cast<pid_t>(pid);
  return p;
}

// The process's state letter and start time (clock ticks since boot), from /proc/PID/stat.
std::optional<std::pair<char, unsigned long long>> stat_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // the command name may hold spaces and ')'
  if (close == std::string::npos || close + 2 > text.size()) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  char state = 0;
  fields >> state;  // field 3
  std::string skip;
  for (int field = 4; field < 22; ++field) fields >> skip;
  unsigned long long start = 0;
  fields >> start;  // field 22
  if (!fields) return std::nullopt;
  return std::make_pair(state, start);
}

// Whether the process of `p` is there (not a zombie) and is the one the handle names.
bool is_running(const Pid& p) {
  auto st = stat_of(p.pid);
  return st && st->second == p.start && st->first != 'Z' && st->first != 'X';
}

}  // namespace

std::string LocalExecutor::launch(const std::vector<std::string>& argv, const std::filesystem::path& output) {
  if (argv.empty()) throw Error(ErrorKind::kInvalidInput, "starting a job", "no command");
  UniqueFd out(::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) throw errno_error(errno, "opening the job's output file", output.string());
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) throw errno_error(errno, "opening /dev/null", "/dev/null");
  int report[2];  // the child writes its errno here when the exec fails; closed by a good exec
  if (::pipe2(report, O_CLOEXEC) != 0) throw errno_error(errno, "starting a job", "pipe");
  UniqueFd report_read(report[0]), report_write(report[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw errno_error(errno, "starting a job", "fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here to the exec.
    ::setsid();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(null.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(out.get(), 2) < 0) {
      int e = errno;
      (void)!::write(report_write.get(), &e, sizeof e);
      ::_exit(127);
    }
    ::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
    ::execv(args[0], args.data());
    int e = errno;
    (void)!::write(report_write.get(), &e, sizeof e);
    ::_exit(127);
  }
  report_write.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) {
    ::waitpid(pid, nullptr, 0);
    throw errno_error(child_errno, "starting the job's process", argv[0]);
  }
  auto st = stat_of(pid);
  if (!st) throw Error(ErrorKind::kInternal, "starting a job", fmt::format("process {} is not in /proc", pid));
  return fmt::format("local:{}:{}", pid, st->second);
}

std::string LocalExecutor::start(const Launch& launch) { return this->launch(launch.argv, launch.files / "runner.log"); }

Probe LocalExecutor::probe(const std::string& handle) {
  Probe probe;
  auto p = parse_handle(handle);
  if (!p) return probe;
  int status = 0;
  const pid_t r = ::waitpid(p->pid, &status, WNOHANG);
  if (r == p->pid) {
    probe.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return probe;
  }
  probe.running = is_running(*p);
  return probe;
}

bool LocalExecutor::signal(const std::string& handle, int sig) {
  auto p = parse_handle(handle);
  if (!p || !is_running(*p)) return false;
  // The job's process leads its own session and process group (setsid at launch).
  if (::kill(-p->pid, sig) != 0 && ::kill(p->pid, sig) != 0) return false;
  return true;
}

}  // namespace sluice::serve
