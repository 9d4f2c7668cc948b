// The CloudWatch Logs operations `sluice serve` answers (JSON 1.1, target prefix Logs_20140328,
// signing name "logs"): the subset the SageMaker SDK (`logs_for_job`), `aws logs get-log-events`
// and `aws logs filter-log-events` use to read a training job's output, over the streams of
// serve/log_streams.hpp.
//
//  - DescribeLogStreams: logGroupName | logGroupIdentifier, logStreamNamePrefix, orderBy
//    (LogStreamName | LastEventTime; not LastEventTime with a prefix, as CloudWatch), descending,
//    limit 1..50 (50), nextToken.
//  - GetLogEvents: logStreamName, startTime, endTime (milliseconds, inclusive), limit 1..10000
//    (10000, and at most 1 MiB of events), startFromHead (false: the last events), nextToken
//    ("f/..." or "b/..."). nextForwardToken is the same token when nothing new was written.
//  - FilterLogEvents: logStreamNames (1..100) | logStreamNamePrefix, startTime, endTime,
//    filterPattern (the term syntax, log_streams.hpp), limit, nextToken; events of all streams in
//    time order; nextToken only while there is more to read now.
//
// Only the group /aws/sagemaker/TrainingJobs exists (another: ResourceNotFoundException). A
// stream is shown only to a caller that `access` lets see its job: DescribeLogStreams and
// FilterLogEvents leave the others out, GetLogEvents answers with what `access` throws.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "serve/api_server.hpp"
#include "serve/job_records.hpp"

namespace sluice::serve {

// Throws ApiFailure (e.g. AccessDeniedException) when `caller` may not read the logs of `job`;
// returns when it may.
using LogsAccess = std::function<void(const Caller& caller, const JobRecord& job)>;

struct LogsOptions {
  std::string region = "us-east-1";  // in the streams' ARNs
  // FilterLogEvents: how many streams one call may search (each is an open file), and how many
  // bytes of log it reads before it answers with what it found and a nextToken.
  std::size_t max_filter_streams = 256;
  std::uint64_t filter_scan_bytes = 64u << 20;
};

// "logs.DescribeLogStreams", "logs.GetLogEvents", "logs.FilterLogEvents" for ApiServer. A job's
// directory is its record's work_dir (<work-dir>/<TrainingJobName>); a job without one (not started)
// has no streams. `records` must outlive the operations.
std::map<std::string, Operation> logs_operations(JobRecords& records, LogsAccess access, LogsOptions options = {});

}  // namespace sluice::serve
