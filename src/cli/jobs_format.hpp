// How `sluice jobs` shows training jobs to a person (docs/cli.md "sluice jobs"): a table for
// `list`, "Key: value" lines for `describe`, as the AWS CLI's table and text outputs do. Pure
// functions over the API's JSON shapes (ListTrainingJobs' summaries, DescribeTrainingJob).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sluice::cli {

// A time of the API (seconds since the epoch, a number) or of a status record (ISO 8601) as
// "2026-12-05 16:20:01" (UTC); "-" for null or a missing one, the text itself when it is neither.
std::string shown_time(const nlohmann::json& time);

// The columns NAME STATUS SECONDARY CREATED ENDED, one row per summary, each column as wide as
// its widest cell, separated by two spaces. `summaries` is TrainingJobSummaries.
std::string jobs_table(const nlohmann::json& summaries);

// A DescribeTrainingJob record: name, ARN, status, secondary status, FailureReason, model
// artifacts, the times and training seconds, warm pool, then the secondary status transitions,
// one a line with their time, status, message and how long each took.
std::string job_text(const nlohmann::json& record);

}  // namespace sluice::cli
