// Training job records in the state database: what CreateTrainingJob accepted, who owns it, where
// it runs, the status cached from its runner's status.json, and its warm pool; and
// ListTrainingJobs over them (filters, sort orders, NextToken paging, the caller's visibility).
// Thread-safe (through StateDb); several processes may share the file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/session_tags.hpp"
#include "serve/state_db.hpp"

namespace sluice::serve {

// Who made a request: an IAM user or an assumed-role session, with the session's tags.
struct Principal {
  std::string arn;      // the caller's ARN
  std::string account;  // its account id
  std::vector<policy::SessionTag> tags;
  bool operator==(const Principal&) const = default;
};

struct WarmPool {
  std::string status;  // "" (none), or Available, InUse, Reused, Terminated (WarmPoolStatus.Status)
  std::int64_t keep_alive_seconds = 0;  // ResourceConfig.KeepAlivePeriodInSeconds
  std::string match_key;  // what a next job must have to reuse the host (role, instances, volume, tags)
  std::string reused_by;  // the job that reused it (Reused)
  bool operator==(const WarmPool&) const = default;
};

struct JobRecord {
  std::string name;  // TrainingJobName: unique ignoring case
  std::string arn;
  Principal owner;
  nlohmann::json request;  // the CreateTrainingJob request body
  std::string work_dir;    // the job's directory
  std::string status = "InProgress";         // InProgress, Completed, Failed, Stopping, Stopped
  std::string secondary_status = "Starting";
  std::string failure_reason;
  double creation_time = 0;  // seconds since the epoch
  double last_modified_time = 0;
  std::optional<double> end_time;
  std::string executor_handle;  // the executor's own reference (pids, a Slurm job id)
  WarmPool warm_pool;
  bool operator==(const JobRecord&) const = default;
};

// The fields update() changes; those left empty keep their value.
struct JobPatch {
  std::optional<std::string> status, secondary_status, failure_reason;
  std::optional<double> last_modified_time, end_time;
  std::optional<std::string> executor_handle;
  std::optional<std::string> warm_pool_status;
  std::optional<std::int64_t> keep_alive_seconds;
  std::optional<std::string> warm_pool_key;
  std::optional<std::string> warm_pool_reused_by;
  // When not empty, the update is made only if the job's status is one of these (else kConflict),
  // in the same transaction: e.g. InProgress -> Stopping, never Completed -> Stopping.
  std::vector<std::string> only_if_status;
};

enum class SortBy { kName, kCreationTime, kStatus };
enum class SortOrder { kAscending, kDescending };

// ListTrainingJobs' request, fields as the API names them. Time filters are strict (after:
// greater than, before: less than). NameContains ignores case, as names do. StatusEquals is applied
// before paging (the service applies it to each page of MaxResults, which gives short pages; a
// page here is short only at the end).
struct ListQuery {
  std::optional<std::string> status_equals, name_contains, warm_pool_status_equals;
  std::optional<double> creation_time_after, creation_time_before;
  std::optional<double> last_modified_time_after, last_modified_time_before;
  SortBy sort_by = SortBy::kCreationTime;
  // The API reference says "the default is Ascending" for SortOrder but documents the listing as
  // "sorted according to the creation time, from the most current to the oldest"; the service
  // answers newest first, so that is the default.
  SortOrder sort_order = SortOrder::kDescending;
  int max_results = 10;    // 1..100
  std::string next_token;  // from the previous page, or empty
};

struct ListPage {
  std::vector<JobRecord> jobs;
  std::string next_token;  // empty when this is the last page
};

// Which records a caller may see (e.g. those whose owner has the caller's tenant tag).
using Visibility = std::function<bool(const JobRecord&)>;

class JobRecords {
 public:
  explicit JobRecords(StateDb& db) : db_(db) {}

  // Adds a job. Throws Error(kConflict) "training job 'NAME' already exists" when a job of that name
  // (ignoring case) does; the API answers it with ResourceInUse.
  void insert(const JobRecord& job);

  // The job of that name (ignoring case), or nothing.
  std::optional<JobRecord> get(const std::string& name) const;

  // Changes the patch's fields and returns the whole record after the change. Throws
  // Error(kNotFound) when there is no such job, Error(kConflict) when only_if_status excludes its
  // status.
  JobRecord update(const std::string& name, const JobPatch& patch);

  // One page of ListTrainingJobs. Filters, order and position are applied in the database, then
  // `visible` (when given) to each record in order until the page is full, so a page is short only
  // when nothing visible follows it. NextToken is a position after the page's last record (in the
  // sort order, ties by insertion order) plus a fingerprint of the query: jobs inserted meanwhile
  // never repeat or push out a record of a later page; a token of another query or a damaged one is
  // Error(kInvalidInput), as is MaxResults outside 1..100. `visible` runs inside the database's lock
  // and must not use this store.
  ListPage list(const ListQuery& query, const Visibility& visible = {}) const;

  // Jobs that were running (InProgress or Stopping), in insertion order: after a restart, each is
  // re-attached or ended.
  std::vector<JobRecord> in_progress() const;

 private:
  StateDb& db_;
};

}  // namespace sluice::serve
