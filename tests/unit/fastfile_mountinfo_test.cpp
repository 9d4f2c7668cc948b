// /proc/self/mountinfo as FastFile reads it (modes/fastfile/mountinfo.hpp): unescaping, the
// fields of a line, optional fields before the "-", and the path form mounts are compared in.
#include "modes/fastfile/mountinfo.hpp"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "support/temp_dir.hpp"

namespace sluice::modes::fastfile {
namespace {

TEST(FastFileMountinfo, UnescapesOctalEscapes) {
  EXPECT_EQ(unescape_mountinfo("/mnt/with\\040space"), "/mnt/with space");
  EXPECT_EQ(unescape_mountinfo("a\\011b\\012c\\134d"), "a\tb\nc\\d");
  // Not an escape: left as it is.
  EXPECT_EQ(unescape_mountinfo("a\\09b"), "a\\09b");
  EXPECT_EQ(unescape_mountinfo("end\\04"), "end\\04");
  EXPECT_EQ(unescape_mountinfo(""), "");
}

// The entry parse_mountinfo_line() makes of `line`, as "MOUNTPOINT|FSTYPE|SOURCE" ("none" when it
// makes none).
std::string parsed(std::string_view line) {
  auto e = parse_mountinfo_line(line);
  return e ? e->mountpoint + "|" + e->fstype + "|" + e->source : "none";
}

TEST(FastFileMountinfo, ParsesLinesWithAndWithoutOptionalFields) {
  EXPECT_EQ(parsed("36 35 0:52 / /data/my\\040mount rw,nosuid shared:1 master:2 - fuse.sluice my\\040bucket rw,user_id=0"),
            "/data/my mount|fuse.sluice|my bucket");
  EXPECT_EQ(parsed("22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw"), "/|ext4|/dev/sda1");
}

TEST(FastFileMountinfo, ParsesTheDeviceNumber) {
  auto e = parse_mountinfo_line("36 35 0:52 / /mnt rw - fuse.sluice src rw");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dev, makedev(0, 52));
  e = parse_mountinfo_line("22 1 259:65536 / / rw - ext4 /dev/nvme0n1p1 rw");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dev, makedev(259, 65536));
  for (std::string_view bad : {"36 35 052 / /m rw - t s rw", "36 35 x:1 / /m rw - t s rw", "36 35 1: / /m rw - t s rw",
                               "36 35 1x:2 / /m rw - t s rw", "36 35 1:2y / /m rw - t s rw"}) {
    e = parse_mountinfo_line(bad);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->dev, 0u) << bad;
  }
}

TEST(FastFileMountinfo, ShortOrTruncatedLines) {
  EXPECT_EQ(parsed(""), "none");
  EXPECT_EQ(parsed("22 1 8:1 / / rw"), "none");
  EXPECT_EQ(parsed("22 1 8:1 / /x rw -"), "/x||");
}

TEST(FastFileMountinfo, FindsTheRootMount) {
  auto e = find_mount("/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mountpoint, "/");
  // (Not compared with stat("/"): on a btrfs subvolume stat gives the subvolume's device. The
  // FastFile mount tests check the device of a FUSE mount, where both agree.)
  EXPECT_NE(e->dev, 0u);
  EXPECT_FALSE(find_mount("/no/such/mount/point/here"));
}

TEST(FastFileMountinfo, NormalizesPaths) {
  sluice::testing::TempDir dir;
  const std::string real = std::filesystem::canonical(dir.path()).string();
  std::filesystem::create_directory(real + "/sub");
  std::filesystem::create_directory_symlink(real + "/sub", real + "/link");
  EXPECT_EQ(normalize_mount_path(real + "/sub/"), real + "/sub");
  EXPECT_EQ(normalize_mount_path(real + "/./sub/../sub"), real + "/sub");
  // Links are resolved in the parent only: the last component may be a stale mount.
  EXPECT_EQ(normalize_mount_path(real + "/link/mnt"), real + "/sub/mnt");
  EXPECT_EQ(normalize_mount_path(real + "/link"), real + "/link");
  EXPECT_EQ(normalize_mount_path("/"), "/");
}

}  // namespace
}  // namespace sluice::modes::fastfile
