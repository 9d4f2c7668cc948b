// The training command's process: run under bubblewrap with the job's directory bound at /opt/ml
// (or, where bwrap cannot run, directly on the host), its output streamed line by line with a host
// prefix to stderr and a log file, stopped SageMaker's way (SIGTERM, SIGKILL after a grace period)
// at MaxRuntimeInSeconds or on request. See docs/sandbox.md.
//
// Thread-safe: several sandboxes may run at once from different threads. The only process-wide
// state is the cached bwrap probe and the flag that makes the "no isolation" warning appear once.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::job {

enum class Isolation {
  kAuto,        // bubblewrap when it can run here, otherwise kNone (with a warning, once)
  kBubblewrap,  // bubblewrap or an error
  kNone,        // run directly on the host: no /opt/ml mount, paths come from the SM_* variables
};

std::string_view to_string(Isolation isolation);  // "auto", "bubblewrap", "none"

// A host path made visible inside the sandbox. With Isolation::kNone nothing is mounted: the
// caller points the process at host_path itself (see host_path() below).
struct Bind {
  std::string host_path;     // must exist: a directory or a file
  std::string sandbox_path;  // absolute, e.g. /opt/ml/input/data/<channel>
  bool read_only = true;     // a write through a read-only bind fails with EROFS
  // When >= 0 (bwrap only): this open directory is what gets bound (bwrap --bind-fd), so exactly
  // what the caller opened and authorized is mounted, whatever host_path points to by then
  // (host_path then only names it). The caller keeps it open until run_sandboxed returns.
  int fd = -1;
};

struct SandboxSpec {
  // The command: ContainerEntrypoint + ContainerArguments. argv[0] is looked up in the PATH of
  // `env` (or /bin:/usr/bin without one), as seen inside the sandbox.
  std::vector<std::string> argv;
  // The child's complete environment: nothing of Sluice's own is inherited. PWD is added, set to
  // the working directory (bwrap always does; kNone does the same).
  std::map<std::string, std::string> env;
  // Host directory bound read-write at /opt/ml. Must exist.
  std::string opt_ml_host_dir;
  // Further binds, mounted after /opt/ml (parents before children whatever the order here).
  std::vector<Bind> extra_binds;
  // The working directory, as seen inside the sandbox. /opt/ml/code is where the SageMaker
  // training toolkit runs a script-mode entry point (SAGEMAKER_SUBMIT_DIRECTORY); it is created
  // in opt_ml_host_dir when missing. Relative paths in argv resolve from here.
  std::string working_dir = "/opt/ml/code";
  // With bwrap and not empty: the sandbox gets its own UTS namespace with this host name ("algo-1").
  std::string hostname;
  // With bwrap and not empty: the command's /etc/hosts is a read-only file (mode 0644) holding
  // exactly this text, so that the job's host names resolve ("127.0.1.2 algo-2"), in a normal
  // and in a minimal root alike; the host's /etc/hosts is not touched. Without bwrap the host's
  // /etc/hosts is what the command reads.
  std::string etc_hosts;
  // EnableNetworkIsolation: a network namespace with loopback only (bwrap only).
  bool unshare_net = false;
  // When >= 0 (bwrap only): the sandbox joins this network namespace (job/private_network.hpp)
  // instead of the host's; unshare_net is then not needed.
  int netns_fd = -1;
  // MaxRuntimeInSeconds; zero means no limit.
  std::chrono::seconds max_runtime{0};
  // Time between SIGTERM and SIGKILL when stopping (SageMaker: 120 s).
  std::chrono::milliseconds stop_grace{120000};
  // Put before every output line, e.g. "[algo-1] ".
  std::string log_prefix;
  // When not empty, every output line (with its prefix) is also appended here, after the UTC time
  // it was written ("2026-12-05T16:20:01.123Z [algo-1] ...").
  std::string log_file;
  Isolation isolation = Isolation::kAuto;
  // Multi-tenant jobs (bwrap only): a System V IPC namespace of its own, and instead of the whole
  // host root read-only, the sandbox sees only the system directories a program needs (/usr, /etc
  // and the /bin, /sbin, /lib* links or directories), its /opt/ml and extra binds, private /tmp,
  // /dev and /proc. Home directories, /root, /srv, /var, /work, every other job's directory and
  // any host path the spec names are absent.
  // Not in a minimal root (single-tenant, bwrap only), the host directories the command needs
  // that the private /tmp would hide are bound read-only at the same path: the directories of
  // absolute paths in argv, of the PATH and PYTHONPATH entries of `env`, VIRTUAL_ENV, and the
  // whole virtualenv argv[0] is found in (a `bin` directory whose parent holds pyvenv.cfg). A
  // minimal root binds none of them: its spec is hostile, and a path could name any host file.
  bool minimal_root = false;
  // Paths covered inside the sandbox when they are visible there (bwrap only): a file by an empty
  // read-only file, a directory by an empty tmpfs. For secrets such as the IAM configuration and
  // ~/.aws, whatever tree they are in.
  std::vector<std::string> hidden_paths;
  // Multi-tenant jobs (bwrap only): the command runs as this uid and gid (never 0) with every
  // capability dropped (bounding, inheritable and ambient sets empty) and no_new_privs, through
  // setpriv(1) inside the sandbox; the sandbox's /tmp and /dev/shm are writable by it. Without
  // it the command runs as the caller (root keeps Docker's default capabilities).
  std::optional<uint32_t> run_as;
  // Size of the sandbox's private /tmp and /dev/shm (each a tmpfs), in bytes; 0: the kernel's
  // default (half of RAM).
  uint64_t tmp_size = 0;
  // Multi-tenant jobs (bwrap only): the command runs under job/syscall_filter.hpp's seccomp filter
  // (no new user namespaces, no keyring, bpf, io_uring, ...).
  bool restrict_syscalls = false;
};

// Environment variables that change how a program is loaded or linked (LD_PRELOAD and every other
// LD_*, glibc's list of variables it drops for set-uid programs: GCONV_PATH, LOCPATH, ...). In a
// multi-tenant job the spec may not set them (job/runner.cpp refuses it).
bool is_loader_variable(std::string_view name);

// A variable setpriv (which starts the command with the job's environment and still holds its
// capabilities) must not see in a multi-tenant job: a loader variable, or a locale variable
// (LANG, LANGUAGE, LC_*) whose value names a path (holds a '/'), which glibc and gettext would read
// locale or message files from (files the training code may have written in an earlier run).
bool is_unsafe_for_privileged_start(std::string_view name, std::string_view value);

struct RunResult {
  int exit_code = 0;          // as a shell reports it: the exit status, or 128 + signal
  int term_signal = 0;        // the signal that ended the command, 0 when it exited
  bool timed_out = false;     // stopped because max_runtime passed
  bool stopped_by_user = false;  // stopped because *stop_requested became true
  std::string how;            // one line for logs and FailureReason, e.g. "exited with code 3"
  double seconds = 0;         // wall time from start to exit
  Isolation isolation = Isolation::kNone;  // what was actually used
};

// What `requested` means on this machine: kAuto becomes kBubblewrap when `bwrap` is found and a
// probe sandbox runs, else kNone (logging a warning the first time in the process); kBubblewrap
// throws sluice::Error when bwrap cannot run; kNone stays. Call it before building the
// environment: with kNone, values that name /opt/ml paths must be host paths (host_path()).
Isolation resolve_isolation(Isolation requested);

// Whether bwrap can run here, and if not why (cached after the first call). bwrap is looked up in
// PATH, then /usr/bin and /bin; the environment variable SLUICE_BWRAP names another one.
bool bubblewrap_available(std::string* why_not = nullptr);

// The host path behind `sandbox_path`: under /opt/ml it is inside opt_ml_host_dir, under an extra
// bind inside its host_path (the deepest bind wins); any other path is the same on the host.
std::string host_path(const SandboxSpec& spec, std::string_view sandbox_path);

// Runs the command to its end and reports how it ended. Throws sluice::Error, before anything
// runs, for a command that cannot be found or executed (naming it), a spec that is invalid, or a
// log file that cannot be opened; and, after, when bwrap itself fails to set the sandbox up.
// Stop sequence (max_runtime reached, or *stop_requested set, checked every 100 ms): SIGTERM to
// the command's process group, SIGKILL to everything stop_grace later. When the command exits,
// whatever it left running is killed. If the calling thread dies, the command dies with it.
RunResult run_sandboxed(const SandboxSpec& spec, const std::atomic<bool>* stop_requested = nullptr);

}  // namespace sluice::job
