// The bwrap command line that runs the training command in its sandbox (run_sandboxed,
// sandbox.cpp): the sandbox's file system (MountPlan: /dev with the GPUs, /proc, private /tmp and
// /dev/shm, /opt/ml, the extra binds, /etc/hosts, the command's directories, hidden paths), its
// namespaces, the environment passed through a file, the seccomp filter, and setpriv to drop
// privileges.
#pragma once

#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "job/process_spawn.hpp"
#include "job/sandbox.hpp"

namespace sluice::job {

// Files bwrap reads through inherited fds; the caller keeps them open until bwrap has read them
// (until the command ends).
struct BwrapFiles {
  UniqueFd args;            // --args: --clearenv and --setenv for the command's environment
  UniqueFd hosts;           // --ro-bind-data: SandboxSpec::etc_hosts
  UniqueFd syscall_filter;  // --seccomp
};

// The bwrap invocation for `spec`: /opt/ml from `opt_ml` (absolute), `binds` as checked_binds()
// returns them, the command started in `working_dir` (a sandbox path). Throws Error when the
// working directory or the program does not exist in the sandbox.
ExecImage bwrap_image(const SandboxSpec& spec, const std::string& opt_ml, const std::vector<Bind>& binds,
                      const std::string& working_dir, BwrapFiles& files);

}  // namespace sluice::job
