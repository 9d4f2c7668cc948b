// The sandboxed training process: real processes under bubblewrap and without it (Isolation::kNone):
// exit codes and signals, output lines, the exact environment, /opt/ml and binds, read-only
// enforcement, network isolation, MaxRuntime/stop with SIGTERM then SIGKILL, no process left
// behind, clear errors for a command that cannot run. bwrap-only tests skip, saying why, where
// bwrap cannot run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"
#include "core/error.hpp"
#include "job/sandbox.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

using sluice::testing::TempDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A log file's text without the time in front of each line, which must be there
// ("2026-12-05T16:20:01.123Z ").
std::string log_text(const std::string& path) {
  static const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )");
  std::string out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(line, m, stamp)) << "no timestamp: " << line;
    out += (m.empty() ? line : line.substr(m.length(0))) + "\n";
  }
  return out;
}

void write_file(const std::string& path, const std::string& text, fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
  fs::permissions(path, perms);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

// A unique number for `sleep`, so that its process can be found in /proc by its command line.
std::string unique_sleep_arg() {
  static std::atomic<int> counter{0};
  return std::to_string(3000 + ::getpid() % 1000) + "." + std::to_string(100000 + counter++);
}

// Host pids of live (not zombie) processes whose command line is `sleep <arg>`.
std::vector<pid_t> find_sleep(const std::string& arg) {
  std::vector<pid_t> pids;
  const std::string wanted = std::string("sleep") + '\0' + arg + '\0';
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (const dirent* e = ::readdir(d)) {
    const char* name = e->d_name;
    if (!std::all_of(name, name + std::strlen(name), ::isdigit)) continue;
    std::string cmdline = read_file(std::string("/proc/") + name + "/cmdline");
    if (cmdline.size() < wanted.size() ||
        cmdline.compare(cmdline.size() - wanted.size(), wanted.size(), wanted) != 0 ||
        (cmdline.size() != wanted.size() && cmdline[cmdline.size() - wanted.size() - 1] != '/' &&
         cmdline[cmdline.size() - wanted.size() - 1] != '\0')) {
      continue;
    }
    std::string stat = read_file(std::string("/proc/") + name + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] == 'Z') continue;
    pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  ::closedir(d);
  return pids;
}

bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  return stat.empty() || (close_paren != std::string::npos && stat[close_paren + 2] == 'Z');
}

// Waits up to `limit` for the condition.
template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

// --------------------------------------------------------------------------------------------

class Sandbox : public ::testing::TestWithParam<Isolation> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == Isolation::kBubblewrap && !bubblewrap_available(&why)) {
      GTEST_SKIP() << "bwrap cannot run here: " << why;
    }
    fs::create_directories(tmp_ / "ml/model");
    fs::create_directories(tmp_ / "ml/code");
    spec_.opt_ml_host_dir = tmp_ / "ml";
    spec_.env = {{"PATH", "/usr/bin:/bin"}, {"ML", ml("/opt/ml")}};
    spec_.log_prefix = "[algo-1] ";
    spec_.log_file = tmp_ / "algo-1.log";
    spec_.isolation = GetParam();
    spec_.stop_grace = 10s;
  }

  bool bwrap() const { return GetParam() == Isolation::kBubblewrap; }

  // What the command sees for a sandbox path: itself under bwrap, the host path without it.
  std::string ml(const std::string& sandbox_path) const {
    if (bwrap()) return sandbox_path;
    SandboxSpec s;
    s.opt_ml_host_dir = tmp_ / "ml";
    return host_path(s, sandbox_path);
  }

  // A shell script in /opt/ml/code; returns its path as the command sees it.
  std::string script(const std::string& name, const std::string& body) {
    write_file(tmp_ / ("ml/code/" + name), "#!/bin/sh\n" + body + "\n", fs::perms::owner_all);
    return "/opt/ml/code/" + name;  // translated by run_sandboxed without bwrap
  }

  // Output lines of the last run, prefix removed.
  std::vector<std::string> output() const {
    std::vector<std::string> out;
    for (auto& line : lines_of(log_text(spec_.log_file))) {
      EXPECT_EQ(line.rfind(spec_.log_prefix, 0), 0u) << line;
      out.push_back(line.substr(spec_.log_prefix.size()));
    }
    return out;
  }

  RunResult run(const std::atomic<bool>* stop = nullptr) {
    fs::remove(spec_.log_file);
    return run_sandboxed(spec_, stop);
  }

  TempDir tmp_;
  SandboxSpec spec_;
};

TEST_P(Sandbox, ExitCodeIsPropagated) {
  spec_.argv = {script("train.sh", "echo training; exit 3")};
  RunResult r = run();
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.stopped_by_user);
  EXPECT_EQ(r.how, "exited with code 3");
  EXPECT_EQ(r.isolation, GetParam());
  EXPECT_THAT(output(), ::testing::ElementsAre("training"));

  spec_.argv = {script("ok.sh", "exit 0")};
  EXPECT_EQ(run().exit_code, 0);
}

TEST_P(Sandbox, DeathBySignalIsReported) {
  spec_.argv = {script("train.sh", "kill -USR1 $$; sleep 5")};
  RunResult r = run();
  EXPECT_EQ(r.term_signal, SIGUSR1);
  EXPECT_EQ(r.exit_code, 128 + SIGUSR1);
  EXPECT_THAT(r.how, HasSubstr("SIGUSR1"));
  EXPECT_FALSE(r.timed_out);
}

TEST_P(Sandbox, OutputLinesArePrefixedAndLogged) {
  spec_.argv = {script("train.sh", "echo one; echo two >&2; echo; echo three; printf 'no newline'")};
  ::testing::internal::CaptureStderr();
  RunResult r = run();
  std::string terminal = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.exit_code, 0);
  const std::string expected =
      "[algo-1] one\n[algo-1] two\n[algo-1] \n[algo-1] three\n[algo-1] no newline\n";
  EXPECT_EQ(log_text(spec_.log_file), expected);
  EXPECT_THAT(terminal, HasSubstr(expected));

  // The log file is appended to, not replaced.
  spec_.argv = {script("again.sh", "echo four")};
  run_sandboxed(spec_, nullptr);
  EXPECT_EQ(log_text(spec_.log_file), expected + "[algo-1] four\n");
}

TEST_P(Sandbox, VeryLongLinesArePassedOnInPieces) {
  spec_.argv = {script("train.sh", "head -c 150000 /dev/zero | tr '\\0' x; echo; echo after")};
  ::testing::internal::CaptureStderr();
  RunResult r = run();
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.exit_code, 0);
  auto lines = output();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], std::string(65536, 'x'));
  EXPECT_EQ(lines[1], std::string(65536, 'x'));
  EXPECT_EQ(lines[2], std::string(150000 - 2 * 65536, 'x'));
  EXPECT_EQ(lines[3], "after");
}

TEST_P(Sandbox, EnvironmentIsExactlyTheSpecPlusPwd) {
  ::setenv("SLUICE_SANDBOX_TEST_LEAK", "1", 1);
  spec_.env = {{"PATH", "/usr/bin:/bin"}, {"A", "1"}, {"B", "two words"}, {"EMPTY", ""},
               {"SM_MODEL_DIR", ml("/opt/ml/model")}};
  spec_.argv = {"env"};
  ::testing::internal::CaptureStderr();
  RunResult r = run();
  ::testing::internal::GetCapturedStderr();
  ::unsetenv("SLUICE_SANDBOX_TEST_LEAK");
  ASSERT_EQ(r.exit_code, 0) << r.how;
  auto lines = output();
  std::set<std::string> got(lines.begin(), lines.end());
  std::set<std::string> want{"PATH=/usr/bin:/bin", "A=1", "B=two words", "EMPTY=",
                             "SM_MODEL_DIR=" + ml("/opt/ml/model"), "PWD=" + ml("/opt/ml/code")};
  EXPECT_EQ(got, want);
  EXPECT_EQ(lines.size(), want.size());
}

TEST_P(Sandbox, RunsInTheWorkingDirectory) {
  write_file(tmp_ / "ml/code/helper.sh", "#!/bin/sh\necho helper ran\n", fs::perms::owner_all);
  spec_.argv = {"./helper.sh"};  // relative to the working directory
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run().exit_code, 0);
  EXPECT_THAT(output(), ::testing::ElementsAre("helper ran"));

  spec_.argv = {script("train.sh", "pwd; echo made > made-here")};
  run();
  ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(output(), ::testing::ElementsAre(ml("/opt/ml/code")));
  EXPECT_EQ(read_file(tmp_ / "ml/code/made-here"), "made\n");

  // Created under /opt/ml when missing.
  spec_.working_dir = "/opt/ml/elsewhere";
  spec_.argv = {"pwd"};
  ::testing::internal::CaptureStderr();
  run();
  ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(output(), ::testing::ElementsAre(ml("/opt/ml/elsewhere")));
}

TEST_P(Sandbox, MaxRuntimeSendsSigtermToTheProcessGroup) {
  spec_.max_runtime = 1s;
  spec_.argv = {script("train.sh", "trap 'echo got SIGTERM; exit 7' TERM\necho started\nsleep 60 &\nwait")};
  ::testing::internal::CaptureStderr();
  RunResult r = run();
  ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.stopped_by_user);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_LT(r.seconds, 10);
  EXPECT_THAT(output(), ::testing::ElementsAre("started", "got SIGTERM"));
  EXPECT_THAT(r.how, HasSubstr("MaxRuntimeInSeconds (1 s) reached: sent SIGTERM; the command exited with code 7"));
}

TEST_P(Sandbox, MaxRuntimeKillsAPlainSleepWithSigterm) {
  spec_.max_runtime = 1s;
  spec_.argv = {"sleep", "60"};
  RunResult r = run();
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_LT(r.seconds, 10);
}

TEST_P(Sandbox, IgnoredSigtermIsFollowedBySigkillAfterTheGrace) {
  spec_.max_runtime = 1s;
  spec_.stop_grace = 500ms;
  spec_.argv = {script("train.sh", "trap 'echo ignoring SIGTERM' TERM\nwhile :; do sleep 0.1; done")};
  ::testing::internal::CaptureStderr();
  RunResult r = run();
  ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_GE(r.seconds, 1.4);
  EXPECT_LT(r.seconds, 10);
  EXPECT_THAT(output(), ::testing::Contains("ignoring SIGTERM"));
  EXPECT_THAT(r.how, HasSubstr("SIGTERM, then SIGKILL 500 ms later"));
}

TEST_P(Sandbox, StopRequestStopsTheCommand) {
  std::atomic<bool> stop{false};
  spec_.max_runtime = 60s;
  spec_.argv = {"sleep", "60"};
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop = true;
  });
  RunResult r = run(&stop);
  stopper.join();
  EXPECT_TRUE(r.stopped_by_user);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_LT(r.seconds, 10);
  EXPECT_THAT(r.how, HasSubstr("stop requested"));

  // Already set: nothing starts.
  try {
    run(&stop);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
  }
}

TEST_P(Sandbox, NothingIsLeftRunningAfterTheCommandExits) {
  const std::string arg = unique_sleep_arg();
  spec_.argv = {script("train.sh", "sleep " + arg + " &\necho $! > \"$ML/bgpid\"\nsleep 2\nexit 0")};
  auto result = std::async(std::launch::async, [&] { return run(); });
  std::vector<pid_t> pids;
  ASSERT_TRUE(eventually([&] { return !(pids = find_sleep(arg)).empty(); }))
      << "the background sleep never appeared";
  RunResult r = result.get();
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(pids.size(), 1u);
  if (!bwrap()) {  // without a pid namespace the pid the script saw is the host's
    EXPECT_EQ(std::stol(read_file(tmp_ / "ml/bgpid")), pids[0]);
  }
  EXPECT_TRUE(eventually([&] { return gone(pids[0]); }, 3000ms)) << "pid " << pids[0] << " survived";
}

TEST_P(Sandbox, TheCommandDiesWithItsParent) {
  const std::string arg = unique_sleep_arg();
  // Under bwrap the whole sandbox dies (pid namespace); without it, the command itself does.
  spec_.argv = bwrap() ? std::vector<std::string>{script("train.sh", "sleep " + arg + " &\nwait")}
                       : std::vector<std::string>{"sleep", arg};
  std::string why;
  bubblewrap_available(&why);  // probe before fork, so the child does not have to
  pid_t runner = ::fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {
    try {
      run_sandboxed(spec_, nullptr);
    } catch (...) {
    }
    ::_exit(0);
  }
  std::vector<pid_t> pids;
  bool started = eventually([&] { return !(pids = find_sleep(arg)).empty(); });
  ::kill(runner, SIGKILL);
  int status = 0;
  ::waitpid(runner, &status, 0);
  ASSERT_TRUE(started) << "the sandboxed sleep never appeared";
  EXPECT_TRUE(eventually([&] { return gone(pids[0]); }, 3000ms)) << "pid " << pids[0] << " survived";
}

TEST_P(Sandbox, CommandNotFoundIsAClearError) {
  spec_.argv = {"sluice-no-such-command", "--flag"};
  try {
    run();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_THAT(std::string(e.what()), HasSubstr("training command not found: 'sluice-no-such-command'"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("PATH=/usr/bin:/bin"));
  }

  spec_.argv = {"/opt/ml/code/missing.py"};
  try {
    run();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_THAT(std::string(e.what()), HasSubstr("/opt/ml/code/missing.py"));
  }

  write_file(tmp_ / "ml/code/not-executable.sh", "#!/bin/sh\n", fs::perms::owner_read | fs::perms::owner_write);
  spec_.argv = {"/opt/ml/code/not-executable.sh"};
  try {
    run();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kAccessDenied);
    EXPECT_THAT(std::string(e.what()), HasSubstr("not-executable.sh"));
  }
}

TEST_P(Sandbox, MissingInterpreterIsAClearError) {
  write_file(tmp_ / "ml/code/train.py", "#!/nonexistent/python9\nprint(1)\n", fs::perms::owner_all);
  spec_.argv = {"/opt/ml/code/train.py"};
  ::testing::internal::CaptureStderr();
  try {
    run();
    ::testing::internal::GetCapturedStderr();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_THAT(std::string(e.what()), HasSubstr("train.py"));
  }
}

TEST_P(Sandbox, SeveralSandboxesRunAtOnce) {
  std::vector<std::unique_ptr<TempDir>> dirs;
  std::vector<SandboxSpec> specs;
  for (int i = 1; i <= 4; ++i) {
    dirs.push_back(std::make_unique<TempDir>());
    const TempDir& d = *dirs.back();
    fs::create_directories(d / "ml/code");
    write_file(d / "ml/code/train.sh",
               "#!/bin/sh\nfor n in 1 2 3 4 5; do echo host " + std::to_string(i) + " line $n; done\nexit " +
                   std::to_string(i) + "\n",
               fs::perms::owner_all);
    SandboxSpec s = spec_;
    s.opt_ml_host_dir = d / "ml";
    s.argv = {"/opt/ml/code/train.sh"};
    s.log_prefix = "[algo-" + std::to_string(i) + "] ";
    s.log_file = d / "log";
    specs.push_back(s);
  }
  ::testing::internal::CaptureStderr();
  std::vector<std::future<RunResult>> runs;
  for (auto& s : specs) runs.push_back(std::async(std::launch::async, [&s] { return run_sandboxed(s, nullptr); }));
  std::vector<RunResult> results;
  for (auto& f : runs) results.push_back(f.get());
  std::string terminal = ::testing::internal::GetCapturedStderr();
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(results[i - 1].exit_code, i);
    std::string expected;
    for (int n = 1; n <= 5; ++n) {
      std::string line = "[algo-" + std::to_string(i) + "] host " + std::to_string(i) + " line " + std::to_string(n) + "\n";
      expected += line;
      EXPECT_THAT(terminal, HasSubstr(line));
    }
    EXPECT_EQ(log_text(specs[i - 1].log_file), expected);
  }
}

TEST_P(Sandbox, InvalidSpecsAreRejectedBeforeAnythingRuns) {
  auto kind_of = [&](const SandboxSpec& s) {
    try {
      run_sandboxed(s, nullptr);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kInternal;  // "no error" shows as a mismatch below
  };
  SandboxSpec s = spec_;
  s.argv = {};
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);

  s = spec_;
  s.argv = {"true"};
  s.env["BAD=NAME"] = "x";
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);

  s = spec_;
  s.argv = {"true"};
  s.opt_ml_host_dir = tmp_ / "does-not-exist";
  EXPECT_EQ(kind_of(s), ErrorKind::kNotFound);

  s = spec_;
  s.argv = {"true"};
  s.extra_binds = {{tmp_.path(), "relative/path", true}};
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);

  s.extra_binds = {{tmp_.path(), "/proc/sys", true}};
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);

  s.extra_binds = {{tmp_ / "does-not-exist", "/opt/ml/input/data/x", true}};
  EXPECT_EQ(kind_of(s), ErrorKind::kNotFound);

  s.extra_binds = {{tmp_.path(), "/opt/ml/input/data/x", true}, {tmp_ / "ml", "/opt/ml/input/data/x/", false}};
  EXPECT_EQ(kind_of(s), ErrorKind::kConflict);

  s = spec_;
  s.argv = {"true"};
  s.log_file = tmp_ / "no-such-dir/log";
  EXPECT_EQ(kind_of(s), ErrorKind::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Isolation, Sandbox, ::testing::Values(Isolation::kBubblewrap, Isolation::kNone),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// --------------------------------------------------------------------------------------------
// Only under bubblewrap.

class Bubblewrap : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!bubblewrap_available(&why)) GTEST_SKIP() << "bwrap cannot run here: " << why;
    fs::create_directories(tmp_ / "ml/model");
    spec_.opt_ml_host_dir = tmp_ / "ml";
    spec_.env = {{"PATH", "/usr/bin:/bin"}};
    spec_.log_file = tmp_ / "log";
    spec_.isolation = Isolation::kBubblewrap;
  }

  // Runs a shell snippet; returns its output lines.
  std::vector<std::string> sh(const std::string& code, int* exit_code = nullptr) {
    return run_argv({"/bin/sh", "-c", code}, exit_code);
  }

  // Runs the command; returns its output lines.
  std::vector<std::string> run_argv(std::vector<std::string> argv, int* exit_code = nullptr) {
    spec_.argv = std::move(argv);
    fs::remove(spec_.log_file);
    ::testing::internal::CaptureStderr();
    RunResult r;
    try {
      r = run_sandboxed(spec_, nullptr);
    } catch (...) {
      ::testing::internal::GetCapturedStderr();
      throw;
    }
    ::testing::internal::GetCapturedStderr();
    if (exit_code != nullptr) *exit_code = r.exit_code;
    return lines_of(log_text(spec_.log_file));
  }

  TempDir tmp_;
  SandboxSpec spec_;
};

TEST_F(Bubblewrap, ResolvesToBubblewrap) {
  EXPECT_EQ(resolve_isolation(Isolation::kAuto), Isolation::kBubblewrap);
  EXPECT_EQ(resolve_isolation(Isolation::kBubblewrap), Isolation::kBubblewrap);
  EXPECT_EQ(resolve_isolation(Isolation::kNone), Isolation::kNone);
}

TEST_F(Bubblewrap, OptMlIsTheHostDirectory) {
  int rc = -1;
  auto out = sh("echo from inside > /opt/ml/model/x && ls /opt/ml", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(read_file(tmp_ / "ml/model/x"), "from inside\n");
  EXPECT_THAT(out, ::testing::ElementsAre("code", "model"));  // code: the working directory
}

TEST_F(Bubblewrap, HostRootIsReadOnlyAndTmpIsPrivate) {
  write_file(tmp_ / "host-marker", "x");
  int rc = -1;
  auto out = sh("test -r /etc/os-release && echo host visible;"
                "touch /etc/sluice-sandbox-test 2>&1;"
                "echo private > /tmp/f && cat /tmp/f;"
                "test -e " + tmp_ / "host-marker" + " && echo host tmp visible; exit 0",
                &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(out, ::testing::Contains("host visible"));
  EXPECT_THAT(out, ::testing::Contains(HasSubstr("Read-only file system")));
  EXPECT_THAT(out, ::testing::Contains("private"));
  EXPECT_THAT(out, Not(::testing::Contains("host tmp visible")));
  EXPECT_FALSE(fs::exists("/etc/sluice-sandbox-test"));
}

TEST_F(Bubblewrap, ReadOnlyBindRefusesWritesReadWriteBindTakesThem) {
  write_file(tmp_ / "ro/data.txt", "ro data\n");
  fs::create_directories(tmp_ / "rw");
  spec_.extra_binds = {{tmp_ / "ro", "/opt/ml/input/data/ro", true}, {tmp_ / "rw", "/opt/ml/input/data/rw", false}};
  int rc = -1;
  auto out = sh("cat /opt/ml/input/data/ro/data.txt;"
                "echo x > /opt/ml/input/data/ro/new 2>&1 || echo ro write failed;"
                "echo y > /opt/ml/input/data/rw/new && echo rw write worked",
                &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(out, ::testing::Contains("ro data"));
  EXPECT_THAT(out, ::testing::Contains(HasSubstr("Read-only file system")));
  EXPECT_THAT(out, ::testing::Contains("ro write failed"));
  EXPECT_THAT(out, ::testing::Contains("rw write worked"));
  EXPECT_FALSE(fs::exists(tmp_ / "ro/new"));
  EXPECT_EQ(read_file(tmp_ / "rw/new"), "y\n");
}

std::set<std::string> interfaces(const std::vector<std::string>& proc_net_dev) {
  std::set<std::string> names;
  for (const auto& line : proc_net_dev) {
    auto colon = line.find(':');
    if (colon == std::string::npos || line.find('|') != std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    names.insert(name);
  }
  return names;
}

TEST_F(Bubblewrap, NetworkIsolationLeavesOnlyLoopback) {
  spec_.unshare_net = true;
  EXPECT_EQ(interfaces(sh("cat /proc/net/dev")), std::set<std::string>{"lo"});
  // Loopback is up: a TCP connection to 127.0.0.1 inside works.
  EXPECT_THAT(sh("python3 -c 'import socket\n"
                 "s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen()\n"
                 "c = socket.create_connection(s.getsockname(), timeout=5); print(\"connected\")'"),
              ::testing::ElementsAre("connected"));

  auto host = interfaces(lines_of(read_file("/proc/net/dev")));
  if (host.size() > 1) {  // without isolation the host's interfaces are there
    spec_.unshare_net = false;
    EXPECT_EQ(interfaces(sh("cat /proc/net/dev")), host);
  }
}

TEST_F(Bubblewrap, MountPointsAreCreatedOutsideTheReadOnlyRoot) {
  // A sandbox path whose top-level directory does not exist on the host: / itself is rebuilt.
  const std::string top = "/sluice-sandbox-test-" + std::to_string(::getpid());
  ASSERT_FALSE(fs::exists(top));
  fs::create_directories(tmp_ / "data");
  spec_.extra_binds = {{tmp_ / "data", top + "/data", false}};
  int rc = -1;
  auto out = sh("echo written > " + top + "/data/f && echo wrote;"
                "test -r /etc/os-release && echo host visible;"
                "touch /etc/x 2>&1; touch /sluice-top 2>&1; touch /opt/x 2>&1;"
                "echo ml > /opt/ml/model/m && echo ml ok; ls /opt",
                &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(read_file(tmp_ / "data/f"), "written\n");
  EXPECT_THAT(out, ::testing::Contains("wrote"));
  EXPECT_THAT(out, ::testing::Contains("host visible"));
  EXPECT_THAT(out, ::testing::Contains("ml ok"));
  EXPECT_EQ(std::count_if(out.begin(), out.end(),
                          [](const std::string& l) { return l.find("Read-only file system") != std::string::npos; }),
            3);
  for (const auto& e : fs::directory_iterator("/opt")) {  // the host's /opt is still all there
    EXPECT_THAT(out, ::testing::Contains(e.path().filename().string()));
  }
  EXPECT_FALSE(fs::exists(top));
  EXPECT_FALSE(fs::exists("/sluice-top"));
}

TEST_F(Bubblewrap, HostnameIsTheSandboxs) {
  spec_.hostname = "algo-1";
  EXPECT_THAT(sh("cat /proc/sys/kernel/hostname"), ::testing::ElementsAre("algo-1"));
}

TEST_F(Bubblewrap, NoCapabilityToRemountTheRoot) {
  auto out = sh("grep CapEff /proc/self/status");
  ASSERT_EQ(out.size(), 1u);
  unsigned long long caps = std::stoull(out[0].substr(out[0].find(':') + 1), nullptr, 16);
  EXPECT_EQ(caps & (1ULL << 21), 0u) << "CAP_SYS_ADMIN inside the sandbox: " << out[0];
}

TEST_F(Bubblewrap, ProgramsUnderTheHostTmpRunAndTmpStaysPrivate) {
  // A checkout in a temporary directory: its directory is bound read-only at the same path, the
  // rest of the host's /tmp stays invisible, and the sandbox's /tmp stays writable.
  fs::create_directories(tmp_ / "checkout");
  write_file(tmp_ / "other-file", "x");
  write_file(tmp_ / "checkout/train.sh",
             "#!/bin/sh\necho ran\ntest -e " + (tmp_ / "other-file") +
                 " && echo other visible\necho x > /tmp/scratch && echo tmp writable\n"
                 "(echo y > " + (tmp_ / "checkout/new") + ") 2>/dev/null || echo checkout read-only\n",
             fs::perms::owner_all);
  spec_.argv = {tmp_ / "checkout/train.sh"};
  fs::remove(spec_.log_file);
  ::testing::internal::CaptureStderr();
  RunResult r = run_sandboxed(spec_, nullptr);
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.exit_code, 0) << r.how;
  EXPECT_THAT(lines_of(log_text(spec_.log_file)),
              ::testing::ElementsAre("ran", "tmp writable", "checkout read-only"));
  EXPECT_FALSE(fs::exists(tmp_ / "checkout/new"));
}

// The directories a command needs under the host's /tmp (issue 13): a virtualenv found through
// PATH or named by its interpreter's path, a PYTHONPATH directory, VIRTUAL_ENV; all read-only.
class CommandDirectories : public Bubblewrap {
 protected:
  void SetUp() override {
    Bubblewrap::SetUp();
    if (IsSkipped()) return;
    venv_ = tmp_ / "venv";
    ASSERT_EQ(std::system(("/usr/bin/python3 -m venv --without-pip '" + venv_ + "'").c_str()), 0)
        << "cannot make a virtualenv with /usr/bin/python3";
    write_file(tmp_ / "pp/sluice_pp_probe.py", "WHERE = 'from the PYTHONPATH directory'\n");
    write_file(tmp_ / "active/marker", "x");
  }

  // Runs the command, which must exit 0; returns its output lines.
  std::vector<std::string> run_ok(std::vector<std::string> argv) {
    int rc = -1;
    auto out = run_argv(std::move(argv), &rc);
    EXPECT_EQ(rc, 0) << ::testing::PrintToString(out);
    return out;
  }

  std::string venv_;
};

TEST_F(CommandDirectories, AVirtualenvUnderTmpFoundThroughPathRuns) {
  spec_.env["PATH"] = venv_ + "/bin:/usr/bin:/bin";
  EXPECT_THAT(run_ok({"python3", "-c", "import sys; print(sys.prefix)"}), ::testing::ElementsAre(venv_));
  // Its interpreter named by its path: the whole virtualenv too, not only bin/.
  spec_.env["PATH"] = "/usr/bin:/bin";
  EXPECT_THAT(run_ok({venv_ + "/bin/python3", "-c", "import sys, os; print(sys.prefix); print(os.path.exists(sys.prefix + '/pyvenv.cfg'))"}),
              ::testing::ElementsAre(venv_, "True"));
  // Read-only, and nothing else of the host's /tmp appears.
  write_file(tmp_ / "other", "x");
  EXPECT_THAT(run_ok({venv_ + "/bin/python3", "-c",
                        "import os\n"
                        "try:\n open('" + venv_ + "/new', 'w'); print('writable')\n"
                        "except OSError as e: print(e.strerror)\n"
                        "print(os.path.exists('" + (tmp_ / "other") + "'))"}),
              ::testing::ElementsAre("Read-only file system", "False"));
  EXPECT_FALSE(fs::exists(venv_ + "/new"));
}

TEST_F(CommandDirectories, APythonpathDirectoryAndVirtualEnvUnderTmpAreVisible) {
  spec_.env["PYTHONPATH"] = "relative:" + (tmp_ / "pp") + ":" + (tmp_ / "missing");
  spec_.env["VIRTUAL_ENV"] = tmp_ / "active";
  EXPECT_THAT(run_ok({"/usr/bin/python3", "-c",
                        "import os, sluice_pp_probe; print(sluice_pp_probe.WHERE); "
                        "print(os.path.exists(os.environ['VIRTUAL_ENV'] + '/marker'))"}),
              ::testing::ElementsAre("from the PYTHONPATH directory", "True"));
}

TEST_F(CommandDirectories, NoneIsBoundInAMinimalRoot) {
  spec_.minimal_root = true;
  spec_.env["PATH"] = venv_ + "/bin:/usr/bin:/bin";
  spec_.env["PYTHONPATH"] = tmp_ / "pp";
  spec_.env["VIRTUAL_ENV"] = tmp_ / "active";
  EXPECT_THAT(run_ok({"python3", "-c",
                        "import os, sys; print(sys.prefix); "
                        "print([p for p in ('" + venv_ + "', '" + (tmp_ / "pp") + "', '" + (tmp_ / "active") + "') if os.path.exists(p)])"}),
              ::testing::ElementsAre("/usr", "[]"));
  try {
    run_ok({venv_ + "/bin/python3", "-c", "pass"});
    ADD_FAILURE() << "the virtualenv's interpreter ran in a minimal root";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

// SandboxSpec::etc_hosts: the job's host names resolve inside, in a normal and in a minimal root
// (read by an unprivileged uid there); the host's /etc/hosts is untouched.
TEST_F(Bubblewrap, EtcHostsIsTheSpecsReadOnly) {
  const std::string host_before = read_file("/etc/hosts");
  spec_.etc_hosts = "127.0.0.1 localhost\n127.0.1.1 algo-1\n127.0.1.2 algo-2\n";
  spec_.hostname = "algo-1";
  const std::string probe =
      "getent hosts algo-2; getent hosts \"$(hostname)\"; ls -l /etc/hosts | cut -c1-10;"
      "(echo 10.0.0.1 evil >> /etc/hosts) 2>/dev/null || echo read-only;"
      "python3 -c 'import socket; print(socket.gethostbyname(\"algo-2\"))'";
  const std::vector<std::string> want{"127.0.1.2       algo-2", "127.0.1.1       algo-1", "-rw-r--r--",
                                      "read-only", "127.0.1.2"};
  EXPECT_EQ(sh(probe), want);
  EXPECT_EQ(sh("cat /etc/hosts"), lines_of(spec_.etc_hosts));

  spec_.minimal_root = true;  // /etc is a read-only bind there
  if (::geteuid() == 0) {
    spec_.run_as = 0x60000125u;
    fs::permissions(tmp_ / "ml", fs::perms::all);
  }
  EXPECT_EQ(sh(probe), want);

  spec_.etc_hosts.clear();  // without it, the host's own
  spec_.minimal_root = false;
  spec_.run_as.reset();
  EXPECT_EQ(sh("cat /etc/hosts"), lines_of(host_before));
  EXPECT_EQ(read_file("/etc/hosts"), host_before);
}

// --------------------------------------------------------------------------------------------
// Multi-tenant sandboxes (issue 12): the spec's environment never reaches a host-side process or a
// command line, the command runs unprivileged without capabilities, binds by handle, sized tmpfs.

TEST_F(Bubblewrap, EnvironmentReachesOnlyTheCommandNeverACommandLine) {
  const std::string token = "sluice-env-token-" + unique_sleep_arg();
  const std::string arg = unique_sleep_arg();
  spec_.env["SECRET_VALUE"] = token;
  spec_.env["SPACES"] = "a b\tc";
  spec_.argv = {"/bin/sh", "-c", "echo \"$SECRET_VALUE|$SPACES\"; exec sleep " + arg};
  fs::remove(spec_.log_file);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    // While it runs, no process on this machine has the value on its command line or in bwrap's
    // environment (bwrap starts with none).
    EXPECT_TRUE(eventually([&] { return !find_sleep(arg).empty(); }));
    DIR* d = ::opendir("/proc");
    ASSERT_NE(d, nullptr);
    while (const dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
      std::string cmdline = read_file("/proc/" + name + "/cmdline");
      EXPECT_EQ(cmdline.find(token), std::string::npos) << "pid " << name << " has the value on its command line";
      if (cmdline.rfind(std::string("bwrap") + '\0', 0) == 0 || cmdline.find("/bwrap" + std::string(1, '\0')) != std::string::npos) {
        EXPECT_EQ(read_file("/proc/" + name + "/environ"), "") << "bwrap (pid " << name << ") has an environment";
      }
    }
    ::closedir(d);
    stop = true;
  });
  ::testing::internal::CaptureStderr();
  run_sandboxed(spec_, &stop);
  ::testing::internal::GetCapturedStderr();
  stopper.join();
  EXPECT_THAT(lines_of(log_text(spec_.log_file)), ::testing::Contains(token + "|a b\tc"));
}

TEST_F(Bubblewrap, RunAsDropsTheUserAndEveryCapability) {
  spec_.run_as = 0x60000123u;
  spec_.minimal_root = true;
  fs::permissions(tmp_ / "ml/model", fs::perms::all);
  int rc = -1;
  auto out = sh("id -u; id -g; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status;"
                "echo x > /tmp/t && echo tmp writable; echo y > /dev/shm/s && echo shm writable;"
                "python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)' 2>/dev/null || echo no packet socket;"
                "ls -ld /opt | cut -c1-10",
                &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(out, ::testing::Contains(std::to_string(0x60000123u)));
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_THAT(out, ::testing::Contains(std::string(set) + ":\t0000000000000000"));
  }
  EXPECT_THAT(out, ::testing::Contains("NoNewPrivs:\t1"));
  EXPECT_THAT(out, ::testing::Contains("tmp writable"));
  EXPECT_THAT(out, ::testing::Contains("shm writable"));
  EXPECT_THAT(out, ::testing::Contains("no packet socket"));
  EXPECT_THAT(out, ::testing::Contains("drwxr-xr-x"));  // /opt on the empty root is open to the uid
  spec_.run_as = 0u;
  EXPECT_THROW(sh("true"), Error);
}

TEST_F(Bubblewrap, MinimalRootBindsNoPathOfTheCommand) {
  // A file the command names by its host path is not made visible (the spec is hostile there).
  write_file(tmp_ / "secret/creds", "secret\n", fs::perms::all);
  spec_.minimal_root = true;
  int rc = -1;
  auto out = sh("cat " + (tmp_ / "secret/creds") + " 2>/dev/null || echo not visible", &rc);
  EXPECT_THAT(out, ::testing::ElementsAre("not visible"));
  spec_.argv = {tmp_ / "secret/creds"};
  try {
    run_sandboxed(spec_, nullptr);
    ADD_FAILURE() << "a host path ran in a minimal root";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_THAT(e.cause(), HasSubstr("a multi-tenant job sees only the system directories"));
  }
}

TEST_F(Bubblewrap, MinimalRootNeverLooksThroughALinkInOptMlOnTheHost) {
  // The job's code put a link in /opt/ml (here code/bin -> a host directory) and names it in PATH:
  // finding the command must not stat host files through it (as root, the outcome would tell the
  // job which host files exist and which are executable). A file there and no file there end the
  // same way: the command starts and exec fails inside the sandbox, where the link leads nowhere.
  write_file(tmp_ / "hostbin/tool", "#!/bin/sh\necho ran\n");  // 0600: exists, not executable
  fs::create_directories(tmp_ / "ml/code");
  fs::create_directory_symlink(tmp_ / "hostbin", tmp_ / "ml/code/bin");
  spec_.minimal_root = true;
  spec_.env["PATH"] = "/opt/ml/code/bin:/usr/bin:/bin";
  for (const char* name : {"tool", "not-there"}) {
    spec_.argv = {name};
    ::testing::internal::CaptureStderr();
    try {
      RunResult r = run_sandboxed(spec_, nullptr);
      ::testing::internal::GetCapturedStderr();
      EXPECT_NE(r.exit_code, 0) << name;
    } catch (const Error& e) {
      ::testing::internal::GetCapturedStderr();
      // exec inside the sandbox failed (bwrap says so), not a lookup of Sluice's on the host
      // ("not executable", "training command not found").
      EXPECT_THAT(e.what(), HasSubstr("bwrap: execvp " + std::string(name))) << name;
    }
  }
}

TEST_F(Bubblewrap, BindByHandleMountsWhatWasOpenedNotWhatThePathNamesLater) {
  write_file(tmp_ / "mine/f", "mine\n");
  write_file(tmp_ / "theirs/f", "theirs\n");
  fs::create_directory_symlink(tmp_ / "mine", tmp_ / "link");
  int fd = ::open((tmp_ / "link").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  fs::remove(tmp_ / "link");
  fs::create_directory_symlink(tmp_ / "theirs", tmp_ / "link");  // flipped after the open
  spec_.extra_binds = {{tmp_ / "link", "/opt/ml/input/data/fs", true, fd}};
  EXPECT_THAT(sh("cat /opt/ml/input/data/fs/f"), ::testing::ElementsAre("mine"));
  // None of the descriptors bwrap was given (the handle: openat(fd, "..") would leave the bound
  // directory; the environment file; the /etc/hosts data; the filter) reaches the command: only stdin, stdout, stderr
  // (and the one ls opens to list them).
  spec_.restrict_syscalls = true;
  spec_.etc_hosts = "127.0.0.1 localhost\n";
  EXPECT_THAT(sh("ls /proc/self/fd"), ::testing::ElementsAre("0", "1", "2", "3"));
  ::close(fd);
}

TEST_F(Bubblewrap, TmpAndShmHaveTheirSize) {
  spec_.tmp_size = 8 << 20;
  auto out = sh("df -k --output=size /tmp /dev/shm | tail -n 2; head -c 9000000 /dev/zero > /tmp/big 2>/dev/null || echo full");
  EXPECT_THAT(out, ::testing::ElementsAre(HasSubstr("8192"), HasSubstr("8192"), "full"));
}

TEST_F(Bubblewrap, RestrictedSyscallsRefuseUserNamespacesAndTheKeyring) {
  const std::string probe =
      "import ctypes, errno, os\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "def call(name, *args):\n"
      "    r = getattr(libc, name)(*args)\n"
      "    return 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()]\n"
      "print('unshare-user', call('unshare', 0x10000000))\n"
      "print('keyctl', call('syscall', 250, 0, 0, 0, 0, 0))\n"         // keyctl(GET_KEYRING_ID)
      "print('io_uring', call('syscall', 425, 1, 0))\n"
      "print('fork', 'ok' if os.fork() == 0 and os._exit(0) is None else 'ok')\n";
  spec_.run_as = 0x60000124u;
  spec_.minimal_root = true;
  auto unrestricted = sh("python3 -c \"" + probe + "\"");
  // Unprivileged but unfiltered: a user namespace can be made.
  EXPECT_THAT(unrestricted, ::testing::Contains("unshare-user ok"));
  spec_.restrict_syscalls = true;
  auto restricted = sh("python3 -c \"" + probe + "\"; unshare --user true 2>&1 | grep -c 'Operation not permitted'");
  EXPECT_THAT(restricted, ::testing::Contains("unshare-user EPERM"));
  EXPECT_THAT(restricted, ::testing::Contains("keyctl EPERM"));
  EXPECT_THAT(restricted, ::testing::Contains("io_uring EPERM"));
  EXPECT_THAT(restricted, ::testing::Contains("fork ok"));  // ordinary clone still works
  EXPECT_THAT(restricted, ::testing::Contains("1"));
}

TEST(LoaderVariables, AreNamed) {
  for (const char* v : {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "LD_ANYTHING", "GCONV_PATH", "GLIBC_TUNABLES",
                        "LOCPATH", "HOSTALIASES", "NLSPATH", "MALLOC_TRACE", "RES_OPTIONS"}) {
    EXPECT_TRUE(is_loader_variable(v)) << v;
  }
  for (const char* v : {"PATH", "HOME", "PYTHONPATH", "XLD_PRELOAD", "ld_preload", "TMPDIR", "SM_HOSTS"}) {
    EXPECT_FALSE(is_loader_variable(v)) << v;
  }
  EXPECT_TRUE(is_unsafe_for_privileged_start("LD_PRELOAD", "x.so"));
  for (const char* v : {"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE"}) {
    EXPECT_TRUE(is_unsafe_for_privileged_start(v, "/opt/ml/model/x")) << v;
    EXPECT_TRUE(is_unsafe_for_privileged_start(v, "../../opt/ml/model/x")) << v;
    EXPECT_FALSE(is_unsafe_for_privileged_start(v, "C.UTF-8")) << v;
    EXPECT_FALSE(is_unsafe_for_privileged_start(v, "en_US.UTF-8")) << v;
  }
  EXPECT_FALSE(is_unsafe_for_privileged_start("TZ", "Europe/Paris"));
  EXPECT_FALSE(is_unsafe_for_privileged_start("PATH", "/usr/bin:/bin"));
}

// --------------------------------------------------------------------------------------------
// Where bwrap cannot run: kAuto falls back to kNone, says so once, and kBubblewrap refuses. The
// probe's answer is cached per process, so this runs in a fresh copy of this test program with
// SLUICE_BWRAP pointing nowhere.

TEST(Fallback, AutoRunsWithoutIsolationAndWarnsOnce) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  TempDir tmp;
  std::string out_file = tmp / "child.out";
  std::string command = "SLUICE_SANDBOX_TEST_CHILD=1 SLUICE_BWRAP=/nonexistent/bwrap '" + self +
                        "' --gtest_filter=Fallback.ChildWithoutBwrap > '" + out_file + "' 2>&1";
  int status = std::system(command.c_str());
  std::string out = read_file(out_file);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_THAT(out, HasSubstr("[  PASSED  ] 1 test")) << out;
  EXPECT_THAT(out, Not(HasSubstr("SKIPPED"))) << out;
}

TEST(Fallback, ChildWithoutBwrap) {
  if (std::getenv("SLUICE_SANDBOX_TEST_CHILD") == nullptr) {
    GTEST_SKIP() << "runs only inside Fallback.AutoRunsWithoutIsolationAndWarnsOnce";
  }
  std::string why;
  EXPECT_FALSE(bubblewrap_available(&why));
  EXPECT_THAT(why, HasSubstr("SLUICE_BWRAP=/nonexistent/bwrap"));
  EXPECT_THROW(resolve_isolation(Isolation::kBubblewrap), Error);

  TempDir tmp;
  fs::create_directories(tmp / "ml/model");
  SandboxSpec spec;
  spec.opt_ml_host_dir = tmp / "ml";
  spec.isolation = Isolation::kAuto;
  spec.env = {{"PATH", "/usr/bin:/bin"}, {"SM_MODEL_DIR", host_path(spec, "/opt/ml/model")}};
  spec.argv = {"/bin/sh", "-c", "echo saved > \"$SM_MODEL_DIR/m\""};
  spec.unshare_net = true;
  ::testing::internal::CaptureStdout();  // spdlog's default logger writes to stdout
  ::testing::internal::CaptureStderr();
  RunResult first = run_sandboxed(spec, nullptr);
  RunResult second = run_sandboxed(spec, nullptr);
  std::string logged = ::testing::internal::GetCapturedStderr() + ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(first.isolation, Isolation::kNone);
  EXPECT_EQ(first.exit_code, 0) << first.how;
  EXPECT_EQ(second.exit_code, 0) << second.how;
  EXPECT_EQ(read_file(tmp / "ml/model/m"), "saved\n");
  std::size_t warnings = 0;
  for (std::size_t at = logged.find("WITHOUT isolation"); at != std::string::npos;
       at = logged.find("WITHOUT isolation", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << logged;
  EXPECT_THAT(logged, HasSubstr("SM_* variables"));
  EXPECT_THAT(logged, HasSubstr("EnableNetworkIsolation is not enforced"));
}

// --------------------------------------------------------------------------------------------
// Pure.

TEST(HostPath, MapsOptMlAndBindsToTheHost) {
  SandboxSpec spec;
  spec.opt_ml_host_dir = "/work/jobs/j1/algo-1";
  spec.extra_binds = {{"/mnt/fsx/data", "/opt/ml/input/data/fs", true}, {"/srv/x", "/data/", false}};
  EXPECT_EQ(host_path(spec, "/opt/ml"), "/work/jobs/j1/algo-1");
  EXPECT_EQ(host_path(spec, "/opt/ml/model"), "/work/jobs/j1/algo-1/model");
  EXPECT_EQ(host_path(spec, "/opt/ml/input/data/train/a.csv"), "/work/jobs/j1/algo-1/input/data/train/a.csv");
  EXPECT_EQ(host_path(spec, "/opt/ml/input/data/fs"), "/mnt/fsx/data");
  EXPECT_EQ(host_path(spec, "/opt/ml/input/data/fs/a/b"), "/mnt/fsx/data/a/b");
  EXPECT_EQ(host_path(spec, "/opt/ml/input/data/fsx"), "/work/jobs/j1/algo-1/input/data/fsx");
  EXPECT_EQ(host_path(spec, "/data/y"), "/srv/x/y");
  EXPECT_EQ(host_path(spec, "/opt/mlx"), "/opt/mlx");
  EXPECT_EQ(host_path(spec, "/usr/bin/python3"), "/usr/bin/python3");
  EXPECT_EQ(host_path(spec, "/opt/ml/./model/../output/"), "/work/jobs/j1/algo-1/output");
  EXPECT_THROW(host_path(spec, "relative"), Error);
}

TEST(Isolation, Names) {
  EXPECT_EQ(to_string(Isolation::kAuto), "auto");
  EXPECT_EQ(to_string(Isolation::kBubblewrap), "bubblewrap");
  EXPECT_EQ(to_string(Isolation::kNone), "none");
  EXPECT_EQ(resolve_isolation(Isolation::kNone), Isolation::kNone);
}

}  // namespace
}  // namespace sluice::job
