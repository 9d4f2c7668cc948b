// `sluice jobs`: a work directory read directly (list, describe, logs; stop refused), the table and
// text it prints, and the same commands against a real serve::ApiServer with fake operations
// (paging, the log streams' forward tokens, --follow until the job ends).
#include "cli/jobs.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "cli/jobs_format.hpp"
#include "serve/api_server.hpp"
#include "support/expect_error.hpp"
#include "support/key_lookup.hpp"
#include "support/temp_dir.hpp"

namespace sluice::cli {
namespace {

using sluice::testing::expect_error;
using sluice::testing::TempDir;

// What a command printed.
class Captured {
 public:
  Captured() : f_(open_memstream(&buf_, &size_)) {}
  ~Captured() {
    std::fclose(f_);
    std::free(buf_);
  }
  std::FILE* file() { return f_; }
  std::string text() {
    std::fflush(f_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  std::FILE* f_;
};

JobsQuery query(std::optional<std::string> status, std::optional<std::string> contains = {}, int max = 0) {
  JobsQuery q;
  q.status_equals = std::move(status);
  q.name_contains = std::move(contains);
  q.max = max;
  return q;
}

void write(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  out << text;
}

nlohmann::json status_record(const std::string& name, const std::string& status, const std::string& created,
                             const std::string& ended = "") {
  nlohmann::json j = {{"TrainingJobName", name},
                      {"TrainingJobArn", "arn:aws:sagemaker:us-east-1:000000000000:training-job/" + name},
                      {"TrainingJobStatus", status},
                      {"SecondaryStatus", status == "InProgress" ? "Training" : status},
                      {"CreationTime", created},
                      {"LastModifiedTime", created},
                      {"SecondaryStatusTransitions",
                       {{{"Status", "Starting"}, {"StartTime", created}, {"EndTime", created},
                         {"StatusMessage", "Preparing the instances for training"}}}}};
  if (!ended.empty()) j["TrainingEndTime"] = ended;
  return j;
}

class LocalJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add("job-a", status_record("job-a", "Completed", "2026-12-05T16:20:01.000000+00:00", "2026-12-05T16:21:31.500000+00:00"));
    add("job-b", status_record("job-b", "InProgress", "2026-12-05T17:00:00.000000+00:00"));
    std::filesystem::create_directories(dir_ / "no-status");
    std::filesystem::create_directories(dir_ / ".sluice-serve");
    write(dir_ / "job-a/logs/algo-1.log",
          "===== 2026-12-05T16:20:01.000000+00:00 sluice train: first run of training job 'job-a' on algo-1 =====\n"
          "2026-12-05T16:20:02.000Z [algo-1] epoch 1\n"
          "2026-12-05T16:20:04.000Z [algo-1] epoch 2\n"
          "2026-12-05T16:20:05.000Z [algo-1] still wri");
    write(dir_ / "job-a/logs/algo-2.log",
          "===== 2026-12-05T16:20:01.000000+00:00 sluice train: first run of training job 'job-a' on algo-2 =====\n"
          "2026-12-05T16:20:03.000Z [algo-2] hello from 2\n"
          "2026-12-05T16:20:03.500Z [algo-2]\n");
  }
  void add(const std::string& name, const nlohmann::json& record) {
    std::filesystem::create_directories(dir_ / (name + "/logs"));
    write(dir_ / (name + "/status.json"), record.dump(2));
  }

  TempDir dir_{"sluice-jobs-test"};
  std::unique_ptr<JobsSource> jobs_ = local_jobs(dir_.path());
};

TEST_F(LocalJobsTest, ListShowsTheJobsWithAStatusRecordNewestFirst) {
  auto all = jobs_->list({});
  ASSERT_EQ(all["TrainingJobSummaries"].size(), 2u) << all.dump(2);
  EXPECT_EQ(all["TrainingJobSummaries"][0]["TrainingJobName"], "job-b");
  EXPECT_EQ(all["TrainingJobSummaries"][1]["TrainingJobName"], "job-a");
  EXPECT_FALSE(all["TrainingJobSummaries"][1].contains("SecondaryStatusTransitions"));
  EXPECT_EQ(jobs_->list(query("Completed"))["TrainingJobSummaries"].size(), 1u);
  EXPECT_EQ(jobs_->list(query({}, "JOB-B"))["TrainingJobSummaries"][0]["TrainingJobName"], "job-b");
  EXPECT_EQ(jobs_->list(query({}, {}, 1))["TrainingJobSummaries"].size(), 1u);

  Captured out;
  EXPECT_EQ(jobs_list(*jobs_, {}, false, out.file()), 0);
  EXPECT_EQ(out.text(),
            "NAME   STATUS      SECONDARY  CREATED              ENDED\n"
            "job-b  InProgress  Training   2026-12-05 17:00:00  -\n"
            "job-a  Completed   Completed  2026-12-05 16:20:01  2026-12-05 16:21:31\n");
  expect_error([] { local_jobs("/nonexistent/sluice-jobs")->list({}); }, ErrorKind::kNotFound, {"/nonexistent/sluice-jobs"});
}

TEST_F(LocalJobsTest, DescribeIsTheStatusRecord) {
  Captured json;
  EXPECT_EQ(jobs_describe(*jobs_, "job-a", true, json.file()), 0);
  EXPECT_EQ(nlohmann::json::parse(json.text())["TrainingEndTime"], "2026-12-05T16:21:31.500000+00:00");
  Captured text;
  EXPECT_EQ(jobs_describe(*jobs_, "job-a", false, text.file()), 0);
  EXPECT_NE(text.text().find("TrainingJobStatus:     Completed\n"), std::string::npos) << text.text();
  EXPECT_NE(text.text().find("TrainingEndTime:       2026-12-05 16:21:31\n"), std::string::npos) << text.text();
  EXPECT_NE(text.text().find("  2026-12-05 16:20:01  Starting  Preparing the instances for training (0.0 s)\n"),
            std::string::npos)
      << text.text();
  expect_error([&] { jobs_->describe("job-c"); }, ErrorKind::kNotFound, {"training job 'job-c'", "not in"});
  expect_error([&] { jobs_->describe("no-status"); }, ErrorKind::kNotFound);
}

TEST_F(LocalJobsTest, StopWithoutAServerIsRefusedClearly) {
  Captured out;
  expect_error([&] { jobs_stop(*jobs_, "job-b", out.file()); }, ErrorKind::kInvalidInput,
               {"stopping training job 'job-b' needs a server", "--server", "Ctrl-C"});
}

TEST_F(LocalJobsTest, LogsAreTheHostsCompleteLinesInTimeOrder) {
  Captured out;
  EXPECT_EQ(jobs_logs(*jobs_, "job-a", false, out.file()), 0);
  EXPECT_EQ(out.text(),
            "[algo-1] epoch 1\n"
            "[algo-2] hello from 2\n"
            "[algo-2] \n"
            "[algo-1] epoch 2\n");
  // The line being written comes once it is complete, and only what is new.
  EXPECT_TRUE(jobs_->read_logs("job-a").empty());
  write(dir_ / "job-a/logs/algo-1.log", "ting\n", true);
  auto more = jobs_->read_logs("job-a");
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].host, "algo-1");
  EXPECT_EQ(more[0].text, "still writing");
  expect_error([&] { jobs_->read_logs("job-c"); }, ErrorKind::kNotFound);
}

TEST_F(LocalJobsTest, FollowPrintsUntilTheJobEnds) {
  write(dir_ / "job-b/logs/algo-1.log", "2026-12-05T17:00:01.000Z [algo-1] starting\n");
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    write(dir_ / "job-b/logs/algo-1.log", "2026-12-05T17:00:02.000Z [algo-1] done\n", true);
    auto done = status_record("job-b", "Failed", "2026-12-05T17:00:00Z", "2026-12-05T17:00:03Z");
    done["FailureReason"] = "AlgorithmError: exited with code 1 (algo-1)";
    write(dir_ / "job-b/status.json.tmp", done.dump());  // replaced whole, as the runner does
    std::filesystem::rename(dir_ / "job-b/status.json.tmp", dir_ / "job-b/status.json");
  });
  Captured out;
  const int code = jobs_logs(*jobs_, "job-b", true, out.file(), std::chrono::milliseconds(20));
  writer.join();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out.text(), "[algo-1] starting\n[algo-1] done\n");
}

TEST(JobsFormat, TimesOfTheApiAndOfRecordsLookTheSame) {
  EXPECT_EQ(shown_time(nlohmann::json(1796487601.25)), "2026-12-05 16:20:01");
  EXPECT_EQ(shown_time(nlohmann::json("2026-12-05T16:20:01.999Z")), "2026-12-05 16:20:01");
  EXPECT_EQ(shown_time(nlohmann::json()), "-");
  EXPECT_EQ(shown_time(nlohmann::json("soon")), "soon");
  EXPECT_TRUE(valid_job_name("a-b--c9"));
  for (const char* bad : {"", "-a", "a-", "a/b", "../x", "a_b"}) EXPECT_FALSE(valid_job_name(bad)) << bad;
}

// ---- against a server --------------------------------------------------------------------------

constexpr char kKey[] = "AKIDJOBSCLITEST00001";
constexpr char kSecret[] = "jobs-cli-test-secret-000000000000000000";

serve::OperationResult answer(nlohmann::json output) {
  serve::OperationResult r;
  r.output = std::move(output);
  return r;
}

class ServerJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, serve::Operation> ops;
    ops["sagemaker.ListTrainingJobs"] = [this](const serve::ApiCall& call, const serve::Caller&) {
      list_inputs_.push_back(call.input);
      nlohmann::json out = {{"TrainingJobSummaries", {{{"TrainingJobName", "page"}, {"TrainingJobStatus", "Completed"},
                                                        {"SecondaryStatus", "Completed"}, {"CreationTime", 1796487601.5}}}}};
      if (!call.input.contains("NextToken")) out["NextToken"] = "page-2";
      return answer(out);
    };
    ops["sagemaker.DescribeTrainingJob"] = [this](const serve::ApiCall& call, const serve::Caller&) {
      const std::string name = call.input.value("TrainingJobName", "");
      if (name != "job-1") throw serve::ApiFailure({"ValidationException", 400, "Requested resource not found."});
      return answer({{"TrainingJobName", name}, {"TrainingJobStatus", ++describes_ >= 3 ? "Completed" : "InProgress"}});
    };
    ops["sagemaker.StopTrainingJob"] = [this](const serve::ApiCall&, const serve::Caller&) {
      ++stops_;
      return answer(nlohmann::json::object());
    };
    ops["logs.DescribeLogStreams"] = [](const serve::ApiCall& call, const serve::Caller&) {
      EXPECT_EQ(call.input["logGroupName"], "/aws/sagemaker/TrainingJobs");
      EXPECT_EQ(call.input["logStreamNamePrefix"], "job-1/");
      return answer({{"logStreams", {{{"logStreamName", "job-1/algo-1-1796487601"}},
                                     {{"logStreamName", "job-1/algo-2-1796487602"}}}}});
    };
    // Each stream has one event per call until it has 3; the token counts what was read.
    ops["logs.GetLogEvents"] = [](const serve::ApiCall& call, const serve::Caller&) {
      const std::string stream = call.input["logStreamName"];
      const int read = call.input.contains("nextToken") ? std::stoi(call.input["nextToken"].get<std::string>().substr(2)) : 0;
      nlohmann::json events = nlohmann::json::array();
      const int host = stream.find("algo-2") != std::string::npos ? 2 : 1;
      if (read < 3) events.push_back({{"timestamp", 1000 * read + host}, {"message", "line " + std::to_string(read)}});
      return answer({{"events", events}, {"nextForwardToken", "f/" + std::to_string(std::min(read + 1, 3))}});
    };
    server_ = std::make_unique<serve::ApiServer>(
        serve::ApiServerOptions{},
        sluice::testing::one_key_lookup(kKey, kSecret, "arn:aws:iam::123456789012:user/alice"),
        std::move(ops));
    server_->start();
    ::setenv("AWS_ACCESS_KEY_ID", kKey, 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    ::unsetenv("AWS_PROFILE");
    jobs_ = server_jobs(GlobalOptions{}, "http://127.0.0.1:" + std::to_string(server_->port()));
  }

  std::unique_ptr<serve::ApiServer> server_;
  std::unique_ptr<JobsSource> jobs_;
  std::vector<nlohmann::json> list_inputs_;
  std::atomic<int> describes_{0}, stops_{0};
};

TEST_F(ServerJobsTest, ListFollowsNextTokenWithinMax) {
  auto all = jobs_->list(query("Completed", "pa"));
  EXPECT_EQ(all["TrainingJobSummaries"].size(), 2u);
  ASSERT_EQ(list_inputs_.size(), 2u);
  EXPECT_EQ(list_inputs_[0]["StatusEquals"], "Completed");
  EXPECT_EQ(list_inputs_[0]["NameContains"], "pa");
  EXPECT_EQ(list_inputs_[0]["SortOrder"], "Descending");
  EXPECT_EQ(list_inputs_[1]["NextToken"], "page-2");
  list_inputs_.clear();
  EXPECT_EQ(jobs_->list(query({}, {}, 1))["TrainingJobSummaries"].size(), 1u);
  ASSERT_EQ(list_inputs_.size(), 1u);
  EXPECT_EQ(list_inputs_[0]["MaxResults"], 1);
  Captured out;
  EXPECT_EQ(jobs_list(*jobs_, query({}, {}, 1), false, out.file()), 0);
  EXPECT_EQ(out.text(), "NAME  STATUS     SECONDARY  CREATED              ENDED\npage  Completed  Completed  2026-12-05 16:20:01  -\n");
}

TEST_F(ServerJobsTest, DescribeStopAndErrors) {
  EXPECT_EQ(jobs_->describe("job-1")["TrainingJobStatus"], "InProgress");
  expect_error([&] { jobs_->describe("job-2"); }, ErrorKind::kNotFound, {"sagemaker DescribeTrainingJob", "ValidationException"});
  Captured out;
  EXPECT_EQ(jobs_stop(*jobs_, "job-1", out.file()), 0);
  EXPECT_EQ(stops_, 1);
  EXPECT_EQ(out.text(), "Training job 'job-1': InProgress\n");
}

TEST_F(ServerJobsTest, LogsReadOnWithTheForwardTokens) {
  Captured out;
  EXPECT_EQ(jobs_logs(*jobs_, "job-1", false, out.file()), 0);
  EXPECT_EQ(out.text(), "[algo-1] line 0\n[algo-2] line 0\n[algo-1] line 1\n[algo-2] line 1\n"
                        "[algo-1] line 2\n[algo-2] line 2\n");
  EXPECT_TRUE(jobs_->read_logs("job-1").empty());
}

TEST_F(ServerJobsTest, FollowEndsWhenTheJobHasEnded) {
  Captured out;
  EXPECT_EQ(jobs_logs(*jobs_, "job-1", true, out.file(), std::chrono::milliseconds(10)), 0);
  EXPECT_GE(describes_, 3);
  EXPECT_EQ(out.text().size(), std::string("[algo-1] line 0\n").size() * 6);
}

}  // namespace
}  // namespace sluice::cli
