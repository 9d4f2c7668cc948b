// Usage errors: what CLI11 refuses becomes "sluice: error: ..." on stderr and exit 2, with a
// "did you mean" for an unknown command or option; --help and --version print and exit 0.
#pragma once

#include <CLI/CLI.hpp>

namespace sluice::cli {

// Reports `e`, thrown by app.parse(), and returns the exit code.
int usage_error(CLI::App& app, const CLI::ParseError& e);

}  // namespace sluice::cli
