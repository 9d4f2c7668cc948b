#include "job/sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "job/bwrap_probe.hpp"
#include "job/line_sink.hpp"
#include "job/mount_plan.hpp"
#include "job/process_spawn.hpp"
#include "job/program_lookup.hpp"
#include "job/syscall_filter.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kOptMl = "/opt/ml";
constexpr auto kStopPoll = std::chrono::milliseconds(100);
constexpr auto kDrainAfterExit = std::chrono::seconds(2);
constexpr const char* kDefaultExecPath = "/bin:/usr/bin";  // execvp's default without PATH

// ---------------------------------------------------------------------------------------------
// Small helpers

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// An absolute, lexically normal sandbox path, or an error naming `what`.
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

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

std::string describe_status(int exit_code, int term_signal) {
  if (term_signal != 0) return fmt::format("killed by signal {} ({})", term_signal, signal_name(term_signal));
  return fmt::format("exited with code {}", exit_code);
}

std::atomic<bool> g_warned_no_isolation{false};

// "child-pid" and "exit-code" from bwrap's --json-status-fd output.
std::optional<long> json_number(const std::string& json, std::string_view key) {
  std::string quoted = fmt::format("\"{}\"", key);
  std::size_t at = json.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  at = json.find(':', at + quoted.size());
  if (at == std::string::npos) return std::nullopt;
  ++at;
  while (at < json.size() && json[at] == ' ') ++at;
  std::size_t end = at;
  while (end < json.size() && (std::isdigit(static_cast<unsigned char>(json[end])) || json[end] == '-')) ++end;
  if (end == at) return std::nullopt;
  return std::stol(json.substr(at, end - at));
}

void validate(const SandboxSpec& spec) {
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

// Extra binds, validated, host paths absolute, parents before children.
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

// A memfd (close-on-exec: the child inherits it through ExecImage::inherit only) holding `text`,
// positioned at its start, for bwrap to read. `what` names it in errors.
UniqueFd memfd_holding(std::string_view text, const std::string& what) {
  UniqueFd fd(::memfd_create("sluice-bwrap-data", MFD_CLOEXEC));
  if (!fd) throw errno_error(errno, "creating " + what, "memfd");
  for (size_t done = 0; done < text.size();) {
    ssize_t w = ::write(fd.get(), text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw errno_error(errno, "writing " + what, "memfd");
    done += static_cast<size_t>(w);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw errno_error(errno, "rewinding " + what, "memfd");
  return fd;
}

// A memfd holding bwrap arguments that give the command exactly `env`: --clearenv, then
// --setenv NAME VALUE for each (NUL-separated, read with --args).
UniqueFd environment_args(const std::map<std::string, std::string>& env) {
  std::string text;
  auto add = [&text](std::string_view s) { text.append(s).push_back('\0'); };
  add("--clearenv");
  for (const auto& [k, v] : env) {
    add("--setenv");
    add(k);
    add(v);
  }
  return memfd_holding(text, "the sandbox's environment file");
}

// The command prefix that runs the rest as `uid` (and the same gid) with no capability left and
// no_new_privs: setpriv(1), from util-linux, exec'd by bwrap inside the sandbox.
std::vector<std::string> drop_privileges(uint32_t uid) {
  if (uid == 0) throw Error(ErrorKind::kInvalidInput, "the training command cannot run unprivileged as uid 0");
  static const std::optional<std::string> setpriv = find_in("/usr/bin:/bin", "setpriv");
  if (!setpriv) {
    throw Error(ErrorKind::kNotFound, "cannot run the training command unprivileged",
                "setpriv is missing (Debian package util-linux)");
  }
  const std::string id = std::to_string(uid);
  return {*setpriv, "--reuid=" + id, "--regid=" + id, "--clear-groups", "--inh-caps=-all",
          "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"};
}

// argv[0] as execvp would find it inside the sandbox; `to_host` maps a sandbox path to the host
// path holding it (nullopt: not visible from the host, e.g. the private /tmp). Returns the host
// path of the program.
template <typename ToHost>
std::string resolve_program(const SandboxSpec& spec, const std::string& working_dir, ToHost to_host) {
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

// The host directories a single-tenant command needs (bound read-only at the same path where the
// sandbox would not show them, e.g. under its private /tmp): the directory of each absolute path
// in argv (the path itself when it is a directory), of each absolute PATH and PYTHONPATH entry of
// the environment, the VIRTUAL_ENV directory, and the directory of `host_program` (argv[0] as
// found on the host). A virtualenv's `bin` directory (its parent holds pyvenv.cfg) stands for the
// whole virtualenv: its interpreter needs pyvenv.cfg and lib/ beside it. Only paths that exist;
// sorted, so a directory comes before those below it.
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

}  // namespace

// -----------------------------------------------------------------------------------------------

bool is_loader_variable(std::string_view name) {
  if (name.rfind("LD_", 0) == 0) return true;
  // glibc's UNSECURE_ENVVARS (sysdeps/generic/unsecvars.h): what it drops for set-uid programs.
  static constexpr std::string_view kUnsecure[] = {
      "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH",
      "MALLOC_TRACE", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR"};
  return std::find(std::begin(kUnsecure), std::end(kUnsecure), name) != std::end(kUnsecure);
}

bool is_unsafe_for_privileged_start(std::string_view name, std::string_view value) {
  const bool locale = name == "LANG" || name == "LANGUAGE" || name.rfind("LC_", 0) == 0;
  return is_loader_variable(name) || (locale && value.find('/') != std::string_view::npos);
}

std::string_view to_string(Isolation isolation) {
  switch (isolation) {
    case Isolation::kAuto: return "auto";
    case Isolation::kBubblewrap: return "bubblewrap";
    case Isolation::kNone: return "none";
  }
  return "unknown";
}

bool bubblewrap_available(std::string* why_not) {
  const Probe& p = probe();
  if (why_not != nullptr) *why_not = p.why_not;
  return p.ok;
}

Isolation resolve_isolation(Isolation requested) {
  if (requested == Isolation::kNone) return Isolation::kNone;
  std::string why;
  if (bubblewrap_available(&why)) return Isolation::kBubblewrap;
  if (requested == Isolation::kBubblewrap) {
    throw Error(ErrorKind::kInvalidInput, "bubblewrap isolation was requested but cannot run here", why);
  }
  if (!g_warned_no_isolation.exchange(true)) {
    log::warn("bubblewrap cannot run here ({}): training commands run WITHOUT isolation, directly "
              "on this machine. /opt/ml is not mounted: scripts must take their paths from the "
              "SM_* variables; read-only channels and network isolation are not enforced.",
              why);
  }
  return Isolation::kNone;
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

RunResult run_sandboxed(const SandboxSpec& spec, const std::atomic<bool>* stop_requested) {
  validate(spec);
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
  UniqueFd args_file;  // bwrap --args: the environment, open until bwrap has read it
  UniqueFd hosts_file;  // bwrap --ro-bind-data: SandboxSpec::etc_hosts
  UniqueFd syscall_filter;  // bwrap --seccomp
  bool bwrap = isolation == Isolation::kBubblewrap;
  if (bwrap) {
    MountPlan plan(spec.minimal_root);
    plan.special("--dev", "/dev");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/dev", ec)) {  // GPUs, when the host has them
      if (e.path().string().rfind("/dev/nvidia", 0) == 0) plan.dev_bind(e.path().string());
    }
    plan.shared_tmpfs("/dev/shm", spec.tmp_size);
    plan.special("--proc", "/proc");
    plan.shared_tmpfs("/tmp", spec.tmp_size);
    plan.bind(opt_ml, kOptMl, false);
    // The child's fds from kFirstInherited on: the --args file, then the directories bound by fd,
    // then the /etc/hosts file.
    int next_fd = kFirstInherited + 1;
    for (const auto& b : binds) {
      if (b.fd >= 0) image.inherit.push_back(b.fd);
      plan.bind(b.host_path, b.sandbox_path, b.read_only, b.fd >= 0 ? next_fd++ : -1);
    }
    if (!spec.etc_hosts.empty()) {  // the job's host names (algo-K), over the host's /etc/hosts
      hosts_file = memfd_holding(spec.etc_hosts, "the sandbox's /etc/hosts");
      image.inherit.push_back(hosts_file.get());
      plan.data_file(next_fd++, "/etc/hosts");
    }
    // The sandbox's /tmp is private, so a program, a script, a virtualenv or a PYTHONPATH
    // directory under /tmp (a checkout in a temporary directory, say) would vanish: each
    // directory the command needs (command_directories) that the sandbox would not show is bound
    // read-only at the same path. Never in a minimal root (multi-tenant): the spec is hostile
    // there, and a path in its command or environment could name any host file.
    if (!spec.minimal_root) {
      std::optional<std::string> program;  // argv[0] looked up in PATH as the host sees it
      if (spec.argv.front().find('/') == std::string::npos) {
        try {
          program = resolve_program(spec, working_dir, [](const std::string& p) { return std::optional<std::string>(p); });
        } catch (const Error&) {  // not on the host either: the lookup below says so
        }
      }
      for (const std::string& dir : command_directories(spec, program)) {
        if (plan.to_host(dir) || plan.mounted_at(dir) || is_under(dir, "/dev") || is_under(dir, "/proc")) continue;
        plan.bind(dir, dir, true);
      }
    }

    if (auto host_wd = plan.to_host(working_dir)) {
      if (!fs::is_directory(*host_wd, ec)) {
        if (is_under(working_dir, kOptMl)) fs::create_directories(*host_wd, ec);
        if (!fs::is_directory(*host_wd, ec)) {
          throw Error(ErrorKind::kNotFound,
                      fmt::format("the working directory {} does not exist in the sandbox", working_dir));
        }
      }
    } else if (working_dir != "/tmp") {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("the working directory {} does not exist in the sandbox (its /tmp is private)",
                              working_dir));
    }
    try {
      resolve_program(spec, working_dir, [&](const std::string& p) { return plan.to_host(p); });
    } catch (const Error& e) {
      if (!spec.minimal_root || e.kind() != ErrorKind::kNotFound) throw;
      throw Error(e.kind(), e.message(),
                  e.cause() + "; a multi-tenant job sees only the system directories (/usr, /etc, ...), its /opt/ml and its "
                  "channels: run a program of the system image, or a script from a channel or /opt/ml/code");
    }
    for (const auto& h : spec.hidden_paths) plan.hide(h);

    // A minimal root (multi-tenant) also gets its own System V IPC (shared memory, semaphores,
    // message queues): those of the host and of other jobs are out of reach.
    if (spec.minimal_root) plan.flag({"--unshare-ipc"});
    if (spec.netns_fd >= 0) {
      image.netns_fd = spec.netns_fd;
    } else if (spec.unshare_net) {
      plan.flag({"--unshare-net"});
    }
    if (!spec.hostname.empty()) plan.flag({"--unshare-uts", "--hostname", spec.hostname});
    plan.flag({"--chdir", working_dir, "--json-status-fd", "4", "--"});

    image.path = probe().bwrap;
    image.argv = {image.path};
    for (auto& f : common_bwrap_flags()) image.argv.push_back(std::move(f));
    // The job's environment reaches only the command: bwrap itself starts with an empty one (a
    // LD_PRELOAD of the spec's must not run in bwrap, as root, before the sandbox exists) and
    // reads --clearenv/--setenv from a file (fd 5) rather than its command line, which every
    // local user can read in /proc (the values may hold the job's credentials).
    args_file = environment_args(spec.env);
    image.inherit.insert(image.inherit.begin(), args_file.get());
    image.argv.insert(image.argv.end(), {"--args", std::to_string(kFirstInherited)});
    if (spec.restrict_syscalls) {
      syscall_filter = multi_tenant_syscall_filter();
      image.inherit.push_back(syscall_filter.get());
      image.argv.insert(image.argv.end(), {"--seccomp", std::to_string(kFirstInherited + image.inherit.size() - 1)});
    }
    for (auto& a : plan.args()) image.argv.push_back(std::move(a));
    if (spec.run_as) {
      for (auto& a : drop_privileges(*spec.run_as)) image.argv.push_back(std::move(a));
    }
    image.argv.insert(image.argv.end(), spec.argv.begin(), spec.argv.end());
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
  std::string how = describe_status(result.exit_code, result.term_signal);
  if (timed_out || stopped_by_user) {
    std::string why = timed_out ? fmt::format("MaxRuntimeInSeconds ({} s) reached", spec.max_runtime.count())
                                : std::string("stop requested");
    std::string sent = kill_sent ? fmt::format("SIGTERM, then SIGKILL {} ms later", spec.stop_grace.count())
                                 : std::string("SIGTERM");
    how = fmt::format("{}: sent {}; the command {}{}", why, sent, result.term_signal != 0 ? "was " : "", how);
  }
  result.how = std::move(how);
  return result;
}

}  // namespace sluice::job
