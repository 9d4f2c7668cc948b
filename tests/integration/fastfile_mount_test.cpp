// The FastFile mount (modes/fastfile/mount.hpp) as programs see it: real FUSE mounts, read with
// plain system calls. Most tests serve a local directory through store::FileStore, so the mount
// logic is tested without the network; one serves a bucket of the real store (ctest's local_s3
// fixture). Every test unmounts in all cases (the Mounted guard), kills its children, and runs
// under a watchdog; if the watchdog fires, the abort handler detaches the mounts still listed.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "../support/watchdog.hpp"
#include "modes/fastfile/mount.hpp"
#include "modes/fastfile/mountinfo.hpp"
#include "modes/fastfile/namespace.hpp"
#include "modes/fastfile/reader.hpp"
#include "store/file_store.hpp"
#include "support.hpp"

namespace sluice::itest {
namespace {

namespace ff = sluice::modes::fastfile;
using namespace std::chrono_literals;
using sluice::testing::Watchdog;

constexpr uint64_t kMiB = 1ull << 20;
constexpr auto kTestLimit = std::chrono::seconds(240);

// True when something is mounted exactly at `path` (per /proc/self/mountinfo).
bool is_mount_point(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mp;
    f >> id >> parent >> devno >> root >> mp;
    if (mp == path) return true;
  }
  return false;
}

// ------------------------------------------------------------------------------------------------
// Last resort: mounts still live when the program aborts (watchdog) are detached by the handler.

constexpr size_t kMaxLive = 16;
std::array<std::array<char, 512>, kMaxLive> g_live{};
std::array<std::atomic<bool>, kMaxLive> g_live_used{};

void abort_handler(int sig) {
  for (size_t i = 0; i < kMaxLive; ++i) {
    if (g_live_used[i].load()) ::umount2(g_live[i].data(), MNT_FORCE | MNT_DETACH);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

[[maybe_unused]] const bool g_handler_installed = [] {
  struct sigaction sa {};
  sa.sa_handler = abort_handler;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGABRT, &sa, nullptr);
  return true;
}();

class LiveMount {
 public:
  explicit LiveMount(const std::string& path) : path_(path) {
    for (size_t i = 0; i < kMaxLive; ++i) {
      bool expected = false;
      if (path.size() < g_live[i].size() && !g_live_used[i].load()) {
        std::memcpy(g_live[i].data(), path.c_str(), path.size() + 1);
        if (g_live_used[i].compare_exchange_strong(expected, true)) {
          slot_ = static_cast<int>(i);
          return;
        }
      }
    }
  }
  // Whatever happened, nothing stays mounted at the path.
  ~LiveMount() {
    if (is_mount_point(path_)) {
      ADD_FAILURE() << path_ << " is still mounted at the end of the test; detaching it";
      ::umount2(path_.c_str(), MNT_FORCE | MNT_DETACH);
    }
    if (slot_ >= 0) g_live_used[static_cast<size_t>(slot_)].store(false);
  }
  LiveMount(const LiveMount&) = delete;
  LiveMount& operator=(const LiveMount&) = delete;

 private:
  std::string path_;
  int slot_ = -1;
};

// ------------------------------------------------------------------------------------------------
// Helpers

// The line of /proc/self/mountinfo for `path`, "" when none.
std::string mountinfo_line(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, found;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mp;
    f >> id >> parent >> devno >> root >> mp;
    if (mp == path) found = line;
  }
  return found;
}

std::vector<ff::Entry> entries_of(store::ObjectStore& s) {
  std::vector<ff::Entry> out;
  for (const auto& o : store::list_all(s, "")) out.push_back(ff::Entry{o.key, o.key, o.size, o.etag, o.mtime_epoch_ns});
  return out;
}

std::string pread_all(int fd, uint64_t off, size_t len) {
  std::string out(len, '\0');
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, out.data() + got, len - got, static_cast<off_t>(off + got));
    if (n < 0) throw std::runtime_error(std::string("pread: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

// Names in a directory in readdir order, without "." and "..".
std::vector<std::string> readdir_names(const std::string& dir, bool* saw_dots = nullptr) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw std::runtime_error("opendir " + dir + ": " + std::strerror(errno));
  int dots = 0;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") {
      ++dots;
      continue;
    }
    out.push_back(n);
  }
  ::closedir(d);
  if (saw_dots != nullptr) *saw_dots = dots == 2;
  return out;
}

int errno_of(int rc) { return rc < 0 ? errno : 0; }


// A source tree: files written under a temporary directory, served by a FileStore.
struct SourceTree {
  TempDir dir{"sluice-ff-src"};
  std::map<std::string, std::string> files;  // relative path -> content
  void add(const std::string& rel, std::string content) {
    write_file(dir / rel, content);
    files[rel] = std::move(content);
  }
  std::map<std::string, FileFacts> facts() const {
    std::map<std::string, FileFacts> out;
    for (const auto& [rel, content] : files) {
      Digest d(Digest::Algo::kSha256);
      d.update(content);
      out[rel] = FileFacts{content.size(), d.finish_hex()};
    }
    return out;
  }
};

// A mount of a store's objects at a fresh empty directory. Unmounts (and, if that fails,
// detaches) when destroyed; the Mount goes before the Reader and the Namespace.
class Mounted {
 public:
  Mounted(store::ObjectStore& s, const std::function<void(ff::MountOptions&)>& tweak = {},
          const std::function<void(ff::ReaderOptions&)>& tweak_reader = {})
      : ns_(ff::Namespace::build(entries_of(s))), parent_("sluice-ff-mnt"), mp_(parent_ / "mnt"), live_(mp_) {
    fs::create_directory(mp_);
    ff::MountOptions o;
    o.mountpoint = mp_;
    o.source = "sluice-test:" + s.describe();
    if (tweak) tweak(o);
    ff::ReaderOptions ro;
    ro.kernel_page_cache = !o.direct_io;  // as fastfile::Channel sets it
    if (tweak_reader) tweak_reader(ro);
    reader_ = std::make_unique<ff::Reader>(ns_, s, ro);
    mount_ = std::make_unique<ff::Mount>(ns_, *reader_, o);
  }
  ~Mounted() {
    try {
      mount_.reset();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unmount threw: " << e.what();
    }
    if (is_mount_point(mp_)) {
      ADD_FAILURE() << mp_ << " is still mounted after the Mount was destroyed; detaching it";
      ::umount2(mp_.c_str(), MNT_FORCE | MNT_DETACH);
    }
    reader_.reset();
  }
  Mounted(const Mounted&) = delete;
  Mounted& operator=(const Mounted&) = delete;

  const std::string& path() const { return mp_; }
  std::string operator/(const std::string& rel) const { return mp_ + "/" + rel; }
  ff::Mount& mount() { return *mount_; }
  const ff::Namespace& ns() const { return ns_; }
  ff::Reader& reader() { return *reader_; }

 private:
  ff::Namespace ns_;
  TempDir parent_;
  std::string mp_;
  LiveMount live_;
  std::unique_ptr<ff::Reader> reader_;
  std::unique_ptr<ff::Mount> mount_;
};

// A tree with files of the sizes that matter (0, around a page, around a block, several blocks)
// at several depths.
void fill_nested_tree(SourceTree& t) {
  const std::vector<std::pair<std::string, size_t>> files = {
      {"empty.bin", 0},
      {"one.bin", 1},
      {"page-1.bin", 4095},
      {"page.bin", 4096},
      {"a/block-1.bin", kMiB - 1},
      {"a/block.bin", kMiB},
      {"a/block+1.bin", kMiB + 1},
      {"a/b/c/deep.bin", 3 * kMiB + 17},
      {"a/b/c/d/e/f/deeper.txt", 123},
      {"a/b/sibling.bin", 200 * 1000},
      {"train/part-0000.rec", 2 * kMiB + 4096},
      {"train/part-0001.rec", 700 * 1000},
      {"train/part-0002.rec", 5 * kMiB + 3},
      {"val/x.rec", 64 * 1024},
  };
  uint64_t seed = 1;
  for (const auto& [path, size] : files) t.add(path, random_bytes(size, seed++));
  for (int i = 0; i < 40; ++i) t.add(fmt::format("many/f{:03}.bin", i), random_bytes(1000 + i * 997, seed++));
}

// ------------------------------------------------------------------------------------------------
// Reading

TEST(FastFileMount, ServesANestedTreeByteForByte) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  fill_nested_tree(t);
  store::FileStore s(t.dir.path());
  Mounted m(s);

  EXPECT_EQ(snapshot_tree(m.path()), t.facts());

  // Many readers at once, each over every file in its own order, in odd-sized chunks.
  std::vector<std::string> paths;
  for (const auto& [rel, _] : t.files) paths.push_back(rel);
  parallel_for(8, 8, [&](size_t r) {
    std::vector<std::string> order = paths;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(r));
    for (const auto& rel : order) {
      int fd = ::open((m / rel).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open " + rel + ": " + std::strerror(errno));
      const std::string& want = t.files.at(rel);
      std::string got;
      const size_t chunk = 1000 + r * 77777;
      for (uint64_t off = 0;; off += chunk) {
        std::string part = pread_all(fd, off, chunk);
        got += part;
        if (part.size() < chunk) break;
      }
      ::close(fd);
      if (got != want) throw std::runtime_error("reader " + std::to_string(r) + " read wrong bytes from " + rel);
    }
  });

  // mmap goes through the same read path.
  {
    const std::string rel = "a/b/c/deep.bin";
    int fd = ::open((m / rel).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    size_t len = t.files.at(rel).size();
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
    ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
    EXPECT_TRUE(std::memcmp(p, t.files.at(rel).data(), len) == 0);
    ::munmap(p, len);
    ::close(fd);
  }
}

TEST(FastFileMount, DirectIoServesTheSameBytes) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  fill_nested_tree(t);
  store::FileStore s(t.dir.path());
  Mounted m(s, [](ff::MountOptions& o) { o.direct_io = true; });
  EXPECT_EQ(snapshot_tree(m.path()), t.facts());
  // Read twice: with direct I/O nothing is served from the page cache, the reader sees both.
  EXPECT_EQ(snapshot_tree(m.path()), t.facts());
  uint64_t total = 0;
  for (const auto& [_, c] : t.files) total += c.size();
  EXPECT_GE(m.reader().stats().bytes_served, 2 * total);
}

// Reads every file of `paths` through the mount once, in an order shuffled by `seed`, and checks
// its bytes.
void shuffled_pass(const Mounted& m, const SourceTree& t, const std::vector<std::string>& paths, uint64_t seed) {
  std::vector<std::string> order = paths;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  for (const auto& rel : order) ASSERT_EQ(read_file(m / rel), t.files.at(rel)) << rel;
}

// Has the kernel drop the pages it holds of `path`.
void drop_pages(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
}

// `reads` reached the reader in passes the page cache should have served: the kernel dropped
// pages on its own, and the attempt proves nothing. Whether another attempt (on a new mount) may
// be made.
bool another_attempt(int attempt, uint64_t reads) {
  constexpr int kAttempts = 5;
  std::fprintf(stderr, "attempt %d: %llu reads reached the reader after the first pass (pages dropped)%s\n", attempt,
               static_cast<unsigned long long>(reads), attempt < kAttempts ? "; again" : "");
  return attempt < kAttempts;
}

// The kernel keeps the pages of files it has read (keep_cache): of three shuffled passes over 300
// small files on one mount, the second and third send no GET at all (no head fetched on open, no
// sweep ahead), and a file whose pages were dropped is fetched again, exact.
// The kernel may drop pages at any time, and some machines take page cache back on their own (a
// DAMON pageout scheme, as on this project's VMs): a dropped file is read again and that read
// reaches the reader, which then fetches it, and enough such misses turn the guess off
// (kernel_cache.hpp). So an attempt in which a read reached the reader proves nothing either way
// and is made again on a new mount; an attempt in which none did must have sent no GET. Without
// the mark each of the 600 opens fetches its file's head.
TEST(FastFileMount, ASecondPassIsServedByThePageCacheWithoutAGet) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  for (int i = 0; i < 300; ++i) t.add(fmt::format("train/s{:04}.bin", i), random_bytes(10 * 1024, 500 + i));
  store::FileStore s(t.dir.path());
  std::vector<std::string> paths;
  for (const auto& [rel, _] : t.files) paths.push_back(rel);
  for (int attempt = 1;; ++attempt) {
    SCOPED_TRACE(fmt::format("attempt {}", attempt));
    // The reader's own memory holds a tenth of the files: what it does not fetch, the kernel served.
    Mounted m(s, {}, [](ff::ReaderOptions& o) { o.max_memory = 300 * 1024; });
    shuffled_pass(m, t, paths, 1);
    if (HasFatalFailure()) return;
    const ff::ReaderStats first = m.reader().stats();
    EXPECT_GE(first.requests, paths.size());
    shuffled_pass(m, t, paths, 2);
    shuffled_pass(m, t, paths, 3);
    if (HasFatalFailure()) return;
    const ff::ReaderStats later = m.reader().stats();
    const uint64_t gets = later.requests - first.requests, reads = later.reads - first.reads;
    if (reads > 0) {
      ASSERT_TRUE(another_attempt(attempt, reads)) << "the page cache dropped files in every attempt";
      continue;
    }
    EXPECT_EQ(gets, 0u) << "GETs in passes the page cache served";

    // Drop one file's pages: the next read reaches the reader, which serves it exact.
    const std::string rel = paths[123];
    drop_pages(m / rel);
    if (HasFatalFailure()) return;
    EXPECT_EQ(read_file(m / rel), t.files.at(rel));
    EXPECT_GE(m.reader().stats().bytes_served - later.bytes_served, t.files.at(rel).size()) << "the dropped file's read reached the reader";
    return;
  }
}

// Once the page cache has served a whole tree's opens in a row, the mount answers the next open
// ENOSYS and the kernel opens files without asking (FUSE's no-open mode): the fourth pass sends no
// open and no GET. A file the kernel drops later is read through one handle, opened by its first
// read, and files never read (val/, read-ahead sized) are served exact too. Attempts as above.
TEST(FastFileMount, ACachedTreeIsOpenedByTheKernelWithoutAsking) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  for (int i = 0; i < 300; ++i) t.add(fmt::format("train/s{:04}.bin", i), random_bytes(10 * 1024, 900 + i));
  for (int i = 0; i < 5; ++i) t.add(fmt::format("val/v{}.bin", i), random_bytes(3 * 1024 * 1024 + 7, 1900 + i));
  store::FileStore s(t.dir.path());
  std::vector<std::string> train;
  for (const auto& [rel, _] : t.files) {
    if (rel.rfind("train/", 0) == 0) train.push_back(rel);
  }
  for (int attempt = 1;; ++attempt) {
    SCOPED_TRACE(fmt::format("attempt {}", attempt));
    Mounted m(s, {}, [](ff::ReaderOptions& o) { o.max_memory = 300 * 1024; });
    shuffled_pass(m, t, train, 1);
    if (HasFatalFailure()) return;
    const ff::ReaderStats first = m.reader().stats();
    shuffled_pass(m, t, train, 2);  // 300 opens the page cache serves: one short of the tree (305 files)
    shuffled_pass(m, t, train, 3);  // the sixth open is answered ENOSYS: from then on the kernel opens alone
    if (HasFatalFailure()) return;
    const ff::ReaderStats third = m.reader().stats();
    shuffled_pass(m, t, train, 4);
    if (HasFatalFailure()) return;
    const ff::ReaderStats fourth = m.reader().stats();
    if (fourth.reads > first.reads) {
      ASSERT_TRUE(another_attempt(attempt, fourth.reads - first.reads)) << "the page cache dropped files in every attempt";
      continue;
    }
    EXPECT_LT(third.opens - first.opens, 2 * train.size()) << "the kernel kept asking to open in the third pass";
    EXPECT_EQ(fourth.opens, third.opens) << "opens in the fourth pass reached the reader";
    EXPECT_EQ(fourth.requests, first.requests);

    // The kernel drops a file: its next read comes with no handle, and is served exact.
    const std::string& rel = train[17];
    drop_pages(m / rel);
    if (HasFatalFailure()) return;
    EXPECT_EQ(read_file(m / rel), t.files.at(rel));
    EXPECT_EQ(m.reader().stats().opens, fourth.opens + 1) << "one handle, opened by its first read";
    // Files never read before, large enough for read-ahead.
    for (int i = 0; i < 5; ++i) {
      const std::string v = fmt::format("val/v{}.bin", i);
      EXPECT_EQ(read_file(m / v), t.files.at(v)) << v;
    }
    return;
  }
}

TEST(FastFileMount, EmptyFileAndReadsAtAndPastTheEnd) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("empty", "");
  t.add("data", random_bytes(3 * kMiB + 5, 7));
  store::FileStore s(t.dir.path());
  Mounted m(s);

  struct stat st;
  ASSERT_EQ(::stat((m / "empty").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_blocks, 0);
  EXPECT_EQ(read_file(m / "empty"), "");

  int fd = ::open((m / "data").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const std::string& want = t.files.at("data");
  const uint64_t size = want.size();
  EXPECT_EQ(pread_all(fd, size, 4096), "");                    // at the end
  EXPECT_EQ(pread_all(fd, size + 1, 4096), "");                // past it
  EXPECT_EQ(pread_all(fd, size + 10 * kMiB, kMiB), "");        // far past it
  EXPECT_EQ(pread_all(fd, size - 5, 4096), want.substr(size - 5));  // across it
  EXPECT_EQ(pread_all(fd, kMiB - 3, 6), want.substr(kMiB - 3, 6));  // across a block boundary
  char c;
  ASSERT_EQ(::lseek(fd, 0, SEEK_END), static_cast<off_t>(size));
  EXPECT_EQ(::read(fd, &c, 1), 0);
  ::close(fd);
}

TEST(FastFileMount, AChangedObjectIsAnIoErrorNotMixedBytes) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("stable", random_bytes(kMiB + 10, 1));
  t.add("changes", random_bytes(2 * kMiB, 2));
  store::FileStore s(t.dir.path());
  Mounted m(s);

  // Rewritten after the listing: its ETag no longer matches, every read of it must fail.
  write_file(t.dir / "changes", random_bytes(2 * kMiB, 3));
  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (t.dir / "changes").c_str(), times, 0), 0);

  int fd = ::open((m / "changes").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  char buf[4096];
  errno = 0;
  EXPECT_EQ(::pread(fd, buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EIO);
  ::close(fd);
  // The rest of the mount still works.
  EXPECT_EQ(read_file(m / "stable"), t.files.at("stable"));
}

// ------------------------------------------------------------------------------------------------
// Metadata

TEST(FastFileMount, StatAndReaddirComeFromTheNamespace) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  // Names whose byte order differs from a locale's: upper case < '_' < lower case < UTF-8.
  for (const char* name : {"zeta", "Alpha", "_under", "alpha.txt", "\xC3\xA9t\xC3\xA9", "0num", "beta"}) {
    t.add(std::string("top/") + name, std::string(name) + " content");
  }
  t.add("top/alpha/inner.bin", random_bytes(5000, 9));
  t.add("top/alpha/sub/x", "x");
  t.add("top/dir2/y", "y");
  store::FileStore s(t.dir.path());
  Mounted m(s, [](ff::MountOptions& o) {
    o.uid = 1234;
    o.gid = 5678;
  });

  bool dots = false;
  std::vector<std::string> names = readdir_names(m / "top", &dots);
  EXPECT_TRUE(dots) << "readdir returns . and ..";
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());  // std::string compares bytes (as unsigned char)
  EXPECT_EQ(names, sorted);
  EXPECT_EQ(names, (std::vector<std::string>{"0num", "Alpha", "_under", "alpha", "alpha.txt", "beta", "dir2", "zeta",
                                             "\xC3\xA9t\xC3\xA9"}));
  EXPECT_EQ(readdir_names(m.path()), (std::vector<std::string>{"top"}));

  // Files.
  const ff::Node* node = m.ns().lookup(m.ns().lookup(ff::kRootIno, "top")->ino, "alpha.txt");
  ASSERT_NE(node, nullptr);
  struct stat st;
  ASSERT_EQ(::stat((m / "top/alpha.txt").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(t.files.at("top/alpha.txt").size()));
  EXPECT_EQ(st.st_blocks, static_cast<blkcnt_t>((st.st_size + 511) / 512));
  EXPECT_EQ(st.st_blksize, static_cast<blksize_t>(kMiB));
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_ino, node->ino);
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  EXPECT_EQ(mtime_ns, m.ns().entry(*node).mtime_ns);
  struct stat src_st;
  ASSERT_EQ(::stat((t.dir / "top/alpha.txt").c_str(), &src_st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, src_st.st_mtim.tv_sec);
  EXPECT_EQ(st.st_mtim.tv_nsec, src_st.st_mtim.tv_nsec);

  // Directories: 0555, nlink 2 + subdirectories.
  ASSERT_EQ(::stat((m / "top").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(st.st_nlink, 4u);  // alpha, dir2
  EXPECT_EQ(st.st_uid, 1234u);
  ASSERT_EQ(::stat((m / "top/alpha").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 3u);  // sub
  ASSERT_EQ(::stat(m.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, ff::kRootIno);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(st.st_nlink, 3u);  // top

  // access(): readable, never writable, files not executable.
  EXPECT_EQ(::access((m / "top/beta").c_str(), R_OK), 0);
  EXPECT_EQ(errno_of(::access((m / "top/beta").c_str(), W_OK)), EROFS);
  EXPECT_EQ(errno_of(::access((m / "top/beta").c_str(), X_OK)), EACCES);
  EXPECT_EQ(::access((m / "top/alpha").c_str(), R_OK | X_OK), 0);

  // Extended attributes: none, and asking is not an error storm.
  char buf[256];
  EXPECT_EQ(::getxattr((m / "top/beta").c_str(), "user.x", buf, sizeof buf), -1);
  EXPECT_TRUE(errno == ENOTSUP || errno == ENODATA) << std::strerror(errno);
  ssize_t n = ::listxattr((m / "top/beta").c_str(), buf, sizeof buf);
  EXPECT_TRUE(n == 0 || (n == -1 && errno == ENOTSUP)) << n << " " << std::strerror(errno);
  EXPECT_EQ(errno_of(static_cast<int>(::readlink((m / "top/beta").c_str(), buf, sizeof buf))), EINVAL);
}

TEST(FastFileMount, RecursiveWalkMatchesTheNamespace) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  fill_nested_tree(t);
  t.add("a.txt", "sorts after the directory a/ in a walk, before it in key order");
  store::FileStore s(t.dir.path());
  Mounted m(s);

  // Files, in the order a readdir-driven walk (find, tar, os.walk) meets them.
  std::vector<std::string> walked_files;
  std::set<std::string> walked_dirs;
  for (auto it = fs::recursive_directory_iterator(m.path()); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), m.path()).string();
    if (it->is_directory()) {
      walked_dirs.insert(rel);
    } else {
      EXPECT_TRUE(it->is_regular_file()) << rel;
      walked_files.push_back(rel);
      EXPECT_EQ(it->file_size(), t.files.at(rel).size()) << rel;
    }
  }
  std::vector<std::string> ns_files;
  for (size_t i = 0; i < m.ns().file_count(); ++i) ns_files.push_back(m.ns().entry(m.ns().file_at(i)).path);
  EXPECT_EQ(walked_files, ns_files);

  std::set<std::string> want_dirs;
  for (const auto& [rel, _] : t.files) {
    for (fs::path p = fs::path(rel).parent_path(); !p.empty(); p = p.parent_path()) want_dirs.insert(p.string());
  }
  EXPECT_EQ(walked_dirs, want_dirs);
  EXPECT_EQ(walked_files.size() + walked_dirs.size() + 1, m.ns().node_count());
}

TEST(FastFileMount, MissingNamesAndDirectories) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("d/file", "content");
  store::FileStore s(t.dir.path());
  Mounted m(s);

  struct stat st;
  for (int i = 0; i < 2; ++i) {  // the second answer may come from the kernel's negative cache
    EXPECT_EQ(errno_of(::stat((m / "d/missing").c_str(), &st)), ENOENT);
    EXPECT_EQ(errno_of(::open((m / "missing").c_str(), O_RDONLY)), ENOENT);
  }
  EXPECT_EQ(errno_of(::stat((m / "d/file/below").c_str(), &st)), ENOTDIR);

  // A directory opens for reading (for readdir); reading it as a file is EISDIR.
  int fd = ::open((m / "d").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  char buf[16];
  EXPECT_EQ(errno_of(static_cast<int>(::read(fd, buf, sizeof buf))), EISDIR);
  ::close(fd);
  EXPECT_EQ(errno_of(::open((m / "d").c_str(), O_WRONLY)), EISDIR);
  EXPECT_EQ(errno_of(::open((m / "d/file").c_str(), O_RDONLY | O_DIRECTORY)), ENOTDIR);
}

TEST(FastFileMount, RefusesEveryWriteWithEROFS) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("d/file", "content");
  t.add("d/other", "other");
  t.add("e/x", "x");
  store::FileStore s(t.dir.path());
  Mounted m(s);

  const std::string file = m / "d/file";
  EXPECT_EQ(errno_of(::open(file.c_str(), O_WRONLY)), EROFS);
  EXPECT_EQ(errno_of(::open(file.c_str(), O_RDWR)), EROFS);
  EXPECT_EQ(errno_of(::open(file.c_str(), O_RDONLY | O_TRUNC)), EROFS);
  EXPECT_EQ(errno_of(::open((m / "d/new").c_str(), O_WRONLY | O_CREAT, 0644)), EROFS);
  EXPECT_EQ(errno_of(::creat((m / "new").c_str(), 0644)), EROFS);
  EXPECT_EQ(errno_of(::mkdir((m / "newdir").c_str(), 0755)), EROFS);
  EXPECT_EQ(errno_of(::unlink(file.c_str())), EROFS);
  EXPECT_EQ(errno_of(::rmdir((m / "e").c_str())), EROFS);
  EXPECT_EQ(errno_of(::rename(file.c_str(), (m / "d/renamed").c_str())), EROFS);
  EXPECT_EQ(errno_of(::rename(file.c_str(), (m / "d/other").c_str())), EROFS);
  EXPECT_EQ(errno_of(::symlink("d/file", (m / "link").c_str())), EROFS);
  EXPECT_EQ(errno_of(::link(file.c_str(), (m / "d/hard").c_str())), EROFS);
  EXPECT_EQ(errno_of(::mknod((m / "fifo").c_str(), S_IFIFO | 0644, 0)), EROFS);
  EXPECT_EQ(errno_of(::truncate(file.c_str(), 0)), EROFS);
  EXPECT_EQ(errno_of(::chmod(file.c_str(), 0644)), EROFS);
  EXPECT_EQ(errno_of(::chown(file.c_str(), 1, 1)), EROFS);
  EXPECT_EQ(errno_of(::utimensat(AT_FDCWD, file.c_str(), nullptr, 0)), EROFS);
  EXPECT_EQ(errno_of(::setxattr(file.c_str(), "user.x", "1", 1, 0)), EROFS);

  // Nothing changed, in the mount or in the source.
  EXPECT_EQ(read_file(file), "content");
  EXPECT_EQ(readdir_names(m / "d"), (std::vector<std::string>{"file", "other"}));
  EXPECT_EQ(readdir_names(m.path()), (std::vector<std::string>{"d", "e"}));
  EXPECT_EQ(snapshot_tree(t.dir.path()), t.facts());
}

TEST(FastFileMount, StatfsAndTheMountTable) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("a", random_bytes(3 * kMiB + 1, 1));
  t.add("b/c", random_bytes(100, 2));
  store::FileStore s(t.dir.path());
  Mounted m(s, [](ff::MountOptions& o) { o.source = "s3://bucket/pre,fix"; });  // ',' separates options

  struct statvfs v;
  ASSERT_EQ(::statvfs(m.path().c_str(), &v), 0) << std::strerror(errno);
  EXPECT_EQ(v.f_bsize, kMiB);
  EXPECT_EQ(v.f_frsize, kMiB);
  EXPECT_EQ(v.f_blocks, 4u);  // 3 MiB + 101 bytes, rounded up
  EXPECT_EQ(v.f_bfree, 0u);
  EXPECT_EQ(v.f_bavail, 0u);
  EXPECT_EQ(v.f_files, m.ns().node_count());
  EXPECT_EQ(v.f_files, 4u);  // root, a, b, b/c
  EXPECT_EQ(v.f_namemax, 255u);
  EXPECT_TRUE(v.f_flag & ST_RDONLY);

  std::string line = mountinfo_line(m.path());
  ASSERT_FALSE(line.empty());
  EXPECT_TRUE(contains(line, " - fuse.sluice s3://bucket/pre,fix ")) << line;
  EXPECT_TRUE(contains(line, " ro,")) << line;
  EXPECT_TRUE(contains(line, "default_permissions")) << line;
  EXPECT_TRUE(contains(line, "allow_other")) << line;
  EXPECT_TRUE(contains(line, "max_read=1048576")) << line;

  // The kernel read-ahead of the mount was raised to read_ahead_kb.
  struct stat st;
  ASSERT_EQ(::stat(m.path().c_str(), &st), 0);
  auto entry = ff::find_mount(m.path());
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->dev, st.st_dev) << "the mount table's MAJ:MIN is the mount's st_dev (what the mount uses)";
  std::string bdi = fmt::format("/sys/class/bdi/{}:{}/read_ahead_kb", major(st.st_dev), minor(st.st_dev));
  if (fs::exists(bdi)) {
    EXPECT_EQ(std::stoul(read_file(bdi)), 1024u) << bdi;
  }
}

// ------------------------------------------------------------------------------------------------
// Lifecycle

TEST(FastFileMount, UnmountLeavesAnEmptyDirectoryAndCanMountAgain) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", "hello");
  store::FileStore s(t.dir.path());
  auto ns = ff::Namespace::build(entries_of(s));
  ff::Reader reader(ns, s, ff::ReaderOptions{});
  TempDir parent("sluice-ff-mnt");
  const std::string mp = parent / "mnt";
  fs::create_directory(mp);
  LiveMount live(mp);
  ff::MountOptions o;
  o.mountpoint = mp;

  for (int round = 0; round < 2; ++round) {
    ff::Mount mount(ns, reader, o);
    EXPECT_EQ(mount.mountpoint(), fs::path(mp));
    EXPECT_TRUE(is_mount_point(mp));
    EXPECT_EQ(read_file(mp + "/f"), "hello");
    mount.unmount();
    EXPECT_FALSE(is_mount_point(mp));
    mount.unmount();  // idempotent
    mount.wait();     // returns at once: the loop has ended
    struct stat st;
    ASSERT_EQ(::stat(mp.c_str(), &st), 0) << std::strerror(errno);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_TRUE(readdir_names(mp).empty());
  }
}

TEST(FastFileMount, UnmountFromOutsideEndsWait) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", "hello");
  store::FileStore s(t.dir.path());
  Mounted m(s);
  EXPECT_EQ(read_file(m / "f"), "hello");

  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    m.mount().wait();
    returned = true;
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(returned.load()) << "wait() returned while mounted";

  Child um({"/usr/bin/fusermount3", "-u", m.path()}, child_env({}));
  ProcResult r = um.wait(30s);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  for (int i = 0; i < 1000 && !returned; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(returned.load()) << "wait() did not return within 10 s of fusermount3 -u";
  if (!returned) ::umount2(m.path().c_str(), MNT_FORCE | MNT_DETACH);  // let the waiter go
  waiter.join();
  EXPECT_FALSE(is_mount_point(m.path()));
  m.mount().unmount();  // after an outside unmount: nothing left to do, no error
  EXPECT_TRUE(readdir_names(m.path()).empty());
}

TEST(FastFileMount, UnmountWithOpenFilesDetachesAndStops) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", random_bytes(2 * kMiB, 5));
  t.add("d/g", "g");
  store::FileStore s(t.dir.path());
  Mounted m(s);

  int fd = ::open((m / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(pread_all(fd, 0, 10), t.files.at("f").substr(0, 10));
  int dfd = ::open((m / "d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dfd, 0) << std::strerror(errno);

  auto start = std::chrono::steady_clock::now();
  m.mount().unmount();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_FALSE(is_mount_point(m.path()));
  EXPECT_TRUE(readdir_names(m.path()).empty());
  m.mount().wait();

  // What stayed open is cut off (not served by a daemon that has stopped): the uncached part
  // of the file fails.
  char buf[4096];
  errno = 0;
  ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(kMiB + 12345));
  EXPECT_EQ(n, -1);
  EXPECT_TRUE(errno == ENOTCONN || errno == EIO || errno == ECONNABORTED) << std::strerror(errno);
  ::close(fd);
  ::close(dfd);
}

TEST(FastFileMount, UnmountAfterALazyUnmountFromOutsideWithOpenFiles) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", random_bytes(2 * kMiB, 6));
  store::FileStore s(t.dir.path());
  Mounted m(s);

  int fd = ::open((m / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(pread_all(fd, 0, 10), t.files.at("f").substr(0, 10));

  // `umount -l`: the path is free at once, the open file keeps the connection (and the loop) alive.
  Child um({"/usr/bin/umount", "-l", m.path()}, child_env({}));
  ProcResult r = um.wait(30s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_FALSE(is_mount_point(m.path()));
  EXPECT_EQ(pread_all(fd, kMiB, 10), t.files.at("f").substr(kMiB, 10)) << "still served while open";

  // unmount() does not wait for the file to be closed: it ends the connection.
  auto start = std::chrono::steady_clock::now();
  m.mount().unmount();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  m.mount().wait();
  char buf[4096];
  errno = 0;
  EXPECT_EQ(::pread(fd, buf, sizeof buf, static_cast<off_t>(2 * kMiB - 4096)), -1);
  EXPECT_TRUE(errno == ENOTCONN || errno == EIO || errno == ECONNABORTED) << std::strerror(errno);
  ::close(fd);
}

TEST(FastFileMount, UnmountPathRefusesBusyMountsAndNonMounts) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", "hello");
  store::FileStore s(t.dir.path());
  Mounted m(s);

  // Not a mount point (an ordinary directory), and not a FUSE mount.
  TempDir plain("sluice-ff-plain");
  auto e = error_of([&] { ff::unmount_path(plain.path()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(contains(e->message(), plain.path())) << e->what();
  EXPECT_TRUE(contains(e->message(), "is not a mount point")) << e->what();
  e = error_of([&] { ff::unmount_path("/proc"); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(is_mount_point("/proc"));

  // Busy while a file is open: refused, and the mount keeps working.
  int fd = ::open((m / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  e = error_of([&] { ff::unmount_path(m.path()); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kConflict);
  EXPECT_TRUE(contains(e->message(), "busy")) << e->what();
  EXPECT_TRUE(contains(e->message(), "umount -l")) << e->what();
  EXPECT_TRUE(is_mount_point(m.path()));
  EXPECT_EQ(pread_all(fd, 0, 5), "hello");
  ::close(fd);

  // Idle: unmounted, and the Mount's wait() returns.
  ff::unmount_path(m.path());
  EXPECT_FALSE(is_mount_point(m.path()));
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    m.mount().wait();
    returned = true;
  });
  for (int i = 0; i < 1000 && !returned; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(returned.load());
  if (!returned) ::umount2(m.path().c_str(), MNT_FORCE | MNT_DETACH);
  waiter.join();
}

TEST(FastFileMount, RefusesBadMountpoints) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", "hello");
  store::FileStore s(t.dir.path());
  auto ns = ff::Namespace::build(entries_of(s));
  ff::Reader reader(ns, s, ff::ReaderOptions{});
  TempDir parent("sluice-ff-mnt");

  auto mount_at = [&](const std::string& mp) {
    ff::MountOptions o;
    o.mountpoint = mp;
    return error_of([&] {
      LiveMount live(mp);
      ff::Mount mount(ns, reader, o);
    });
  };

  auto e = mount_at(parent / "missing");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(contains(e->message(), parent / "missing")) << e->what();
  EXPECT_TRUE(contains(e->message(), "does not exist")) << e->what();

  write_file(parent / "a-file", "x");
  e = mount_at(parent / "a-file");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(contains(e->message(), "is not a directory")) << e->what();

  write_file(parent / "full/something", "x");
  e = mount_at(parent / "full");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(contains(e->message(), parent / "full")) << e->what();
  EXPECT_TRUE(contains(e->message(), "is not empty")) << e->what();
  EXPECT_TRUE(contains(e->cause(), "something")) << e->what();
  EXPECT_FALSE(is_mount_point(parent / "full"));
  EXPECT_EQ(read_file(parent / "full/something"), "x");
}

// The child half of CleansAStaleMountLeftByAKilledProcess: runs only in the child that test
// spawns (the environment names what to mount), mounts, and waits to be killed.
TEST(FastFileMountChild, MountsAndWaitsToBeKilled) {
  const char* mp = std::getenv("SLUICE_FF_CHILD_MOUNT");
  const char* src = std::getenv("SLUICE_FF_CHILD_SRC");
  if (mp == nullptr || src == nullptr) GTEST_SKIP() << "only run as the child of the stale-mount test";
  store::FileStore s(src);
  auto ns = ff::Namespace::build(entries_of(s));
  ff::Reader reader(ns, s, ff::ReaderOptions{});
  ff::MountOptions o;
  o.mountpoint = mp;
  ff::Mount mount(ns, reader, o);
  std::printf("mounted\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(120s);  // the parent kills us long before
  mount.unmount();
}

TEST(FastFileMount, CleansAStaleMountLeftByAKilledProcess) {
  Watchdog watchdog(kTestLimit);
  SourceTree t;
  t.add("f", "hello");
  t.add("d/g", "g");
  TempDir parent("sluice-ff-mnt");
  const std::string mp = parent / "mnt";
  fs::create_directory(mp);
  LiveMount live(mp);
  EXPECT_FALSE(ff::clean_stale_mount(mp)) << "an ordinary directory is not a stale mount";

  // A child process mounts `mp` and is killed: its mount stays behind, served by nobody.
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  auto leave_stale_mount = [&] {
    Child child({self, "--gtest_filter=FastFileMountChild.MountsAndWaitsToBeKilled"},
                child_env({{"SLUICE_FF_CHILD_MOUNT", mp}, {"SLUICE_FF_CHILD_SRC", t.dir.path()}}));
    bool mounted = false;
    for (int i = 0; i < 3000 && !mounted && child.running(); ++i) {
      mounted = is_mount_point(mp);
      if (!mounted) std::this_thread::sleep_for(10ms);
    }
    if (!mounted) {
      child.kill9();
      ADD_FAILURE() << "the child did not mount " << mp << ": " << child.wait(10s).describe();
      return false;
    }
    EXPECT_EQ(read_file(mp + "/f"), "hello");
    child.kill9();
    ProcResult r = child.wait(30s);
    EXPECT_EQ(r.term_signal, SIGKILL) << r.describe();
    // Whatever asks the daemon fails now (a stat of what was looked up before may still be
    // answered from the kernel's attribute cache).
    struct stat st;
    struct statvfs v;
    EXPECT_TRUE(is_mount_point(mp));
    EXPECT_EQ(errno_of(::statvfs(mp.c_str(), &v)), ENOTCONN);
    EXPECT_EQ(errno_of(::stat((mp + "/d/g").c_str(), &st)), ENOTCONN);  // never looked up
    return true;
  };

  // clean_stale_mount detaches it.
  ASSERT_TRUE(leave_stale_mount());
  EXPECT_TRUE(ff::clean_stale_mount(mp));
  EXPECT_FALSE(is_mount_point(mp));
  EXPECT_FALSE(ff::clean_stale_mount(mp));
  struct stat st;
  struct statvfs v;
  ASSERT_EQ(::stat(mp.c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(readdir_names(mp).empty());

  ASSERT_TRUE(leave_stale_mount());
  // A new Mount at the same place cleans it up first and serves.
  store::FileStore s(t.dir.path());
  auto ns = ff::Namespace::build(entries_of(s));
  ff::Reader reader(ns, s, ff::ReaderOptions{});
  ff::MountOptions o;
  o.mountpoint = mp;
  {
    ff::Mount mount(ns, reader, o);
    ASSERT_EQ(::stat(mp.c_str(), &st), 0) << std::strerror(errno);
    ASSERT_EQ(::statvfs(mp.c_str(), &v), 0) << std::strerror(errno);
    EXPECT_EQ(read_file(mp + "/d/g"), "g");
  }
  EXPECT_FALSE(is_mount_point(mp));
  ASSERT_EQ(::stat(mp.c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(readdir_names(mp).empty());
}

// ------------------------------------------------------------------------------------------------
// Over the real store

TEST(FastFileMountS3, ServesABucketByteForByte) {
  Watchdog watchdog(kTestLimit);
  TestBucket b("ffmount");
  std::vector<std::pair<std::string, std::string>> objects;
  std::map<std::string, FileFacts> want;
  const std::vector<size_t> sizes = {0, 1, 4096, kMiB - 1, kMiB, kMiB + 1, 5 * kMiB + 77, 300 * 1000};
  for (size_t i = 0; i < 24; ++i) {
    std::string key = fmt::format("data/{}/part-{:04}.bin", i % 3 == 0 ? "train" : "val/deep", i);
    std::string content = random_bytes(sizes[i % sizes.size()] + i, 100 + i);
    Digest d(Digest::Algo::kSha256);
    d.update(content);
    want[key] = FileFacts{content.size(), d.finish_hex()};
    objects.emplace_back(key, std::move(content));
  }
  put_many(b.store(), objects);

  Mounted m(b.store(), [&](ff::MountOptions& o) { o.source = b.uri(); });
  EXPECT_EQ(snapshot_tree(m.path()), want);
  std::string line = mountinfo_line(m.path());
  EXPECT_TRUE(contains(line, " - fuse.sluice " + b.uri() + " ")) << line;
  auto stats = m.reader().stats();
  EXPECT_GT(stats.requests, 0u);
  EXPECT_EQ(stats.errors, 0u);
}

}  // namespace
}  // namespace sluice::itest
