// Running the training command to its end (run_sandboxed, sandbox.hpp): the spec checked, the
// bwrap command line (bwrap_command.cpp) or the plain command on the host, then the command
// watched: its output to the LineSink, the stop sequence (SIGTERM, SIGKILL after the grace
// period), the exit status turned into a RunResult (exit_status.cpp). Isolation is resolved in
// isolation.cpp, paths are checked and mapped in sandbox_paths.cpp.
#include "job/sandbox.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "job/bwrap_command.hpp"
#include "job/exit_status.hpp"
#include "job/line_sink.hpp"
#include "job/mount_plan.hpp"
#include "job/process_spawn.hpp"
#include "job/sandbox_command.hpp"
#include "job/sandbox_paths.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kStopPoll = std::chrono::milliseconds(100);
constexpr auto kDrainAfterExit = std::chrono::seconds(2);

}  // namespace

RunResult run_sandboxed(const SandboxSpec& spec, const std::atomic<bool>* stop_requested) {
  validate_spec(spec);
  if (stop_requested != nullptr && stop_requested->load()) {
    throw Error(ErrorKind::kCancelled, "stopped before the training command started");
  }
  const Isolation isolation = resolve_isolation(spec.isolation);
  const std::string opt_ml = absolute_host_path(spec.opt_ml_host_dir, "the /opt/ml host directory");
  if (!fs::is_directory(opt_ml)) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("{} (to be /opt/ml) is not a directory", opt_ml));
  }
  const std::vector<Bind> binds = checked_binds(spec);
  const std::string working_dir = sandbox_path(spec.working_dir, "the working directory");

  SandboxSpec resolved = spec;  // absolute host paths, for host_path()
  resolved.opt_ml_host_dir = opt_ml;
  resolved.extra_binds = binds;

  ExecImage image;
  BwrapFiles bwrap_files;  // open until bwrap has read them
  bool bwrap = isolation == Isolation::kBubblewrap;
  if (bwrap) {
    image = bwrap_image(spec, opt_ml, binds, working_dir, bwrap_files);
  } else {
    std::string host_wd = host_path(resolved, working_dir);
    std::error_code ec;
    if (!fs::is_directory(host_wd, ec) && is_under(working_dir, kOptMl)) {
      fs::create_directories(host_wd, ec);
    }
    if (!fs::is_directory(host_wd, ec)) {
      throw Error(ErrorKind::kNotFound, fmt::format("the working directory {} does not exist", host_wd));
    }
    image.path = resolve_program(spec, working_dir, [&](const std::string& p) {
      return std::optional<std::string>(host_path(resolved, p));
    });
    image.argv = spec.argv;
    image.chdir_to = host_wd;
    image.supervised = true;
    for (const auto& [k, v] : spec.env) {
      if (k != "PWD") image.envp.push_back(k + "=" + v);
    }
    image.envp.push_back("PWD=" + host_wd);
    if (spec.unshare_net) {
      log::warn("{}EnableNetworkIsolation is not enforced: running without bubblewrap", spec.log_prefix);
    }
  }

  LineSink sink(spec.log_prefix, spec.log_file);
  const auto start = Clock::now();
  Spawned child = spawn(std::move(image), bwrap);
  const pid_t pid = child.pid;

  // The process group that gets SIGTERM: the command's. Under bwrap that is the group of the
  // sandbox's pid 1 (bwrap --new-session makes it a session and group leader, the command and its
  // children inherit it; pid 1 itself ignores SIGTERM from outside), known from "child-pid".
  // bwrap itself must not get SIGTERM: it would die at once and take the sandbox with it.
  pid_t group = bwrap ? -1 : pid;
  bool reaped = false;
  bool term_sent = false;
  bool kill_sent = false;
  auto send_kill = [&] {
    if (group > 0) ::kill(-group, SIGKILL);
    ::kill(pid, SIGKILL);  // bwrap: its death kills the whole pid namespace
    kill_sent = true;
  };
  struct Guard {  // never leave the command behind, also when something below throws
    std::function<void()> on_exit;
    ~Guard() { on_exit(); }
  } guard{[&] {
    if (reaped) return;
    send_kill();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }};

  UniqueFd pidfd;
#ifdef SYS_pidfd_open
  pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#endif

  std::string json;
  bool timed_out = false;
  bool stopped_by_user = false;
  std::optional<Clock::time_point> kill_at;
  const bool has_deadline = spec.max_runtime.count() > 0;
  const auto deadline = start + spec.max_runtime;
  Clock::time_point drain_until{};
  int wstatus = 0;
  double seconds = 0;

  for (;;) {
    auto now = Clock::now();
    if (!reaped) {
      if (!kill_at) {
        bool user = stop_requested != nullptr && stop_requested->load();
        if (user || (has_deadline && now >= deadline)) {
          (user ? stopped_by_user : timed_out) = true;
          kill_at = now + spec.stop_grace;
        }
      }
      if (kill_at && !term_sent && group > 0) term_sent = ::kill(-group, SIGTERM) == 0;
      if (kill_at && !kill_sent && now >= *kill_at) send_kill();
    }

    // How long to sleep in poll().
    auto wait = std::chrono::milliseconds(-1);
    auto at_most = [&](Clock::duration d) {
      auto ms = std::max<std::chrono::milliseconds>(
          std::chrono::ceil<std::chrono::milliseconds>(d), std::chrono::milliseconds(0));
      if (wait.count() < 0 || ms < wait) wait = ms;
    };
    if (!reaped) {
      if (stop_requested != nullptr && !kill_at) at_most(kStopPoll);
      if (has_deadline && !kill_at) at_most(deadline - now);
      if (kill_at && !kill_sent) at_most(*kill_at - now);
      if (kill_at && !term_sent) at_most(std::chrono::milliseconds(10));
      if (!pidfd) at_most(std::chrono::milliseconds(50));
    } else {
      at_most(drain_until - now);
    }

    pollfd fds[3];
    nfds_t n = 0;
    if (child.output) fds[n++] = {child.output.get(), POLLIN, 0};
    if (child.status) fds[n++] = {child.status.get(), POLLIN, 0};
    if (!reaped && pidfd) fds[n++] = {pidfd.get(), POLLIN, 0};
    if (n > 0) {
      if (::poll(fds, n, static_cast<int>(wait.count())) < 0 && errno != EINTR) {
        throw errno_error(errno, "waiting for", spec.argv.front());
      }
    } else if (wait.count() > 0) {
      ::poll(nullptr, 0, static_cast<int>(wait.count()));
    }

    char buf[16384];
    while (child.output) {
      ssize_t r = ::read(child.output.get(), buf, sizeof buf);
      if (r > 0) {
        sink.feed(buf, static_cast<std::size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) break;
      child.output.reset();  // EOF: every writer is gone
    }
    while (child.status) {
      ssize_t r = ::read(child.status.get(), buf, sizeof buf);
      if (r > 0) {
        json.append(buf, static_cast<std::size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) break;
      child.status.reset();
    }
    if (bwrap && group < 0) {
      if (auto p = json_number(json, "child-pid")) group = static_cast<pid_t>(*p);
    }

    if (!reaped) {
      siginfo_t info{};
      // WNOWAIT: the process stays a zombie, so its pid (the group's id) cannot be reused while
      // we kill what it left behind.
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (!bwrap) ::kill(-pid, SIGKILL);  // background processes die with the command
        while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
        }
        reaped = true;
        drain_until = Clock::now() + kDrainAfterExit;
      }
    }
    if (reaped && !child.output && !child.status) break;
    if (reaped && Clock::now() >= drain_until) {
      log::warn("{}the training command exited but its output stays open (a process it started "
                "left its process group); no longer reading it",
                spec.log_prefix);
      break;
    }
  }
  sink.finish();

  RunResult result;
  result.isolation = isolation;
  result.timed_out = timed_out;
  result.stopped_by_user = stopped_by_user;
  result.seconds = seconds;
  auto exit_code = bwrap ? json_number(json, "exit-code") : std::nullopt;
  if (exit_code) {
    // bwrap reports a command killed by a signal as 128 + signal, as a shell does.
    result.exit_code = static_cast<int>(*exit_code);
    if (result.exit_code > 128 && result.exit_code < 128 + NSIG) result.term_signal = result.exit_code - 128;
  } else if (WIFSIGNALED(wstatus)) {
    result.term_signal = WTERMSIG(wstatus);
    result.exit_code = 128 + result.term_signal;
  } else if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
    if (bwrap) {
      // bwrap ended without reporting the command's exit: it never ran (setup or exec failed).
      const std::string& why = sink.last_bwrap_line();
      ErrorKind kind = why.find("No such file") != std::string::npos ? ErrorKind::kNotFound
                       : why.find("ermission denied") != std::string::npos ? ErrorKind::kAccessDenied
                                                                           : ErrorKind::kInternal;
      throw Error(kind,
                  fmt::format("bubblewrap could not start the training command '{}'", spec.argv.front()),
                  why.empty() ? fmt::format("bwrap exited with code {}", result.exit_code) : why);
    }
  }
  result.how = describe_run(result, kill_sent, spec.max_runtime, spec.stop_grace);
  return result;
}

}  // namespace sluice::job
