// DescribeTrainingJob / ListTrainingJobs answers from a record and its runner's status.json
// (serve/describe.hpp): request fields echoed, ISO times turned into epoch seconds, transitions
// before status.json exists and after a stop the runner never recorded; and the patch a status
// record makes (a Stopping job stays Stopping until its runner ends it).
#include <gtest/gtest.h>

#include "serve/describe.hpp"

namespace sluice::serve {
namespace {

JobRecord job(const std::string& status = "InProgress") {
  JobRecord j;
  j.name = "Job-1";
  j.arn = "arn:aws:sagemaker:us-east-1:111122223333:training-job/job-1";
  j.request = {{"TrainingJobName", "Job-1"},
               {"RoleArn", "arn:aws:iam::111122223333:role/exec"},
               {"AlgorithmSpecification", {{"TrainingInputMode", "File"}, {"TrainingImage", "img"}}},
               {"ResourceConfig", {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}}},
               {"Tags", {{{"Key", "tenant-id"}, {"Value", "a"}}}},
               {"SessionChainingConfig", {{"EnableSessionTagChaining", true}}}};
  j.status = status;
  j.creation_time = 1796487601.5;
  j.last_modified_time = 1796487602;
  return j;
}

const nlohmann::json kRunning = nlohmann::json::parse(R"({
  "TrainingJobName": "Job-1", "TrainingJobStatus": "InProgress", "SecondaryStatus": "Training",
  "CreationTime": "2026-12-05T16:20:03.000000+00:00", "LastModifiedTime": "2026-12-05T16:20:09.250000+00:00",
  "TrainingStartTime": "2026-12-05T16:20:08.000000+00:00",
  "SecondaryStatusTransitions": [
    {"Status": "Starting", "StartTime": "2026-12-05T16:20:03.000000+00:00", "EndTime": "2026-12-05T16:20:04.000000+00:00", "StatusMessage": "Preparing"},
    {"Status": "Training", "StartTime": "2026-12-05T16:20:08.000000+00:00", "StatusMessage": "Training image download completed. Training in progress."}],
  "ModelArtifacts": {"S3ModelArtifacts": "s3://b/out/Job-1/output/model.tar.gz"}})");

TEST(Describe, EchoesTheRequestAndConvertsTheRunnersTimes) {
  auto out = describe_training_job(job(), kRunning);
  EXPECT_EQ(out["TrainingJobName"], "Job-1");
  EXPECT_EQ(out["TrainingJobArn"], "arn:aws:sagemaker:us-east-1:111122223333:training-job/job-1");
  EXPECT_EQ(out["RoleArn"], "arn:aws:iam::111122223333:role/exec");
  EXPECT_EQ(out["ResourceConfig"]["InstanceType"], "ml.m5.large");
  EXPECT_EQ(out["AlgorithmSpecification"]["TrainingInputMode"], "File");
  EXPECT_FALSE(out.contains("Tags"));  // not a DescribeTrainingJob field
  EXPECT_FALSE(out.contains("SessionChainingConfig"));
  EXPECT_EQ(out["TrainingJobStatus"], "InProgress");
  EXPECT_EQ(out["CreationTime"], 1796487601.5);  // the API's, not the runner's
  EXPECT_DOUBLE_EQ(out["TrainingStartTime"].get<double>(), 1796487608.0);
  ASSERT_EQ(out["SecondaryStatusTransitions"].size(), 2u);
  EXPECT_DOUBLE_EQ(out["SecondaryStatusTransitions"][0]["StartTime"].get<double>(), 1796487603.0);
  EXPECT_DOUBLE_EQ(out["SecondaryStatusTransitions"][0]["EndTime"].get<double>(), 1796487604.0);
  EXPECT_FALSE(out["SecondaryStatusTransitions"][1].contains("EndTime"));
  EXPECT_EQ(out["ModelArtifacts"]["S3ModelArtifacts"], "s3://b/out/Job-1/output/model.tar.gz");
  EXPECT_FALSE(out.contains("FailureReason"));
  EXPECT_FALSE(out.contains("TrainingEndTime"));
  EXPECT_FALSE(out.contains("WarmPoolStatus"));
}

TEST(Describe, AQueuedJobHasOneStartingTransitionAndModelArtifacts) {
  auto out = describe_training_job(job(), nullptr);
  ASSERT_EQ(out["SecondaryStatusTransitions"].size(), 1u);
  EXPECT_EQ(out["SecondaryStatusTransitions"][0]["Status"], "Starting");
  EXPECT_EQ(out["SecondaryStatusTransitions"][0]["StatusMessage"], "Waiting for a free slot to start the job");
  EXPECT_EQ(out["SecondaryStatusTransitions"][0]["StartTime"], 1796487601.5);
  EXPECT_TRUE(out["ModelArtifacts"].contains("S3ModelArtifacts"));  // required by the model
}

TEST(Describe, AnEndTheRunnerDidNotRecordClosesTheTransitions) {
  auto j = job("Stopped");
  j.secondary_status = "Stopped";
  j.end_time = 1796487700;
  auto out = describe_training_job(j, nullptr);
  ASSERT_EQ(out["SecondaryStatusTransitions"].size(), 2u);
  EXPECT_EQ(out["SecondaryStatusTransitions"][0]["EndTime"], 1796487700);
  EXPECT_EQ(out["SecondaryStatusTransitions"][1]["Status"], "Stopped");
  EXPECT_EQ(out["TrainingEndTime"], 1796487700);

  j = job("Failed");
  j.secondary_status = "Failed";
  j.failure_reason = "InternalServerError: gone";
  j.end_time = 1796487701;
  out = describe_training_job(j, kRunning);
  EXPECT_EQ(out["FailureReason"], "InternalServerError: gone");
  ASSERT_EQ(out["SecondaryStatusTransitions"].size(), 3u);
  EXPECT_EQ(out["SecondaryStatusTransitions"][1]["EndTime"], 1796487701);
  EXPECT_EQ(out["SecondaryStatusTransitions"][2]["StatusMessage"], "InternalServerError: gone");
}

TEST(Describe, WarmPoolStatusWhenThereIsOne) {
  auto j = job("Completed");
  j.warm_pool.status = "Available";
  EXPECT_EQ(describe_training_job(j, nullptr)["WarmPoolStatus"]["Status"], "Available");
  EXPECT_EQ(training_job_summary(j)["WarmPoolStatus"]["Status"], "Available");
}

TEST(Describe, Summary) {
  auto j = job("Completed");
  j.secondary_status = "Completed";
  j.end_time = 1796487800;
  auto s = training_job_summary(j);
  EXPECT_EQ(s, nlohmann::json::parse(R"({"TrainingJobName": "Job-1",
    "TrainingJobArn": "arn:aws:sagemaker:us-east-1:111122223333:training-job/job-1", "CreationTime": 1796487601.5,
    "LastModifiedTime": 1796487602, "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
    "TrainingEndTime": 1796487800})"));
}

TEST(PatchFromStatus, SecondaryStatusWhileRunningAndTheEndWhenTheRunnerEndsIt) {
  auto j = job();
  j.secondary_status = "Starting";
  auto p = patch_from_status(j, kRunning);
  EXPECT_EQ(p.secondary_status, "Training");
  EXPECT_FALSE(p.status);
  EXPECT_FALSE(p.end_time);
  EXPECT_DOUBLE_EQ(*p.last_modified_time, 1796487609.25);

  j.secondary_status = "Training";
  p = patch_from_status(j, kRunning);
  EXPECT_FALSE(p.secondary_status || p.status || p.last_modified_time);  // nothing changed

  auto done = kRunning;
  done["TrainingJobStatus"] = "Failed";
  done["SecondaryStatus"] = "Failed";
  done["FailureReason"] = "AlgorithmError: exit 3";
  done["TrainingEndTime"] = "2026-12-05T16:21:00.000000+00:00";
  p = patch_from_status(j, done);
  EXPECT_EQ(p.status, "Failed");
  EXPECT_EQ(p.failure_reason, "AlgorithmError: exit 3");
  EXPECT_DOUBLE_EQ(*p.end_time, 1796487660.0);
}

TEST(PatchFromStatus, AStoppingJobStaysStoppingUntilItsRunnerEndsIt) {
  auto j = job("Stopping");
  j.secondary_status = "Training";
  auto p = patch_from_status(j, kRunning);
  EXPECT_FALSE(p.status);
  auto stopped = kRunning;
  stopped["TrainingJobStatus"] = "Stopped";
  stopped["SecondaryStatus"] = "Stopped";
  stopped["FailureReason"] = "stopped by the user";
  p = patch_from_status(j, stopped);
  EXPECT_EQ(p.status, "Stopped");
  EXPECT_EQ(p.secondary_status, "Stopped");
}

TEST(PatchFromStatus, NoRecordNoChange) {
  auto p = patch_from_status(job(), nullptr);
  EXPECT_FALSE(p.status || p.secondary_status || p.failure_reason || p.end_time || p.last_modified_time);
}

}  // namespace
}  // namespace sluice::serve
