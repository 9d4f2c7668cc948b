// The stamp job/line_sink.cpp puts before each line of a host log ("2026-12-05T16:20:01.123Z"),
// for a time in milliseconds since the epoch. Header-only, for the tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace sluice::testing {

inline std::string log_stamp(std::int64_t ms) {
  std::time_t secs = ms / 1000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

}  // namespace sluice::testing
