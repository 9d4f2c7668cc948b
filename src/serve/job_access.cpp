#include "serve/job_access.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace sluice::serve {

std::vector<policy::SessionTag> request_tags(const nlohmann::json& request) {
  std::vector<policy::SessionTag> tags;
  auto it = request.find("Tags");
  if (it == request.end() || it->is_null()) return tags;
  auto invalid = [](std::string m) { return ApiFailure({"ValidationException", 400, std::move(m)}); };
  if (!it->is_array()) throw invalid("Tags: expected a list of {\"Key\": ..., \"Value\": ...}");
  if (it->size() > 50) {
    throw invalid(fmt::format("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member "
                              "must have length less than or equal to 50 ({} tags)",
                              it->size()));
  }
  for (const auto& t : *it) {
    if (!t.is_object() || !t.contains("Key") || !t["Key"].is_string() ||
        (t.contains("Value") && !t["Value"].is_string())) {
      throw invalid(fmt::format("Tags[{}]: expected {{\"Key\": ..., \"Value\": ...}}", tags.size()));
    }
    tags.push_back({t["Key"].get<std::string>(), t.value("Value", "")});
  }
  try {
    policy::check_tags(tags, [](std::size_t i) { return fmt::format("Tags[{}]", i); });
  } catch (const Error& e) {
    throw invalid(e.message() + (e.cause().empty() ? "" : ": " + e.cause()));
  }
  return tags;
}

policy::Context request_tag_context(const std::vector<policy::SessionTag>& tags) {
  policy::Context ctx;
  auto& keys = ctx["aws:TagKeys"];
  for (const auto& t : tags) {
    ctx["aws:RequestTag/" + t.key] = {t.value};
    keys.push_back(t.key);
  }
  return ctx;
}

policy::Context resource_tag_context(const JobRecord& job) {
  policy::Context ctx;
  for (const auto& t : request_tags(job.request)) ctx["aws:ResourceTag/" + t.key] = {t.value};
  return ctx;
}

bool may(const Identities& identities, const CallerIdentity& who, const std::string& action, const JobRecord& job) {
  return identities.allowed(who, action, job.arn, resource_tag_context(job));
}

LogsAccess logs_access(const Identities& identities, std::string region) {
  return [&identities, region](const Caller& caller, const JobRecord& job) {
    const CallerIdentity who = identities.resolve(caller);
    if (!may(identities, who, "sagemaker:DescribeTrainingJob", job)) {
      throw ApiFailure({"ResourceNotFoundException", 400, "The specified log stream does not exist."});
    }
    const std::string arn = fmt::format("arn:aws:logs:{}:{}:log-group:/aws/sagemaker/TrainingJobs:log-stream:{}/*",
                                        region, job.owner.account, job.name);
    if (!identities.allowed(who, "logs:GetLogEvents", arn)) {
      throw ApiFailure(access_denied(who, "logs:GetLogEvents", arn));
    }
  };
}

}  // namespace sluice::serve
