// Shared helpers for the libFuzzer targets in this directory (see README.md).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sluice::fuzz {

inline std::string_view as_text(const unsigned char* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// A broken invariant is a finding: print it and abort, so libFuzzer saves the input.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// The documented error: a kind the parser promises and a message. Anything else is a finding.
inline void expect_error(const Error& e, ErrorKind kind, const char* api) {
  if (e.kind() != kind) {
    finding(std::string(api) + " threw kind " + std::string(to_string(e.kind())) + " instead of " +
            std::string(to_string(kind)) + ": " + e.what());
  }
  if (std::string_view(e.what()).empty()) finding(std::string(api) + " threw an Error with no message");
}

// Splits at `sep` (every piece, empty ones too).
inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace sluice::fuzz
