// The SageMaker training operations of `sluice serve` (JSON 1.1, "sagemaker.<Operation>"):
// CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob and
// UpdateTrainingJob, with the request and answer shapes and the error codes of the botocore
// service model.
//
// Authorization, as IAM does it for SageMaker (docs/serve.md): each operation is evaluated with
// the caller's identity policies (serve/identity.hpp) on the job's ARN
// (arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME, the name in lower case):
//  - CreateTrainingJob: sagemaker:CreateTrainingJob with aws:RequestTag/KEY and aws:TagKeys from
//    the request's Tags, and iam:PassRole on its RoleArn (iam:PassedToService
//    sagemaker.amazonaws.com); the role must be one of the IAM configuration's that trusts
//    SageMaker (and sts:TagSession when tags are chained);
//  - Describe, Stop, Update: sagemaker:<Operation> with aws:ResourceTag/KEY from the job's Tags;
//  - ListTrainingJobs: sagemaker:ListTrainingJobs on "*", then only the jobs the caller may
//    describe are listed.
// A job asked for by a caller who may not see it is AccessDeniedException whether or not it
// exists, so that names do not leak across tenants.
//
// With SessionChainingConfig.EnableSessionTagChaining the job runs with exactly the creating
// session's tags (job/tenancy.hpp): they come from the credentials the request was signed with,
// never from the request.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "serve/api_server.hpp"
#include "serve/identity.hpp"
#include "serve/job_records.hpp"
#include "serve/job_service.hpp"

namespace sluice::serve {

struct TrainingApiOptions {
  std::string region = "us-east-1";
  std::function<double()> now;  // seconds since the epoch
};

std::map<std::string, Operation> training_operations(JobRecords& records, JobService& service,
                                                     const Identities& identities, TrainingApiOptions options);

}  // namespace sluice::serve
