// Who may see a training job: the IAM checks that the SageMaker operations and the logs API share
// (docs/serve.md). A job's resource tags are its CreateTrainingJob request's Tags.
#pragma once

#include <string>
#include <vector>

#include "policy/match.hpp"
#include "policy/session_tags.hpp"
#include "serve/identity.hpp"
#include "serve/job_records.hpp"
#include "serve/logs_service.hpp"

namespace sluice::serve {

// A request's Tags ([{"Key": k, "Value": v}, ...], at most 50, checked as STS checks tags). Throws
// ApiFailure(ValidationException) naming the bad tag.
std::vector<policy::SessionTag> request_tags(const nlohmann::json& request);

// aws:RequestTag/K = V for each tag and aws:TagKeys (a request's tags), or aws:ResourceTag/K = V (a
// job's).
policy::Context request_tag_context(const std::vector<policy::SessionTag>& tags);
policy::Context resource_tag_context(const JobRecord& job);

// Whether `who` may `action` (e.g. "sagemaker:DescribeTrainingJob") on the job.
bool may(const Identities& identities, const CallerIdentity& who, const std::string& action, const JobRecord& job);

// The logs API's access check: a job's streams are the caller's to read when it may describe the
// job (else "The specified log stream does not exist.", as for a job that is not there) and
// logs:GetLogEvents on arn:aws:logs:REGION:ACCOUNT:log-group:/aws/sagemaker/TrainingJobs:log-stream:JOB/*.
LogsAccess logs_access(const Identities& identities, std::string region);

}  // namespace sluice::serve
