#include "serve/describe.hpp"

#include <optional>
#include <string>

#include "core/iso8601.hpp"

namespace sluice::serve {
namespace {

// Seconds since the epoch of an ISO 8601 time of the status record.
std::optional<double> seconds_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  auto ns = parse_iso8601_ns(it->get<std::string>());
  if (!ns) return std::nullopt;
  return static_cast<double>(*ns) / 1e9;
}

// The request's fields that DescribeTrainingJob gives back as they were sent.
constexpr const char* kEchoed[] = {
    "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig",
    "ResourceConfig", "VpcConfig", "StoppingCondition", "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining", "CheckpointConfig", "DebugHookConfig",
    "ExperimentConfig", "TensorBoardOutputConfig", "Environment", "RetryStrategy", "ProfilerConfig",
    "InfraCheckConfig", "RemoteDebugConfig"};

}  // namespace

bool is_terminal(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Stopped";
}

nlohmann::json describe_training_job(const JobRecord& job, const nlohmann::json& status) {
  nlohmann::json out = nlohmann::json::object();
  out["TrainingJobName"] = job.name;
  out["TrainingJobArn"] = job.arn;
  for (const char* key : kEchoed) {
    if (job.request.contains(key)) out[key] = job.request[key];
  }
  out["TrainingJobStatus"] = job.status;
  out["SecondaryStatus"] = job.secondary_status;
  if (!job.failure_reason.empty()) out["FailureReason"] = job.failure_reason;
  out["CreationTime"] = job.creation_time;
  out["LastModifiedTime"] = job.last_modified_time;
  if (job.end_time) out["TrainingEndTime"] = *job.end_time;
  // The model artifacts' place is known from the request; the service reports it from the start.
  std::string model;
  if (status.is_object() && status.contains("ModelArtifacts")) {
    model = status["ModelArtifacts"].value("S3ModelArtifacts", "");
  }
  out["ModelArtifacts"] = {{"S3ModelArtifacts", model}};

  nlohmann::json transitions = nlohmann::json::array();
  if (status.is_object() && status.contains("SecondaryStatusTransitions")) {
    for (const auto& t : status["SecondaryStatusTransitions"]) {
      nlohmann::json e = {{"Status", t.value("Status", "")}, {"StatusMessage", t.value("StatusMessage", "")}};
      if (auto s = seconds_of(t, "StartTime")) e["StartTime"] = *s;
      if (auto s = seconds_of(t, "EndTime")) e["EndTime"] = *s;
      transitions.push_back(std::move(e));
    }
    if (auto s = seconds_of(status, "TrainingStartTime")) out["TrainingStartTime"] = *s;
    for (const char* key : {"TrainingTimeInSeconds", "BillableTimeInSeconds"}) {
      if (status.contains(key)) out[key] = status[key];
    }
  }
  if (transitions.empty()) {
    transitions.push_back({{"Status", "Starting"},
                           {"StartTime", job.creation_time},
                           {"StatusMessage", job.secondary_status == "Starting" && job.executor_handle.empty()
                                                 ? "Waiting for a free slot to start the job"
                                                 : "Preparing the instances for training"}});
  }
  // A job stopped before it ran, or whose runner died, ends its transitions as the record does.
  if (is_terminal(job.status) && transitions.back()["Status"] != job.secondary_status) {
    auto& last = transitions.back();
    if (!last.contains("EndTime")) last["EndTime"] = job.end_time.value_or(job.last_modified_time);
    transitions.push_back({{"Status", job.secondary_status},
                           {"StartTime", job.end_time.value_or(job.last_modified_time)},
                           {"EndTime", job.end_time.value_or(job.last_modified_time)},
                           {"StatusMessage", job.failure_reason.empty() ? job.secondary_status : job.failure_reason}});
  }
  out["SecondaryStatusTransitions"] = std::move(transitions);
  if (!job.warm_pool.status.empty()) {
    out["WarmPoolStatus"] = {{"Status", job.warm_pool.status}};
    if (!job.warm_pool.reused_by.empty()) out["WarmPoolStatus"]["ReusedByJob"] = job.warm_pool.reused_by;
  }
  return out;
}

nlohmann::json training_job_summary(const JobRecord& job) {
  nlohmann::json out = {{"TrainingJobName", job.name},
                        {"TrainingJobArn", job.arn},
                        {"CreationTime", job.creation_time},
                        {"LastModifiedTime", job.last_modified_time},
                        {"TrainingJobStatus", job.status},
                        {"SecondaryStatus", job.secondary_status}};
  if (job.end_time) out["TrainingEndTime"] = *job.end_time;
  if (!job.warm_pool.status.empty()) out["WarmPoolStatus"] = {{"Status", job.warm_pool.status}};
  return out;
}

JobPatch patch_from_status(const JobRecord& job, const nlohmann::json& status) {
  JobPatch patch;
  if (!status.is_object()) return patch;
  const std::string runner_status = status.value("TrainingJobStatus", "");
  const std::string secondary = status.value("SecondaryStatus", "");
  if (!secondary.empty() && secondary != job.secondary_status) patch.secondary_status = secondary;
  if (is_terminal(runner_status)) {
    if (runner_status != job.status) patch.status = runner_status;
    const std::string reason = status.value("FailureReason", "");
    if (reason != job.failure_reason) patch.failure_reason = reason;
    auto end = seconds_of(status, "TrainingEndTime");
    if (!end) end = seconds_of(status, "LastModifiedTime");
    if (end && end != job.end_time) patch.end_time = end;
  }
  if (patch.status || patch.secondary_status || patch.failure_reason || patch.end_time) {
    auto modified = seconds_of(status, "LastModifiedTime");
    patch.last_modified_time = modified && *modified > job.last_modified_time ? *modified : job.last_modified_time;
  }
  return patch;
}

}  // namespace sluice::serve
