// core/beneath: no-follow file operations relative to a directory handle, on real directories
// with planted symbolic links (the tree a hostile training script writes; issue 12).
#include "core/beneath.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "support/temp_dir.hpp"

namespace sluice::beneath {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string read_fd(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Same file: same device and inode.
bool same_file(int fd, const std::string& path) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The tree every test starts from: <tree>/ with a file, a subdirectory, and a host directory
// outside it holding a "secret".
struct Tree {
  TempDir tmp{"sluice-beneath"};
  std::string tree = tmp / "tree";
  std::string host = tmp / "host";
  UniqueFd root;
  Tree() {
    write_file(tree + "/file", "in the tree");
    write_file(tree + "/sub/inner", "inner");
    write_file(host + "/secret", "SECRET");
    root = open_root(tree);
  }
};

// errno of a failed open_at (0 when it opened).
int open_errno(int dir, std::string_view rel, int flags = O_RDONLY, mode_t mode = 0) {
  errno = 0;
  int fd = open_at(dir, rel, flags, mode);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
  return errno;
}

TEST(Beneath, OpenAtOpensFilesAndDirectoriesBelowTheHandle) {
  Tree t;
  UniqueFd f(open_at(t.root.get(), "sub/inner", O_RDONLY));
  ASSERT_TRUE(f);
  EXPECT_EQ(read_fd(f.get()), "inner");
  EXPECT_TRUE(same_file(f.get(), t.tree + "/sub/inner"));
  UniqueFd d(open_at(t.root.get(), "sub", O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(d);
  EXPECT_TRUE(same_file(d.get(), t.tree + "/sub"));
  // Empty and "." components are nothing.
  UniqueFd g(open_at(t.root.get(), "./sub//inner/", O_RDONLY));
  ASSERT_TRUE(g);
  EXPECT_TRUE(same_file(g.get(), t.tree + "/sub/inner"));
  EXPECT_EQ(fcntl(f.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(Beneath, OpenAtOfEmptyOrDotIsTheDirectoryItself) {
  Tree t;
  for (const char* rel : {"", ".", "./", "./."}) {
    UniqueFd d(open_at(t.root.get(), rel, O_RDONLY | O_DIRECTORY));
    ASSERT_TRUE(d) << "'" << rel << "': " << std::strerror(errno);
    EXPECT_TRUE(same_file(d.get(), t.tree)) << rel;
  }
}

TEST(Beneath, OpenAtRefusesALinkAsTheLastComponent) {
  Tree t;
  fs::create_symlink(t.host + "/secret", t.tree + "/to-file");
  fs::create_symlink(t.host, t.tree + "/to-dir");
  fs::create_symlink("file", t.tree + "/to-sibling");  // even one that stays inside
  fs::create_symlink(t.host + "/none", t.tree + "/dangling");
  for (const char* rel : {"to-file", "to-sibling", "dangling", "./to-file"}) {
    EXPECT_EQ(open_errno(t.root.get(), rel), ELOOP) << rel;
  }
  EXPECT_EQ(open_errno(t.root.get(), "to-file", O_RDONLY | O_NOFOLLOW), ELOOP);
  EXPECT_EQ(open_errno(t.root.get(), "to-dir", O_RDONLY | O_DIRECTORY), ELOOP);
  EXPECT_EQ(open_errno(t.root.get(), "to-dir"), ELOOP);
  // Creating through a dangling link does not create its target.
  EXPECT_EQ(open_errno(t.root.get(), "dangling", O_WRONLY | O_CREAT, 0600), ELOOP);
  EXPECT_FALSE(fs::exists(t.host + "/none"));
}

TEST(Beneath, OpenAtRefusesALinkInAMiddleComponent) {
  Tree t;
  fs::create_symlink(t.host, t.tree + "/to-dir");
  fs::create_symlink("sub", t.tree + "/to-sub");  // inside the tree, still refused
  fs::create_directories(t.tree + "/a/b");
  fs::create_symlink(t.host, t.tree + "/a/b/deep");
  EXPECT_EQ(open_errno(t.root.get(), "to-dir/secret"), ELOOP);
  EXPECT_EQ(open_errno(t.root.get(), "to-sub/inner"), ELOOP);
  EXPECT_EQ(open_errno(t.root.get(), "a/b/deep/secret"), ELOOP);
  EXPECT_EQ(open_errno(t.root.get(), "to-dir/", O_RDONLY | O_DIRECTORY), ELOOP);
  EXPECT_EQ(open_errno(t.root.get(), "to-dir/new", O_WRONLY | O_CREAT | O_EXCL, 0600), ELOOP);
  EXPECT_FALSE(fs::exists(t.host + "/new"));
}

TEST(Beneath, OpenAtRefusesDotDotAndAbsolutePaths) {
  Tree t;
  for (const char* rel : {"..", "../host/secret", "sub/..", "sub/../file", "sub/../../host/secret", "/etc/passwd",
                          "/", t.host.c_str()}) {
    EXPECT_EQ(open_errno(t.root.get(), rel), EXDEV) << rel;
  }
  // A name that merely starts with dots is a name.
  write_file(t.tree + "/..hidden", "h");
  write_file(t.tree + "/...", "d");
  EXPECT_EQ(open_errno(t.root.get(), "..hidden"), 0);
  EXPECT_EQ(open_errno(t.root.get(), "..."), 0);
}

TEST(Beneath, OpenAtReportsAMissingFile) {
  Tree t;
  EXPECT_EQ(open_errno(t.root.get(), "nope"), ENOENT);
  EXPECT_EQ(open_errno(t.root.get(), "nope/deeper"), ENOENT);
  EXPECT_EQ(open_errno(t.root.get(), "file/deeper"), ENOTDIR);
}

TEST(Beneath, OpenAtCreatesWithTheModeGiven) {
  Tree t;
  UniqueFd f(open_at(t.root.get(), "sub/made", O_WRONLY | O_CREAT | O_EXCL, 0600));
  ASSERT_TRUE(f) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat((t.tree + "/sub/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Beneath, OpenOrThrowNamesThePathAndTheLink) {
  Tree t;
  fs::create_symlink(t.host, t.tree + "/to-dir");
  try {
    open_or_throw(t.root.get(), "to-dir/secret", O_RDONLY, 0, "reading", t.tree);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(t.tree + "/to-dir/secret"), std::string::npos) << what;
    EXPECT_NE(what.find("symbolic link"), std::string::npos) << what;
  }
  try {
    open_or_throw(t.root.get(), "missing", O_RDONLY, 0, "reading", t.tree);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_EQ(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
  UniqueFd ok = open_or_throw(t.root.get(), "file", O_RDONLY, 0, "reading", t.tree);
  EXPECT_EQ(read_fd(ok.get()), "in the tree");
}

TEST(Beneath, MakeDirsCreatesNestedDirectoriesAndReturnsTheLast) {
  Tree t;
  UniqueFd d = make_dirs(t.root.get(), "x/y/z", 0750, t.tree);
  ASSERT_TRUE(d);
  EXPECT_TRUE(fs::is_directory(t.tree + "/x/y/z"));
  EXPECT_TRUE(same_file(d.get(), t.tree + "/x/y/z"));
  struct stat st;
  ASSERT_EQ(::stat((t.tree + "/x/y").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0750u, 0u);  // at most the mode given (less the umask)
  // Relative to the handle returned.
  UniqueFd w = make_dirs(d.get(), "w", 0700, t.tree + "/x/y/z");
  EXPECT_TRUE(same_file(w.get(), t.tree + "/x/y/z/w"));
  // "" is the directory itself.
  UniqueFd self = make_dirs(t.root.get(), "", 0700, t.tree);
  EXPECT_TRUE(same_file(self.get(), t.tree));
}

TEST(Beneath, MakeDirsIsIdempotent) {
  Tree t;
  UniqueFd first = make_dirs(t.root.get(), "x/y", 0700, t.tree);
  write_file(t.tree + "/x/y/kept", "k");
  UniqueFd second = make_dirs(t.root.get(), "x/y", 0700, t.tree);
  UniqueFd existing = make_dirs(t.root.get(), "sub", 0700, t.tree);
  EXPECT_TRUE(same_file(second.get(), t.tree + "/x/y"));
  EXPECT_TRUE(same_file(existing.get(), t.tree + "/sub"));
  EXPECT_TRUE(fs::exists(t.tree + "/x/y/kept"));
  EXPECT_TRUE(fs::exists(t.tree + "/sub/inner"));
}

TEST(Beneath, MakeDirsRefusesALinkComponentAndCreatesNothingThroughIt) {
  Tree t;
  fs::create_symlink(t.host, t.tree + "/to-dir");
  fs::create_directories(t.tree + "/a");
  fs::create_symlink(t.host, t.tree + "/a/last");
  for (const char* rel : {"to-dir/made", "to-dir", "a/last", "a/last/made"}) {
    try {
      make_dirs(t.root.get(), rel, 0700, t.tree);
      FAIL() << rel << ": expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << rel << ": " << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(t.host + "/made"));
  EXPECT_TRUE(fs::is_symlink(t.tree + "/to-dir"));
}

TEST(Beneath, MakeDirsRefusesAFileComponentAndEscapes) {
  Tree t;
  for (const char* rel : {"file", "file/below", "sub/inner/below"}) {
    try {
      make_dirs(t.root.get(), rel, 0700, t.tree);
      FAIL() << rel << ": expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kNotFound) << rel << ": " << e.what();  // ENOTDIR
      EXPECT_EQ(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
    }
  }
  for (const char* rel : {"..", "../host/made", "sub/../../x", "/tmp/x"}) {
    EXPECT_THROW(make_dirs(t.root.get(), rel, 0700, t.tree), Error) << rel;
  }
  EXPECT_FALSE(fs::exists(t.host + "/made"));
  EXPECT_EQ(std::ifstream(t.tree + "/file").get(), 'i');  // still the file
}

// Every entry a walk reports, as "rel" plus a type letter: d, f, l (link), o (other).
std::vector<std::string> walked(int dir, const std::function<bool(const Entry&)>& skip = nullptr) {
  std::vector<std::string> out;
  walk(dir, "tree", [&](const Entry& e) {
    char type = S_ISDIR(e.st.st_mode) ? 'd' : S_ISREG(e.st.st_mode) ? 'f' : S_ISLNK(e.st.st_mode) ? 'l' : 'o';
    out.push_back(e.rel + " " + type);
    return !(skip && skip(e));
  });
  return out;
}

TEST(Beneath, WalkIsSortedParentsFirstAndReportsLinksWithoutFollowingThem) {
  Tree t;
  write_file(t.host + "/deeper/more", "MORE");
  fs::create_symlink(t.host, t.tree + "/a-link-to-host");
  fs::create_symlink(t.host + "/secret", t.tree + "/sub/secret-link");
  fs::create_symlink("inner", t.tree + "/sub/sibling");
  fs::create_directories(t.tree + "/sub/z-empty");
  write_file(t.tree + "/B", "upper case sorts first");
  ASSERT_EQ(::mkfifo((t.tree + "/fifo").c_str(), 0600), 0);
  std::vector<std::string> want = {"B f",
                                   "a-link-to-host l",
                                   "fifo o",
                                   "file f",
                                   "sub d",
                                   "sub/inner f",
                                   "sub/secret-link l",
                                   "sub/sibling l",
                                   "sub/z-empty d"};
  EXPECT_EQ(walked(t.root.get()), want);
  // The link's lstat is the link's, not its target's.
  walk(t.root.get(), "tree", [&](const Entry& e) {
    if (e.rel == "sub/secret-link") {
      EXPECT_EQ(static_cast<size_t>(e.st.st_size), (t.host + "/secret").size());
    }
    return true;
  });
}

TEST(Beneath, WalkSkipsADirectoryWhenTold) {
  Tree t;
  write_file(t.tree + "/sub/deeper/x", "x");
  write_file(t.tree + "/zz/y", "y");
  auto got = walked(t.root.get(), [](const Entry& e) { return e.rel == "sub"; });
  std::vector<std::string> want = {"file f", "sub d", "zz d", "zz/y f"};
  EXPECT_EQ(got, want);
}

TEST(Beneath, WalkOfASubdirectoryHandleIsRelativeToIt) {
  Tree t;
  UniqueFd sub(open_at(t.root.get(), "sub", O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(sub);
  EXPECT_EQ(walked(sub.get()), std::vector<std::string>{"inner f"});
  UniqueFd empty = make_dirs(t.root.get(), "empty", 0700, t.tree);
  EXPECT_TRUE(walked(empty.get()).empty());
}

TEST(Beneath, WalkNeverEntersADirectorySwappedForALink) {
  // The visitor swaps "sub" for a link to the host before the walk enters it: the walk opens it
  // with O_NOFOLLOW and skips it instead of listing the host's files.
  Tree t;
  std::vector<std::string> seen;
  walk(t.root.get(), "tree", [&](const Entry& e) {
    seen.push_back(e.rel);
    if (e.rel == "sub") {
      fs::rename(t.tree + "/sub", t.tmp / "moved-away");
      fs::create_symlink(t.host, t.tree + "/sub");
    }
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"file", "sub"}));
}

TEST(Beneath, FdPathReopensTheSameFileEvenAfterItsNameChanges) {
  Tree t;
  UniqueFd f(open_at(t.root.get(), "file", O_RDONLY));
  ASSERT_TRUE(f);
  EXPECT_EQ(fd_path(f.get()), "/proc/self/fd/" + std::to_string(f.get()));
  UniqueFd again(::open(fd_path(f.get()).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(again);
  EXPECT_TRUE(same_file(again.get(), t.tree + "/file"));
  EXPECT_EQ(read_fd(again.get()), "in the tree");
  // The name now a link to a host file: the path still reopens the file that was opened.
  fs::rename(t.tree + "/file", t.tmp / "file-moved");
  fs::create_symlink(t.host + "/secret", t.tree + "/file");
  UniqueFd third(::open(fd_path(f.get()).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(third);
  EXPECT_EQ(read_fd(third.get()), "in the tree");
  EXPECT_TRUE(same_file(third.get(), t.tmp / "file-moved"));
}

TEST(Beneath, OpenRootFollowsLinksButThrowsForAMissingDirectory) {
  Tree t;
  fs::create_symlink(t.tree, t.tmp / "root-link");
  UniqueFd r = open_root(t.tmp / "root-link");
  EXPECT_TRUE(same_file(r.get(), t.tree));
  EXPECT_THROW(open_root(t.tmp / "missing"), Error);
  EXPECT_THROW(open_root(t.tree + "/file"), Error);
}

}  // namespace
}  // namespace sluice::beneath
