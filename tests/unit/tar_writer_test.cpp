// formats::write_tar: real archives read back with libarchive.
#include "formats/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

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
