#include "cli/train_reporter.hpp"

#include <fmt/core.h>

#include <cstdio>

#include "core/iso8601.hpp"

namespace sluice::cli {
namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "2026-12-05T16:20:01.123456+00:00" -> "2026-12-05 16:20:01"
std::string shown_time(const std::string& iso) {
  if (iso.size() < 19) return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

std::string duration(double s) {
  if (s < 60) return fmt::format("{:.1f} s", s);
  const auto whole = static_cast<long long>(s + 0.5);
  if (whole < 3600) return fmt::format("{} min {} s", whole / 60, whole % 60);
  return fmt::format("{} h {} min", whole / 3600, (whole % 3600) / 60);
}

}  // namespace

double seconds_between(const std::string& from, const std::string& to) {
  const auto a = parse_iso8601_ns(from), b = parse_iso8601_ns(to);
  if (!a || !b || *b < *a) return 0;
  return static_cast<double>(*b - *a) / 1e9;
}

void TrainReporter::update(const nlohmann::json& record) {
  std::lock_guard lock(mu_);
  record_ = record;
  if (!live_) return;
  const auto it = record.find("SecondaryStatusTransitions");
  if (it == record.end() || !it->is_array() || it->empty()) return;
  const auto& transitions = *it;
  auto line = [&](size_t i) {
    const auto& t = transitions[i];
    std::string extra;
    if (i > 0) {
      const auto& before = transitions[i - 1];
      const std::string start = text_of(before, "StartTime"), end = text_of(before, "EndTime");
      if (!end.empty()) extra = fmt::format(" ({} took {})", text_of(before, "Status"), duration(seconds_between(start, end)));
    }
    fmt::print(out_, "{} {} - {}{}\n", shown_time(text_of(t, "StartTime")), text_of(t, "Status"), text_of(t, "StatusMessage"), extra);
  };
  if (shown_ > 0 && shown_ <= transitions.size()) {
    // The phase printed last has a new message (what it downloaded, say): shown again, once.
    const std::string message = text_of(transitions[shown_ - 1], "StatusMessage");
    if (message != last_message_ && shown_ == transitions.size()) {
      fmt::print(out_, "{} {} - {}\n", shown_time(text_of(record, "LastModifiedTime")),
                 text_of(transitions[shown_ - 1], "Status"), message);
      last_message_ = message;
    }
  }
  for (; shown_ < transitions.size(); ++shown_) {
    line(shown_);
    last_message_ = text_of(transitions[shown_], "StatusMessage");
  }
  std::fflush(out_);
}

bool TrainReporter::has_record() const {
  std::lock_guard lock(mu_);
  return record_.is_object();
}

nlohmann::json TrainReporter::record() const {
  std::lock_guard lock(mu_);
  return record_;
}

std::string TrainReporter::summary_text(const std::filesystem::path& work_dir) const {
  std::lock_guard lock(mu_);
  const nlohmann::json& r = record_;
  const std::string name = text_of(r, "TrainingJobName"), status = text_of(r, "TrainingJobStatus");
  const std::string created = text_of(r, "CreationTime"), ended = text_of(r, "TrainingEndTime");
  std::string out = fmt::format("Training job '{}': {}", name, status);
  const std::string secondary = text_of(r, "SecondaryStatus");
  if (!secondary.empty() && secondary != status) out += " (" + secondary + ")";
  if (!ended.empty()) {
    out += fmt::format(" after {}", duration(seconds_between(created, ended)));
    if (r.contains("TrainingTimeInSeconds")) {
      out += fmt::format(" (training {} s, billable {} s)", r["TrainingTimeInSeconds"].dump(),
                         r.value("BillableTimeInSeconds", r["TrainingTimeInSeconds"]).dump());
    }
  }
  out += "\n";
  const std::string reason = text_of(r, "FailureReason");
  if (status != "Completed" && !reason.empty()) {
    std::string shown = reason;
    for (size_t at = 0; (at = shown.find('\n', at)) != std::string::npos; at += 19) shown.replace(at, 1, "\n                  ");
    out += fmt::format("  FailureReason:   {}\n", shown);
  }
  if (r.contains("ModelArtifacts") && r["ModelArtifacts"].is_object()) {
    out += fmt::format("  Model artifacts: {}\n", text_of(r["ModelArtifacts"], "S3ModelArtifacts"));
  } else if (status != "InProgress") {
    out += "  Model artifacts: none (nothing was uploaded)\n";
  }
  const std::filesystem::path dir = work_dir / name;
  out += fmt::format("  Logs:            {}/\n", (dir / "logs").string());
  out += fmt::format("  Status:          {}\n", (dir / "status.json").string());
  return out;
}

void TrainReporter::summary(const std::filesystem::path& work_dir) const {
  fmt::print(out_, "{}", summary_text(work_dir));
  std::fflush(out_);
}

}  // namespace sluice::cli
