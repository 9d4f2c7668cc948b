#include "job/process_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace sluice::job {
namespace {

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw errno_error(errno, "creating a pipe", "");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

enum ChildStage : int { kStageFds = 1, kStageChdir = 2, kStageExec = 3 };

struct ChildSetup {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* chdir_to;
  int out_w;
  int err_w;
  int status_w;
  pid_t parent;
  int max_fd;
  bool supervised;
  const int* inherit;
  int inherit_count;
  int netns_fd;
};

// The supervisor of a command run without bwrap (bwrap's --die-with-parent does this for a
// sandbox): the child of Sluice, leader of the command's process group, it forks the command and
// waits. When Sluice dies (even by SIGKILL) the kernel sends it SIGHUP (PR_SET_PDEATHSIG) and it
// kills the whole group, so processes the command started die too. It ignores the SIGTERM Sluice
// sends the group when stopping (the command gets its own), and ends as the command ended: the
// same exit code, or the same signal. Returns in the command's process (to exec it). Only
// async-signal-safe calls: this runs between fork() and exec() in a threaded program.
void supervise() {
  sigset_t wait_for;
  sigemptyset(&wait_for);
  for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) sigaddset(&wait_for, sig);
  ::sigprocmask(SIG_BLOCK, &wait_for, nullptr);
  const pid_t supervisor = ::getpid();
  pid_t command = ::fork();
  if (command < 0) return;  // cannot supervise: run the command here, as before
  if (command == 0) {
    // The command: dies if the supervisor does; signals as they were.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != supervisor) ::_exit(127);
    ::sigprocmask(SIG_UNBLOCK, &wait_for, nullptr);
    return;
  }
  // Hold none of the command's pipes: Sluice must see EOF when the command's side closes.
  for (int fd = 0; fd < 5; ++fd) ::close(fd);
  ::prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0);
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&wait_for, &info);
    if (sig == SIGHUP) {
      ::kill(0, SIGKILL);  // the whole group, this process included
      ::_exit(137);
    }
    if (sig != SIGCHLD) continue;  // SIGTERM/SIGINT: meant for the command, which got its own
    int status = 0;
    pid_t r = ::waitpid(command, &status, WNOHANG);
    if (r != command) continue;
    if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
    const int term = WTERMSIG(status);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(term, &dfl, nullptr);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, term);
    ::sigprocmask(SIG_UNBLOCK, &just, nullptr);
    ::kill(supervisor, term);
    ::_exit(128 + term);  // a signal whose default is not to terminate
  }
}

[[noreturn]] void child_after_fork(const ChildSetup& s) {
  int err = s.err_w;
  auto fail = [&err](int stage) {
    int report[2] = {stage, errno};
    ssize_t ignored = ::write(err, report, sizeof report);
    (void)ignored;
    ::_exit(127);
  };
  // Signal dispositions back to default (Sluice ignores SIGPIPE; a shell pipeline in the training
  // script must not inherit that), then unblock everything the parent blocked around fork().
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (s.netns_fd >= 0 && ::setns(s.netns_fd, CLONE_NEWNET) != 0) fail(kStageFds);
  // Own session and process group: terminal signals (Ctrl-C) do not reach the command directly,
  // Sluice decides (SIGTERM, grace, SIGKILL); no controlling terminal to inject input into.
  ::setsid();
  // If the thread that started us goes away, so do we (bwrap carries it on with --die-with-parent).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail(kStageFds);
  if (::getppid() != s.parent) ::_exit(127);

  // Move the pipes and inherited fds above every target number first so that the dup2() below
  // cannot clobber one of them.
  const int above = kFirstInherited + s.inherit_count + 5;
  int e = ::fcntl(err, F_DUPFD_CLOEXEC, above);
  if (e < 0) fail(kStageFds);
  err = e;
  int out = ::fcntl(s.out_w, F_DUPFD_CLOEXEC, above);
  int status = s.status_w >= 0 ? ::fcntl(s.status_w, F_DUPFD_CLOEXEC, above) : -1;
  int moved[64];
  if (s.inherit_count > 64) fail(kStageFds);
  for (int i = 0; i < s.inherit_count; ++i) {
    moved[i] = ::fcntl(s.inherit[i], F_DUPFD_CLOEXEC, above);
    if (moved[i] < 0) fail(kStageFds);
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || null_fd < 0 || (s.status_w >= 0 && status < 0)) fail(kStageFds);
  if (::dup2(null_fd, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) fail(kStageFds);
  if (::dup2(err, 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) != 0) fail(kStageFds);
  err = 3;
  if (status >= 0 && ::dup2(status, 4) < 0) fail(kStageFds);  // dup2 clears close-on-exec
  for (int i = 0; i < s.inherit_count; ++i) {
    if (::dup2(moved[i], kFirstInherited + i) < 0) fail(kStageFds);
  }
  const unsigned first_closed = static_cast<unsigned>(status >= 0 ? kFirstInherited + s.inherit_count : 4);
  if (::close_range(first_closed, ~0U, 0) != 0) {
    for (int fd = static_cast<int>(first_closed); fd < s.max_fd; ++fd) ::close(fd);
  }
  if (s.chdir_to != nullptr && ::chdir(s.chdir_to) != 0) fail(kStageChdir);
  if (s.supervised) supervise();
  ::execve(s.path, s.argv, s.envp);
  fail(kStageExec);
  ::_exit(127);  // not reached
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Spawned spawn(ExecImage image, bool with_status_fd) {
  auto [out_r, out_w] = make_pipe();
  auto [err_r, err_w] = make_pipe();
  UniqueFd status_r, status_w;
  if (with_status_fd) std::tie(status_r, status_w) = make_pipe();

  std::vector<char*> argv = c_strings(image.argv);
  std::vector<char*> envp = c_strings(image.envp);
  struct rlimit rl {};
  int max_fd = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    max_fd = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20));
  }
  ChildSetup setup{image.path.c_str(), argv.data(), envp.data(),
                   image.chdir_to.empty() ? nullptr : image.chdir_to.c_str(),
                   out_w.get(), err_w.get(), status_w.get(), ::getpid(), max_fd, image.supervised,
                   image.inherit.data(), static_cast<int>(image.inherit.size()), image.netns_fd};

  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) child_after_fork(setup);
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw errno_error(fork_errno, "starting", image.argv.front());

  out_w.reset();
  err_w.reset();
  status_w.reset();
  int report[2] = {0, 0};
  std::size_t got = 0;
  while (got < sizeof report) {
    ssize_t n = ::read(err_r.get(), reinterpret_cast<char*>(report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int err = report[1];
    switch (report[0]) {
      case kStageChdir:
        throw errno_error(err, "entering the working directory", image.chdir_to);
      case kStageExec: {
        std::string cause = std::strerror(err);
        if (err == ENOENT) cause += " (a script's #! interpreter may be missing)";
        if (err == ENOEXEC) cause += " (not a binary, and a script needs a #! line)";
        ErrorKind kind = err == ENOENT ? ErrorKind::kNotFound
                         : (err == EACCES || err == EPERM) ? ErrorKind::kAccessDenied
                                                           : ErrorKind::kIo;
        throw Error(kind, fmt::format("cannot run the training command '{}'", image.argv.front()),
                    cause);
      }
      default:
        throw errno_error(err, "setting up the process for", image.argv.front());
    }
  }
  ::fcntl(out_r.get(), F_SETFL, ::fcntl(out_r.get(), F_GETFL) | O_NONBLOCK);
  if (status_r) ::fcntl(status_r.get(), F_SETFL, ::fcntl(status_r.get(), F_GETFL) | O_NONBLOCK);
  return Spawned{pid, std::move(out_r), std::move(status_r)};
}

}  // namespace sluice::job
