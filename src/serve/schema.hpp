// The state database's schema as forward migrations: kMigrations[i] takes a database at version i
// (PRAGMA user_version) to version i + 1, so a file written by any earlier Sluice is brought up to
// date when opened. A shipped migration is never edited; a change of schema is a new one appended.
#pragma once

#include <array>
#include <string_view>

namespace sluice::serve {

inline constexpr std::array<std::string_view, 2> kMigrations = {
    // 0 -> 1: job records and issued sessions.
    // jobs.seq is the insertion order, the tie-breaker of every listing order and part of
    // ListTrainingJobs' NextToken. Names are unique ignoring case (a job's ARN has its name in
    // lower case). Times are seconds since the epoch. JSON text: owner_tags and sessions.tags are
    // [{"Key":..,"Value":..}], transitive_tag_keys ["k",..], request the CreateTrainingJob body.
    R"sql(
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  arn TEXT NOT NULL,
  owner_arn TEXT NOT NULL,
  owner_account TEXT NOT NULL,
  owner_tags TEXT NOT NULL,
  request TEXT NOT NULL,
  work_dir TEXT NOT NULL,
  status TEXT NOT NULL,
  secondary_status TEXT NOT NULL,
  failure_reason TEXT NOT NULL,
  creation_time REAL NOT NULL,
  last_modified_time REAL NOT NULL,
  end_time REAL,
  executor_handle TEXT NOT NULL,
  warm_pool_status TEXT NOT NULL,
  keep_alive_seconds INTEGER NOT NULL,
  warm_pool_key TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_name ON jobs (name COLLATE NOCASE);
CREATE INDEX jobs_creation_time ON jobs (creation_time, seq);
CREATE INDEX jobs_status ON jobs (status, seq);
CREATE TABLE sessions (
  access_key_id TEXT PRIMARY KEY,
  secret_access_key TEXT NOT NULL,
  session_token TEXT NOT NULL,
  role_arn TEXT NOT NULL,
  session_name TEXT NOT NULL,
  tags TEXT NOT NULL,
  transitive_tag_keys TEXT NOT NULL,
  parent_arn TEXT NOT NULL,
  source_identity TEXT NOT NULL,
  expiration REAL NOT NULL
);
CREATE INDEX sessions_expiration ON sessions (expiration);
)sql",
    // 1 -> 2: which job reused a job's warm pool (WarmPoolStatus.ReusedByJob).
    R"sql(
ALTER TABLE jobs ADD COLUMN warm_pool_reused_by TEXT NOT NULL DEFAULT '';
)sql",
};

}  // namespace sluice::serve
