// The training command's output as lines: each goes to stderr and to the log file (stamped with
// the time it was written) with the host's prefix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace sluice::job {

// Splits the child's output into lines; each goes to stderr and the log file with the prefix.
class LineSink {
 public:
  LineSink(std::string prefix, const std::string& log_file);

  void feed(const char* data, std::size_t size);
  void finish();

  const std::string& last_bwrap_line() const { return last_bwrap_line_; }

 private:
  void emit(std::string_view line);

  std::string prefix_;
  UniqueFd log_;
  std::string log_name_;
  std::string pending_;
  std::string last_bwrap_line_;
};

}  // namespace sluice::job
