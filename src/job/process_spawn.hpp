// Starting the training command: fork, then only async-signal-safe calls until execve. Everything
// the child touches is built before the fork, so nothing allocates after it (the parent may have
// other threads). Used by run_sandboxed (sandbox.cpp) for bwrap, its probe and the plain command.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/unique_fd.hpp"

namespace sluice::job {

struct ExecImage {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"
  std::string chdir_to;           // empty: stay
  // Without bwrap: run the command under a supervisor process (see supervise()) so that its
  // whole process group dies with Sluice, not only the command.
  bool supervised = false;
  // Open descriptors the child inherits as fds 5, 6, ... in this order (bwrap's --args file, the
  // directories it binds with --bind-fd, the /etc/hosts data, its --seccomp filter; bwrap closes
  // each once used, so none reaches the command); needs the status fd (4).
  std::vector<int> inherit;
  int netns_fd = -1;  // joined (setns) before exec
};

inline constexpr int kFirstInherited = 5;

struct Spawned {
  pid_t pid = -1;
  UniqueFd output;  // the child's stdout and stderr, read end, non-blocking
  UniqueFd status;  // bwrap --json-status-fd (fd 4 in the child), read end, non-blocking
};

// Forks and execs `image`; a failure before the exec (the working directory, the program) is
// thrown here, as the child reports it through its stderr pipe.
Spawned spawn(ExecImage image, bool with_status_fd);

}  // namespace sluice::job
