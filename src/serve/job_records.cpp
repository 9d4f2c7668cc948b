// Training job records: insert, get, update and in_progress as SQL on the jobs table, and
// ListTrainingJobs as one ordered query read until the caller's page of visible records is full.
#include "serve/job_records.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "serve/list_token.hpp"
#include "serve/tags_json.hpp"

namespace sluice::serve {
namespace {

constexpr int kMaxResultsLimit = 100;

// The columns every read selects, in read_job's order.
constexpr const char* kColumns =
    "name, arn, owner_arn, owner_account, owner_tags, request, work_dir, status, secondary_status, "
    "failure_reason, creation_time, last_modified_time, end_time, executor_handle, warm_pool_status, "
    "keep_alive_seconds, warm_pool_key, seq, warm_pool_reused_by";
constexpr int kSeqColumn = 17;

using Value = std::variant<std::string, double, std::int64_t>;

template <class T>
std::optional<Value> value_of(const std::optional<T>& field) {
  if (!field) return std::nullopt;
  return Value(*field);
}

// SQL conditions with one '?' each and their values, added for the optional fields that are set.
struct Clauses {
  std::vector<std::string> text;
  std::vector<Value> values;
  template <class T>
  void add_if(std::string clause, const std::optional<T>& field) {
    if (!field) return;
    text.push_back(std::move(clause));
    values.emplace_back(*field);
  }
};

// Binds the values to parameters first, first + 1, ...
void bind_all(Statement& s, const std::vector<Value>& values, int first = 1) {
  int i = first;
  for (const Value& v : values) {
    if (const auto* text = std::get_if<std::string>(&v)) s.bind_text(i, *text);
    if (const auto* real = std::get_if<double>(&v)) s.bind_real(i, *real);
    if (const auto* integer = std::get_if<std::int64_t>(&v)) s.bind_int(i, *integer);
    ++i;
  }
}

JobRecord read_job(const Statement& s, const std::filesystem::path& file) {
  JobRecord job;
  job.name = s.text(0);
  std::string what = fmt::format("state database {}: training job '{}'", file.string(), job.name);
  job.arn = s.text(1);
  job.owner = {s.text(2), s.text(3), tags_from_json(s.text(4), what)};
  job.request = nlohmann::json::parse(s.text(5), nullptr, false);
  if (job.request.is_discarded()) throw Error(ErrorKind::kDataLoss, what, "its request is not JSON");
  job.work_dir = s.text(6);
  job.status = s.text(7);
  job.secondary_status = s.text(8);
  job.failure_reason = s.text(9);
  job.creation_time = s.real(10);
  job.last_modified_time = s.real(11);
  if (!s.is_null(12)) job.end_time = s.real(12);
  job.executor_handle = s.text(13);
  job.warm_pool = {s.text(14), s.integer(15), s.text(16), s.text(18)};
  return job;
}

std::optional<JobRecord> find(const Connection& conn, const std::string& name, const std::filesystem::path& file) {
  Statement s = conn.prepare(fmt::format("SELECT {} FROM jobs WHERE name = ? COLLATE NOCASE", kColumns));
  s.bind_text(1, name);
  if (!s.step()) return std::nullopt;
  return read_job(s, file);
}

const char* sort_column(SortBy by) {
  switch (by) {
    case SortBy::kName: return "name";
    case SortBy::kStatus: return "status";
    case SortBy::kCreationTime: break;
  }
  return "creation_time";
}

nlohmann::json sort_key(const JobRecord& job, SortBy by) {
  switch (by) {
    case SortBy::kName: return job.name;
    case SortBy::kStatus: return job.status;
    case SortBy::kCreationTime: break;
  }
  return job.creation_time;
}

// What a NextToken must have been made for: everything of the query but the page size and token.
std::string fingerprint(const ListQuery& q) {
  nlohmann::json doc = {
      {"status", q.status_equals.value_or("\x01")},
      {"name", q.name_contains.value_or("\x01")},
      {"warm", q.warm_pool_status_equals.value_or("\x01")},
      {"times", {q.creation_time_after.value_or(-1), q.creation_time_before.value_or(-1),
                 q.last_modified_time_after.value_or(-1), q.last_modified_time_before.value_or(-1)}},
      {"present", {q.creation_time_after.has_value(), q.creation_time_before.has_value(),
                   q.last_modified_time_after.has_value(), q.last_modified_time_before.has_value()}},
      {"sort", {static_cast<int>(q.sort_by), static_cast<int>(q.sort_order)}},
  };
  return sha256_hex(doc.dump()).substr(0, 16);
}

}  // namespace

void JobRecords::insert(const JobRecord& job) {
  db_.write([&](const Connection& conn) {
    if (find(conn, job.name, db_.file())) {
      throw Error(ErrorKind::kConflict, fmt::format("training job '{}' already exists", job.name),
                  "training job names are unique (ignoring case)");
    }
    Statement s = conn.prepare(
        "INSERT INTO jobs (name, arn, owner_arn, owner_account, owner_tags, request, work_dir, status, "
        "secondary_status, failure_reason, creation_time, last_modified_time, end_time, executor_handle, "
        "warm_pool_status, keep_alive_seconds, warm_pool_key, warm_pool_reused_by) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bind_all(s, {job.name, job.arn, job.owner.arn, job.owner.account, tags_to_json(job.owner.tags),
                 job.request.dump(), job.work_dir, job.status, job.secondary_status, job.failure_reason,
                 job.creation_time, job.last_modified_time});
    if (job.end_time) {
      s.bind_real(13, *job.end_time);
    } else {
      s.bind_null(13);
    }
    bind_all(s, {job.executor_handle, job.warm_pool.status, job.warm_pool.keep_alive_seconds, job.warm_pool.match_key,
                 job.warm_pool.reused_by},
             14);
    s.run();
  });
}

std::optional<JobRecord> JobRecords::get(const std::string& name) const {
  return db_.read([&](const Connection& conn) { return find(conn, name, db_.file()); });
}

JobRecord JobRecords::update(const std::string& name, const JobPatch& patch) {
  return db_.write([&](const Connection& conn) {
    std::optional<JobRecord> job = find(conn, name, db_.file());
    if (!job) throw Error(ErrorKind::kNotFound, fmt::format("training job '{}' does not exist", name));
    if (!patch.only_if_status.empty() &&
        std::find(patch.only_if_status.begin(), patch.only_if_status.end(), job->status) ==
            patch.only_if_status.end()) {
      throw Error(ErrorKind::kConflict, fmt::format("training job '{}' is {}", job->name, job->status),
                  fmt::format("expected one of: {}", fmt::join(patch.only_if_status, ", ")));
    }
    const std::pair<const char*, std::optional<Value>> columns[] = {
        {"status", value_of(patch.status)},
        {"secondary_status", value_of(patch.secondary_status)},
        {"failure_reason", value_of(patch.failure_reason)},
        {"last_modified_time", value_of(patch.last_modified_time)},
        {"end_time", value_of(patch.end_time)},
        {"executor_handle", value_of(patch.executor_handle)},
        {"warm_pool_status", value_of(patch.warm_pool_status)},
        {"keep_alive_seconds", value_of(patch.keep_alive_seconds)},
        {"warm_pool_key", value_of(patch.warm_pool_key)},
        {"warm_pool_reused_by", value_of(patch.warm_pool_reused_by)},
    };
    std::vector<std::string> sets;
    std::vector<Value> values;
    for (const auto& [column, value] : columns) {
      if (!value) continue;
      sets.push_back(fmt::format("{} = ?", column));
      values.push_back(*value);
    }
    if (sets.empty()) return *job;
    values.emplace_back(job->name);
    Statement s = conn.prepare(fmt::format("UPDATE jobs SET {} WHERE name = ?", fmt::join(sets, ", ")));
    bind_all(s, values);
    s.run();
    return *find(conn, job->name, db_.file());
  });
}

ListPage JobRecords::list(const ListQuery& query, const Visibility& visible) const {
  if (query.max_results < 1 || query.max_results > kMaxResultsLimit) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("MaxResults {} is out of range", query.max_results),
                fmt::format("it must be 1 to {}", kMaxResultsLimit));
  }
  std::string print = fingerprint(query);
  Clauses where;
  where.add_if("status = ?", query.status_equals);
  where.add_if("instr(lower(name), lower(?)) > 0", query.name_contains);
  where.add_if("warm_pool_status = ?", query.warm_pool_status_equals);
  where.add_if("creation_time > ?", query.creation_time_after);
  where.add_if("creation_time < ?", query.creation_time_before);
  where.add_if("last_modified_time > ?", query.last_modified_time_after);
  where.add_if("last_modified_time < ?", query.last_modified_time_before);
  const char* key = sort_column(query.sort_by);
  bool ascending = query.sort_order == SortOrder::kAscending;
  const char* after = ascending ? ">" : "<";
  if (!query.next_token.empty()) {
    ListPosition from = decode_list_token(query.next_token, print);
    where.text.push_back(fmt::format("({0} {1} ? OR ({0} = ? AND seq {1} ?))", key, after));
    for (int i = 0; i < 2; ++i) {
      if (from.key.is_string()) {
        where.values.emplace_back(from.key.get<std::string>());
      } else {
        where.values.emplace_back(from.key.get<double>());
      }
    }
    where.values.emplace_back(from.seq);
  }
  return db_.read([&](const Connection& conn) {
    Statement s = conn.prepare(fmt::format("SELECT {} FROM jobs{}{} ORDER BY {} {}, seq {}", kColumns,
                                           where.text.empty() ? "" : " WHERE ", fmt::join(where.text, " AND "), key,
                                           ascending ? "ASC" : "DESC", ascending ? "ASC" : "DESC"));
    bind_all(s, where.values);
    ListPage page;
    std::int64_t last_seq = 0;
    while (s.step()) {
      JobRecord job = read_job(s, db_.file());
      if (visible && !visible(job)) continue;
      if (static_cast<int>(page.jobs.size()) == query.max_results) {
        page.next_token = encode_list_token({sort_key(page.jobs.back(), query.sort_by), last_seq}, print);
        break;
      }
      last_seq = s.integer(kSeqColumn);
      page.jobs.push_back(std::move(job));
    }
    return page;
  });
}

std::vector<JobRecord> JobRecords::in_progress() const {
  return db_.read([&](const Connection& conn) {
    Statement s = conn.prepare(
        fmt::format("SELECT {} FROM jobs WHERE status IN ('InProgress', 'Stopping') ORDER BY seq", kColumns));
    std::vector<JobRecord> jobs;
    while (s.step()) jobs.push_back(read_job(s, db_.file()));
    return jobs;
  });
}

}  // namespace sluice::serve
