// Training job records (serve/job_records.hpp): insert/get/update round trips, a duplicate name is
// kConflict (ResourceInUse), records survive a restart, in_progress() for recovery; ListTrainingJobs'
// every filter, sort order and MaxResults bound, NextToken paging (stable while jobs are inserted,
// bound to its query), the caller's visibility applied before paging; and inserts from many threads,
// two connections and two processes on one file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "serve/job_records.hpp"
#include "serve/state_db.hpp"
#include "support/expect_error.hpp"
#include "support/state_db_fixture.hpp"
#include "support/temp_dir.hpp"

namespace sluice::serve {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using sluice::testing::expect_error;
using sluice::testing::TempDir;

JobRecord make_job(const std::string& name, double created, const std::string& status = "InProgress",
                   const std::string& tenant = "a") {
  JobRecord job;
  job.name = name;
  job.arn = "arn:aws:sagemaker:us-east-1:111122223333:training-job/" + name;
  job.owner = {"arn:aws:sts::111122223333:assumed-role/creator/s", "111122223333", {{"tenant-id", tenant}}};
  job.request = {{"TrainingJobName", name}, {"RoleArn", "arn:aws:iam::111122223333:role/exec"}};
  job.work_dir = "/srv/sluice/" + name;
  job.status = status;
  job.creation_time = created;
  job.last_modified_time = created + 5;
  return job;
}

std::vector<std::string> names(const std::vector<JobRecord>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs) out.push_back(j.name);
  return out;
}

// Every page of the query, concatenated; checks that only the last page is short or has no token.
std::vector<std::string> all_pages(const JobRecords& records, ListQuery query, const Visibility& visible = {}) {
  std::vector<std::string> out;
  for (int pages = 0; pages < 1000; ++pages) {
    ListPage page = records.list(query, visible);
    for (const auto& j : page.jobs) out.push_back(j.name);
    if (page.next_token.empty()) return out;
    EXPECT_EQ(static_cast<int>(page.jobs.size()), query.max_results) << "a short page before the last";
    query.next_token = page.next_token;
  }
  ADD_FAILURE() << "paging did not end";
  return out;
}

class JobRecordsTest : public sluice::testing::OnStateDb<JobRecords> {
 protected:
  JobRecords& records = store;
};

TEST_F(JobRecordsTest, InsertThenGetGivesTheSameRecord) {
  JobRecord job = make_job("train-1", 1700000000.25);
  job.owner.tags.push_back({"team", "ml x/y"});
  job.request["HyperParameters"] = {{"epochs", "3"}, {"note", "ünï\"code"}};
  job.secondary_status = "Downloading";
  job.failure_reason = "none yet";
  job.executor_handle = "pids:100,101";
  job.warm_pool = {"Available", 600, "role|ml.m5.xlarge|1|30|tenant-id=a", "next-job"};
  records.insert(job);
  EXPECT_EQ(records.get("train-1"), job);
  EXPECT_EQ(records.get("TRAIN-1"), job);  // names ignore case
  EXPECT_FALSE(records.get("train-2").has_value());
  JobRecord ended = make_job("train-2", 1700000001);
  ended.status = "Completed";
  ended.end_time = 1700000100.5;
  records.insert(ended);
  EXPECT_EQ(records.get("train-2"), ended);
}

TEST_F(JobRecordsTest, ADuplicateNameIsAConflictNamingTheJob) {
  records.insert(make_job("train-1", 1));
  for (const char* name : {"train-1", "Train-1"}) {
    expect_error([&] { records.insert(make_job(name, 2, "Completed", "b")); }, ErrorKind::kConflict,
                 {std::string("training job '") + name + "' already exists"});
  }
  EXPECT_EQ(records.get("train-1")->creation_time, 1);  // the first is untouched
}

TEST_F(JobRecordsTest, UpdateChangesOnlyThePatchedFields) {
  JobRecord job = make_job("train-1", 100);
  records.insert(job);
  JobPatch patch;
  patch.status = "Failed";
  patch.secondary_status = "Failed";
  patch.failure_reason = "AlgorithmError: exit 1";
  patch.last_modified_time = 200;
  patch.end_time = 199.5;
  patch.executor_handle = "pids:7";
  patch.warm_pool_status = "Terminated";
  patch.keep_alive_seconds = 60;
  patch.warm_pool_key = "k";
  patch.warm_pool_reused_by = "TRAIN-2";
  JobRecord after = records.update("TRAIN-1", patch);
  JobRecord expected = job;
  expected.status = expected.secondary_status = "Failed";
  expected.failure_reason = "AlgorithmError: exit 1";
  expected.last_modified_time = 200;
  expected.end_time = 199.5;
  expected.executor_handle = "pids:7";
  expected.warm_pool = {"Terminated", 60, "k", "TRAIN-2"};
  EXPECT_EQ(after, expected);
  EXPECT_EQ(records.get("train-1"), expected);
  EXPECT_EQ(records.update("train-1", {}), expected);  // an empty patch changes nothing

  JobPatch keep_alive;
  keep_alive.keep_alive_seconds = 3600;
  EXPECT_EQ(records.update("train-1", keep_alive).warm_pool.keep_alive_seconds, 3600);
  EXPECT_EQ(records.get("train-1")->status, "Failed");
}

TEST_F(JobRecordsTest, UpdateOfAMissingJobOrFromAnotherStatusIsRefused) {
  expect_error([&] { records.update("nope", {}); }, ErrorKind::kNotFound, {"training job 'nope' does not exist"});
  records.insert(make_job("done", 1, "Completed"));
  JobPatch stop;
  stop.status = "Stopping";
  stop.only_if_status = {"InProgress"};
  expect_error([&] { records.update("done", stop); }, ErrorKind::kConflict, {"training job 'done' is Completed"});
  EXPECT_EQ(records.get("done")->status, "Completed");
  records.insert(make_job("running", 2));
  EXPECT_EQ(records.update("running", stop).status, "Stopping");
}

TEST_F(JobRecordsTest, InProgressListsRunningAndStoppingJobsInInsertionOrder) {
  records.insert(make_job("c", 3, "InProgress"));
  records.insert(make_job("a", 1, "Completed"));
  records.insert(make_job("b", 2, "Stopping"));
  records.insert(make_job("d", 0, "InProgress"));
  records.insert(make_job("e", 5, "Failed"));
  records.insert(make_job("f", 6, "Stopped"));
  EXPECT_THAT(names(records.in_progress()), ElementsAre("c", "b", "d"));
}

TEST(JobRecords, EverythingSurvivesARestart) {
  TempDir tmp;
  std::vector<JobRecord> jobs;
  for (int i = 0; i < 5; ++i) {
    jobs.push_back(make_job("job-" + std::to_string(i), i, i % 2 ? "InProgress" : "Completed"));
  }
  {
    StateDb db(tmp / "state.db");
    JobRecords records(db);
    for (const auto& j : jobs) records.insert(j);
    JobPatch patch;
    patch.secondary_status = "Training";
    jobs[1] = records.update("job-1", patch);
  }
  StateDb db(tmp / "state.db");
  JobRecords records(db);
  for (const auto& j : jobs) EXPECT_EQ(records.get(j.name), j);
  EXPECT_THAT(names(records.in_progress()), ElementsAre("job-1", "job-3"));
  expect_error([&] { records.insert(jobs[0]); }, ErrorKind::kConflict);
}

// A set of jobs for the listing tests: names, creation times, statuses in no particular order.
class ListTest : public JobRecordsTest {
 protected:
  void SetUp() override {
    const std::vector<std::tuple<std::string, double, std::string>> rows = {
        {"mnist-b", 50, "Completed"}, {"cifar-a", 10, "InProgress"}, {"mnist-a", 30, "Failed"},
        {"bert-x", 20, "Completed"},  {"Bert-y", 40, "Stopped"},     {"gpt-1", 60, "InProgress"},
        {"gpt-2", 60, "Completed"},   {"zeta", 5, "Stopping"},       {"alpha", 70, "Completed"},
        {"mnist-c", 80, "InProgress"}, {"omega", 90, "Failed"},       {"kappa", 15, "Completed"},
    };
    for (const auto& [name, created, status] : rows) {
      JobRecord job = make_job(name, created, status);
      job.last_modified_time = 200 - created;  // modified in the opposite order
      if (name == "alpha" || name == "kappa") job.warm_pool.status = "Available";
      records.insert(job);
      all.push_back(job);
    }
  }
  // The expected order: by `key`, ties by insertion order; reversed whole for Descending.
  std::vector<std::string> expected(SortBy by, SortOrder order) const {
    std::vector<std::pair<JobRecord, std::size_t>> v;
    for (std::size_t i = 0; i < all.size(); ++i) v.emplace_back(all[i], i);
    std::stable_sort(v.begin(), v.end(), [&](const auto& x, const auto& y) {
      switch (by) {
        case SortBy::kName: return x.first.name < y.first.name;
        case SortBy::kStatus: return x.first.status < y.first.status;
        case SortBy::kCreationTime: break;
      }
      return x.first.creation_time < y.first.creation_time;
    });
    if (order == SortOrder::kDescending) std::reverse(v.begin(), v.end());
    std::vector<std::string> out;
    for (const auto& p : v) out.push_back(p.first.name);
    return out;
  }
  std::vector<JobRecord> all;
};

TEST_F(ListTest, TheDefaultIsTenNewestFirstWithAToken) {
  ListPage page = records.list({});
  EXPECT_THAT(names(page.jobs), ElementsAre("omega", "mnist-c", "alpha", "gpt-2", "gpt-1", "mnist-b", "Bert-y",
                                            "mnist-a", "bert-x", "kappa"));
  ASSERT_FALSE(page.next_token.empty());
  ListQuery next;
  next.next_token = page.next_token;
  ListPage rest = records.list(next);
  EXPECT_THAT(names(rest.jobs), ElementsAre("cifar-a", "zeta"));
  EXPECT_TRUE(rest.next_token.empty());
  EXPECT_EQ(page.jobs[0], all[10]);  // whole records
}

TEST_F(ListTest, EverySortOrderPagedInEverySize) {
  for (SortBy by : {SortBy::kName, SortBy::kCreationTime, SortBy::kStatus}) {
    for (SortOrder order : {SortOrder::kAscending, SortOrder::kDescending}) {
      for (int size : {1, 2, 3, 5, 11, 12, 13, 100}) {
        ListQuery q;
        q.sort_by = by;
        q.sort_order = order;
        q.max_results = size;
        EXPECT_THAT(all_pages(records, q), ElementsAreArray(expected(by, order)))
            << "sort " << static_cast<int>(by) << " order " << static_cast<int>(order) << " size " << size;
      }
    }
  }
}

TEST_F(ListTest, NameSortIsByteOrder) {
  ListQuery q;
  q.sort_by = SortBy::kName;
  q.sort_order = SortOrder::kAscending;
  q.max_results = 3;
  EXPECT_THAT(names(records.list(q).jobs), ElementsAre("Bert-y", "alpha", "bert-x"));
}

TEST_F(ListTest, EachFilter) {
  auto listed = [&](ListQuery q) {
    q.sort_by = SortBy::kName;
    q.sort_order = SortOrder::kAscending;
    q.max_results = 2;  // filters and paging together
    return all_pages(records, q);
  };
  ListQuery q;
  q.status_equals = "InProgress";
  EXPECT_THAT(listed(q), ElementsAre("cifar-a", "gpt-1", "mnist-c"));
  q = {};
  q.name_contains = "MNIST";
  EXPECT_THAT(listed(q), ElementsAre("mnist-a", "mnist-b", "mnist-c"));
  q.name_contains = "bert";
  EXPECT_THAT(listed(q), ElementsAre("Bert-y", "bert-x"));
  q.name_contains = "%";  // no wildcards
  EXPECT_THAT(listed(q), ElementsAre());
  q.name_contains = "";
  EXPECT_EQ(listed(q).size(), all.size());
  q = {};
  q.creation_time_after = 60;  // strictly after
  EXPECT_THAT(listed(q), ElementsAre("alpha", "mnist-c", "omega"));
  q = {};
  q.creation_time_before = 15;  // strictly before
  EXPECT_THAT(listed(q), ElementsAre("cifar-a", "zeta"));
  q.creation_time_after = 5;
  EXPECT_THAT(listed(q), ElementsAre("cifar-a"));
  q = {};
  q.last_modified_time_after = 180;  // created before 20
  EXPECT_THAT(listed(q), ElementsAre("cifar-a", "kappa", "zeta"));
  q = {};
  q.last_modified_time_before = 120;  // created after 80
  EXPECT_THAT(listed(q), ElementsAre("omega"));
  q.last_modified_time_after = 100;
  EXPECT_THAT(listed(q), ElementsAre("omega"));
  q = {};
  q.warm_pool_status_equals = "Available";
  EXPECT_THAT(listed(q), ElementsAre("alpha", "kappa"));
  q = {};
  q.status_equals = "Completed";
  q.name_contains = "t";
  q.creation_time_after = 20;
  EXPECT_THAT(listed(q), ElementsAre("gpt-2", "mnist-b"));
  q.status_equals = "Bogus";
  EXPECT_THAT(listed(q), ElementsAre());
}

TEST_F(ListTest, MaxResultsMustBeOneToAHundred) {
  for (int bad : {0, -1, 101, 1000}) {
    ListQuery q;
    q.max_results = bad;
    expect_error([&] { records.list(q); }, ErrorKind::kInvalidInput, {"MaxResults " + std::to_string(bad)});
  }
  ListQuery one;
  one.max_results = 1;
  EXPECT_EQ(records.list(one).jobs.size(), 1u);
  for (int i = 0; i < 100; ++i) records.insert(make_job("bulk-" + std::to_string(i), 1000 + i));
  ListQuery hundred;
  hundred.max_results = 100;
  ListPage page = records.list(hundred);
  EXPECT_EQ(page.jobs.size(), 100u);
  EXPECT_FALSE(page.next_token.empty());
}

TEST_F(ListTest, NextTokenIsStableWhileJobsAreInserted) {
  for (SortBy by : {SortBy::kName, SortBy::kCreationTime, SortBy::kStatus}) {
    for (SortOrder order : {SortOrder::kAscending, SortOrder::kDescending}) {
      TempDir dir;
      StateDb fresh(dir / "state.db");
      JobRecords r(fresh);
      for (const auto& j : all) r.insert(j);
      ListQuery q;
      q.sort_by = by;
      q.sort_order = order;
      q.max_results = 4;
      ListPage first = r.list(q);
      ASSERT_FALSE(first.next_token.empty());
      // Jobs that sort before, between and after everything, and ties with the page's last record.
      const JobRecord& last = first.jobs.back();
      for (const auto& [name, created, status] : std::vector<std::tuple<std::string, double, std::string>>{
               {"0-first", 0, "Aaa"}, {"zzz-last", 1000, "Zzz"}, {last.name + "-tie", last.creation_time, last.status},
               {"mnist-d", 55, "InProgress"}}) {
        r.insert(make_job(name, created, status));
      }
      std::vector<std::string> seen = names(first.jobs);
      q.next_token = first.next_token;
      std::vector<std::string> rest = all_pages(r, q);
      seen.insert(seen.end(), rest.begin(), rest.end());
      // Every original job exactly once, in order; none of the page seen again.
      std::vector<std::string> originals;
      for (const auto& name : seen) {
        if (std::any_of(all.begin(), all.end(), [&](const JobRecord& j) { return j.name == name; })) {
          originals.push_back(name);
        }
      }
      EXPECT_THAT(originals, ElementsAreArray(expected(by, order)))
          << "sort " << static_cast<int>(by) << " order " << static_cast<int>(order);
      std::set<std::string> unique(seen.begin(), seen.end());
      EXPECT_EQ(unique.size(), seen.size());
      // The job tied with the page's last record sorts after it ascending (a later insertion, or a
      // longer name), so it is listed; descending it sorts before it, so it is not.
      EXPECT_EQ(unique.count(last.name + "-tie"), order == SortOrder::kAscending ? 1u : 0u)
          << "sort " << static_cast<int>(by) << " order " << static_cast<int>(order);
    }
  }
}

TEST_F(ListTest, ATokenOfAnotherQueryOrADamagedOneIsRefused) {
  ListQuery q;
  q.max_results = 2;
  std::string token = records.list(q).next_token;
  ASSERT_FALSE(token.empty());
  std::vector<ListQuery> others(6);
  others[0].sort_by = SortBy::kName;
  others[1].sort_order = SortOrder::kAscending;
  others[2].status_equals = "Completed";
  others[3].name_contains = "a";
  others[4].creation_time_after = 0;
  others[5].last_modified_time_before = 1e12;
  for (auto& other : others) {
    other.next_token = token;
    expect_error([&] { records.list(other); }, ErrorKind::kInvalidInput, {"NextToken is not valid"});
  }
  for (std::string bad : {std::string("zz"), std::string("abc"), token.substr(0, token.size() - 2), token + "78",
                          std::string("7b7d")}) {
    q.next_token = bad;
    expect_error([&] { records.list(q); }, ErrorKind::kInvalidInput, {"NextToken is not valid"});
  }
  // The page size may change between pages.
  q.next_token = token;
  q.max_results = 50;
  EXPECT_EQ(records.list(q).jobs.size(), all.size() - 2);
}

TEST_F(JobRecordsTest, VisibilityIsAppliedBeforePaging) {
  for (int i = 0; i < 20; ++i) {
    records.insert(make_job("job-" + std::to_string(100 + i), i, "Completed", i % 3 == 0 ? "a" : "b"));
  }
  auto tenant_a = [](const JobRecord& j) { return j.owner.tags.at(0).value == "a"; };
  ListQuery q;
  q.sort_order = SortOrder::kAscending;
  q.max_results = 3;
  // a's jobs: 0, 3, ..., 18 (7 of them): pages of 3, 3, 1, never one of b's.
  ListPage p1 = records.list(q, tenant_a);
  EXPECT_THAT(names(p1.jobs), ElementsAre("job-100", "job-103", "job-106"));
  q.next_token = p1.next_token;
  ListPage p2 = records.list(q, tenant_a);
  EXPECT_THAT(names(p2.jobs), ElementsAre("job-109", "job-112", "job-115"));
  q.next_token = p2.next_token;
  ListPage p3 = records.list(q, tenant_a);
  EXPECT_THAT(names(p3.jobs), ElementsAre("job-118"));
  EXPECT_TRUE(p3.next_token.empty());
  // Exactly full: the last page has no token (no empty page follows).
  q = {};
  q.max_results = 7;
  ListPage full = records.list(q, tenant_a);
  EXPECT_EQ(full.jobs.size(), 7u);
  EXPECT_TRUE(full.next_token.empty());
  // Seeing nothing: an empty page without a token.
  ListPage none = records.list({}, [](const JobRecord&) { return false; });
  EXPECT_TRUE(none.jobs.empty());
  EXPECT_TRUE(none.next_token.empty());
  EXPECT_EQ(all_pages(records, {}, [](const JobRecord& j) { return j.owner.tags.at(0).value == "b"; }).size(), 13u);
}

std::set<std::string> every_name(const JobRecords& records) {
  ListQuery q;
  q.max_results = 100;
  std::vector<std::string> v = all_pages(records, q);
  return {v.begin(), v.end()};
}

TEST(JobRecordsConcurrency, InsertsFromManyThreads) {
  TempDir tmp;
  StateDb db(tmp / "state.db");
  JobRecords records(db);
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        records.insert(make_job("t" + std::to_string(t) + "-" + std::to_string(i), i));
        JobPatch patch;
        patch.secondary_status = "Training";
        records.update("t" + std::to_string(t) + "-" + std::to_string(i), patch);
        try {
          records.insert(make_job("shared-" + std::to_string(i), i));  // all threads race for these
        } catch (const Error& e) {
          if (e.kind() == ErrorKind::kConflict) ++conflicts;
        }
        records.list({});
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(every_name(records).size(), static_cast<std::size_t>(kThreads * kEach + kEach));
  EXPECT_EQ(conflicts.load(), (kThreads - 1) * kEach);
}

TEST(JobRecordsConcurrency, TwoConnectionsOnOneFile) {
  TempDir tmp;
  StateDb db1(tmp / "state.db");
  StateDb db2(tmp / "state.db");
  JobRecords r1(db1), r2(db2);
  std::thread a([&] {
    for (int i = 0; i < 50; ++i) r1.insert(make_job("one-" + std::to_string(i), i));
  });
  std::thread b([&] {
    for (int i = 0; i < 50; ++i) r2.insert(make_job("two-" + std::to_string(i), i));
  });
  a.join();
  b.join();
  EXPECT_EQ(every_name(r1).size(), 100u);
  EXPECT_EQ(every_name(r2).size(), 100u);
  expect_error([&] { r2.insert(make_job("one-3", 0)); }, ErrorKind::kConflict);
}

TEST(JobRecordsConcurrency, TwoProcessesCreateAndWriteOneFile) {
  TempDir tmp;
  std::string file = tmp / "state.db";
  // Both processes open the file that does not exist yet (creation, WAL and schema race too).
  auto work = [&](const std::string& prefix) {
    StateDb db(file);
    JobRecords records(db);
    for (int i = 0; i < 40; ++i) records.insert(make_job(prefix + std::to_string(i), i));
  };
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    try {
      work("child-");
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  work("parent-");
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  StateDb db(file);
  JobRecords records(db);
  EXPECT_EQ(every_name(records).size(), 80u);
}

}  // namespace
}  // namespace sluice::serve
