#include "job/job_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "core/beneath.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace sluice::job {
namespace {

constexpr const char* kOwnerFile = ".sluice-owner";

std::string owner_text(const JobOwner& owner) {
  nlohmann::json tags = nlohmann::json::object();
  std::vector<policy::SessionTag> sorted = owner.tags;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  for (const auto& t : sorted) tags[t.key] = t.value;
  return nlohmann::json{{"RoleArn", owner.role_arn}, {"SessionTags", tags}}.dump() + "\n";
}

std::string read_small(int dir, const char* name, off_t limit = 65536) {
  int fd = beneath::open_at(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return {};
  UniqueFd guard(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > limit) return {};
  std::string text(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  text.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return text;
}

void write_owner(int dir, const std::string& text, const std::string& shown) {
  UniqueFd fd = beneath::open_or_throw(dir, kOwnerFile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600,
                                       "recording the job's owner", shown);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw errno_error(errno, "recording the job's owner", shown);
  }
}

// An exclusive flock on the file `path` (made 0600 if missing), held until the fd is closed.
UniqueFd lock_exclusive(const std::string& path, const char* what) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd || ::flock(fd.get(), LOCK_EX) != 0) throw errno_error(errno, what, path);
  return fd;
}

constexpr const char* kUidFile = ".sluice-uid";
constexpr uint32_t kFirstUid = 0x60000000u, kUidCount = 0x10000000u;

// A fresh uid for the job `name` of `work_dir`, recorded in the work directory's registry and in
// the job directory `dir`.
uint32_t allocate_uid(const fs::path& work_dir, const std::string& name, int dir) {
  const std::string registry = (work_dir / ".sluice-uids").string();
  UniqueFd lock = lock_exclusive(registry + ".lock", "locking the uid registry");
  std::map<uint32_t, std::string> taken;  // uid -> job, for job directories that still exist
  {
    std::ifstream in(registry);
    uint32_t uid;
    std::string job;
    while (in >> uid >> job) {
      std::error_code ec;
      if (job != name && fs::is_directory(work_dir / job, ec)) taken[uid] = job;
    }
  }
  uint32_t uid = 0;
  do {
    if (::getrandom(&uid, sizeof uid, 0) != static_cast<ssize_t>(sizeof uid)) {
      throw errno_error(errno, "drawing the job's uid", "getrandom");
    }
    uid = kFirstUid + uid % kUidCount;
  } while (taken.count(uid));
  taken[uid] = name;
  std::string text;
  for (const auto& [u, j] : taken) text += fmt::format("{} {}\n", u, j);
  const std::string tmp = registry + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw errno_error(errno, "writing the uid registry", tmp);
  }
  if (::rename(tmp.c_str(), registry.c_str()) != 0) throw errno_error(errno, "writing the uid registry", registry);
  const std::string mine = std::to_string(uid) + "\n";
  UniqueFd fd = beneath::open_or_throw(dir, kUidFile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600,
                                       "recording the job's uid", (work_dir / name).string());
  if (::write(fd.get(), mine.data(), mine.size()) != static_cast<ssize_t>(mine.size())) {
    throw errno_error(errno, "recording the job's uid", (work_dir / name / kUidFile).string());
  }
  return uid;
}

uint32_t read_uid(int dir, const fs::path& shown) {
  const std::string text = read_small(dir, kUidFile);
  uint32_t uid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
  if (ec != std::errc{} || uid < kFirstUid || uid - kFirstUid >= kUidCount) {
    throw Error(ErrorKind::kInvalidInput, fmt::format("the job directory {}", shown.string()),
                fmt::format("it has no valid {} (it was not made by a multi-tenant run)", kUidFile));
  }
  (void)end;
  return uid;
}

constexpr const char* kRequestFile = ".sluice-request.json";

bool exists_at(int dir, const std::string& name) {
  struct stat st;
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// TrainingJobStatus of the job's status.json, "unknown" when there is none that can be read.
std::string recorded_status(int dir) {
  UniqueFd fd(beneath::open_at(dir, "status.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20)) return "unknown";
  std::string text(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = ::pread(fd.get(), text.data(), text.size(), 0);
  text.resize(n < 0 ? 0 : static_cast<size_t>(n));
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("TrainingJobStatus") || !doc["TrainingJobStatus"].is_string()) return "unknown";
  return doc["TrainingJobStatus"].get<std::string>();
}

// The first top-level field in which two job specs differ, or empty when they are the same.
std::string first_difference(const nlohmann::json& before, const nlohmann::json& now) {
  if (!before.is_object() || !now.is_object()) return before == now ? "" : "the whole spec";
  std::vector<std::string> keys;
  for (const auto& [k, v] : before.items()) keys.push_back(k);
  for (const auto& [k, v] : now.items()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (const auto& k : keys) {
    if (!before.contains(k) || !now.contains(k) || before[k] != now[k]) return k;
  }
  return {};
}

void write_text(int dir, const char* name, const std::string& text, const std::string& shown) {
  UniqueFd fd = beneath::open_or_throw(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600, "writing", shown);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw errno_error(errno, "writing", shown);
  }
}

// Everything a run of `host` leaves in the job directory (besides its lock): its /opt/ml tree,
// its download records, checkpoints kept outside /opt/ml, its log and its run record.
void remove_host(int dir, const std::string& host, const fs::path& shown) {
  for (const std::string& rel : {host, "checkpoints/" + host, "logs/" + host + ".log", ".sluice-run-" + host}) {
    beneath::remove_tree(dir, rel, shown.string());
  }
  UniqueFd self(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> records;
  beneath::walk(self.get(), shown.string(), [&](const beneath::Entry& e) {
    if (e.rel.rfind(".sluice-downloads-" + host + "-", 0) == 0) records.push_back(e.rel);
    return false;  // top level only
  });
  for (const auto& r : records) beneath::remove_tree(dir, r, shown.string());
}

}  // namespace

JobDirectory::JobDirectory(const fs::path& work_dir, const std::string& name, const std::optional<JobOwner>& owner,
                           const std::vector<std::string>& hosts, Rerun rerun, std::string_view request,
                           bool whole_job, const std::function<void(const fs::path&)>& prepare)
    : path_(fs::absolute(work_dir) / name) {
  std::error_code ec;
  fs::create_directories(path_.parent_path(), ec);
  if (ec) throw errno_error(ec.value(), "creating the work directory", path_.parent_path().string());
  // The hosts of one job may start at the same moment and share its directory (one node, or a
  // shared file system). The host that makes it writes its owner and its uid under this lock, and
  // the others read them under it, so none finds the directory without them (CI: a host of a
  // 2-host Slurm job failed with "it has no valid .sluice-uid").
  UniqueFd making;
  if (owner) making = lock_exclusive((path_.parent_path() / ".sluice-jobdirs.lock").string(), "locking the work directory");
  const bool made = ::mkdir(path_.c_str(), 0700) == 0;
  if (!made && errno != EEXIST) throw errno_error(errno, "creating the job directory", path_.string());
  UniqueFd dir = beneath::open_root(path_.string());
  struct stat st;
  if (::fstat(dir.get(), &st) != 0) throw errno_error(errno, "checking the job directory", path_.string());
  if (owner) {
    const std::string mine = owner_text(*owner);
    if (made) {
      write_owner(dir.get(), mine, (path_ / kOwnerFile).string());
    } else if (read_small(dir.get(), kOwnerFile) != mine || st.st_uid != ::geteuid()) {
      // Say nothing of the other session (its role or tags): only that the name is taken.
      throw Error(ErrorKind::kInvalidInput, fmt::format("TrainingJobName '{}'", name),
                  fmt::format("ResourceInUse: {} already exists and belongs to another session (or was not made by a "
                              "multi-tenant run); a job directory is never shared: choose another TrainingJobName",
                              path_.string()));
    }
  }
  if (owner) uid_ = made ? allocate_uid(path_.parent_path(), name, dir.get()) : read_uid(dir.get(), path_);
  making.reset();
  if ((st.st_mode & 07777) != 0700 && ::fchmod(dir.get(), 0700) != 0) {
    throw errno_error(errno, "making the job directory private", path_.string());
  }
  for (const auto& host : hosts) {
    const std::string lock = ".sluice-lock-" + host;
    UniqueFd fd = beneath::open_or_throw(dir.get(), lock, O_RDWR | O_CREAT | O_NOFOLLOW, 0600, "locking the job",
                                         path_.string());
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        throw Error(ErrorKind::kConflict, fmt::format("training job '{}'", name),
                    fmt::format("{} is already being run by another sluice train (it holds {})", host,
                                (path_ / lock).string()));
      }
      throw errno_error(errno, "locking the job", (path_ / lock).string());
    }
    locks_.push_back(std::move(fd));
  }

  if (prepare) prepare(path_);
  // A previous run of these hosts (held by no one now: the locks are ours).
  bool ran_before = false;
  for (const auto& host : hosts) ran_before = ran_before || exists_at(dir.get(), ".sluice-run-" + host) || exists_at(dir.get(), host);
  const std::string request_text = request.empty() ? std::string() : nlohmann::json::parse(request, nullptr, false).dump();
  if (ran_before) {
    previous_status_ = recorded_status(dir.get());
    const std::string shown = fmt::format("TrainingJobName '{}'", name);
    switch (rerun) {
      case Rerun::kRefuse:
        throw Error(ErrorKind::kInvalidInput, shown,
                    fmt::format("ResourceInUse: training job '{}' already exists ({}{}, in {}): choose another "
                                "TrainingJobName, or run it again with --replace (delete it and start over) or "
                                "--resume (a Stopped or Failed job, same spec)",
                                name, previous_status_, previous_status_ == "InProgress" ? ", interrupted" : "",
                                path_.string()));
      case Rerun::kReplace: {
        std::vector<std::string> gone = hosts;
        if (whole_job) {  // hosts of the earlier run that this spec does not have go too
          UniqueFd self(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
          beneath::walk(self.get(), path_.string(), [&](const beneath::Entry& e) {
            const std::string prefix = ".sluice-run-";
            if (e.rel.rfind(prefix, 0) == 0) gone.push_back(e.rel.substr(prefix.size()));
            return false;
          });
        }
        for (const auto& host : gone) remove_host(dir.get(), host, path_);
        // The audit log stays: what was decided for the earlier run is not the tenant's to erase.
        for (const char* rel : {"status.json", kRequestFile, ".sluice-staging"}) {
          beneath::remove_tree(dir.get(), rel, path_.string());
        }
        break;
      }
      case Rerun::kResume: {
        if (previous_status_ == "Completed") {
          throw Error(ErrorKind::kInvalidInput, "--resume " + name,
                      fmt::format("training job '{}' Completed; only a Stopped or Failed job is resumed (--replace "
                                  "trains it again from the start)", name));
        }
        const std::string before = read_small(dir.get(), kRequestFile, 16 << 20);
        if (before.empty()) {
          throw Error(ErrorKind::kInvalidInput, "--resume " + name,
                      fmt::format("{} has no record of the spec it ran with: use --replace", path_.string()));
        }
        const std::string field =
            first_difference(nlohmann::json::parse(before, nullptr, false), nlohmann::json::parse(request_text, nullptr, false));
        if (!field.empty()) {
          throw Error(ErrorKind::kInvalidInput, "--resume " + name,
                      fmt::format("the job spec differs from the one training job '{}' ran with (in {}): a job is "
                                  "resumed with its own spec; --replace starts over with the new one", name, field));
        }
        // What the command made is not kept: a resumed run must not upload the last run's model.
        for (const auto& host : hosts) {
          for (const char* sub : {"model", "output", "code"}) beneath::remove_tree(dir.get(), host + "/" + sub, path_.string());
        }
        break;
      }
    }
  } else if (rerun == Rerun::kResume) {
    throw Error(ErrorKind::kNotFound, "--resume " + name,
                fmt::format("training job '{}' has not run here ({}{})", name, path_.string(),
                            hosts.size() == 1 ? " for " + hosts.front() : ""));
  }
  if (!request_text.empty()) write_text(dir.get(), kRequestFile, request_text + "\n", (path_ / kRequestFile).string());
  for (const auto& host : hosts) {
    write_text(dir.get(), (".sluice-run-" + host).c_str(), fmt::format("{}\n", ::time(nullptr)), (path_ / (".sluice-run-" + host)).string());
  }
}

void hand_over(const fs::path& host_root, const std::vector<std::string>& writable, uint32_t uid) {
  UniqueFd root = beneath::open_root(host_root.string());
  for (const auto& rel : writable) {
    const std::string first = rel.substr(0, rel.find('/'));
    if (first.empty() || first == "." || first == ".." || first == "input") {
      throw Error(ErrorKind::kInvalidInput, "handing over " + (host_root / rel).string(),
                  "the training command may own only directories below /opt/ml other than input/");
    }
    UniqueFd dir = beneath::make_dirs(root.get(), rel, 0755, host_root.string());
    const std::string shown = (host_root / rel).string();
    if (::fchown(dir.get(), uid, uid) != 0) throw errno_error(errno, "handing over", shown);
    beneath::walk(dir.get(), shown, [&](const beneath::Entry& e) {
      // Links are chowned as links (AT_SYMLINK_NOFOLLOW), never their targets; the parent is
      // opened without following links; a FUSE mount or anything else that refuses keeps its owner.
      const size_t slash = e.rel.rfind('/');
      const std::string parent = slash == std::string::npos ? "" : e.rel.substr(0, slash);
      const std::string name = slash == std::string::npos ? e.rel : e.rel.substr(slash + 1);
      UniqueFd at(beneath::open_at(dir.get(), parent, O_PATH | O_DIRECTORY));
      if (at) (void)::fchownat(at.get(), name.c_str(), uid, uid, AT_SYMLINK_NOFOLLOW);
      return true;
    });
  }
}

bool made_for(const fs::path& dir, const std::optional<JobOwner>& owner) {
  try {
    UniqueFd fd = beneath::open_root(dir.string());
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || st.st_uid != ::geteuid()) return false;
    const std::string recorded = read_small(fd.get(), kOwnerFile);
    return owner ? recorded == owner_text(*owner) : recorded.empty() && !exists_at(fd.get(), kOwnerFile);
  } catch (const Error&) {
    return false;
  }
}

}  // namespace sluice::job
