// Running a program to its end and keeping what it printed: the Slurm client commands `sluice
// serve` calls (sbatch, scontrol, scancel). The program gets `env` as its whole environment (none of
// this process's), stdin /dev/null, and is killed when it runs past `timeout`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sluice {

struct ProgramResult {
  int exit_code = 0;   // 128+N when killed by signal N
  bool timed_out = false;
  std::string output;  // stdout and stderr together, at most 1 MiB (the rest is dropped)
};

// Throws Error (errno's kind) when the program cannot be started (not found, not executable).
ProgramResult run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          std::chrono::milliseconds timeout);

// `name` looked up in the directories of `path` (a PATH value); empty when not found. A name with a
// '/' is returned as is.
std::string find_program(const std::string& name, const std::string& path);

}  // namespace sluice
