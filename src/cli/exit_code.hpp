// The edge where error kinds become process exit codes (docs/cli.md lists them).
#pragma once

#include "core/error.hpp"

namespace sluice::cli {

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;  // the command ran, but some files failed (each is reported)
constexpr int kExitUsage = 2;       // bad flags or arguments

int exit_code_for(ErrorKind kind);

// Prints "sluice: error: <what>: <cause>" to stderr and returns the exit code.
int report(const Error& e);

}  // namespace sluice::cli
