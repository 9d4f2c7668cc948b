// The bwrap command line of a sandbox (bwrap_command.hpp).
#include "job/bwrap_command.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "job/bwrap_probe.hpp"
#include "job/mount_plan.hpp"
#include "job/program_lookup.hpp"
#include "job/sandbox_command.hpp"
#include "job/sandbox_paths.hpp"
#include "job/syscall_filter.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

ExecImage bwrap_image(const SandboxSpec& spec, const std::string& opt_ml, const std::vector<Bind>& binds,
                      const std::string& working_dir, BwrapFiles& files) {
  ExecImage image;
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
    files.hosts = memfd_holding(spec.etc_hosts, "the sandbox's /etc/hosts");
    image.inherit.push_back(files.hosts.get());
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
  files.args = environment_args(spec.env);
  image.inherit.insert(image.inherit.begin(), files.args.get());
  image.argv.insert(image.argv.end(), {"--args", std::to_string(kFirstInherited)});
  if (spec.restrict_syscalls) {
    files.syscall_filter = multi_tenant_syscall_filter();
    image.inherit.push_back(files.syscall_filter.get());
    image.argv.insert(image.argv.end(), {"--seccomp", std::to_string(kFirstInherited + image.inherit.size() - 1)});
  }
  for (auto& a : plan.args()) image.argv.push_back(std::move(a));
  if (spec.run_as) {
    for (auto& a : drop_privileges(*spec.run_as)) image.argv.push_back(std::move(a));
  }
  image.argv.insert(image.argv.end(), spec.argv.begin(), spec.argv.end());
  return image;
}

}  // namespace sluice::job
