// The job's status record, <work-dir>/<job>/status.json, shaped like DescribeTrainingJob:
// TrainingJobStatus, SecondaryStatus, SecondaryStatusTransitions (with times), FailureReason,
// ModelArtifacts.S3ModelArtifacts, and the times. Rewritten atomically on every change, so a
// reader (a person, a control plane) always sees a whole document. Thread-safe (hosts run in
// parallel).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::job {

class StatusRecord {
 public:
  // `request` is the job spec's JSON (kept in the record as DescribeTrainingJob does).
  StatusRecord(std::filesystem::path file, std::string job_name, std::string job_arn, nlohmann::json request);

  // Starts a new secondary status ("Starting", "Downloading", "Training", "Uploading", ...),
  // ending the previous one.
  void transition(const std::string& secondary_status, const std::string& message);

  void set_model_artifacts(const std::string& uri);
  void set_training_start();

  // Ends the job: "Completed", "Failed" or "Stopped" with the final secondary status
  // ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded") and, unless completed, the reason
  // (cut to 1024 characters like FailureReason). TrainingTimeInSeconds and BillableTimeInSeconds
  // are the whole seconds from TrainingStartTime to the end (none when training never started).
  void finish(const std::string& status, const std::string& secondary_status, const std::string& reason);

  nlohmann::json snapshot() const;

  // Also keeps the record in `file` (a host's own copy when hosts of one job run in separate
  // processes: `sluice train --host`), written now and on every change.
  void add_copy(std::filesystem::path file);

  // Called with the whole record after every change (a terminal showing the transitions); from
  // the thread that made the change, one call at a time.
  void set_listener(std::function<void(const nlohmann::json&)> listener);

  static std::string iso_time(std::chrono::system_clock::time_point t);

 private:
  void write_locked();

  std::filesystem::path file_;
  std::vector<std::filesystem::path> copies_;
  mutable std::mutex mu_;
  nlohmann::json doc_;
  std::function<void(const nlohmann::json&)> listener_;
  std::optional<std::chrono::system_clock::time_point> training_start_;
};

}  // namespace sluice::job
