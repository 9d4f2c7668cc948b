// The `sluice` command line as CLI11 parses it with cli/options and cli/usage: global options
// before or after the subcommand, --exclude/--include in the order given, and usage errors with
// the "sluice: error:" prefix and a did-you-mean.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/usage.hpp"

namespace sluice::cli {
namespace {

// A small `sluice`: the global options and a `cp SRC DST [-r] [--exclude P] [--include P]`.
struct Cli {
  CLI::App app{"sluice"};
  GlobalOptions g;
  std::string log_level = "warn";
  std::string src, dst;
  bool recursive = false;
  FilterFlags filter;
  CLI::App* cp = nullptr;

  Cli() {
    app.require_subcommand(1);
    add_global_options(app, g, log_level);
    cp = app.add_subcommand("cp", "copy");
    cp->add_option("source", src)->required();
    cp->add_option("destination", dst)->required();
    cp->add_flag("-r,--recursive", recursive);
    add_filter_options(*cp, filter);
    app.add_subcommand("ls", "list");
  }

  // Parses `sluice ARGS...`; returns the exit code usage_error gives, or -1 when it parsed.
  int parse(std::vector<std::string> args) {
    args.insert(args.begin(), "sluice");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return usage_error(app, e);
    }
    return -1;
  }
};

TEST(GlobalOptions, BeforeOrAfterTheSubcommand) {
  const std::vector<std::string> globals = {"--region",   "eu-west-1", "--profile", "dev", "--no-verify-ssl",
                                            "--endpoint-url", "https://s3.example", "--max-connections", "7",
                                            "--cli-read-timeout", "5", "--log-level", "debug"};
  std::vector<std::string> before = globals, after = {"cp", "a", "b"}, between = {"cp", "a"};
  before.insert(before.end(), {"cp", "a", "b"});
  after.insert(after.end(), globals.begin(), globals.end());
  between.insert(between.end(), globals.begin(), globals.end());
  between.push_back("b");
  for (const auto& args : {before, after, between}) {
    Cli c;
    ASSERT_EQ(c.parse(args), -1);
    EXPECT_EQ(c.g.region, "eu-west-1");
    EXPECT_EQ(c.g.profile, "dev");
    EXPECT_FALSE(c.g.verify_tls);
    EXPECT_EQ(c.g.endpoint_url, "https://s3.example");
    EXPECT_EQ(c.g.max_connections, 7);
    EXPECT_EQ(c.g.read_timeout_s, 5);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.src, "a");
    EXPECT_EQ(c.dst, "b");
  }
  Cli plain;
  ASSERT_EQ(plain.parse({"cp", "a", "b"}), -1);
  EXPECT_TRUE(plain.g.verify_tls);
  EXPECT_FALSE(plain.g.region.has_value());
  EXPECT_FALSE(plain.g.profile.has_value());
}

TEST(FilterOptions, RulesKeepTheirCommandLineOrder) {
  Cli c;
  ASSERT_EQ(c.parse({"cp", "-r", "--exclude", "*", "src", "--include=*.txt", "dst", "--exclude", "skip.txt"}), -1);
  EXPECT_EQ(c.src, "src");  // an --exclude takes one value, not the arguments after it
  EXPECT_EQ(c.dst, "dst");
  dataset::KeyFilter f = filter_of(*c.cp, c.filter);
  EXPECT_TRUE(f.selects("a.txt"));
  EXPECT_TRUE(f.selects("d/b.txt"));
  EXPECT_FALSE(f.selects("a.bin"));
  EXPECT_FALSE(f.selects("skip.txt"));

  Cli none;
  ASSERT_EQ(none.parse({"cp", "a", "b"}), -1);
  EXPECT_TRUE(filter_of(*none.cp, none.filter).empty());
}

// usage_error's message (stderr) and exit code for `sluice ARGS...`.
std::pair<int, std::string> usage_of(std::vector<std::string> args) {
  Cli c;
  testing::internal::CaptureStderr();
  int code = c.parse(std::move(args));
  return {code, testing::internal::GetCapturedStderr()};
}

TEST(UsageError, UnknownCommandSuggestsTheClosest) {
  auto [code, err] = usage_of({"lss", "s3://b/"});
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind("sluice: error: unknown command 'lss' (did you mean 'ls'?)", 0), 0u) << err;
  auto [code2, err2] = usage_of({"--region", "x", "frobnicate"});
  EXPECT_EQ(code2, 2);
  EXPECT_NE(err2.find("unknown command 'frobnicate'"), std::string::npos) << err2;
  EXPECT_EQ(err2.find("did you mean"), std::string::npos) << err2;
}

TEST(UsageError, UnknownOptionSuggestsTheClosestOfTheCommandAndTheGlobalOnes) {
  auto [code, err] = usage_of({"cp", "--recursiv", "a", "b"});
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind("sluice: error: unknown option '--recursiv' for 'sluice cp' (did you mean '--recursive'?)", 0), 0u)
      << err;
  auto [code2, err2] = usage_of({"cp", "a", "b", "--regoin", "x"});
  EXPECT_EQ(code2, 2);
  EXPECT_NE(err2.find("did you mean '--region'?"), std::string::npos) << err2;
  auto [code3, err3] = usage_of({"cp", "--no-such-flag", "a", "b"});
  EXPECT_EQ(code3, 2);
  EXPECT_NE(err3.find("unknown option '--no-such-flag'"), std::string::npos) << err3;
  EXPECT_EQ(err3.find("did you mean"), std::string::npos) << err3;
}

TEST(UsageError, OtherErrorsCarryThePrefix) {
  auto [code, err] = usage_of({"cp", "a"});
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind("sluice: error: ", 0), 0u) << err;
  EXPECT_NE(err.find("destination"), std::string::npos) << err;
  auto [code2, err2] = usage_of({"--max-connections", "0", "ls"});
  EXPECT_EQ(code2, 2);
  EXPECT_EQ(err2.rfind("sluice: error: ", 0), 0u) << err2;
  EXPECT_NE(err2.find("max-connections"), std::string::npos) << err2;
}

}  // namespace
}  // namespace sluice::cli
