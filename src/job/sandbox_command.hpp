// The training command as the sandbox sees it: argv[0] found as execvp would find it inside the
// sandbox, and the host directories a single-tenant command needs to see there.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "job/sandbox.hpp"

namespace sluice::job {

// Maps a sandbox path to the host path holding it (nullopt: not visible from the host, e.g. the
// sandbox's private /tmp).
using ToHost = std::function<std::optional<std::string>(const std::string&)>;

// argv[0] as execvp would find it inside the sandbox (in the PATH of spec.env, else /bin:/usr/bin;
// relative to `working_dir`), through `to_host`. Returns the host path of the program; throws
// Error(kNotFound) naming what was searched, or Error(kAccessDenied) when it is not executable.
// In a minimal root, a program under /opt/ml is looked at without following links.
std::string resolve_program(const SandboxSpec& spec, const std::string& working_dir, const ToHost& to_host);

// The host directories a single-tenant command needs (bound read-only at the same path where the
// sandbox would not show them, e.g. under its private /tmp): the directory of each absolute path
// in argv (the path itself when it is a directory), of each absolute PATH and PYTHONPATH entry of
// the environment, the VIRTUAL_ENV directory, and the directory of `host_program` (argv[0] as
// found on the host). A virtualenv's `bin` directory (its parent holds pyvenv.cfg) stands for the
// whole virtualenv: its interpreter needs pyvenv.cfg and lib/ beside it. Only paths that exist;
// sorted, so a directory comes before those below it.
std::vector<std::string> command_directories(const SandboxSpec& spec, const std::optional<std::string>& host_program);

}  // namespace sluice::job
