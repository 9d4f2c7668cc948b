// What `sluice train` shows on the terminal (docs/train.md "What the terminal shows"): on a
// terminal, one line per status transition as it happens ("2026-12-05 16:20:01 Downloading -
// Downloading input data"), and a line again when a phase's message changes (sizes and times once
// it is done); at the end a summary of the job: status, FailureReason, model artifacts, times,
// where its logs and status record are. Fed with the DescribeTrainingJob-shaped record
// (job/status.hpp) after every change.
#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::cli {

class TrainReporter {
 public:
  // live: print the transitions as they happen (to `out`).
  explicit TrainReporter(bool live, std::FILE* out = stderr) : live_(live), out_(out) {}

  void update(const nlohmann::json& record);  // thread-safe
  bool has_record() const;
  nlohmann::json record() const;

  // The summary, for a job whose directory is in work_dir.
  void summary(const std::filesystem::path& work_dir) const;
  std::string summary_text(const std::filesystem::path& work_dir) const;

 private:
  mutable std::mutex mu_;
  bool live_;
  std::FILE* out_;
  nlohmann::json record_;
  size_t shown_ = 0;          // transitions printed
  std::string last_message_;  // of the last one printed
};

// Seconds from one ISO 8601 time of the record ("2026-12-05T16:20:01.123456+00:00") to another;
// negative or unparsable gives 0.
double seconds_between(const std::string& from, const std::string& to);

}  // namespace sluice::cli
