// A FastFile mount's libfuse -o option list (modes/fastfile/mount_args.hpp).
#include "modes/fastfile/mount_args.hpp"

#include <gtest/gtest.h>

namespace sluice::modes::fastfile {
namespace {

TEST(FastFileMountArgs, EscapesCommasAndBackslashes) {
  EXPECT_EQ(escape_fuse_option("plain"), "plain");
  EXPECT_EQ(escape_fuse_option("a,b\\c"), "a\\,b\\\\c");
  EXPECT_EQ(escape_fuse_option(""), "");
}

TEST(FastFileMountArgs, OptionsAsRoot) {
  MountOptions o;
  o.source = "s3://bucket/train,v2";
  EXPECT_EQ(fuse_mount_options(o, 1u << 20, true),
            "ro,default_permissions,subtype=sluice,max_read=1048576,allow_other,fsname=s3://bucket/train\\,v2");
}

TEST(FastFileMountArgs, AllowOtherOnlyWhenAskedForAndRoot) {
  MountOptions o;
  EXPECT_EQ(fuse_mount_options(o, 4096, false), "ro,default_permissions,subtype=sluice,max_read=4096,fsname=sluice");
  o.allow_other = false;
  EXPECT_EQ(fuse_mount_options(o, 4096, true), "ro,default_permissions,subtype=sluice,max_read=4096,fsname=sluice");
}

TEST(FastFileMountArgs, AnEmptySourceIsCalledSluice) {
  MountOptions o;
  o.source = "";
  EXPECT_EQ(fuse_mount_options(o, 1, true), "ro,default_permissions,subtype=sluice,max_read=1,allow_other,fsname=sluice");
}

}  // namespace
}  // namespace sluice::modes::fastfile
