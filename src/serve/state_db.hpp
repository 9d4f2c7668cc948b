// The control plane's state database (docs/architecture.md, "serve"): one SQLite file holding job
// records and issued sessions, shared by the server's worker threads and safe to open from two
// processes. It is created 0600 (it holds secret keys), runs in WAL mode with a busy timeout, checks
// itself on open, and carries its schema version in PRAGMA user_version, migrated forward on open.
// Every failure is a sluice::Error naming the file; no bound value (a secret) is ever part of one.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::serve {

// A prepared statement, finalized when it goes away. Parameters are numbered from 1, columns from
// 0, as in SQLite. Text is copied when bound.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql, const std::string& file);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_text(int index, std::string_view value);
  Statement& bind_int(int index, std::int64_t value);
  Statement& bind_real(int index, double value);
  Statement& bind_null(int index);

  // Advances to the next row: true when there is one, false when the statement is done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  std::string text(int column) const;  // "" for NULL
  std::int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  const std::string* file_;
};

// What a transaction works with: valid only inside StateDb::read or StateDb::write.
class Connection {
 public:
  Connection(sqlite3* db, const std::string& file) : db_(db), file_(&file) {}
  Statement prepare(std::string_view sql) const { return Statement(db_, sql, *file_); }
  // Runs SQL without parameters or rows (several statements may be given).
  void exec(std::string_view sql) const;
  // The rows the last INSERT, UPDATE or DELETE changed.
  std::int64_t changes() const;

 private:
  sqlite3* db_;
  const std::string* file_;
};

struct StateDbOptions {
  // How long a statement waits for another process's lock before failing (kRetryable).
  std::chrono::milliseconds busy_timeout{5000};
};

class StateDb {
 public:
  // The schema this build writes; older files are migrated to it when opened.
  static constexpr int kSchemaVersion = 2;
  // PRAGMA application_id of a Sluice state database ("Sluc").
  static constexpr std::int32_t kApplicationId = 0x536c7563;

  // Opens `file`, creating it (0600, never through a link) when missing, and making an existing
  // file 0600. Throws sluice::Error naming the file:
  // - kNotFound / kAccessDenied / kIo: the file cannot be created or opened (errno's reason);
  // - kInvalidInput: not a regular file; a SQLite database of another program; a schema version
  //   newer than kSchemaVersion (a newer sluice wrote it);
  // - kDataLoss: not a SQLite database, or one that fails PRAGMA quick_check (corrupt);
  // - kAccessDenied: read-only; kRetryable: another process held a lock past the busy timeout.
  explicit StateDb(std::filesystem::path file, StateDbOptions options = {});
  ~StateDb();
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  const std::filesystem::path& file() const { return file_; }

  // Runs fn(const Connection&) in a transaction, one thread at a time: committed when fn returns,
  // rolled back when it throws (the exception goes on). write() takes the database's write lock at
  // the start (BEGIN IMMEDIATE: another process waits for it up to the busy timeout, rather than
  // failing halfway); read() sees one consistent snapshot and never waits for a writer (WAL).
  // fn must not call read() or write() of the same StateDb.
  template <class F>
  std::invoke_result_t<F, const Connection&> write(F&& fn) {
    return run(true, std::forward<F>(fn));
  }
  template <class F>
  std::invoke_result_t<F, const Connection&> read(F&& fn) const {
    return run(false, std::forward<F>(fn));
  }

 private:
  template <class F>
  std::invoke_result_t<F, const Connection&> run(bool write, F&& fn) const {
    std::lock_guard lock(mu_);
    Connection conn(db_, name_);
    begin(write);
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F, const Connection&>>) {
        fn(conn);
        commit();
      } else {
        auto result = fn(conn);
        commit();
        return result;
      }
    } catch (...) {
      rollback();
      throw;
    }
  }
  void begin(bool write) const;
  void commit() const;
  void rollback() const noexcept;
  void prepare_file();
  void migrate();

  std::filesystem::path file_;
  std::string name_;  // file_ as text, for messages
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

}  // namespace sluice::serve
