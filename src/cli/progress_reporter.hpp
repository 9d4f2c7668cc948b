// Shows a transfer's progress: a live line on a terminal (bytes, objects, rate, ETA), nothing
// while running otherwise; and the closing summary (one line, or JSON with --json).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "transfer/progress.hpp"

namespace sluice::cli {

enum class OutputStyle { kHuman, kQuiet, kJson };

class ProgressReporter {
 public:
  ProgressReporter(const transfer::Progress& progress, OutputStyle style, std::string verb);
  ~ProgressReporter();
  // Stops the live line and prints the summary.
  void finish(uint64_t failed_files);
  double elapsed_seconds() const;

 private:
  void render(bool final_line);

  const transfer::Progress& progress_;
  OutputStyle style_;
  std::string verb_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  bool finished_ = false;
};

std::string human_bytes(double bytes);

}  // namespace sluice::cli
