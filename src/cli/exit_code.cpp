#include "cli/exit_code.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace sluice::cli {

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return kExitUsage;
    case ErrorKind::kNotFound: return 3;
    case ErrorKind::kAccessDenied: return 4;
    case ErrorKind::kRetryable: return 5;
    case ErrorKind::kDataLoss: return 6;
    case ErrorKind::kNoSpace: return 7;
    case ErrorKind::kConflict: return 8;
    case ErrorKind::kIo: return 9;
    case ErrorKind::kCancelled: return 130;
    case ErrorKind::kInternal: return 70;
  }
  return 70;
}

int report(const Error& e) {
  fmt::print(stderr, "sluice: error: {}\n", e.what());
  return exit_code_for(e.kind());
}

}  // namespace sluice::cli
