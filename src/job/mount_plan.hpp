// The file system of a bwrap sandbox, planned mount by mount (see MountPlan), and the path
// arithmetic it shares with the rest of the sandbox (sandbox_paths.cpp, sandbox_command.cpp).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::job {

// `path` is `dir` or below it, comparing whole components ("/opt/mlx" is not under "/opt/ml").
bool is_under(std::string_view path, std::string_view dir);

// `path` (under `from`) moved to the same place under `to`.
std::string rebase(std::string_view path, std::string_view from, std::string_view to);

// What the sandbox's file system looks like, mount by mount, so that every mount point can be
// created: bwrap makes missing mount points with mkdir, which fails on the read-only host root.
// Such a directory of the host root (/opt when there is no /opt/ml) is replaced by a tmpfs holding
// read-only binds of everything it had (its "shadow"), and remounted read-only at the end.
class MountPlan {
 public:
  // minimal: the root is bwrap's empty tmpfs with only the system directories bound into it.
  explicit MountPlan(bool minimal = false);

  // Covers `path` when the sandbox would show something there: a file with /dev/null, a
  // directory with an empty tmpfs.
  void hide(const std::string& path);

  void special(std::string_view flag, const std::string& at);

  void dev_bind(const std::string& path);

  // fd_number >= 0: the sandbox's fd of an open directory to bind (bwrap --bind-fd) instead of
  // the path `host`, which then only tells what lies there.
  void bind(const std::string& host, const std::string& at, bool read_only, int fd_number = -1);

  // A read-only file at `at`, readable by everyone, holding what the sandbox's fd `fd_number`
  // holds (bwrap --ro-bind-data: bwrap copies it into the sandbox and closes the fd).
  void data_file(int fd_number, const std::string& at);

  // A private tmpfs writable by everyone (sticky, like /tmp), of `size` bytes when not 0.
  void shared_tmpfs(const std::string& at, uint64_t size);

  void flag(std::initializer_list<std::string> args);

  // The host path behind a sandbox path; nullopt when it lies on a fresh tmpfs (private /tmp),
  // where nothing of the host is visible.
  std::optional<std::string> to_host(const std::string& raw) const;

  // Whether something is mounted exactly at `path` (/tmp, /dev/shm, a bind).
  bool mounted_at(const std::string& path) const;

  std::vector<std::string> args() const;

 private:
  enum class Kind { kHost, kShadow, kFresh, kProc };
  struct Entry {
    std::string at;
    std::string host;
    Kind kind;
    bool writable;
    bool host_root;  // part of the read-only host root (may be shadowed)
  };

  const Entry& covering(const std::string& path) const;

  bool exists(const std::string& path) const;

  void ensure_mount_point(const std::string& at);

  void shadow(const std::string& dir);

  std::vector<Entry> table_;
  std::vector<std::string> root_;   // replaces "--ro-bind / /" when / itself is shadowed
  std::vector<std::string> body_;
  std::vector<std::string> tail_;
  std::vector<std::string> shadows_;
  std::vector<std::string> hidden_;
  bool root_shadowed_ = false;
  bool minimal_ = false;
  std::vector<std::pair<std::string, std::string>> links_;  // minimal root: /bin -> /usr/bin, ...
};

}  // namespace sluice::job
