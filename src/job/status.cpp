#include "job/status.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <ctime>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace sluice::job {

std::string StatusRecord::iso_time(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%06lld+00:00", buf, static_cast<long long>(us % 1'000'000));
  return out;
}

StatusRecord::StatusRecord(std::filesystem::path file, std::string job_name, std::string job_arn,
                           nlohmann::json request)
    : file_(std::move(file)) {
  auto now = iso_time(std::chrono::system_clock::now());
  doc_ = std::move(request);
  if (!doc_.is_object()) doc_ = nlohmann::json::object();
  doc_["TrainingJobName"] = job_name;
  doc_["TrainingJobArn"] = job_arn;
  doc_["TrainingJobStatus"] = "InProgress";
  doc_["SecondaryStatus"] = "Starting";
  doc_["CreationTime"] = now;
  doc_["LastModifiedTime"] = now;
  doc_["SecondaryStatusTransitions"] = nlohmann::json::array(
      {{{"Status", "Starting"}, {"StartTime", now}, {"StatusMessage", "Preparing the instances for training"}}});
  std::lock_guard lock(mu_);
  write_locked();
}

void StatusRecord::transition(const std::string& secondary_status, const std::string& message) {
  std::lock_guard lock(mu_);
  auto now = iso_time(std::chrono::system_clock::now());
  auto& transitions = doc_["SecondaryStatusTransitions"];
  if (!transitions.empty() && transitions.back()["Status"] == secondary_status) {
    transitions.back()["StatusMessage"] = message;  // several hosts report the same phase
  } else {
    if (!transitions.empty() && !transitions.back().contains("EndTime")) transitions.back()["EndTime"] = now;
    transitions.push_back({{"Status", secondary_status}, {"StartTime", now}, {"StatusMessage", message}});
  }
  doc_["SecondaryStatus"] = secondary_status;
  doc_["LastModifiedTime"] = now;
  write_locked();
}

void StatusRecord::set_model_artifacts(const std::string& uri) {
  std::lock_guard lock(mu_);
  doc_["ModelArtifacts"] = {{"S3ModelArtifacts", uri}};
  write_locked();
}

void StatusRecord::set_training_start() {
  std::lock_guard lock(mu_);
  if (!doc_.contains("TrainingStartTime")) {
    training_start_ = std::chrono::system_clock::now();
    doc_["TrainingStartTime"] = iso_time(*training_start_);
  }
  write_locked();
}

void StatusRecord::finish(const std::string& status, const std::string& secondary_status, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto now = iso_time(std::chrono::system_clock::now());
  auto& transitions = doc_["SecondaryStatusTransitions"];
  if (!transitions.empty() && !transitions.back().contains("EndTime")) transitions.back()["EndTime"] = now;
  const std::string cut = utf8_prefix(reason, 1024);  // FailureReason: at most 1024 characters
  std::string message = status == "Completed" ? "Training job completed" : cut;
  transitions.push_back({{"Status", secondary_status}, {"StartTime", now}, {"EndTime", now}, {"StatusMessage", message}});
  doc_["TrainingJobStatus"] = status;
  doc_["SecondaryStatus"] = secondary_status;
  if (status != "Completed") doc_["FailureReason"] = cut;
  doc_["TrainingEndTime"] = now;
  doc_["LastModifiedTime"] = now;
  if (training_start_) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *training_start_);
    doc_["TrainingTimeInSeconds"] = std::max<int64_t>(1, seconds.count());
    doc_["BillableTimeInSeconds"] = doc_["TrainingTimeInSeconds"];
  }
  write_locked();
}

void StatusRecord::set_listener(std::function<void(const nlohmann::json&)> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
  if (listener_) listener_(doc_);
}

nlohmann::json StatusRecord::snapshot() const {
  std::lock_guard lock(mu_);
  return doc_;
}

namespace {

// Writes `text` to `file` under a temporary name of this process's (several `sluice train --host`
// may share a job directory), then renames it into place: a reader sees a whole document.
void write_file(const std::filesystem::path& file, const std::string& text) {
  // Unique across the machines that may share the directory: this machine's name and the pid.
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string machine;
  for (const char* c = host; *c; ++c) machine += (std::isalnum(static_cast<unsigned char>(*c)) || *c == '-') ? *c : '_';
  std::filesystem::path tmp =
      file.parent_path() / fmt::format(".sluice-partial-{}-{}-{}", machine, ::getpid(), file.filename().string());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw errno_error(errno, "writing", tmp.string());
  ssize_t w = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (w != static_cast<ssize_t>(text.size())) {
    ::unlink(tmp.c_str());
    throw errno_error(w < 0 ? err : ENOSPC, "writing", tmp.string());
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) throw errno_error(errno, "renaming into place", file.string());
}

}  // namespace

void StatusRecord::write_locked() {
  // Every string put in doc_ is valid UTF-8; replacing is the guard should one not be.
  std::string text = doc_.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  write_file(file_, text);
  for (const auto& copy : copies_) write_file(copy, text);
  if (listener_) listener_(doc_);
}

void StatusRecord::add_copy(std::filesystem::path file) {
  std::lock_guard lock(mu_);
  copies_.push_back(std::move(file));
  std::string text = doc_.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  write_file(copies_.back(), text);
}

}  // namespace sluice::job
