#include "job/job_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

std::string read_small(int dir, const char* name) {
  int fd = beneath::open_at(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return {};
  UniqueFd guard(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 65536) return {};
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

}  // namespace

JobDirectory::JobDirectory(const fs::path& work_dir, const std::string& name, const std::optional<JobOwner>& owner,
                           const std::vector<std::string>& hosts)
    : path_(fs::absolute(work_dir) / name) {
  std::error_code ec;
  fs::create_directories(path_.parent_path(), ec);
  if (ec) throw errno_error(ec.value(), "creating the work directory", path_.parent_path().string());
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
}

uint32_t job_uid(const fs::path& job_dir) {
  uint32_t h = 2166136261u;  // FNV-1a of the absolute path
  for (unsigned char c : fs::absolute(job_dir).lexically_normal().string()) {
    h ^= c;
    h *= 16777619u;
  }
  return 0x60000000u + (h & 0x0FFFFFFFu);
}

void hand_over(const fs::path& host_root, const std::vector<std::string>& writable, uint32_t uid) {
  UniqueFd root = beneath::open_root(host_root.string());
  for (const auto& rel : writable) {
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

}  // namespace sluice::job
