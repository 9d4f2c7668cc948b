#include "serve/host_statuses.hpp"

#include "core/utf8.hpp"
#include "serve/describe.hpp"

namespace sluice::serve {
namespace {

std::string status_of(const nlohmann::json& doc) {
  return doc.is_object() ? doc.value("TrainingJobStatus", std::string()) : std::string();
}

}  // namespace

nlohmann::json merge_host_statuses(const std::vector<std::pair<std::string, nlohmann::json>>& hosts,
                                   const std::string& failed_first) {
  auto failure_of = [](const std::string& host, const nlohmann::json& doc) {
    nlohmann::json failed = doc;
    const std::string reason = failed.value("FailureReason", std::string());
    if (reason.find(host) == std::string::npos) failed["FailureReason"] = utf8_prefix(host + ": " + reason, 1024);
    return failed;
  };
  for (const auto& [host, doc] : hosts) {
    if (host == failed_first && status_of(doc) == "Failed") return failure_of(host, doc);
  }
  const nlohmann::json* first = nullptr;
  for (const auto& [host, doc] : hosts) {
    if (!first && doc.is_object()) first = &doc;
    if (status_of(doc) == "Failed") return failure_of(host, doc);
  }
  if (!first) return nullptr;
  const std::string unfinished = first_unfinished_host(hosts);
  if (unfinished.empty()) {
    for (const auto& [host, doc] : hosts) {
      if (status_of(doc) == "Stopped") return doc;
    }
    return *first;  // every host Completed: the first one's record (its model artifacts)
  }
  for (const auto& [host, doc] : hosts) {
    if (host == unfinished && doc.is_object()) return doc;
  }
  // The first unfinished host has no record yet: another host's, not ended.
  nlohmann::json progress = *first;
  progress["TrainingJobStatus"] = "InProgress";
  progress.erase("TrainingEndTime");
  progress.erase("FailureReason");
  return progress;
}

std::string first_unfinished_host(const std::vector<std::pair<std::string, nlohmann::json>>& hosts) {
  for (const auto& [host, doc] : hosts) {
    if (!is_terminal(status_of(doc))) return host;
  }
  return {};
}

}  // namespace sluice::serve
