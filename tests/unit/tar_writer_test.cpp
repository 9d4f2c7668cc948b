// formats::write_tar: real archives read back with libarchive.
#include "formats/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "core/error.hpp"

namespace fs = std::filesystem;
using sluice::formats::write_tar;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sluice-tar-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

// path -> content ("<dir>" for directories, "-> target" for links)
std::map<std::string, std::string> read_archive(const fs::path& file) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  EXPECT_EQ(archive_read_open_filename(a, file.c_str(), 65536), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    if (archive_entry_filetype(e) == AE_IFDIR) {
      out[name] = "<dir>";
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      out[name] = std::string("-> ") + archive_entry_symlink(e);
    } else {
      std::string data;
      char buf[4096];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
      out[name] = data;
    }
  }
  archive_read_free(a);
  return out;
}

}  // namespace

TEST(TarWriter, PacksATreeGzipped) {
  TempDir t;
  write_file(t.path / "model/weights.bin", std::string(300000, 'w'));
  write_file(t.path / "model/sub/config.json", "{\"a\": 1}");
  write_file(t.path / "model/empty", "");
  fs::create_directories(t.path / "model/emptydir");
  fs::create_symlink("weights.bin", t.path / "model/link");
  auto stats = write_tar({{t.path / "model"}}, t.path / "model.tar.gz", true);
  EXPECT_EQ(stats.files, 3u);
  EXPECT_EQ(stats.bytes, 300000u + 8u);
  auto got = read_archive(t.path / "model.tar.gz");
  std::map<std::string, std::string> want = {
      {"emptydir/", "<dir>"},  {"empty", ""},          {"link", "-> weights.bin"},
      {"sub/", "<dir>"},       {"sub/config.json", "{\"a\": 1}"},
      {"weights.bin", std::string(300000, 'w')}};
  EXPECT_TRUE(got == want) << "archive entries differ (" << got.size() << " entries)";
  // gzip magic
  std::ifstream f(t.path / "model.tar.gz", std::ios::binary);
  unsigned char m[2];
  f.read(reinterpret_cast<char*>(m), 2);
  EXPECT_EQ(m[0], 0x1f);
  EXPECT_EQ(m[1], 0x8b);
  EXPECT_FALSE(fs::exists(t.path / ".sluice-partial-model.tar.gz"));
}

TEST(TarWriter, PlainTarAndLaterSourcesWin) {
  TempDir t;
  write_file(t.path / "h1/model.txt", "from host 1");
  write_file(t.path / "h1/only1", "1");
  write_file(t.path / "h2/model.txt", "from host 2");
  write_tar({{t.path / "h1"}, {t.path / "h2"}, {t.path / "missing"}}, t.path / "out.tar", false);
  auto got = read_archive(t.path / "out.tar");
  EXPECT_EQ(got["model.txt"], "from host 2");
  EXPECT_EQ(got["only1"], "1");
  EXPECT_EQ(got.size(), 2u);
  std::ifstream f(t.path / "out.tar", std::ios::binary);
  char m[2];
  f.read(m, 2);
  EXPECT_NE(static_cast<unsigned char>(m[0]), 0x1f);  // not gzip
}

TEST(TarWriter, EmptyTreeGivesAValidEmptyArchive) {
  TempDir t;
  fs::create_directories(t.path / "model");
  auto stats = write_tar({{t.path / "model"}}, t.path / "model.tar.gz", true);
  EXPECT_EQ(stats.files, 0u);
  EXPECT_TRUE(read_archive(t.path / "model.tar.gz").empty());
}

TEST(TarWriter, UnwritableDestinationIsAClearErrorAndLeavesNothing) {
  TempDir t;
  write_file(t.path / "model/x", "x");
  try {
    write_tar({{t.path / "model"}}, t.path / "no/such/dir/model.tar.gz", true);
    FAIL() << "expected an error";
  } catch (const sluice::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.tar.gz"), std::string::npos) << e.what();
  }
}

// Issue 12: the training code writes the trees and may plant links to host files.
std::string file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(TarWriter, ALinkToAHostFileIsStoredAsALinkNotItsContents) {
  TempDir t;
  write_file(t.path / "host/credentials", "SECRET-KEY-1234");
  write_file(t.path / "model/weights.bin", "w");
  fs::create_symlink(t.path / "host/credentials", t.path / "model/x");
  write_file(t.path / "model/sub/keep", "k");
  fs::create_symlink(t.path / "host/credentials", t.path / "model/sub/y");
  auto stats = write_tar({{t.path / "model"}}, t.path / "out.tar", false);
  EXPECT_EQ(stats.files, 2u);
  EXPECT_EQ(stats.bytes, 2u);
  auto got = read_archive(t.path / "out.tar");
  EXPECT_EQ(got["x"], "-> " + (t.path / "host/credentials").string());
  EXPECT_EQ(got["sub/y"], "-> " + (t.path / "host/credentials").string());
  EXPECT_EQ(got["weights.bin"], "w");
  EXPECT_EQ(got.size(), 5u);  // sub/, sub/keep, sub/y, weights.bin, x
  EXPECT_EQ(file_bytes(t.path / "out.tar").find("SECRET-KEY"), std::string::npos);
}

TEST(TarWriter, ADirectoryLinkIsStoredAsALinkAndItsTargetIsNotEntered) {
  TempDir t;
  write_file(t.path / "host/a", "SECRET-A");
  write_file(t.path / "host/deeper/b", "SECRET-B");
  write_file(t.path / "model/m", "m");
  fs::create_symlink(t.path / "host", t.path / "model/d");
  fs::create_symlink("../host", t.path / "model/rel");
  auto stats = write_tar({{t.path / "model"}}, t.path / "out.tar", false);
  EXPECT_EQ(stats.files, 1u);
  auto got = read_archive(t.path / "out.tar");
  std::map<std::string, std::string> want = {
      {"d", "-> " + (t.path / "host").string()}, {"m", "m"}, {"rel", "-> ../host"}};
  EXPECT_TRUE(got == want) << "archive entries differ (" << got.size() << " entries)";
  EXPECT_EQ(file_bytes(t.path / "out.tar").find("SECRET"), std::string::npos);
}

TEST(TarWriter, ALaterSourcesLinkHidesWhatAnEarlierSourceHasBelowIt) {
  // Otherwise the archive would hold "d" -> /host followed by "d/f", which an extractor writes
  // through the link.
  TempDir t;
  write_file(t.path / "h1/d/f", "from host 1");
  write_file(t.path / "h1/d2/g", "kept");
  fs::create_directories(t.path / "h2");
  fs::create_symlink(t.path / "host", t.path / "h2/d");
  write_file(t.path / "h2/d2/h", "also kept");
  write_tar({{t.path / "h1"}, {t.path / "h2"}}, t.path / "out.tar", false);
  auto got = read_archive(t.path / "out.tar");
  std::map<std::string, std::string> want = {{"d", "-> " + (t.path / "host").string()},
                                             {"d2/", "<dir>"},
                                             {"d2/g", "kept"},
                                             {"d2/h", "also kept"}};
  EXPECT_TRUE(got == want) << "archive entries differ (" << got.size() << " entries)";
}

TEST(TarWriter, ASourceTreeThatIsALinkIsLeftOut) {
  // TarSource{dir, below}: dir is trusted, below (e.g. "output/data", writable by the training
  // code) is entered without following a link.
  TempDir t;
  write_file(t.path / "host/secret", "SECRET");
  write_file(t.path / "opt_ml/model/m", "m");
  fs::create_directories(t.path / "opt_ml/output");
  fs::create_symlink(t.path / "host", t.path / "opt_ml/output/data");
  auto stats = write_tar({{t.path / "opt_ml", "output/data"}}, t.path / "data.tar", false);
  EXPECT_EQ(stats.files, 0u);
  EXPECT_TRUE(read_archive(t.path / "data.tar").empty());

  // A link in a middle component of `below`.
  fs::rename(t.path / "opt_ml/output", t.path / "opt_ml/output-real");
  fs::create_directories(t.path / "host/data");
  write_file(t.path / "host/data/secret", "SECRET");
  fs::create_symlink(t.path / "host", t.path / "opt_ml/output");
  write_tar({{t.path / "opt_ml", "output/data"}, {t.path / "opt_ml", "model"}}, t.path / "both.tar", false);
  auto got = read_archive(t.path / "both.tar");
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(got["m"], "m");

  // A trusted dir is followed; a missing below is nothing.
  fs::create_symlink(t.path / "opt_ml", t.path / "trusted");
  write_tar({{t.path / "trusted", "model"}, {t.path / "trusted", "no/such"}}, t.path / "trusted.tar", false);
  EXPECT_EQ(read_archive(t.path / "trusted.tar")["m"], "m");
}

TEST(TarWriter, FifosAreLeftOutWithoutBlocking) {
  TempDir t;
  write_file(t.path / "model/m", "m");
  ASSERT_EQ(mkfifo((t.path / "model/fifo").c_str(), 0600), 0);
  write_tar({{t.path / "model"}}, t.path / "out.tar", false);
  auto got = read_archive(t.path / "out.tar");
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(got["m"], "m");
}

// The archive is written by root outside the tree, past any quota on it: what the tree costs on
// disk must bound what the archive costs.
std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

TEST(TarWriter, HardLinksAreStoredOnceAndExtractAsLinks) {
  TempDir t;
  const std::string data = random_bytes(1 << 20);  // incompressible
  write_file(t.path / "model/f000", data);
  for (int i = 1; i < 100; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "f%03d", i);
    fs::create_hard_link(t.path / "model/f000", t.path / "model" / name);
  }
  auto stats = write_tar({{t.path / "model"}}, t.path / "model.tar.gz", true);
  EXPECT_EQ(stats.files, 100u);
  EXPECT_EQ(stats.bytes, data.size());
  EXPECT_LT(fs::file_size(t.path / "model.tar.gz"), data.size() + 64 * 1024);  // not 100 MB

  // The later names are hard-link entries to the first, with no contents.
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  ASSERT_EQ(archive_read_open_filename(a, (t.path / "model.tar.gz").c_str(), 65536), ARCHIVE_OK);
  archive_entry* e;
  int links = 0;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    if (name == "f000") {
      EXPECT_EQ(archive_entry_hardlink(e), nullptr);
      EXPECT_EQ(archive_entry_size(e), static_cast<la_int64_t>(data.size()));
    } else {
      ASSERT_NE(archive_entry_hardlink(e), nullptr) << name;
      EXPECT_STREQ(archive_entry_hardlink(e), "f000") << name;
      EXPECT_EQ(archive_entry_size(e), 0) << name;
      ++links;
    }
  }
  archive_read_free(a);
  EXPECT_EQ(links, 99);

  // GNU tar extracts 100 identical files.
  fs::create_directories(t.path / "x");
  std::string cmd = "tar -xzf '" + (t.path / "model.tar.gz").string() + "' -C '" + (t.path / "x").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(t.path / "x")) {
    ++files;
    EXPECT_TRUE(entry.is_regular_file()) << entry.path();
    EXPECT_EQ(entry.hard_link_count(), 100u) << entry.path();
  }
  EXPECT_EQ(files, 100);
  EXPECT_TRUE(file_bytes(t.path / "x/f000") == data);
  EXPECT_TRUE(file_bytes(t.path / "x/f099") == data);
}

TEST(TarWriter, AHardLinkOnlyRefersToAnEntryTheArchiveHolds) {
  // h1's "a" and "m2" are one file, and so are "d/f" and "g"; h2 replaces "a" with another file
  // and hides "d/f" behind a file "d". h1's "m2" and "g" must then hold their own contents.
  TempDir t;
  write_file(t.path / "h1/a", "host 1 a");
  fs::create_hard_link(t.path / "h1/a", t.path / "h1/m2");
  write_file(t.path / "h1/d/f", "host 1 d/f");
  fs::create_hard_link(t.path / "h1/d/f", t.path / "h1/g");
  write_file(t.path / "h2/a", "host 2 a");
  write_file(t.path / "h2/d", "host 2 d");
  auto stats = write_tar({{t.path / "h1"}, {t.path / "h2"}}, t.path / "out.tar", false);
  EXPECT_EQ(stats.files, 4u);
  auto got = read_archive(t.path / "out.tar");
  std::map<std::string, std::string> want = {
      {"a", "host 2 a"}, {"d", "host 2 d"}, {"g", "host 1 d/f"}, {"m2", "host 1 a"}};
  EXPECT_TRUE(got == want) << "archive entries differ (" << got.size() << " entries)";
  fs::create_directories(t.path / "x");
  std::string cmd = "tar -xf '" + (t.path / "out.tar").string() + "' -C '" + (t.path / "x").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(file_bytes(t.path / "x/m2"), "host 1 a");
  EXPECT_EQ(file_bytes(t.path / "x/a"), "host 2 a");
  EXPECT_EQ(file_bytes(t.path / "x/g"), "host 1 d/f");
}

TEST(TarWriter, AHugeSparseFileIsRefusedByName) {
  TempDir t;
  write_file(t.path / "model/m", "m");
  write_file(t.path / "model/huge", "");
  // `truncate -s 10T` (1T where the file system allows no more): no blocks at all.
  if (::truncate((t.path / "model/huge").c_str(), off_t{10} << 40) != 0) {
    ASSERT_EQ(::truncate((t.path / "model/huge").c_str(), off_t{1} << 40), 0) << std::strerror(errno);
  }
  try {
    write_tar({{t.path / "model"}}, t.path / "model.tar.gz", true);
    FAIL() << "expected an error";
  } catch (const sluice::Error& e) {
    EXPECT_EQ(e.kind(), sluice::ErrorKind::kInvalidInput) << e.what();
    EXPECT_NE(std::string(e.what()).find((t.path / "model/huge").string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sparse"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t.path / "model.tar.gz"));
  EXPECT_FALSE(fs::exists(t.path / ".sluice-partial-model.tar.gz"));
}

TEST(TarWriter, ModeratelySparseFilesAreArchivedWhole) {
  // Within the rule (size <= 64 x allocated + 1 MiB): a 1 MiB file with no blocks, and one of
  // 8 MiB with 1 MiB written at its end. Their holes are archived as zeros.
  TempDir t;
  write_file(t.path / "model/empty-1m", "");
  ASSERT_EQ(::truncate((t.path / "model/empty-1m").c_str(), 1 << 20), 0);
  const std::string tail = random_bytes(1 << 20);
  {
    std::ofstream f(t.path / "model/tail", std::ios::binary);
    f.seekp(7 << 20);
    f << tail;
  }
  auto stats = write_tar({{t.path / "model"}}, t.path / "out.tar.gz", true);
  EXPECT_EQ(stats.bytes, (1u << 20) + (8u << 20));
  auto got = read_archive(t.path / "out.tar.gz");
  EXPECT_TRUE(got["empty-1m"] == std::string(1 << 20, '\0'));
  EXPECT_TRUE(got["tail"] == std::string(7 << 20, '\0') + tail);
}
