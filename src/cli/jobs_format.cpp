#include "cli/jobs_format.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <optional>
#include <vector>

#include "core/iso8601.hpp"

namespace sluice::cli {
namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Seconds since the epoch of an API time (a number) or a record's (ISO 8601).
std::optional<double> seconds_of(const nlohmann::json& t) {
  if (t.is_number()) return t.get<double>();
  if (t.is_string()) {
    if (auto ns = parse_iso8601_ns(t.get<std::string>())) return static_cast<double>(*ns) / 1e9;
  }
  return std::nullopt;
}

const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json none;
  auto it = j.find(key);
  return it == j.end() ? none : *it;
}

std::string took(const nlohmann::json& from, const nlohmann::json& to) {
  const auto a = seconds_of(from), b = seconds_of(to);
  if (!a || !b || *b < *a) return "";
  const double s = *b - *a;
  if (s < 60) return fmt::format("{:.1f} s", s);
  const auto whole = static_cast<long long>(std::llround(s));
  if (whole < 3600) return fmt::format("{} min {} s", whole / 60, whole % 60);
  return fmt::format("{} h {} min", whole / 3600, (whole % 3600) / 60);
}

}  // namespace

std::string shown_time(const nlohmann::json& t) {
  if (t.is_null()) return "-";
  const auto s = seconds_of(t);
  if (!s) return t.is_string() ? t.get<std::string>() : t.dump();
  const std::time_t whole = static_cast<std::time_t>(std::floor(*s));
  std::tm tm{};
  if (!::gmtime_r(&whole, &tm)) return t.dump();
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf, n);
}

std::string jobs_table(const nlohmann::json& summaries) {
  std::vector<std::array<std::string, 5>> rows = {{"NAME", "STATUS", "SECONDARY", "CREATED", "ENDED"}};
  if (summaries.is_array()) {
    for (const auto& s : summaries) {
      rows.push_back({text_of(s, "TrainingJobName"), text_of(s, "TrainingJobStatus"), text_of(s, "SecondaryStatus"),
                      shown_time(field(s, "CreationTime")), shown_time(field(s, "TrainingEndTime"))});
    }
  }
  std::array<size_t, 5> width{};
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += i + 1 < r.size() ? fmt::format("{:<{}}  ", r[i], width[i]) : r[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string job_text(const nlohmann::json& r) {
  std::string out;
  auto row = [&](const char* key, const std::string& value) {
    if (!value.empty()) out += fmt::format("{:<23}{}\n", std::string(key) + ":", value);
  };
  auto time_row = [&](const char* key) {
    if (r.contains(key)) row(key, shown_time(r[key]));
  };
  row("TrainingJobName", text_of(r, "TrainingJobName"));
  row("TrainingJobArn", text_of(r, "TrainingJobArn"));
  row("TrainingJobStatus", text_of(r, "TrainingJobStatus"));
  row("SecondaryStatus", text_of(r, "SecondaryStatus"));
  std::string reason = text_of(r, "FailureReason");
  for (size_t at = 0; (at = reason.find('\n', at)) != std::string::npos; at += 24) reason.replace(at, 1, "\n" + std::string(23, ' '));
  row("FailureReason", reason);
  row("ModelArtifacts", text_of(field(r, "ModelArtifacts"), "S3ModelArtifacts"));
  for (const char* key : {"CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"}) time_row(key);
  for (const char* key : {"TrainingTimeInSeconds", "BillableTimeInSeconds"}) {
    if (r.contains(key) && r[key].is_number()) row(key, r[key].dump());
  }
  row("WarmPoolStatus", text_of(field(r, "WarmPoolStatus"), "Status"));
  const nlohmann::json& transitions = field(r, "SecondaryStatusTransitions");
  if (transitions.is_array() && !transitions.empty()) {
    out += "SecondaryStatusTransitions:\n";
    size_t status_width = 0;
    for (const auto& t : transitions) status_width = std::max(status_width, text_of(t, "Status").size());
    for (const auto& t : transitions) {
      std::string line = fmt::format("  {}  {:<{}}  {}", shown_time(field(t, "StartTime")), text_of(t, "Status"),
                                     status_width, text_of(t, "StatusMessage"));
      if (const std::string d = took(field(t, "StartTime"), field(t, "EndTime")); !d.empty()) {
        line += fmt::format(" ({})", d);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace sluice::cli
