// How the training command ended, in words (job/exit_status.hpp): bwrap's status report, the exit
// status, and RunResult::how for a command that exited, was killed, timed out or was stopped.
#include "job/exit_status.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

namespace sluice::job {
namespace {

using namespace std::chrono_literals;

TEST(SandboxExitStatus, NumbersFromBwrapsStatusReport) {
  const std::string json = "{ \"child-pid\": 1234 }\n{ \"exit-code\": -3 }\n";
  EXPECT_EQ(json_number(json, "child-pid"), 1234);
  EXPECT_EQ(json_number(json, "exit-code"), -3);
  EXPECT_EQ(json_number("{\"exit-code\":7}", "exit-code"), 7);
  EXPECT_FALSE(json_number(json, "missing"));
  EXPECT_FALSE(json_number("{ \"child-pid\": ", "child-pid"));  // not written yet
  EXPECT_FALSE(json_number("{ \"child-pid\" ", "child-pid"));
  EXPECT_FALSE(json_number("", "child-pid"));
}

TEST(SandboxExitStatus, DescribesAnExitOrASignal) {
  EXPECT_EQ(describe_status(0, 0), "exited with code 0");
  EXPECT_EQ(describe_status(3, 0), "exited with code 3");
  EXPECT_EQ(describe_status(128 + SIGKILL, SIGKILL), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(describe_status(128 + SIGSEGV, SIGSEGV), "killed by signal 11 (SIGSEGV)");
}

TEST(SandboxExitStatus, HowACommandThatEndedByItselfEnded) {
  RunResult r;
  r.exit_code = 2;
  EXPECT_EQ(describe_run(r, false, 60s, 120000ms), "exited with code 2");
}

TEST(SandboxExitStatus, HowATimedOutCommandWasStopped) {
  RunResult r;
  r.timed_out = true;
  r.term_signal = SIGTERM;
  r.exit_code = 128 + SIGTERM;
  EXPECT_EQ(describe_run(r, false, 60s, 120000ms),
            "MaxRuntimeInSeconds (60 s) reached: sent SIGTERM; the command was killed by signal 15 (SIGTERM)");
  r.term_signal = SIGKILL;
  r.exit_code = 128 + SIGKILL;
  EXPECT_EQ(describe_run(r, true, 60s, 500ms),
            "MaxRuntimeInSeconds (60 s) reached: sent SIGTERM, then SIGKILL 500 ms later; the command was killed "
            "by signal 9 (SIGKILL)");
}

TEST(SandboxExitStatus, HowACommandStoppedOnRequestEnded) {
  RunResult r;
  r.stopped_by_user = true;
  r.exit_code = 0;
  EXPECT_EQ(describe_run(r, false, 0s, 120000ms), "stop requested: sent SIGTERM; the command exited with code 0");
}

}  // namespace
}  // namespace sluice::job
