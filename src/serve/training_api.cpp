#include "serve/training_api.hpp"

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "job/job_spec.hpp"
#include "job/tenancy.hpp"
#include "policy/session_tags.hpp"
#include "serve/describe.hpp"
#include "serve/job_access.hpp"

namespace sluice::serve {
namespace {

ApiError validation(std::string message) { return {"ValidationException", 400, std::move(message)}; }

// The TrainingJobName of a request: present and a string (the shape every operation checks first).
std::string job_name_of(const nlohmann::json& input) {
  auto it = input.find("TrainingJobName");
  if (it == input.end() || it->is_null()) {
    throw ApiFailure(validation("1 validation error detected: Value null at 'trainingJobName' failed to satisfy "
                                "constraint: Member must not be null"));
  }
  if (!it->is_string() || it->get<std::string>().empty() || it->get<std::string>().size() > 63) {
    throw ApiFailure(validation("1 validation error detected: Value at 'trainingJobName' failed to satisfy "
                                "constraint: Member must have length between 1 and 63"));
  }
  return it->get<std::string>();
}

// What a job must share with a finished one to start on its warm pool: the account, the execution
// role, the instances (type, count, volume) and exactly the same session tags (none without
// chaining), as SageMaker matches warm pools and as the seed's rule requires for tenants.
std::string warm_pool_key(const std::string& account, const job::JobSpec& spec,
                          const std::optional<std::vector<policy::SessionTag>>& session_tags) {
  nlohmann::json tags = nlohmann::json::object();
  if (session_tags) {
    for (const auto& t : *session_tags) tags[t.key] = t.value;
  }
  return nlohmann::json{{"Account", account},
                        {"RoleArn", spec.role_arn},
                        {"InstanceType", spec.resources.instance_type},
                        {"InstanceCount", spec.resources.instance_count},
                        {"VolumeSizeInGB", spec.resources.volume_size_gb},
                        {"SessionTags", tags}}
      .dump();
}

struct Api {
  JobRecords& records;
  JobService& service;
  const Identities& identities;
  TrainingApiOptions options;

  std::string job_arn(const std::string& account, const std::string& name) const {
    return fmt::format("arn:aws:sagemaker:{}:{}:training-job/{}", options.region, account, ascii_lower(name));
  }

  void require(const CallerIdentity& who, const std::string& action, const std::string& resource,
               const policy::Context& extra = {}) const {
    if (!identities.allowed(who, action, resource, extra)) throw ApiFailure(access_denied(who, action, resource));
  }

  // The job a Describe, Stop or Update names, once the caller may `action` on it. A job that does
  // not exist is authorized as one with no tags: a caller who may not see it is refused either way.
  JobRecord authorized_job(const CallerIdentity& who, const std::string& action, const nlohmann::json& input) const {
    const std::string name = job_name_of(input);
    auto job = records.get(name);
    if (!job) {
      require(who, action, job_arn(who.principal.account, name));
      throw ApiFailure(validation("Requested resource not found."));
    }
    require(who, action, job->arn, resource_tag_context(*job));
    return *job;
  }

  OperationResult create(const ApiCall& call, const Caller& caller) const {
    const nlohmann::json& input = call.input;
    const std::string name = job_name_of(input);
    job::JobSpec spec;
    try {
      spec = job::parse_job_spec(input.dump());
    } catch (const Error& e) {
      throw ApiFailure(validation(e.message() + (e.cause().empty() ? "" : ":\n" + e.cause())));
    }
    const auto tags = request_tags(input);
    const CallerIdentity who = identities.resolve(caller);
    const std::string arn = job_arn(who.principal.account, name);

    require(who, "iam:PassRole", spec.role_arn, {{"iam:PassedToService", {job::kSageMakerPrincipal}}});
    require(who, "sagemaker:CreateTrainingJob", arn, request_tag_context(tags));

    const bool chaining = spec.session_chaining && spec.session_chaining->enable_session_tag_chaining;
    const policy::Role* role = identities.iam().find(spec.role_arn);
    if (role == nullptr || !policy::trust_allows(*role, job::kSageMakerPrincipal, chaining)) {
      throw ApiFailure(validation(fmt::format(
          "Could not assume role {}. Please ensure that the role exists and allows principal '{}' to assume the "
          "role{}.",
          spec.role_arn, job::kSageMakerPrincipal, chaining ? " and tag the session (sts:TagSession)" : "")));
    }
    std::optional<std::vector<policy::SessionTag>> session_tags;
    if (chaining) {
      std::vector<policy::SessionTag> role_tags;
      for (const auto& [k, v] : role->tags) role_tags.push_back({k, v});
      try {
        policy::chained_tags(who.principal.tags, role_tags, true);
      } catch (const Error& e) {
        throw ApiFailure(validation(fmt::format("the creating session's tags cannot be chained to {}: {}",
                                                spec.role_arn, e.what())));
      }
      session_tags = who.principal.tags;
    }

    JobRecord job;
    job.name = name;
    job.arn = arn;
    job.owner = who.principal;
    job.request = input;
    job.work_dir = service.job_dir(name).string();
    job.status = "InProgress";
    job.secondary_status = "Starting";
    job.creation_time = job.last_modified_time = options.now();
    if (input.contains("ResourceConfig") && input["ResourceConfig"].contains("KeepAlivePeriodInSeconds")) {
      job.warm_pool.keep_alive_seconds = input["ResourceConfig"].value("KeepAlivePeriodInSeconds", int64_t{0});
    }
    if (const std::string why = service.refuses_hosts(instance_count(input)); !why.empty()) {
      throw ApiFailure(validation(why));
    }
    if (job.warm_pool.keep_alive_seconds > 0 && !service.keeps_inputs()) {
      throw ApiFailure(validation(
          "ResourceConfig.KeepAlivePeriodInSeconds: this server runs jobs on Slurm (--executor slurm), whose nodes do "
          "not keep a job's inputs after it ends; warm pools need the local executor"));
    }
    job.warm_pool.match_key = warm_pool_key(who.principal.account, spec, session_tags);
    try {
      service.submit(job, session_tags);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kConflict) {
        throw ApiFailure({"ResourceInUse", 400,
                          fmt::format("Training job names must be unique within an AWS account and region, and a "
                                      "training job with this name already exists ({})",
                                      arn)});
      }
      if (e.kind() == ErrorKind::kRetryable) throw ApiFailure({"ResourceLimitExceeded", 400, e.what()});
      throw;
    }
    OperationResult out;
    out.output = {{"TrainingJobArn", arn}};
    return out;
  }

  OperationResult describe(const ApiCall& call, const Caller& caller) const {
    const CallerIdentity who = identities.resolve(caller);
    const JobRecord job = authorized_job(who, "sagemaker:DescribeTrainingJob", call.input);
    OperationResult out;
    out.output = describe_training_job(job, service.status_of(job));
    return out;
  }

  OperationResult list(const ApiCall& call, const Caller& caller) const {
    const CallerIdentity who = identities.resolve(caller);
    require(who, "sagemaker:ListTrainingJobs", "*");
    const nlohmann::json& in = call.input;
    ListQuery q;
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = in.find(key);
      if (it == in.end() || it->is_null()) return std::nullopt;
      if (!it->is_string()) throw ApiFailure(validation(fmt::format("{}: expected a string", key)));
      return it->get<std::string>();
    };
    auto time = [&](const char* key) -> std::optional<double> {
      auto it = in.find(key);
      if (it == in.end() || it->is_null()) return std::nullopt;
      if (!it->is_number()) throw ApiFailure(validation(fmt::format("{}: expected a timestamp", key)));
      return it->get<double>();
    };
    q.status_equals = text("StatusEquals");
    q.name_contains = text("NameContains");
    q.warm_pool_status_equals = text("WarmPoolStatusEquals");
    q.creation_time_after = time("CreationTimeAfter");
    q.creation_time_before = time("CreationTimeBefore");
    q.last_modified_time_after = time("LastModifiedTimeAfter");
    q.last_modified_time_before = time("LastModifiedTimeBefore");
    if (auto by = text("SortBy")) {
      if (*by == "Name") q.sort_by = SortBy::kName;
      else if (*by == "CreationTime") q.sort_by = SortBy::kCreationTime;
      else if (*by == "Status") q.sort_by = SortBy::kStatus;
      else throw ApiFailure(validation(fmt::format("SortBy '{}': must be one of Name, CreationTime, Status", *by)));
    }
    if (auto order = text("SortOrder")) {
      if (*order == "Ascending") q.sort_order = SortOrder::kAscending;
      else if (*order == "Descending") q.sort_order = SortOrder::kDescending;
      else throw ApiFailure(validation(fmt::format("SortOrder '{}': must be Ascending or Descending", *order)));
    }
    if (in.contains("MaxResults")) {
      if (!in["MaxResults"].is_number_integer()) throw ApiFailure(validation("MaxResults: expected an integer"));
      q.max_results = in["MaxResults"].get<int>();
    }
    q.next_token = text("NextToken").value_or("");
    ListPage page;
    try {
      page = records.list(q, [&](const JobRecord& job) {
        return may(identities, who, "sagemaker:DescribeTrainingJob", job);
      });
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kInvalidInput) throw ApiFailure(validation(e.what()));
      throw;
    }
    OperationResult out;
    out.output["TrainingJobSummaries"] = nlohmann::json::array();
    for (const auto& job : page.jobs) out.output["TrainingJobSummaries"].push_back(training_job_summary(job));
    if (!page.next_token.empty()) out.output["NextToken"] = page.next_token;
    return out;
  }

  OperationResult stop(const ApiCall& call, const Caller& caller) const {
    const CallerIdentity who = identities.resolve(caller);
    const JobRecord job = authorized_job(who, "sagemaker:StopTrainingJob", call.input);
    try {
      service.stop_job(job.name);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kConflict) {
        auto now = records.get(job.name);
        throw ApiFailure(validation(fmt::format("The request was rejected because the training job is in status {}.",
                                                now ? now->status : job.status)));
      }
      throw;
    }
    return {};
  }

  OperationResult update(const ApiCall& call, const Caller& caller) const {
    const CallerIdentity who = identities.resolve(caller);
    const JobRecord job = authorized_job(who, "sagemaker:UpdateTrainingJob", call.input);
    for (const auto& [key, value] : call.input.items()) {
      if (key != "TrainingJobName" && key != "ResourceConfig") {
        throw ApiFailure(validation(fmt::format("{}: this server updates only ResourceConfig.KeepAlivePeriodInSeconds", key)));
      }
    }
    const nlohmann::json rc = call.input.value("ResourceConfig", nlohmann::json::object());
    if (!rc.is_object() || rc.size() != 1 || !rc.contains("KeepAlivePeriodInSeconds") ||
        !rc["KeepAlivePeriodInSeconds"].is_number_integer()) {
      throw ApiFailure(validation("ResourceConfig: expected {\"KeepAlivePeriodInSeconds\": SECONDS}"));
    }
    const int64_t keep = rc["KeepAlivePeriodInSeconds"].get<int64_t>();
    if (keep < 0 || keep > 3600) {
      throw ApiFailure(validation(fmt::format("ResourceConfig.KeepAlivePeriodInSeconds {}: must be 0 to 3600", keep)));
    }
    if (job.warm_pool.keep_alive_seconds == 0 && job.request.value("ResourceConfig", nlohmann::json::object())
                                                         .value("KeepAlivePeriodInSeconds", int64_t{-1}) < 0) {
      throw ApiFailure(validation("The training job was not created with a warm pool (ResourceConfig."
                                  "KeepAlivePeriodInSeconds); the keep-alive period can only be changed for one"));
    }
    JobPatch patch;
    patch.keep_alive_seconds = keep;
    patch.last_modified_time = options.now();
    records.update(job.name, patch);
    OperationResult out;
    out.output = {{"TrainingJobArn", job.arn}};
    return out;
  }
};

}  // namespace

std::map<std::string, Operation> training_operations(JobRecords& records, JobService& service,
                                                     const Identities& identities, TrainingApiOptions options) {
  if (!options.now) {
    options.now = [] {
      return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
  }
  auto api = std::make_shared<Api>(Api{records, service, identities, std::move(options)});
  auto bind = [api](OperationResult (Api::*fn)(const ApiCall&, const Caller&) const) -> Operation {
    return [api, fn](const ApiCall& call, const Caller& caller) { return ((*api).*fn)(call, caller); };
  };
  return {{"sagemaker.CreateTrainingJob", bind(&Api::create)},
          {"sagemaker.DescribeTrainingJob", bind(&Api::describe)},
          {"sagemaker.ListTrainingJobs", bind(&Api::list)},
          {"sagemaker.StopTrainingJob", bind(&Api::stop)},
          {"sagemaker.UpdateTrainingJob", bind(&Api::update)}};
}

}  // namespace sluice::serve
