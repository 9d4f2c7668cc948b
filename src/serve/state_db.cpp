// The state database's connection: opening (0600, WAL, busy timeout, check, migrations),
// transactions and prepared statements over SQLite, and SQLite's result codes as sluice::Error.
#include "serve/state_db.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/core.h>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "serve/schema.hpp"

namespace sluice::serve {
namespace {

static_assert(StateDb::kSchemaVersion == static_cast<int>(kMigrations.size()));

// The Error for a failed SQLite call. The message has SQLite's own text, which names tables,
// columns and constraints but never a bound value, so no secret reaches it.
Error sqlite_error(sqlite3* db, int rc, std::string_view what, const std::string& file) {
  std::string reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int sys = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (sys != 0 && (rc & 0xff) == SQLITE_IOERR) reason += fmt::format(" ({})", std::strerror(sys));
  std::string message = fmt::format("state database {}: {}", file, what);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(ErrorKind::kRetryable, message,
                   reason + " (another connection holds a lock on it, past the busy timeout)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(ErrorKind::kDataLoss, message,
                   reason + ": the file is damaged or not a SQLite database; move it away to start "
                            "afresh, or restore a copy");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return Error(ErrorKind::kAccessDenied, message, reason);
    case SQLITE_FULL: return Error(ErrorKind::kNoSpace, message, reason);
    case SQLITE_CONSTRAINT: return Error(ErrorKind::kConflict, message, reason);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return Error(ErrorKind::kIo, message, reason);
    default: return Error(ErrorKind::kInternal, message, reason);
  }
}

void check(sqlite3* db, int rc, std::string_view what, const std::string& file) {
  if (rc != SQLITE_OK) throw sqlite_error(db, rc, what, file);
}

// Creates the file 0600 when missing (never through a link), and makes an existing one 0600:
// it holds secret keys. SQLite gives its -wal and -shm files the database file's mode.
void make_private_file(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    int err = errno;
    if (err == ELOOP) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("state database {}", file.string()),
                  "it is a symbolic link; give the file itself");
    }
    throw errno_error(err, "opening the state database", file.string());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw errno_error(errno, "reading the state database", file.string());
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("state database {}", file.string()), "not a regular file");
  }
  if ((st.st_mode & 07777) != 0600 && ::fchmod(fd.get(), 0600) != 0) {
    throw errno_error(errno, "making the state database private (0600):", file.string());
  }
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql, const std::string& file) : db_(db), file_(&file) {
  check(db_, sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr),
        "preparing a statement", *file_);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), file_(other.file_) {}

Statement& Statement::bind_text(int index, std::string_view value) {
  check(db_, sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "binding a parameter", *file_);
  return *this;
}

Statement& Statement::bind_int(int index, std::int64_t value) {
  check(db_, sqlite3_bind_int64(stmt_, index, value), "binding a parameter", *file_);
  return *this;
}

Statement& Statement::bind_real(int index, double value) {
  check(db_, sqlite3_bind_double(stmt_, index, value), "binding a parameter", *file_);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check(db_, sqlite3_bind_null(stmt_, index), "binding a parameter", *file_);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The statement's text has '?' for its values: naming it shows no secret.
  std::string sql = sqlite3_sql(stmt_);
  if (sql.size() > 60) sql = sql.substr(0, 57) + "...";
  throw sqlite_error(db_, rc, "running '" + sql + "'", *file_);
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

void Connection::exec(std::string_view sql) const {
  std::string text(sql);  // sqlite3_exec wants a terminated string
  check(db_, sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr), "running a statement", *file_);
}

std::int64_t Connection::changes() const { return sqlite3_changes64(db_); }

StateDb::StateDb(std::filesystem::path file, StateDbOptions options) : file_(std::move(file)), name_(file_.string()) {
  make_private_file(file_);
  int rc = sqlite3_open_v2(name_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  try {
    check(db_, rc, "opening", name_);
    sqlite3_extended_result_codes(db_, 1);
    check(db_, sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count())), "setting the busy timeout",
          name_);
    // While another process creates the file or switches it to WAL, SQLite answers some of these
    // steps SQLITE_BUSY at once (waiting could deadlock): they are repeated until the busy timeout.
    auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
    for (;;) {
      try {
        prepare_file();
        break;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kRetryable || std::chrono::steady_clock::now() >= deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

StateDb::~StateDb() { sqlite3_close_v2(db_); }

// Switches the file to WAL, checks it and migrates it.
void StateDb::prepare_file() {
  Connection conn(db_, name_);
  {
    Statement wal = conn.prepare("PRAGMA journal_mode=WAL");
    if (!wal.step() || wal.text(0) != "wal") {
      throw Error(ErrorKind::kIo, fmt::format("state database {}: opening", name_),
                  "the file system does not support SQLite's WAL mode (journal mode '" + wal.text(0) + "')");
    }
  }
  // Every commit is on disk before it is answered: a job accepted is never lost to a crash.
  conn.exec("PRAGMA synchronous=FULL");
  {
    Statement quick = conn.prepare("PRAGMA quick_check");
    while (quick.step()) {
      if (quick.text(0) != "ok") {
        throw Error(ErrorKind::kDataLoss, fmt::format("state database {}: checking", name_),
                    "it is corrupt (" + quick.text(0) + "); move it away to start afresh, or restore a copy");
      }
    }
  }
  migrate();
}

void StateDb::migrate() {
  write([&](const Connection& conn) {
    Statement app = conn.prepare("PRAGMA application_id");
    app.step();
    std::int64_t application_id = app.integer(0);
    Statement ver = conn.prepare("PRAGMA user_version");
    ver.step();
    std::int64_t version = ver.integer(0);
    Statement tables = conn.prepare("SELECT count(*) FROM sqlite_schema");
    tables.step();
    bool empty = tables.integer(0) == 0 && version == 0;
    if (application_id != kApplicationId && !empty) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("state database {}", name_),
                  "it is a SQLite database of another program (no Sluice application id); give another file");
    }
    if (version > kSchemaVersion) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("state database {}", name_),
                  fmt::format("its schema version {} is newer than this sluice knows ({}): a newer sluice "
                              "wrote it; run that one, or give another file",
                              version, kSchemaVersion));
    }
    for (auto v = version; v < kSchemaVersion; ++v) conn.exec(kMigrations[static_cast<std::size_t>(v)]);
    if (version < kSchemaVersion) {
      conn.exec(fmt::format("PRAGMA application_id={}; PRAGMA user_version={}", kApplicationId, kSchemaVersion));
    }
  });
}

void StateDb::begin(bool write) const {
  check(db_, sqlite3_exec(db_, write ? "BEGIN IMMEDIATE" : "BEGIN", nullptr, nullptr, nullptr),
        "starting a transaction", name_);
}

void StateDb::commit() const {
  check(db_, sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), "committing", name_);
}

void StateDb::rollback() const noexcept {
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace sluice::serve
