// The state database's file (serve/state_db.hpp): created 0600 in WAL mode with the current schema,
// refused with an Error naming it when it is damaged, of another program, of a newer schema, a link
// or out of reach; transactions commit or roll back whole; a lock held past the busy timeout is
// kRetryable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "core/error.hpp"
#include "serve/job_records.hpp"
#include "serve/schema.hpp"
#include "serve/state_db.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace sluice::serve {
namespace {

namespace fs = std::filesystem;
using sluice::testing::expect_error;
using sluice::testing::TempDir;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::int64_t pragma(const StateDb& db, const std::string& name) {
  return db.read([&](const Connection& c) {
    Statement s = c.prepare("PRAGMA " + name);
    EXPECT_TRUE(s.step());
    return s.integer(0);
  });
}

std::int64_t count_sessions(const StateDb& db) {
  return db.read([](const Connection& c) {
    Statement s = c.prepare("SELECT count(*) FROM sessions");
    s.step();
    return s.integer(0);
  });
}

void add_session(StateDb& db, const std::string& key) {
  db.write([&](const Connection& c) {
    c.prepare("INSERT INTO sessions VALUES (?, 's', 't', 'r', 'n', '[]', '[]', 'p', '', 1)").bind_text(1, key).run();
  });
}

// Checks that StateDb(file) throws an Error of `kind` naming the file and saying `why`.
void expect_refused(const std::string& file, ErrorKind kind, const std::string& why) {
  expect_error([&] { StateDb db(file); }, kind, {file, why});
}

TEST(StateDb, ANewFileIsPrivateInWalModeWithTheCurrentSchema) {
  TempDir tmp;
  fs::path file = tmp / "state.db";
  {
    StateDb db(file);
    EXPECT_EQ(db.file(), file);
    EXPECT_EQ(mode_of(file), 0600u);
    EXPECT_EQ(pragma(db, "user_version"), StateDb::kSchemaVersion);
    EXPECT_EQ(pragma(db, "application_id"), StateDb::kApplicationId);
    EXPECT_EQ(db.read([](const Connection& c) {
      Statement s = c.prepare("PRAGMA journal_mode");
      s.step();
      return s.text(0);
    }),
              "wal");
    add_session(db, "AKIA1");
    ASSERT_TRUE(fs::exists(tmp / "state.db-wal"));
    EXPECT_EQ(mode_of(tmp / "state.db-wal"), 0600u);  // the WAL holds the secrets too
    EXPECT_EQ(mode_of(tmp / "state.db-shm"), 0600u);
  }
  // Opened again: the data is there and nothing is migrated twice.
  StateDb again(file);
  EXPECT_EQ(count_sessions(again), 1);
  EXPECT_EQ(pragma(again, "user_version"), StateDb::kSchemaVersion);
}

TEST(StateDb, AnExistingFileIsMadePrivate) {
  TempDir tmp;
  { StateDb db(tmp / "state.db"); }
  fs::permissions(tmp / "state.db", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                        fs::perms::others_read);
  StateDb db(tmp / "state.db");
  EXPECT_EQ(mode_of(tmp / "state.db"), 0600u);
}

TEST(StateDb, ASchemaNewerThanThisBuildIsRefused) {
  TempDir tmp;
  {
    StateDb db(tmp / "state.db");
    add_session(db, "AKIA1");
    db.write([](const Connection& c) { c.exec("PRAGMA user_version=99"); });
  }
  expect_refused(tmp / "state.db", ErrorKind::kInvalidInput, "schema version 99 is newer");
  // Nothing was changed by the refused open.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((tmp / "state.db").c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 99);
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

TEST(StateDb, AFileThatIsNotADatabaseIsRefusedNamingIt) {
  TempDir tmp;
  {
    std::ofstream out(tmp / "state.db");
    for (int i = 0; i < 500; ++i) out << "this is not a SQLite database\n";
  }
  expect_refused(tmp / "state.db", ErrorKind::kDataLoss, "not a SQLite database");
}

TEST(StateDb, ADamagedDatabaseIsRefusedNamingIt) {
  TempDir tmp;
  {
    StateDb db(tmp / "state.db");
    for (int i = 0; i < 400; ++i) add_session(db, "AKIA" + std::to_string(i) + std::string(200, 'x'));
  }  // closing checkpoints the WAL into the file
  ASSERT_GT(fs::file_size(tmp / "state.db"), 16u * 4096u);
  {
    std::fstream f(tmp / "state.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 * 4096);
    f << std::string(4096, '\xa5');  // one page of the sessions table's B-tree
  }
  expect_refused(tmp / "state.db", ErrorKind::kDataLoss, "corrupt");
}

TEST(StateDb, ADatabaseOfAnotherProgramIsRefused) {
  TempDir tmp;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((tmp / "other.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  expect_refused(tmp / "other.db", ErrorKind::kInvalidInput, "another program");
}

TEST(StateDb, ALinkOrADirectoryIsRefused) {
  TempDir tmp;
  { StateDb db(tmp / "real.db"); }
  fs::create_symlink(tmp / "real.db", tmp / "link.db");
  expect_refused(tmp / "link.db", ErrorKind::kInvalidInput, "symbolic link");
  fs::create_directory(tmp / "dir.db");
  expect_refused(tmp / "dir.db", ErrorKind::kIo, "Is a directory");
  expect_refused(tmp / "no/such/dir/state.db", ErrorKind::kNotFound, "No such file");
}

TEST(StateDb, AnUnwritablePlaceIsAccessDeniedNamingTheFile) {
  TempDir tmp;
  fs::create_directory(tmp / "ro");
  fs::permissions(tmp / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  fs::path file = tmp / "ro/state.db";
  auto attempt = [&]() -> int {
    try {
      StateDb db(file);
      return 1;
    } catch (const Error& e) {
      return e.kind() == ErrorKind::kAccessDenied && std::string(e.what()).find(file.string()) != std::string::npos
                 ? 0
                 : 2;
    }
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(attempt(), 0);
    return;
  }
  // Root passes permission bits: try as nobody in a child process.
  fs::permissions(tmp.path(), fs::perms::owner_all | fs::perms::others_exec);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    ::_exit(attempt());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(StateDb, ATransactionCommitsWholeOrNotAtAll) {
  TempDir tmp;
  StateDb db(tmp / "state.db");
  EXPECT_THROW(db.write([](const Connection& c) {
    c.exec("INSERT INTO sessions VALUES ('A', 's', 't', 'r', 'n', '[]', '[]', 'p', '', 1)");
    throw std::runtime_error("changed my mind");
  }),
               std::runtime_error);
  EXPECT_EQ(count_sessions(db), 0);
  EXPECT_EQ(db.write([](const Connection& c) {
    c.exec("INSERT INTO sessions VALUES ('A', 's', 't', 'r', 'n', '[]', '[]', 'p', '', 1)");
    return c.changes();
  }),
            1);
  EXPECT_EQ(count_sessions(db), 1);
  // A statement that fails is an Error naming the file, and the transaction is rolled back.
  expect_error(
      [&] {
        db.write([](const Connection& c) {
          c.exec("INSERT INTO sessions VALUES ('B', 's', 't', 'r', 'n', '[]', '[]', 'p', '', 1)");
          c.exec("INSERT INTO sessions VALUES ('A', 's', 't', 'r', 'n', '[]', '[]', 'p', '', 1)");
        });
      },
      ErrorKind::kConflict, {tmp / "state.db", "UNIQUE constraint failed"});
  EXPECT_EQ(count_sessions(db), 1);
}

TEST(StateDb, ALockHeldPastTheBusyTimeoutIsRetryable) {
  TempDir tmp;
  StateDb first(tmp / "state.db");
  StateDb second(tmp / "state.db", {.busy_timeout = std::chrono::milliseconds(50)});
  first.write([&](const Connection&) {
    expect_error([&] { add_session(second, "B"); }, ErrorKind::kRetryable, {tmp / "state.db", "database is locked"});
    // Readers are not blocked by a writer (WAL).
    EXPECT_EQ(count_sessions(second), 0);
  });
  add_session(second, "B");
  EXPECT_EQ(count_sessions(first), 1);
}

TEST(StateDbMigration, AVersion1DatabaseIsBroughtUpToDateKeepingItsJobs) {
  TempDir tmp;
  const auto file = std::filesystem::path(tmp / "v1.db");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    const std::string v1 = std::string(kMigrations[0]) +
                           "INSERT INTO jobs (name, arn, owner_arn, owner_account, owner_tags, request, work_dir, status, "
                           "secondary_status, failure_reason, creation_time, last_modified_time, end_time, "
                           "executor_handle, warm_pool_status, keep_alive_seconds, warm_pool_key) VALUES ('old', "
                           "'arn', 'o', '1', '[]', '{}', '/w/old', 'Completed', 'Completed', '', 1, 2, 3, '', "
                           "'Available', 60, 'k'); PRAGMA application_id=" +
                           std::to_string(StateDb::kApplicationId) + "; PRAGMA user_version=1;";
    ASSERT_EQ(sqlite3_exec(raw, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  StateDb db(file);
  EXPECT_EQ(pragma(db, "user_version"), StateDb::kSchemaVersion);
  JobRecords records(db);
  auto old = records.get("old");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->warm_pool.status, "Available");
  EXPECT_EQ(old->warm_pool.reused_by, "");
  JobPatch patch;
  patch.warm_pool_status = "Reused";
  patch.warm_pool_reused_by = "new";
  EXPECT_EQ(records.update("old", patch).warm_pool.reused_by, "new");
}

}  // namespace
}  // namespace sluice::serve
