// core/beneath: no-follow file operations relative to a directory handle, on real directories
// with planted symbolic links (the tree a hostile training script writes; issue 12).
#include "core/beneath.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

TEST(Beneath, WalkSkipsEntriesRemovedBeforeTheyAreStattedOrEntered) {
  // ENOENT is the one failure a walk passes over: the writer removed the entry meanwhile.
  Tree t;
  write_file(t.tree + "/a", "a");
  write_file(t.tree + "/b/x", "x");
  write_file(t.tree + "/c/y", "y");
  std::vector<std::string> seen;
  walk(t.root.get(), "tree", [&](const Entry& e) {
    seen.push_back(e.rel);
    if (e.rel == "a") fs::remove_all(t.tree + "/b");  // before it is statted
    if (e.rel == "c") fs::remove_all(t.tree + "/c");  // statted, removed before it is entered
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c", "file", "sub", "sub/inner"}));
}

// `levels` nested directories "d/d/.../d" below `top`, with a file "f" in the deepest.
void make_chain(const std::string& top, int levels) {
  fs::create_directories(top);
  UniqueFd at = open_root(top);  // one level at a time: paths this long are refused whole
  for (int i = 0; i < levels; ++i) {
    ASSERT_EQ(::mkdirat(at.get(), "d", 0755), 0) << std::strerror(errno);
    at.reset(::openat(at.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(at) << std::strerror(errno);
  }
  UniqueFd f(::openat(at.get(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(f);
}

TEST(Beneath, WalkEntersUpTo256LevelsAndRefusesDeeperTrees) {
  TempDir tmp("sluice-beneath-deep");
  make_chain(tmp / "ok", kMaxWalkDepth);
  UniqueFd ok = open_root(tmp / "ok");
  size_t count = 0;
  std::string deepest;
  walk(ok.get(), "ok", [&](const Entry& e) {
    ++count;
    deepest = e.rel;
    return true;
  });
  EXPECT_EQ(count, static_cast<size_t>(kMaxWalkDepth) + 1);  // 256 directories and the file
  EXPECT_EQ(std::count(deepest.begin(), deepest.end(), '/'), kMaxWalkDepth);
  EXPECT_TRUE(deepest.ends_with("/d/f")) << deepest;

  // One more level: an error naming the directory, not a tree that silently ends early.
  make_chain(tmp / "deep", kMaxWalkDepth + 1);
  UniqueFd deep = open_root(tmp / "deep");
  try {
    walk(deep.get(), "deep", [](const Entry&) { return true; });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
    std::string want = "deep";
    for (int i = 0; i <= kMaxWalkDepth; ++i) want += "/d";
    EXPECT_EQ(e.message(), want + " is more than 256 directories deep");
  }
  // A branch the visitor skips is not entered, so its depth does not matter.
  size_t seen = 0;
  walk(deep.get(), "deep", [&](const Entry& e) {
    ++seen;
    return std::count(e.rel.begin(), e.rel.end(), '/') < 10;
  });
  EXPECT_EQ(seen, 11u);

  // A 1000-level tree (which would exhaust a default 1024-descriptor limit) is refused the same way.
  make_chain(tmp / "huge", 1000);
  UniqueFd huge = open_root(tmp / "huge");
  EXPECT_THROW(walk(huge.get(), "huge", [](const Entry&) { return true; }), Error);
}

// Runs `child` in a forked process; returns its exit status (-1 if it did not exit) and what it
// wrote to the pipe it is given. For what must not touch the test process: a lower descriptor
// limit, another user id.
std::pair<int, std::string> in_child(const std::function<int(int out)>& child) {
  int p[2];
  if (::pipe(p) != 0) return {-1, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    int code = 99;
    try {
      code = child(p[1]);
    } catch (...) {
    }
    ::_exit(code);
  }
  ::close(p[1]);
  std::string out = read_fd(p[0]);
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void say(int out, const std::string& text) { (void)!::write(out, text.data(), text.size()); }

// The walk of `dir` in the child: 0 when it throws sluice::Error (its text written to `out`),
// 1 when it completes without one (the entries it saw written to `out`). `hook` sees each entry.
int walk_expecting_an_error(int dir, int out, const std::function<void(const Entry&)>& hook = nullptr) {
  std::string seen;
  try {
    walk(dir, "tree", [&](const Entry& e) {
      seen += e.rel + " ";
      if (hook) hook(e);
      return true;
    });
  } catch (const Error& e) {
    say(out, e.what());
    return 0;
  }
  say(out, "no error; saw: " + seen);
  return 1;
}

TEST(Beneath, WalkThrowsWhenDescriptorsRunOutInsteadOfDroppingTheSubtree) {
  // EMFILE, simulated in a forked child with a low RLIMIT_NOFILE whose free descriptors are all
  // taken but a few; when the walk reaches a/b, the visitor takes the rest, as the process's other
  // threads (uploads, downloads) may at any moment. Entering a/b then fails with EMFILE: the walk
  // must throw, not leave a/b out of an archive.
  Tree t;
  make_chain(t.tree + "/a/b", 3);  // a/b/d/d/d/f
  write_file(t.tree + "/z", "z");
  auto [code, out] = in_child([&](int pipe_out) {
    int highest = 0;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::stoi(e.path().filename().string()));
    }
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 2;
    rl.rlim_cur = static_cast<rlim_t>(highest) + 32;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return 2;
    std::vector<int> taken;
    auto take_all = [&] {
      for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) taken.push_back(fd);
      return errno == EMFILE;
    };
    if (!take_all() || taken.size() < 8) return 2;
    for (int i = 0; i < 8; ++i) {
      ::close(taken.back());
      taken.pop_back();
    }
    return walk_expecting_an_error(t.root.get(), pipe_out, [&](const Entry& e) {
      if (e.rel == "a/b") take_all();
    });
  });
  ASSERT_NE(code, 2) << "could not set up the descriptor limit";
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("entering the directory tree/a/b:"), std::string::npos) << out;
  EXPECT_NE(out.find(std::strerror(EMFILE)), std::string::npos) << out;
}

TEST(Beneath, WalkThrowsForADirectoryItCannotEnter) {
  // EACCES: root passes over permissions, so the child drops to the "nobody" user id; the tree
  // (opened before) is searchable by all, "locked" is mode 000.
  Tree t;
  write_file(t.tree + "/locked/x", "x");
  write_file(t.tree + "/z", "z");
  ASSERT_EQ(::chmod(t.tree.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((t.tree + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((t.tree + "/locked").c_str(), 0), 0);
  auto [code, out] = in_child([&](int pipe_out) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      return 2;
    }
    return walk_expecting_an_error(t.root.get(), pipe_out);
  });
  if (code == 2) GTEST_SKIP() << "cannot change to another user id here";
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("entering the directory tree/locked"), std::string::npos) << out;
  EXPECT_NE(out.find(std::strerror(EACCES)), std::string::npos) << out;
  ::chmod((t.tree + "/locked").c_str(), 0755);
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

TEST(Beneath, RemoveTreeRemovesLinksAsLinksAndNothingOutside) {
  TempDir tmp;
  const std::string root = (fs::path(tmp.path()) / "root").string();
  write_file(root + "/job/a/b/c.txt", "c");
  write_file(root + "/job/top.txt", "t");
  write_file(tmp.path() + "/outside/keep.txt", "keep");
  fs::create_directory_symlink(fs::path(tmp.path()) / "outside", root + "/job/a/dirlink");
  fs::create_symlink(fs::path(tmp.path()) / "outside/keep.txt", root + "/job/filelink");
  UniqueFd dir = open_root(root);
  remove_tree(dir.get(), "job/filelink", root);
  EXPECT_TRUE(fs::exists(fs::path(tmp.path()) / "outside/keep.txt"));
  remove_tree(dir.get(), "job", root);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/job")));
  EXPECT_TRUE(fs::exists(fs::path(tmp.path()) / "outside/keep.txt"));
  remove_tree(dir.get(), "job", root);  // nothing there: fine
  remove_tree(dir.get(), "missing/deeper", root);
  // The way to the entry is not followed either.
  fs::create_directory_symlink(fs::path(tmp.path()) / "outside", root + "/via");
  EXPECT_THROW(remove_tree(dir.get(), "via/keep.txt", root), Error);
  EXPECT_TRUE(fs::exists(fs::path(tmp.path()) / "outside/keep.txt"));
  EXPECT_THROW(remove_tree(dir.get(), "..", root), Error);
  EXPECT_THROW(remove_tree(dir.get(), "", root), Error);
}

}  // namespace
}  // namespace sluice::beneath
