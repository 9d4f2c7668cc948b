// DescribeTrainingJob's and ListTrainingJobs' answers, as the botocore model shapes them, from a
// job's record (serve/job_records.hpp) and the status record its runner writes
// (<work-dir>/<job>/status.json, job/status.hpp); and what a status record changes in the job's
// record. Pure functions.
//
// Times: the status record writes ISO 8601; the JSON 1.1 protocol sends seconds since the epoch
// (botocore reads numbers), so every time is converted. CreationTime is the API's (when
// CreateTrainingJob accepted the job), not the runner's start.
#pragma once

#include <nlohmann/json.hpp>

#include "serve/job_records.hpp"

namespace sluice::serve {

// The DescribeTrainingJob output. `status` is the job's status.json (null: none yet, the job is
// queued or starting).
nlohmann::json describe_training_job(const JobRecord& job, const nlohmann::json& status);

// One TrainingJobSummaries entry of ListTrainingJobs.
nlohmann::json training_job_summary(const JobRecord& job);

// What `status` (the runner's record) changes in `job`: the secondary status, and when the runner
// ended the job, its status, FailureReason and end time. A job being stopped (Stopping) stays
// Stopping until its runner ends it. Empty patch when nothing changed.
JobPatch patch_from_status(const JobRecord& job, const nlohmann::json& status);

// Whether a status is one a job ends in.
bool is_terminal(const std::string& status);

}  // namespace sluice::serve
