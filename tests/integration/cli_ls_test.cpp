// `sluice ls` as a user of `aws s3 ls` runs it, against the real store: no argument lists the
// buckets ("DATE TIME NAME"), --human-readable and --summarize print the AWS CLI's formats.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <regex>

#include "support.hpp"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(CliLs, WithoutAnArgumentListsTheBuckets) {
  TestBucket one("lsone"), two("lstwo");
  auto r = run_sluice({"ls"}, store_env(), 60s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::regex line(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\S+)$)");
  std::set<std::string> names;
  for (const auto& l : lines_of(r.out)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << "not an `aws s3 ls` bucket line: '" << l << "'";
    names.insert(m[1]);
  }
  EXPECT_TRUE(names.count(one.name()) && names.count(two.name())) << r.describe();
  // Global options go after it too.
  auto after = run_sluice({"ls", "--max-connections", "2"}, store_env(), 60s);
  ASSERT_EQ(after.exit_code, 0) << after.describe();
  EXPECT_TRUE(contains(after.out, " " + one.name() + "\n")) << after.describe();
}

TEST(CliLs, HumanReadableSizesAndSummary) {
  TestBucket b("lshuman");
  const std::pair<const char*, size_t> objects[] = {{"d/one", 1}, {"d/small", 500}, {"d/kib", 1536}, {"d/sub/mib", 3u << 20}};
  for (const auto& [key, size] : objects) b.store().put(key, store::Body::from_string(std::string(size, 'x')), {});

  auto r = run_sluice({"ls", "--recursive", "--human-readable", "--summarize", b.uri("d/")}, store_env(), 60s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::regex date(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d )");
  const auto lines = lines_of(r.out);
  for (const auto& [size, key] : std::vector<std::pair<std::string, std::string>>{
           {"1 Byte", "d/one"}, {"500 Bytes", "d/small"}, {"1.5 KiB", "d/kib"}, {"3.0 MiB", "d/sub/mib"}}) {
    // "DATE TIME SIZE KEY", the size right-aligned in 10 columns as `aws s3 ls` prints it.
    const std::string want = fmt::format("{:>10} {}", size, key);
    bool found = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.size() == 20 + want.size() && std::regex_match(l.substr(0, 20), date) && l.substr(20) == want;
    });
    EXPECT_TRUE(found) << "no line 'DATE TIME" << want << "':\n" << r.out;
  }
  const uint64_t total = 1 + 500 + 1536 + (3u << 20);
  EXPECT_TRUE(r.out.ends_with("\nTotal Objects: 4\n   Total Size: 3.0 MiB\n")) << r.out;

  // Sizes in bytes without --human-readable; one level: PRE lines are not objects.
  auto plain = run_sluice({"ls", b.uri("d/"), "--summarize"}, store_env(), 60s);
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_TRUE(contains(plain.out, "PRE sub/\n")) << plain.out;
  EXPECT_TRUE(plain.out.ends_with("\nTotal Objects: 3\n   Total Size: " + std::to_string(total - (3u << 20)) + "\n"))
      << plain.out;

  // Nothing under the prefix: the summary says so, and the exit code is still 1.
  auto none = run_sluice({"ls", b.uri("nothing/"), "--summarize"}, store_env(), 60s);
  EXPECT_EQ(none.exit_code, 1) << none.describe();
  EXPECT_EQ(none.out, "\nTotal Objects: 0\n   Total Size: 0\n") << none.describe();
}

}  // namespace
}  // namespace sluice::itest
