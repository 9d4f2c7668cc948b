// Unpacking archives (formats/tar_reader.hpp): what a sourcedir.tar.gz puts in /opt/ml/code, and
// what it never does (write outside, follow a link, keep a set-id bit).
#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "formats/tar_reader.hpp"
#include "support/temp_dir.hpp"

namespace sluice::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using sluice::testing::TempDir;

struct Item {
  std::string name;
  mode_t type = AE_IFREG;
  std::string data;        // file contents, or a link's target
  mode_t perm = 0644;
  bool hardlink = false;   // data names the earlier entry
};

void make_archive(const fs::path& path, const std::vector<Item>& items) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& it : items) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, it.name.c_str());
    archive_entry_set_perm(e, it.perm);
    if (it.hardlink) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, it.data.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, it.type);
      if (it.type == AE_IFLNK) archive_entry_set_symlink(e, it.data.c_str());
      archive_entry_set_size(e, it.type == AE_IFREG ? static_cast<la_int64_t>(it.data.size()) : 0);
    }
    archive_write_header(a, e);
    if (it.type == AE_IFREG && !it.hardlink) archive_write_data(a, it.data.data(), it.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(UnpackTar, FilesDirectoriesLinksAndModes) {
  TempDir tmp;
  make_archive(tmp / "src.tar.gz", {{"./", AE_IFDIR, "", 0755},
                                    {"./train.py", AE_IFREG, "print(1)\n", 0644},
                                    {"./run.sh", AE_IFREG, "#!/bin/sh\n", 04755},
                                    {"pkg/", AE_IFDIR, "", 0755},
                                    {"pkg/util.py", AE_IFREG, "X = 1\n"},
                                    {"pkg/alias.py", AE_IFLNK, "util.py"},
                                    {"pkg/copy.py", AE_IFREG, "pkg/util.py", 0644, true},
                                    {"deep/er/file", AE_IFREG, "d"}});
  fs::create_directories(tmp / "code");
  UniqueFd code = beneath::open_root(tmp / "code");
  auto r = unpack_tar(tmp / "src.tar.gz", code.get(), "code");
  EXPECT_EQ(r.files, 6u);
  EXPECT_EQ(read(tmp / "code/train.py"), "print(1)\n");
  EXPECT_EQ(read(tmp / "code/pkg/copy.py"), "X = 1\n");
  EXPECT_EQ(read(tmp / "code/deep/er/file"), "d");
  EXPECT_EQ(fs::read_symlink(tmp / "code/pkg/alias.py"), "util.py");
  struct stat st {};
  ASSERT_EQ(::stat((tmp / "code/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);  // executable, never set-uid
  // Unpacked again over itself: files replaced, not appended to.
  unpack_tar(tmp / "src.tar.gz", code.get(), "code");
  EXPECT_EQ(read(tmp / "code/train.py"), "print(1)\n");
}

TEST(UnpackTar, NamesThatLeaveTheDirectoryAreRefused) {
  for (const char* name : {"/etc/cron.d/x", "../escape", "a/../../escape", "a/b/../../../escape"}) {
    TempDir tmp;
    make_archive(tmp / "evil.tar.gz", {{name, AE_IFREG, "x"}});
    fs::create_directories(tmp / "code");
    UniqueFd code = beneath::open_root(tmp / "code");
    try {
      unpack_tar(tmp / "evil.tar.gz", code.get(), "code");
      ADD_FAILURE() << name;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << name;
      EXPECT_THAT(e.what(), HasSubstr(name));
    }
    EXPECT_FALSE(fs::exists(tmp / "escape"));
  }
}

TEST(UnpackTar, ALinkInTheArchiveIsNeverFollowedByALaterEntry) {
  TempDir tmp;
  fs::create_directories(tmp / "outside");
  // A link to a directory outside, then a file "through" it, then a file over a link to a file.
  make_archive(tmp / "evil.tar.gz", {{"dir", AE_IFLNK, tmp / "outside"},
                                     {"dir/planted", AE_IFREG, "x"}});
  fs::create_directories(tmp / "code");
  UniqueFd code = beneath::open_root(tmp / "code");
  EXPECT_THROW(unpack_tar(tmp / "evil.tar.gz", code.get(), "code"), Error);
  EXPECT_FALSE(fs::exists(tmp / "outside/planted"));
  std::ofstream(tmp / "secret") << "secret";
  make_archive(tmp / "over.tar.gz", {{"f", AE_IFLNK, tmp / "secret"}, {"f", AE_IFREG, "new"}});
  unpack_tar(tmp / "over.tar.gz", code.get(), "code");
  EXPECT_EQ(read(tmp / "secret"), "secret");  // the link was replaced, not written through
  EXPECT_EQ(read(tmp / "code/f"), "new");
}

TEST(UnpackTar, LimitsOnBytesEntriesAndDepth) {
  TempDir tmp;
  fs::create_directories(tmp / "code");
  UniqueFd code = beneath::open_root(tmp / "code");
  const std::string mib(1 << 20, 'x');
  // One file copied through many hard links counts each copy.
  std::vector<Item> links = {{"big", AE_IFREG, mib}};
  for (int i = 0; i < 8; ++i) links.push_back({"copy" + std::to_string(i), AE_IFREG, "big", 0644, true});
  make_archive(tmp / "links.tar.gz", links);
  UnpackLimits limits;
  limits.max_bytes = 4 << 20;
  try {
    unpack_tar(tmp / "links.tar.gz", code.get(), "code", limits);
    ADD_FAILURE() << "9 MiB unpacked under a 4 MiB limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNoSpace);
  }
  limits.max_bytes = 16 << 20;
  EXPECT_EQ(unpack_tar(tmp / "links.tar.gz", code.get(), "code", limits).bytes, 9u << 20);
  std::vector<Item> many;
  for (int i = 0; i < 20; ++i) many.push_back({"f" + std::to_string(i), AE_IFREG, "x"});
  make_archive(tmp / "many.tar.gz", many);
  limits.max_entries = 10;
  EXPECT_THROW(unpack_tar(tmp / "many.tar.gz", code.get(), "code", limits), Error);
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "d/";
  make_archive(tmp / "deep.tar.gz", {{deep + "f", AE_IFREG, "x"}});
  EXPECT_THROW(unpack_tar(tmp / "deep.tar.gz", code.get(), "code"), Error);  // 64 levels by default
}

TEST(UnpackTar, NotAnArchive) {
  TempDir tmp;
  std::ofstream(tmp / "x.tar.gz") << "this is not a tar archive at all, just text";
  fs::create_directories(tmp / "code");
  UniqueFd code = beneath::open_root(tmp / "code");
  try {
    unpack_tar(tmp / "x.tar.gz", code.get(), "code");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  }
  EXPECT_THROW(unpack_tar(tmp / "missing.tar.gz", code.get(), "code"), Error);
}

}  // namespace
}  // namespace sluice::formats
