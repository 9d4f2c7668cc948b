#include "cli/jobs_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>

#include "auth/credentials.hpp"
#include "auth/json_api.hpp"
#include "core/error.hpp"
#include "core/iso8601.hpp"
#include "core/strings.hpp"
#include "core/unique_fd.hpp"

namespace sluice::cli {
namespace fs = std::filesystem;
namespace {

constexpr char kLogGroup[] = "/aws/sagemaker/TrainingJobs";
constexpr std::size_t kLogChunk = 1u << 20;  // bytes read from a host log per call

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void sort_by_time(std::vector<JobLogLine>& lines) {
  std::stable_sort(lines.begin(), lines.end(),
                   [](const JobLogLine& a, const JobLogLine& b) { return a.timestamp_ms < b.timestamp_ms; });
}

// ---- a server ----------------------------------------------------------------------------------

class ServerJobs : public JobsSource {
 public:
  explicit ServerJobs(auth::JsonApiOptions options) : api_(std::move(options)) {}

  nlohmann::json list(const JobsQuery& q) override {
    nlohmann::json out = {{"TrainingJobSummaries", nlohmann::json::array()}};
    nlohmann::json& jobs = out["TrainingJobSummaries"];
    std::string token;
    do {
      nlohmann::json in = {{"SortBy", "CreationTime"}, {"SortOrder", "Descending"}, {"MaxResults", 100}};
      if (q.max > 0) in["MaxResults"] = std::min<int>(100, q.max - static_cast<int>(jobs.size()));
      if (q.status_equals) in["StatusEquals"] = *q.status_equals;
      if (q.name_contains) in["NameContains"] = *q.name_contains;
      if (!token.empty()) in["NextToken"] = token;
      nlohmann::json page = api_.call(auth::kSageMakerService, "ListTrainingJobs", in);
      if (page.contains("TrainingJobSummaries") && page["TrainingJobSummaries"].is_array()) {
        for (auto& job : page["TrainingJobSummaries"]) jobs.push_back(std::move(job));
      }
      token = text_of(page, "NextToken");
    } while (!token.empty() && (q.max == 0 || static_cast<int>(jobs.size()) < q.max));
    return out;
  }

  nlohmann::json describe(const std::string& name) override {
    return api_.call(auth::kSageMakerService, "DescribeTrainingJob", {{"TrainingJobName", name}});
  }

  void stop(const std::string& name) override {
    api_.call(auth::kSageMakerService, "StopTrainingJob", {{"TrainingJobName", name}});
  }

  std::vector<JobLogLine> read_logs(const std::string& name) override {
    std::vector<JobLogLine> lines;
    for (const std::string& stream : streams(name)) {
      nlohmann::json in = {{"logGroupName", kLogGroup}, {"logStreamName", stream}, {"startFromHead", true}};
      auto known = tokens_.find(stream);
      if (known != tokens_.end()) in["nextToken"] = known->second;
      nlohmann::json page = api_.call(auth::kLogsService, "GetLogEvents", in);
      tokens_[stream] = text_of(page, "nextForwardToken");
      const std::string host = host_of(stream);
      if (!page.contains("events") || !page["events"].is_array()) continue;
      for (const auto& e : page["events"]) {
        lines.push_back({e.value("timestamp", std::int64_t{0}), host, text_of(e, "message")});
      }
    }
    sort_by_time(lines);
    return lines;
  }

  std::string where() const override { return api_.endpoint(); }

 private:
  // The job's streams, "<job>/algo-K-<epoch>".
  std::vector<std::string> streams(const std::string& name) {
    std::vector<std::string> out;
    std::string token;
    do {
      nlohmann::json in = {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", name + "/"}};
      if (!token.empty()) in["nextToken"] = token;
      nlohmann::json page = api_.call(auth::kLogsService, "DescribeLogStreams", in);
      if (page.contains("logStreams") && page["logStreams"].is_array()) {
        for (const auto& s : page["logStreams"]) out.push_back(text_of(s, "logStreamName"));
      }
      token = text_of(page, "nextToken");
    } while (!token.empty());
    return out;
  }

  // "job/algo-2-1796487601" -> "algo-2"
  static std::string host_of(const std::string& stream) {
    const size_t slash = stream.find('/');
    std::string host = slash == std::string::npos ? stream : stream.substr(slash + 1);
    const size_t dash = host.rfind('-');
    if (dash != std::string::npos && dash > 0 && host.find('-') != dash) host.erase(dash);
    return host;
  }

  auth::JsonApiClient api_;
  std::map<std::string, std::string> tokens_;  // stream -> the forward token to read on from
};

// ---- a work directory --------------------------------------------------------------------------

// "2026-12-05T16:20:01.123Z [algo-1] text" -> the line; nothing for other lines (a run's marker).
std::optional<JobLogLine> parse_log_line(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto ns = parse_iso8601_ns(line.substr(0, space));
  if (!ns) return std::nullopt;
  JobLogLine out;
  out.timestamp_ms = *ns / 1'000'000;
  std::string_view rest = line.substr(space + 1);
  const size_t close = rest.find("] ");
  if (rest.starts_with('[') && close != std::string_view::npos) {
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 2);
  } else if (rest.starts_with('[') && rest.ends_with(']')) {  // an empty line of the command
    out.host = std::string(rest.substr(1, rest.size() - 2));
    rest = {};
  }
  out.text = std::string(rest);
  return out;
}

// The host logs of a job directory, algo-2 before algo-10.
std::vector<std::pair<int, fs::path>> host_logs(const fs::path& job_dir) {
  std::vector<std::pair<int, fs::path>> out;
  std::error_code ec;
  for (fs::directory_iterator it(job_dir / "logs", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (!file.starts_with("algo-") || !file.ends_with(".log")) continue;
    const std::string k = file.substr(5, file.size() - 9);
    if (k.empty() || k.size() > 6 || !std::all_of(k.begin(), k.end(), ascii_isdigit)) continue;
    out.emplace_back(std::stoi(k), it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class LocalJobs : public JobsSource {
 public:
  explicit LocalJobs(fs::path work_dir) : dir_(std::move(work_dir)) {}

  nlohmann::json list(const JobsQuery& q) override {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) {
      throw Error(ErrorKind::kNotFound, "listing the training jobs of " + dir_.string(), "no such directory");
    }
    std::vector<nlohmann::json> jobs;
    const std::string contains = ascii_lower(q.name_contains.value_or(""));
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!valid_job_name(name) || !fs::is_regular_file(it->path() / "status.json")) continue;
      if (!contains.empty() && ascii_lower(name).find(contains) == std::string::npos) continue;
      nlohmann::json s = read_status(name);
      if (q.status_equals && text_of(s, "TrainingJobStatus") != *q.status_equals) continue;
      nlohmann::json summary = nlohmann::json::object();
      for (const char* key : {"TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime",
                              "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus", "WarmPoolStatus"}) {
        if (s.contains(key)) summary[key] = s[key];
      }
      jobs.push_back(std::move(summary));
    }
    if (ec) throw errno_error(ec.value(), "listing the training jobs", dir_.string());
    auto created = [](const nlohmann::json& j) { return parse_iso8601_ns(text_of(j, "CreationTime")).value_or(0); };
    std::stable_sort(jobs.begin(), jobs.end(), [&](const auto& a, const auto& b) {
      return created(a) != created(b) ? created(a) > created(b) : text_of(a, "TrainingJobName") < text_of(b, "TrainingJobName");
    });
    if (q.max > 0 && jobs.size() > static_cast<size_t>(q.max)) jobs.resize(static_cast<size_t>(q.max));
    return {{"TrainingJobSummaries", jobs}};
  }

  nlohmann::json describe(const std::string& name) override { return read_status(name); }

  void stop(const std::string& name) override {
    throw Error(ErrorKind::kInvalidInput, "stopping training job '" + name + "' needs a server",
                "give --server URL (or SLUICE_SERVER) of the `sluice serve` that runs it; a job of `sluice train` "
                "stops with Ctrl-C (SIGINT or SIGTERM to its process)");
  }

  std::vector<JobLogLine> read_logs(const std::string& name) override {
    read_status(name);  // the job exists
    std::vector<JobLogLine> lines;
    for (const auto& [k, file] : host_logs(dir_ / name)) {
      std::uint64_t& offset = offsets_[file.string()];
      UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd) throw errno_error(errno, "reading the log", file.string());
      std::string chunk(kLogChunk, '\0');
      const ssize_t n = ::pread(fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(offset));
      if (n < 0) throw errno_error(errno, "reading the log", file.string());
      chunk.resize(static_cast<size_t>(n));
      size_t end = chunk.rfind('\n');
      if (end == std::string::npos) {
        if (chunk.size() < kLogChunk) continue;  // a line still being written
        end = chunk.size() - 1;                  // a line longer than a chunk: given in pieces
      }
      offset += end + 1;
      std::string_view rest(chunk.data(), end + 1);
      while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (auto l = parse_log_line(line)) lines.push_back(std::move(*l));
      }
    }
    sort_by_time(lines);
    return lines;
  }

  std::string where() const override { return dir_.string(); }

 private:
  nlohmann::json read_status(const std::string& name) const {
    const fs::path file = dir_ / name / "status.json";
    std::ifstream in(file);
    if (!in) {
      throw Error(ErrorKind::kNotFound, "training job '" + name + "'",
                  "not in " + dir_.string() + " (no " + file.string() + ")");
    }
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!j.is_object()) throw Error(ErrorKind::kInternal, "reading " + file.string(), "not a JSON object");
    return j;
  }

  fs::path dir_;
  std::map<std::string, std::uint64_t> offsets_;  // host log -> where the next read starts
};

}  // namespace

bool valid_job_name(const std::string& name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return ascii_isalnum(c) || c == '-'; });
}

bool job_ended(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Stopped";
}

std::unique_ptr<JobsSource> server_jobs(const GlobalOptions& g, const std::string& url) {
  const auth::EnvLookup env = auth::with_flags(auth::process_env(), {g.profile, g.region});
  auth::JsonApiOptions o;
  try {
    o.endpoint = auth::parse_json_endpoint(url).url;  // a wrong URL is said before missing credentials
  } catch (const Error& e) {
    throw e.with_context("--server");
  }
  o.region = auth::resolve_region(env);
  o.credentials = auth::resolve_credentials(env);
  o.http.verify_tls = g.verify_tls;
  if (g.connect_timeout_s) o.http.connect_timeout = std::chrono::seconds(*g.connect_timeout_s);
  if (g.read_timeout_s) o.timeout = std::chrono::seconds(*g.read_timeout_s);
  return std::make_unique<ServerJobs>(std::move(o));
}

std::unique_ptr<JobsSource> local_jobs(const std::string& work_dir) { return std::make_unique<LocalJobs>(work_dir); }

}  // namespace sluice::cli
