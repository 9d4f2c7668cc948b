// The local executor of `sluice serve`: each job is one `sluice train` process on this machine
// (every host of the job in it), started detached (a session of its own, stdin /dev/null, stdout
// and stderr appended to a file), so that it outlives a restart of the server, which then finds it
// again by its handle.
//
// A handle is "local:PID:START" where START is the process's start time in clock ticks since boot
// (/proc/PID/stat field 22): a pid reused by another process after the job's ended is never taken
// for the job, never signalled.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "serve/executor.hpp"

namespace sluice::serve {

class LocalExecutor : public Executor {
 public:
  // Runs launch.argv (all hosts in one process), its output appended to files/runner.log.
  std::string start(const Launch& launch) override;
  // Starts argv (argv[0] a path) and returns its handle. Throws Error when it cannot start (the
  // output file, the program: the child's exec failure is reported here, not as a dead job).
  std::string launch(const std::vector<std::string>& argv, const std::filesystem::path& output);

  // Whether the process of `handle` still runs; reaps it when it was this process's child. The
  // exit code is known only when it ended as this process's child (nullopt for a process started
  // by an earlier server, or a handle that is not valid).
  Probe probe(const std::string& handle);
  Probe probe(const std::string& handle, const std::filesystem::path&) override { return probe(handle); }

  // Sends `sig` to the process of `handle` (and its process group) if it still runs; false if not.
  bool signal(const std::string& handle, int sig);
  bool signal(const std::string& handle, const std::filesystem::path&, int sig) override { return signal(handle, sig); }
};

}  // namespace sluice::serve
