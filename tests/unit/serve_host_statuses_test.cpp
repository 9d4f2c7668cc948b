// A job's status from its hosts' own records, when each host runs in a process of its own
// (serve/host_statuses.hpp): Failed as soon as one host fails (the one the executor says failed
// first, when it knows), Completed only when all have, InProgress until every host has ended.
#include <gtest/gtest.h>

#include "serve/host_statuses.hpp"

namespace sluice::serve {
namespace {

using Hosts = std::vector<std::pair<std::string, nlohmann::json>>;

nlohmann::json rec(const std::string& status, const std::string& secondary, const std::string& reason = "") {
  nlohmann::json j = {{"TrainingJobStatus", status}, {"SecondaryStatus", secondary}};
  if (!reason.empty()) j["FailureReason"] = reason;
  return j;
}

TEST(HostStatuses, NothingUntilSomeHostHasARecord) {
  EXPECT_TRUE(merge_host_statuses({{"algo-1", nullptr}, {"algo-2", nullptr}}).is_null());
  EXPECT_EQ(first_unfinished_host({{"algo-1", nullptr}, {"algo-2", nullptr}}), "algo-1");
}

TEST(HostStatuses, InProgressShowsTheFirstHostThatHasNotEnded) {
  Hosts h = {{"algo-1", rec("Completed", "Completed")}, {"algo-2", rec("InProgress", "Uploading")}};
  EXPECT_EQ(merge_host_statuses(h)["SecondaryStatus"], "Uploading");
  EXPECT_EQ(first_unfinished_host(h), "algo-2");
  // A host with no record yet: another host's record, not ended.
  Hosts missing = {{"algo-1", rec("Completed", "Completed")}, {"algo-2", nullptr}};
  auto m = merge_host_statuses(missing);
  EXPECT_EQ(m["TrainingJobStatus"], "InProgress");
  EXPECT_EQ(first_unfinished_host(missing), "algo-2");
}

TEST(HostStatuses, CompletedOnlyWhenEveryHostHas) {
  nlohmann::json one = rec("Completed", "Completed");
  one["ModelArtifacts"] = {{"S3ModelArtifacts", "s3://b/out/model.tar.gz"}};
  Hosts h = {{"algo-1", one}, {"algo-2", rec("Completed", "Completed")}};
  auto m = merge_host_statuses(h);
  EXPECT_EQ(m["TrainingJobStatus"], "Completed");
  EXPECT_EQ(m["ModelArtifacts"]["S3ModelArtifacts"], "s3://b/out/model.tar.gz");
  EXPECT_EQ(first_unfinished_host(h), "");
}

TEST(HostStatuses, OneFailedHostFailsTheJobNamingIt) {
  Hosts h = {{"algo-1", rec("InProgress", "Training")}, {"algo-2", rec("Failed", "Failed", "AlgorithmError: exit 1")}};
  auto m = merge_host_statuses(h);
  EXPECT_EQ(m["TrainingJobStatus"], "Failed");
  EXPECT_EQ(m["FailureReason"], "algo-2: AlgorithmError: exit 1");
  // A reason that names its host already is kept as it is.
  h[1].second["FailureReason"] = "AlgorithmError: exited with code 1 (algo-2)";
  EXPECT_EQ(merge_host_statuses(h)["FailureReason"], "AlgorithmError: exited with code 1 (algo-2)");
}

TEST(HostStatuses, TheHostThatFailedFirstIsTheJobsFailure) {
  // algo-2's command failed; the scheduler then ended algo-1 with SIGTERM, which failed too.
  Hosts h = {{"algo-1", rec("Failed", "Failed", "AlgorithmError: killed by signal 15 (SIGTERM) (algo-1)")},
             {"algo-2", rec("Failed", "Failed", "ValueError: bad batch")}};
  EXPECT_EQ(merge_host_statuses(h)["FailureReason"], "AlgorithmError: killed by signal 15 (SIGTERM) (algo-1)");
  EXPECT_EQ(merge_host_statuses(h, "algo-2")["FailureReason"], "algo-2: ValueError: bad batch");
  // When the host that failed first has no Failed record, the first Failed one is shown.
  EXPECT_EQ(merge_host_statuses(h, "algo-3")["FailureReason"], "AlgorithmError: killed by signal 15 (SIGTERM) (algo-1)");
}

TEST(HostStatuses, StoppedWhenEveryHostEndedAndOneWasStopped) {
  Hosts h = {{"algo-1", rec("Completed", "Completed")}, {"algo-2", rec("Stopped", "Stopped")}};
  EXPECT_EQ(merge_host_statuses(h)["TrainingJobStatus"], "Stopped");
}

TEST(HostStatuses, AFailureReasonStaysWithin1024Characters) {
  Hosts h = {{"algo-1", rec("Failed", "Failed", std::string(1024, 'x'))}};
  EXPECT_EQ(merge_host_statuses(h)["FailureReason"].get<std::string>().size(), 1024u);
}

}  // namespace
}  // namespace sluice::serve
