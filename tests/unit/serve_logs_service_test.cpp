// CloudWatch Logs operations of `sluice serve` (serve/logs_service.hpp) called as ApiServer calls
// them: DescribeLogStreams (prefix, order, limit, paging), GetLogEvents (tokens forward and
// backward, the same token when nothing is new, a partial line only once complete, time bounds,
// tampered tokens refused), FilterLogEvents (patterns, streams merged in time order, paging), the
// only log group, unknown streams, and jobs the caller may not see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "serve/job_records.hpp"
#include "serve/logs_service.hpp"
#include "serve/state_db.hpp"
#include "support/log_stamp.hpp"
#include "support/temp_dir.hpp"

namespace sluice::serve {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using sluice::testing::TempDir;

constexpr std::int64_t kT0 = 1796487601000;  // 2026-12-05T16:20:01.000Z
const std::string kGroup = "/aws/sagemaker/TrainingJobs";

std::string stamp(std::int64_t ms) { return sluice::testing::log_stamp(ms); }

class LogsService : public ::testing::Test {
 protected:
  TempDir tmp;
  StateDb db{tmp / "state.db"};
  JobRecords records{db};
  std::map<std::string, Operation> ops = logs_operations(records, [](const Caller& caller, const JobRecord& job) {
    if (job.owner.tags.empty() || job.owner.tags[0].value != caller.principal) {
      throw ApiFailure(ApiError{"AccessDeniedException", 400, "not yours"});
    }
  });
  Caller a{"AKIAA", "a", false};
  Caller b{"AKIAB", "b", false};

  // A job of tenant `tenant` with a log per host, each starting with its run marker at kT0 + host s.
  std::string add_job(const std::string& name, const std::string& tenant, int hosts) {
    JobRecord job;
    job.name = name;
    job.arn = "arn:aws:sagemaker:us-east-1:111122223333:training-job/" + name;
    job.owner = {"arn:aws:sts::111122223333:assumed-role/creator/s", "111122223333", {{"tenant", tenant}}};
    job.work_dir = tmp / ("work/" + name);
    job.creation_time = static_cast<double>(kT0) / 1000;
    records.insert(job);
    std::filesystem::create_directories(job.work_dir + "/logs");
    for (int h = 1; h <= hosts; ++h) {
      append(name, h, "===== " + stamp(kT0 + h * 1000) + " sluice train: first run of training job '" + name + "' on algo-" +
                          std::to_string(h) + " =====\n");
    }
    return job.work_dir;
  }
  void append(const std::string& job, int host, const std::string& text) {
    std::ofstream f(tmp / ("work/" + job + "/logs/algo-" + std::to_string(host) + ".log"), std::ios::app);
    f << text;
  }
  void line(const std::string& job, int host, std::int64_t ms, const std::string& text) {
    append(job, host, stamp(ms) + " [algo-" + std::to_string(host) + "] " + text + "\n");
  }
  std::string stream(const std::string& job, int host) {
    return job + "/algo-" + std::to_string(host) + "-" + std::to_string(kT0 / 1000 + host);
  }
  json call(const std::string& op, json input, const Caller& who) {
    ApiCall c;
    c.service = "logs";
    c.operation = op;
    c.input = std::move(input);
    return ops.at("logs." + op)(c, who).output;
  }
  ApiError fails(const std::string& op, json input, const Caller& who) {
    try {
      call(op, std::move(input), who);
    } catch (const ApiFailure& f) {
      return f.error;
    }
    ADD_FAILURE() << op << " did not fail";
    return {};
  }
  static std::vector<std::string> messages(const json& out) {
    std::vector<std::string> m;
    for (const auto& e : out["events"]) m.push_back(e["message"]);
    return m;
  }
  static std::vector<std::string> names(const json& out) {
    std::vector<std::string> m;
    for (const auto& s : out["logStreams"]) m.push_back(s["logStreamName"]);
    return m;
  }
};

TEST_F(LogsService, OperationsAreRegistered) {
  EXPECT_EQ(ops.size(), 3u);
  EXPECT_TRUE(ops.count("logs.DescribeLogStreams") && ops.count("logs.GetLogEvents") && ops.count("logs.FilterLogEvents"));
}

TEST_F(LogsService, DescribeListsTheCallersStreamsByPrefixWithPaging) {
  add_job("job-a", "a", 3);
  add_job("job-ab", "a", 1);
  add_job("job-b", "b", 1);
  line("job-a", 1, kT0 + 5000, "x");
  json all = call("DescribeLogStreams", {{"logGroupName", kGroup}}, a);
  EXPECT_THAT(names(all), ElementsAre(stream("job-a", 1), stream("job-a", 2), stream("job-a", 3), stream("job-ab", 1)));
  const json& s1 = all["logStreams"][0];
  EXPECT_EQ(s1["creationTime"], kT0 + 1000);
  EXPECT_EQ(s1["firstEventTimestamp"], kT0 + 5000);
  EXPECT_EQ(s1["lastEventTimestamp"], kT0 + 5000);
  EXPECT_EQ(s1["arn"], "arn:aws:logs:us-east-1:111122223333:log-group:" + kGroup + ":log-stream:" + stream("job-a", 1));
  EXPECT_FALSE(all["logStreams"][1].contains("lastEventTimestamp"));  // only the marker so far

  // What the SageMaker SDK asks: prefix "<job>/", ordered by name, a limit; then the next pages.
  json p1 = call("DescribeLogStreams",
                 {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-a/"}, {"orderBy", "LogStreamName"}, {"limit", 2}}, a);
  EXPECT_THAT(names(p1), ElementsAre(stream("job-a", 1), stream("job-a", 2)));
  ASSERT_TRUE(p1.contains("nextToken"));
  json p2 = call("DescribeLogStreams",
                 {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-a/"}, {"limit", 2}, {"nextToken", p1["nextToken"]}}, a);
  EXPECT_THAT(names(p2), ElementsAre(stream("job-a", 3)));
  EXPECT_FALSE(p2.contains("nextToken"));
  EXPECT_EQ(fails("DescribeLogStreams", {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-b/"}, {"nextToken", p1["nextToken"]}}, a).code,
            "InvalidParameterException");  // a token of another query

  json desc = call("DescribeLogStreams", {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-a"}, {"descending", true}}, a);
  EXPECT_THAT(names(desc), ElementsAre(stream("job-ab", 1), stream("job-a", 3), stream("job-a", 2), stream("job-a", 1)));
  json by_time = call("DescribeLogStreams", {{"logGroupName", kGroup}, {"orderBy", "LastEventTime"}, {"descending", true}}, a);
  EXPECT_EQ(names(by_time)[0], stream("job-a", 1));  // its event is the latest
  EXPECT_EQ(fails("DescribeLogStreams", {{"logGroupName", kGroup}, {"orderBy", "LastEventTime"}, {"logStreamNamePrefix", "j"}}, a).code,
            "InvalidParameterException");

  // Another tenant's job is not listed, even named.
  EXPECT_TRUE(names(call("DescribeLogStreams", {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-a/"}}, b)).empty());
  EXPECT_THAT(names(call("DescribeLogStreams", {{"logGroupName", kGroup}}, b)), ElementsAre(stream("job-b", 1)));
  EXPECT_TRUE(names(call("DescribeLogStreams", {{"logGroupName", kGroup}, {"logStreamNamePrefix", "nothing"}}, a)).empty());
}

TEST_F(LogsService, OnlyTheTrainingJobsGroupExists) {
  auto e = fails("DescribeLogStreams", {{"logGroupName", "/aws/sagemaker/Endpoints"}}, a);
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "The specified log group does not exist.");
  EXPECT_EQ(fails("GetLogEvents", {{"logGroupName", "/other"}, {"logStreamName", "j/algo-1-1"}}, a).code, "ResourceNotFoundException");
  EXPECT_EQ(fails("FilterLogEvents", {{"logGroupName", "/other"}}, a).code, "ResourceNotFoundException");
  EXPECT_EQ(fails("DescribeLogStreams", json::object(), a).code, "InvalidParameterException");
  EXPECT_NO_THROW(call("DescribeLogStreams",
                       {{"logGroupIdentifier", "arn:aws:logs:us-east-1:111122223333:log-group:" + kGroup + ":*"}}, a));
}

TEST_F(LogsService, GetLogEventsTailsWithForwardTokens) {
  add_job("job-a", "a", 1);
  line("job-a", 1, kT0 + 2000, "one");
  line("job-a", 1, kT0 + 3000, "two");
  line("job-a", 1, kT0 + 4000, "three");
  append("job-a", 1, stamp(kT0 + 5000) + " [algo-1] fo");  // being written
  const json base = {{"logGroupName", kGroup}, {"logStreamName", stream("job-a", 1)}, {"startFromHead", true}};

  json in = base;
  in["limit"] = 2;
  json p1 = call("GetLogEvents", in, a);
  EXPECT_THAT(messages(p1), ElementsAre("one", "two"));
  EXPECT_EQ(p1["events"][0]["timestamp"], kT0 + 2000);
  EXPECT_EQ(p1["events"][0]["ingestionTime"], kT0 + 2000);
  EXPECT_EQ(p1["nextForwardToken"].get<std::string>().substr(0, 2), "f/");
  EXPECT_EQ(p1["nextBackwardToken"].get<std::string>().substr(0, 2), "b/");
  in["nextToken"] = p1["nextForwardToken"];
  json p2 = call("GetLogEvents", in, a);
  EXPECT_THAT(messages(p2), ElementsAre("three"));  // not the partial line
  in["nextToken"] = p2["nextForwardToken"];
  json p3 = call("GetLogEvents", in, a);
  EXPECT_TRUE(p3["events"].empty());
  EXPECT_EQ(p3["nextForwardToken"], p2["nextForwardToken"]);  // nothing new: the same token
  append("job-a", 1, "ur\n");
  json p4 = call("GetLogEvents", in, a);
  EXPECT_THAT(messages(p4), ElementsAre("four"));
  in["nextToken"] = p4["nextForwardToken"];
  EXPECT_TRUE(call("GetLogEvents", in, a)["events"].empty());

  // Backward from a forward page's backward token.
  json back = base;
  back["nextToken"] = p2["nextBackwardToken"];
  EXPECT_THAT(messages(call("GetLogEvents", back, a)), ElementsAre("one", "two"));

  // Without startFromHead: the last events.
  json tail = {{"logGroupName", kGroup}, {"logStreamName", stream("job-a", 1)}, {"limit", 2}};
  json t1 = call("GetLogEvents", tail, a);
  EXPECT_THAT(messages(t1), ElementsAre("three", "four"));
  tail["nextToken"] = t1["nextBackwardToken"];
  json t2 = call("GetLogEvents", tail, a);
  EXPECT_THAT(messages(t2), ElementsAre("one", "two"));
  tail["nextToken"] = t2["nextBackwardToken"];
  json t3 = call("GetLogEvents", tail, a);
  EXPECT_TRUE(t3["events"].empty());  // (past the run marker, which is not an event)
  tail["nextToken"] = t3["nextBackwardToken"];
  EXPECT_EQ(call("GetLogEvents", tail, a)["nextBackwardToken"], t3["nextBackwardToken"]);  // at the head: stays
}

TEST_F(LogsService, GetLogEventsTimeBounds) {
  add_job("job-a", "a", 1);
  for (int i = 0; i < 10; ++i) line("job-a", 1, kT0 + 10000 + i * 1000, "e" + std::to_string(i));
  json in = {{"logGroupName", kGroup}, {"logStreamName", stream("job-a", 1)}, {"startFromHead", true},
             {"startTime", kT0 + 12000}, {"endTime", kT0 + 15000}};
  EXPECT_THAT(messages(call("GetLogEvents", in, a)), ElementsAre("e2", "e3", "e4"));  // endTime excluded
  in.erase("endTime");
  in["startTime"] = kT0 + 18500;
  EXPECT_THAT(messages(call("GetLogEvents", in, a)), ElementsAre("e9"));
}

TEST_F(LogsService, GetLogEventsRefusesUnknownStreamsOthersJobsAndTamperedTokens) {
  add_job("job-a", "a", 1);
  line("job-a", 1, kT0 + 2000, "one");
  line("job-a", 1, kT0 + 3000, "two");
  const json base = {{"logGroupName", kGroup}, {"logStreamName", stream("job-a", 1)}, {"startFromHead", true}, {"limit", 1}};
  for (const std::string& s : {std::string("job-a/algo-1-5"), std::string("job-a/algo-2-") + std::to_string(kT0 / 1000 + 2),
                               std::string("nojob/algo-1-1"), std::string("JOB-A/algo-1-") + std::to_string(kT0 / 1000 + 1),
                               std::string("job-a/../../etc")}) {
    json in = base;
    in["logStreamName"] = s;
    auto e = fails("GetLogEvents", in, a);
    EXPECT_EQ(e.code, "ResourceNotFoundException") << s;
    EXPECT_EQ(e.message, "The specified log stream does not exist.") << s;
  }
  EXPECT_EQ(fails("GetLogEvents", base, b).code, "AccessDeniedException");

  json p1 = call("GetLogEvents", base, a);
  const std::string token = p1["nextForwardToken"];
  auto refused = [&](const std::string& t) {
    json in = base;
    in["nextToken"] = t;
    return fails("GetLogEvents", in, a).code == "InvalidParameterException";
  };
  // The offset changed (past the end, into a line), the check changed, another stream's token.
  const std::size_t dot = token.rfind('.');
  EXPECT_TRUE(refused("f/999999" + token.substr(dot)));
  EXPECT_TRUE(refused("f/5" + token.substr(dot)));
  EXPECT_TRUE(refused(token.substr(0, token.size() - 1) + (token.back() == '0' ? "1" : "0")));
  EXPECT_TRUE(refused("x" + token.substr(1)));
  EXPECT_TRUE(refused("f/"));
  EXPECT_TRUE(refused("garbage"));
  add_job("job-c", "a", 1);
  line("job-c", 1, kT0 + 2000, "one");
  json other = base;
  other["logStreamName"] = stream("job-c", 1);
  EXPECT_TRUE(refused(call("GetLogEvents", other, a)["nextForwardToken"]));
}

TEST_F(LogsService, FilterLogEventsMergesStreamsMatchesAndPages) {
  add_job("job-a", "a", 2);
  add_job("job-b", "b", 1);
  line("job-a", 1, kT0 + 2000, "INFO start");
  line("job-a", 2, kT0 + 2500, "INFO start");
  line("job-a", 1, kT0 + 3000, "ERROR disk full");
  line("job-a", 2, kT0 + 3500, "ERROR timeout");
  line("job-a", 1, kT0 + 4000, "INFO end");
  line("job-b", 1, kT0 + 3000, "ERROR of b");
  append("job-a", 2, stamp(kT0 + 4500) + " [algo-2] ERROR partial");

  json all = call("FilterLogEvents", {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-a/"}}, a);
  EXPECT_THAT(messages(all), ElementsAre("INFO start", "INFO start", "ERROR disk full", "ERROR timeout", "INFO end"));
  EXPECT_EQ(all["events"][1]["logStreamName"], stream("job-a", 2));
  EXPECT_FALSE(all.contains("nextToken"));
  std::set<std::string> ids;
  for (const auto& e : all["events"]) ids.insert(e["eventId"].get<std::string>());
  EXPECT_EQ(ids.size(), 5u);

  json errors = call("FilterLogEvents", {{"logGroupName", kGroup}, {"filterPattern", "ERROR"}}, a);
  EXPECT_THAT(messages(errors), ElementsAre("ERROR disk full", "ERROR timeout"));  // not b's
  EXPECT_THAT(messages(call("FilterLogEvents", {{"logGroupName", kGroup}, {"filterPattern", "\"disk full\""}}, a)),
              ElementsAre("ERROR disk full"));
  EXPECT_THAT(messages(call("FilterLogEvents", {{"logGroupName", kGroup}, {"filterPattern", "ERROR"}}, b)),
              ElementsAre("ERROR of b"));
  EXPECT_EQ(fails("FilterLogEvents", {{"logGroupName", kGroup}, {"filterPattern", "{ $.x = 1 }"}}, a).code,
            "InvalidParameterException");
  EXPECT_THAT(messages(call("FilterLogEvents", {{"logGroupName", kGroup}, {"logStreamNames", {stream("job-a", 2), stream("job-b", 1)}}}, a)),
              ElementsAre("INFO start", "ERROR timeout"));  // b's stream: not a's to read
  EXPECT_THAT(messages(call("FilterLogEvents", {{"logGroupName", kGroup}, {"startTime", kT0 + 3000}, {"endTime", kT0 + 3500}}, a)),
              ElementsAre("ERROR disk full", "ERROR timeout"));  // both bounds kept
  EXPECT_EQ(fails("FilterLogEvents", {{"logGroupName", kGroup}, {"logStreamNames", {stream("job-a", 1)}}, {"logStreamNamePrefix", "j"}}, a).code,
            "InvalidParameterException");

  // Pages of two: every event once, in order; then the partial line once it is complete.
  json in = {{"logGroupName", kGroup}, {"logStreamNamePrefix", "job-a/"}, {"limit", 2}};
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    json out = call("FilterLogEvents", in, a);
    for (auto& m : messages(out)) seen.push_back(m);
    if (!out.contains("nextToken")) break;
    in["nextToken"] = out["nextToken"];
  }
  EXPECT_THAT(seen, ElementsAre("INFO start", "INFO start", "ERROR disk full", "ERROR timeout", "INFO end"));
  json tampered = in;
  tampered["nextToken"] = "job-a/algo-1-1@0.0000000000000000";
  EXPECT_EQ(fails("FilterLogEvents", tampered, a).code, "InvalidParameterException");
  append("job-a", 2, "\n");
  EXPECT_THAT(messages(call("FilterLogEvents", {{"logGroupName", kGroup}, {"filterPattern", "partial"}}, a)),
              ElementsAre("ERROR partial"));
}

}  // namespace
}  // namespace sluice::serve
