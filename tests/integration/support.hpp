// Helpers for the integration tests (header-only: tests/integration/CMakeLists.txt builds one
// executable per *_test.cpp). They run against the real store that ctest's local_s3 fixture
// starts (scripts/local-s3); every test makes its own bucket and temporary directories and
// removes them again, also when it fails (RAII guards below).
//
//   SLUICE_LOCAL_S3_ENV  file of `export K=V` lines (endpoint, keys, region) written by local-s3
//   SLUICE_BINARY        the built `sluice` command
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <typeinfo>

#include "auth/credentials.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/location.hpp"
#include "store/object_store.hpp"
#include "store/open.hpp"
#include "store/s3_store.hpp"

extern char** environ;

namespace sluice::itest {

namespace fs = std::filesystem;
using EnvMap = std::map<std::string, std::string>;

// ------------------------------------------------------------------------------------------------
// The env file

// Removes one level of shell quoting: 'v', "v" (with \" \\ \$ \` escapes) or a bare word.
inline std::string shell_unquote(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') return std::string(v.substr(1, v.size() - 2));
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    v = v.substr(1, v.size() - 2);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size() && std::string_view("\"\\$`").find(v[i + 1]) != std::string_view::npos) {
        out.push_back(v[++i]);
      } else {
        out.push_back(v[i]);
      }
    }
    return out;
  }
  return std::string(v);
}

// Lines "export K=V" or "K=V"; blank lines and comments are skipped.
inline EnvMap parse_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the env file '" + path + "'");
  EnvMap out;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view s(line);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    if (s.empty() || s.front() == '#') continue;
    if (s.starts_with("export ")) s.remove_prefix(7);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    auto eq = s.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out[std::string(s.substr(0, eq))] = shell_unquote(s.substr(eq + 1));
  }
  return out;
}

// The store's environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), read once.
inline const EnvMap& store_env() {
  static const EnvMap env = [] {
    const char* path = std::getenv("SLUICE_LOCAL_S3_ENV");
    if (path == nullptr || *path == '\0') {
      throw std::runtime_error(
          "SLUICE_LOCAL_S3_ENV is not set: run through ctest (ctest -L integration), which starts the store, "
          "or start one with scripts/local-s3 start --dir DIR and set SLUICE_LOCAL_S3_ENV=DIR/env");
    }
    EnvMap m = parse_env_file(path);
    for (const char* k : {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}) {
      if (m.find(k) == m.end()) throw std::runtime_error(std::string("the env file '") + path + "' has no " + k);
    }
    const std::string& ep = m.at("AWS_ENDPOINT_URL");
    if (!ep.starts_with("http://127.0.0.1:") && !ep.starts_with("http://localhost:")) {
      throw std::runtime_error("refusing to run against a non-loopback endpoint: " + ep);
    }
    return m;
  }();
  return env;
}

inline auth::EnvLookup lookup_of(EnvMap m) {
  auto shared = std::make_shared<const EnvMap>(std::move(m));
  return [shared](std::string_view name) -> std::optional<std::string> {
    auto it = shared->find(std::string(name));
    if (it == shared->end()) return std::nullopt;
    return it->second;
  };
}

// The store's environment with some variables replaced (an empty optional removes one).
inline EnvMap env_with(const std::map<std::string, std::optional<std::string>>& changes) {
  EnvMap m = store_env();
  for (const auto& [k, v] : changes) {
    if (v) m[k] = *v; else m.erase(k);
  }
  return m;
}

// ------------------------------------------------------------------------------------------------
// Stores and buckets

inline std::unique_ptr<store::S3Store> open_s3(const std::string& bucket, const EnvMap& env, int max_connections = 16) {
  store::StoreOptions o;
  o.env = lookup_of(env);
  o.max_connections = max_connections;
  return store::open_s3_bucket(bucket, o);
}

// A bucket name no other test (or earlier run) uses: lower-case, at most 63 characters.
inline std::string unique_bucket_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char buf[96];
  std::snprintf(buf, sizeof buf, "it-%.20s-%d-%d-%08x", tag.c_str(), static_cast<int>(::getpid()), counter++,
                static_cast<unsigned>(rd()));
  std::string name = buf;
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  }
  return name.substr(0, 63);
}

// Runs fn(i) for i in [0, n) on `threads` threads; rethrows the first exception.
inline void parallel_for(size_t n, int threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr first;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < n;) {
        {
          std::lock_guard lock(mu);
          if (first) return;
        }
        try {
          fn(i);
        } catch (...) {
          std::lock_guard lock(mu);
          if (!first) first = std::current_exception();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

inline void put_many(store::ObjectStore& s, const std::vector<std::pair<std::string, std::string>>& objects,
                     int threads = 8) {
  parallel_for(objects.size(), threads,
               [&](size_t i) { s.put(objects[i].first, store::Body::from_string(objects[i].second), {}); });
}

// Creates a bucket of its own for one test and removes it, with everything in it, when destroyed
// (also when the test failed). Cleanup problems are printed, not thrown.
class TestBucket {
 public:
  explicit TestBucket(const std::string& tag, int max_connections = 16)
      : name_(unique_bucket_name(tag)), store_(open_s3(name_, store_env(), max_connections)) {
    store_->create_bucket();
  }
  TestBucket(const TestBucket&) = delete;
  TestBucket& operator=(const TestBucket&) = delete;
  ~TestBucket() {
    try {
      auto objects = store::list_all(*store_, "");
      std::vector<std::string> failed;
      std::mutex mu;
      parallel_for(objects.size(), 8, [&](size_t i) {
        try {
          store_->remove(objects[i].key);
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          failed.push_back(objects[i].key + ": " + e.what());
        }
      });
      for (const auto& f : failed) std::fprintf(stderr, "cleanup: could not delete %s\n", f.c_str());
      store_->delete_bucket();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cleanup: could not remove bucket %s: %s\n", name_.c_str(), e.what());
    }
  }

  const std::string& name() const { return name_; }
  store::ObjectStore& store() { return *store_; }
  store::S3Store& s3() { return *store_; }
  std::string uri(const std::string& key = "") const { return "s3://" + name_ + "/" + key; }

 private:
  std::string name_;
  std::unique_ptr<store::S3Store> store_;
};

// ------------------------------------------------------------------------------------------------
// Local files

// A fresh directory under $TMPDIR (else /tmp), removed with its contents when destroyed.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "sluice-it") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + tag + ".XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    path_ = buf.data();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) std::fprintf(stderr, "cleanup: could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Deterministic pseudo-random bytes (different seeds give different contents).
inline std::string random_bytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 12345);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  if (i < n) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, n - i);
  }
  return out;
}

inline void write_file(const std::string& path, std::string_view data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string sha256_of_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  Digest d(Digest::Algo::kSha256);
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      ::close(fd);
      throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    d.update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return d.finish_hex();
}

struct FileFacts {
  uint64_t size = 0;
  std::string sha256;
  bool operator==(const FileFacts&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const FileFacts& f) {
  return os << "{" << f.size << " bytes, sha256 " << f.sha256 << "}";
}

inline bool is_hidden_path(const std::string& rel) {
  for (size_t start = 0;;) {
    if (rel.compare(start, 1, ".") == 0) return true;
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) return false;
    start = slash + 1;
  }
}

// Every regular file under root (relative path -> size and SHA-256); hidden files (any path
// segment starting with '.') only when include_hidden.
inline std::map<std::string, FileFacts> snapshot_tree(const std::string& root, bool include_hidden = true) {
  std::map<std::string, FileFacts> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    std::string rel = fs::relative(it->path(), root).string();
    if (!include_hidden && is_hidden_path(rel)) continue;
    out[rel] = FileFacts{static_cast<uint64_t>(it->file_size()), sha256_of_file(it->path().string())};
  }
  return out;
}

// Every entry under root (files, directories, links) as "relative-path type", for before/after
// comparisons; `skip` (relative) and everything under it are left out.
inline std::set<std::string> list_entries(const std::string& root, const std::string& skip = "") {
  std::set<std::string> out;
  auto it = fs::recursive_directory_iterator(root);
  for (; it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (!skip.empty() && rel == skip) {
      it.disable_recursion_pending();
      continue;
    }
    const char* type = it->is_symlink() ? "link" : it->is_directory() ? "dir" : it->is_regular_file() ? "file" : "other";
    std::string size = it->is_regular_file() && !it->is_symlink() ? " " + std::to_string(it->file_size()) : "";
    out.insert(rel + " " + type + size);
  }
  return out;
}

// Partial files the downloader leaves while it writes (".sluice-partial-NAME", or the older
// ".NAME.sluice-partial").
inline bool is_partial_name(const std::string& filename) {
  return filename.starts_with(".") && filename.find("sluice-partial") != std::string::npos;
}

// ------------------------------------------------------------------------------------------------
// Running processes

struct ProcResult {
  int exit_code = -1;   // when the process exited
  int term_signal = 0;  // when a signal ended it
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
  bool exited() const { return exit_code >= 0 && term_signal == 0 && !timed_out; }
  std::string describe() const {
    std::string s = timed_out ? "timed out" : term_signal ? "killed by signal " + std::to_string(term_signal)
                                                         : "exit " + std::to_string(exit_code);
    return s + "\n--- stdout ---\n" + out.substr(0, 4000) + "\n--- stderr ---\n" + err.substr(0, 4000);
  }
};

// The Error `fn` throws (nullopt when it throws none, a failure when it throws something else).
template <class F>
std::optional<Error> error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a sluice::Error, got " << typeid(e).name() << ": " << e.what();
    return std::nullopt;
  }
  return std::nullopt;
}

inline std::string sluice_binary() {
  const char* b = std::getenv("SLUICE_BINARY");
  if (b == nullptr || *b == '\0') throw std::runtime_error("SLUICE_BINARY is not set: run through ctest");
  return b;
}

// The environment for a child: only PATH, LANG and a HOME without AWS files, plus `vars`. The
// sanitizer runtime options (./sluice.sh test-asan / test-tsan) are passed on, so that a report in
// a child goes where the run looks for reports.
inline std::vector<std::string> child_env(const EnvMap& vars) {
  EnvMap m;
  const char* path = std::getenv("PATH");
  m["PATH"] = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) m[name] = v;
  m["LANG"] = "C.UTF-8";
  m["HOME"] = "/nonexistent-sluice-test-home";
  for (const auto& [k, v] : vars) m[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k + "=" + v);
  return out;
}

// A child process with stdin from a file (/dev/null unless given) and stdout/stderr captured in
// files. It is killed (SIGKILL) and reaped when destroyed while still running.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
        const std::string& stdin_path = "/dev/null")
      : logs_("sluice-it-proc"), start_(std::chrono::steady_clock::now()) {
    std::vector<char*> av, ev;
    for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
    ev.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path.c_str(), O_RDONLY, 0);
    std::string out = logs_ / "stdout", err = logs_ / "stderr";
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = ::posix_spawn(&pid_, av[0], &fa, &attr, av.data(), ev.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
  }

  pid_t pid() const { return pid_; }
  bool running() { return !reaped_ && !poll(); }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  void kill9() {
    if (!reaped_) ::kill(pid_, SIGKILL);
  }

  // Waits up to `timeout` (then SIGKILL) and returns what happened with the captured output.
  ProcResult wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    while (!poll()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        timed_out = true;
        ::kill(pid_, SIGKILL);
        int st;
        ::waitpid(pid_, &st, 0);
        status_ = st;
        reaped_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ProcResult r;
    r.seconds = elapsed();
    r.timed_out = timed_out;
    if (WIFEXITED(status_)) r.exit_code = WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) r.term_signal = WTERMSIG(status_);
    r.out = read_file(logs_ / "stdout");
    r.err = read_file(logs_ / "stderr");
    return r;
  }

 private:
  bool poll() {
    if (reaped_) return true;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = st;
      reaped_ = true;
      return true;
    }
    return false;
  }

  TempDir logs_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Runs `sluice ARGS...` with the given environment (e.g. store_env()) and waits for it.
inline ProcResult run_sluice(const std::vector<std::string>& args, const EnvMap& env,
                             std::chrono::milliseconds timeout = std::chrono::seconds(120),
                             const std::string& stdin_path = "/dev/null") {
  std::vector<std::string> argv{sluice_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c(argv, child_env(env), stdin_path);
  return c.wait(timeout);
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline bool contains_icase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != haystack.end();
}

}  // namespace sluice::itest
