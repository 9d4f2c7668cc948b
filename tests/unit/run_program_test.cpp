// Running a program to its end (core/run_program.hpp): its output and exit code, the environment it
// gets (only the one given), a program that runs too long, one that cannot start; and PATH lookup.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/run_program.hpp"

namespace sluice {
namespace {

TEST(RunProgram, OutputAndExitCode) {
  auto r = run_program({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, {}, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.output, "out\nerr\n");
}

TEST(RunProgram, OnlyTheEnvironmentGiven) {
  ::setenv("SLUICE_RUN_PROGRAM_TEST", "leak", 1);
  auto r = run_program({"/bin/sh", "-c", "echo \"${SLUICE_RUN_PROGRAM_TEST-unset} $A\""}, {"A=b"}, std::chrono::seconds(10));
  ::unsetenv("SLUICE_RUN_PROGRAM_TEST");
  EXPECT_EQ(r.output, "unset b\n");
}

TEST(RunProgram, ASignalIs128PlusItsNumber) {
  auto r = run_program({"/bin/sh", "-c", "kill -KILL $$"}, {}, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 137);
}

TEST(RunProgram, TooLongIsKilled) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_program({"/bin/sleep", "30"}, {}, std::chrono::milliseconds(300));
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST(RunProgram, AProgramThatIsNotThereIsAnError) {
  try {
    run_program({"/nonexistent/sbatch"}, {}, std::chrono::seconds(10));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/sbatch"), std::string::npos);
  }
}

TEST(FindProgram, ThePathsDirectoriesInOrder) {
  EXPECT_EQ(find_program("sh", "/nonexistent::/bin:/usr/bin"), "/bin/sh");
  EXPECT_EQ(find_program("no-such-program-here", "/bin:/usr/bin"), "");
  EXPECT_EQ(find_program("./x/y", ""), "./x/y");
}

}  // namespace
}  // namespace sluice
