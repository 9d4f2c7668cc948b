// How the training command ended, in words: bwrap's --json-status-fd report, the exit status, and
// RunResult::how, the one line for logs and FailureReason. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "job/sandbox.hpp"

namespace sluice::job {

// The number after "KEY": in bwrap's --json-status-fd output ("child-pid", "exit-code"); nullopt
// when it is not there (yet).
std::optional<long> json_number(const std::string& json, std::string_view key);

// "exited with code N", or "killed by signal N (SIGNAME)".
std::string describe_status(int exit_code, int term_signal);

// RunResult::how for `r` (exit_code, term_signal, timed_out, stopped_by_user): describe_status(),
// after why and how the command was stopped when it was (SIGTERM, and SIGKILL stop_grace later
// when `kill_sent`).
std::string describe_run(const RunResult& r, bool kill_sent, std::chrono::seconds max_runtime,
                         std::chrono::milliseconds stop_grace);

}  // namespace sluice::job
