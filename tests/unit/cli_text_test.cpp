// Pure text logic of the `sluice` command: the AWS CLI's listing formats (expected values from
// awscli's human_readable_size and `aws s3 ls --summarize`) and "did you mean" suggestions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/listing_format.hpp"
#include "cli/suggest.hpp"

namespace sluice::cli {
namespace {

TEST(HumanReadableSize, AsTheAwsCli) {
  const std::pair<uint64_t, const char*> cases[] = {
      {0, "0 Bytes"},
      {1, "1 Byte"},
      {2, "2 Bytes"},
      {1023, "1023 Bytes"},
      {1024, "1.0 KiB"},
      {1025, "1.0 KiB"},
      {1536, "1.5 KiB"},
      {1048524, "1.0 MiB"},
      {1048575, "1.0 MiB"},
      {1048576, "1.0 MiB"},
      {8ull << 20, "8.0 MiB"},
      {1610612736, "1.5 GiB"},
      {1ull << 40, "1.0 TiB"},
      {5ull << 50, "5.0 PiB"},
      {1ull << 60, "1.0 EiB"},
      {~0ull, "16.0 EiB"},
  };
  for (const auto& [bytes, text] : cases) EXPECT_EQ(human_readable_size(bytes), text) << bytes;
}

TEST(ListingSummary, AsTheAwsCli) {
  EXPECT_EQ(listing_summary(3, 3072, false), "\nTotal Objects: 3\n   Total Size: 3072\n");
  EXPECT_EQ(listing_summary(3, 3072, true), "\nTotal Objects: 3\n   Total Size: 3.0 KiB\n");
  EXPECT_EQ(listing_summary(0, 0, true), "\nTotal Objects: 0\n   Total Size: 0 Bytes\n");
}

TEST(ListingDate, Utc) {
  EXPECT_EQ(listing_date(0), "1970-01-01 00:00:00");
  EXPECT_EQ(listing_date(1'700'000'000'123'456'789), "2023-11-14 22:13:20");
}

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("ls", ""), 2u);
  EXPECT_EQ(edit_distance("", "mount"), 5u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("--recursive", "--recursiv"), 1u);
  EXPECT_EQ(edit_distance("--recrusive", "--recursive"), 1u);  // a swap is one edit
  EXPECT_EQ(edit_distance("cp", "pc"), 1u);
  EXPECT_EQ(edit_distance("abc", "abc"), 0u);
}

TEST(Closest, SuggestsWhatWasMostLikelyMeant) {
  const std::vector<std::string> commands = {"ls", "mb", "rm", "rb", "train", "presign", "cp", "mount", "unmount", "policy"};
  EXPECT_EQ(closest("lss", commands), "ls");
  EXPECT_EQ(closest("mout", commands), "mount");
  EXPECT_EQ(closest("unmout", commands), "unmount");
  EXPECT_EQ(closest("presgin", commands), "presign");
  EXPECT_EQ(closest("frobnicate", commands), std::nullopt);  // nothing is close
  const std::vector<std::string> options = {"--recursive", "-r", "--quiet", "-q", "--json", "--exclude",
                                            "--include", "--dryrun", "--endpoint-url", "--region", "--help"};
  EXPECT_EQ(closest("--recursiv", options), "--recursive");
  EXPECT_EQ(closest("--dry-run", options), "--dryrun");
  EXPECT_EQ(closest("--exlude", options), "--exclude");
  EXPECT_EQ(closest("--regoin=us-east-1", options), "--region");  // the value is not compared
  EXPECT_EQ(closest("--endpoint", options), "--endpoint-url");     // too far, but the only one it begins
  EXPECT_EQ(closest("--no-such-flag", options), std::nullopt);
  EXPECT_EQ(closest("--", options), std::nullopt);
}

TEST(Closest, AnAmbiguousBeginningSuggestsNothing) {
  EXPECT_EQ(closest("--no-verify", {"--no-verify-ssl", "--no-verify-md5"}), std::nullopt);
  EXPECT_EQ(closest("--no-verify-ss", {"--no-verify-ssl", "--no-verify-md5"}), "--no-verify-ssl");
}

}  // namespace
}  // namespace sluice::cli
