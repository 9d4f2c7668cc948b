// transfer::download over an in-memory store: MD5 verification (through the multi-buffer
// verifier), ranged parts, and nothing left under a final name when a check fails; a destination
// the training code can write (issue 12): no symbolic link followed below the root or at a final
// or partial name, items outside the root refused, and the record of complete files.
#include "transfer/download.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "core/hash.hpp"
#include "store/memory_store.hpp"
#include "transfer/engine.hpp"

namespace fs = std::filesystem;
using namespace sluice;

namespace {

// store::MemoryStore delivering in 50,000-byte chunks (a part arrives in several sink calls) and
// ignoring If-Match, so that a wrong ETag reaches the MD5 check.
struct MemoryStore : store::MemoryStore {
  MemoryStore() : store::MemoryStore("memory", 50'000) {}
  void get(const store::GetRequest& r, store::DataSink sink, store::Completion done) override {
    store::GetRequest unpinned = r;
    unpinned.if_match.clear();
    store::MemoryStore::get(unpinned, std::move(sink), std::move(done));
  }
  void set(const std::string& key, const std::string& data) { put(key, store::Body::from_string(data)); }
  std::string bytes(const std::string& key) const { return contents(key).value_or("<missing>"); }
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sluice-dl-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string md5_hex(const std::string& data) {
  Digest d(Digest::Algo::kMd5);
  d.update(data);
  return d.finish_hex();
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(Download, VerifiesMd5OfSingleAndMultiPartObjects) {
  MemoryStore store;
  std::mt19937 rng(7);
  std::vector<transfer::DownloadItem> items;
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    std::string data(static_cast<size_t>(i * 70'001 % 900'000), '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    std::string key = "k" + std::to_string(i);
    store.set(key, data);
    items.push_back({{key, data.size(), md5_hex(data), 0}, (dir.path / "sub" / key).string()});
  }
  transfer::Engine engine(store, {8});
  transfer::DownloadOptions opts;
  opts.part_size = 100'000;  // most objects in several parts
  auto result = transfer::download(engine, items, opts);
  ASSERT_TRUE(result.failures.empty()) << result.failures.front().what();
  EXPECT_EQ(result.files, 20u);
  for (const auto& item : items) EXPECT_EQ(read(item.path), store.bytes(item.object.key)) << item.path;
}

TEST(Download, WrongMd5IsDataLossAndLeavesNothing) {
  MemoryStore store;
  TempDir dir;
  store.set("good", std::string(300'000, 'g'));
  store.set("bad", std::string(300'000, 'b'));
  std::vector<transfer::DownloadItem> items = {
      {{"good", 300'000, md5_hex(store.bytes("good")), 0}, (dir.path / "good").string()},
      {{"bad", 300'000, md5_hex("something else"), 0}, (dir.path / "bad").string()},
  };
  transfer::Engine engine(store, {4});
  transfer::DownloadOptions opts;
  opts.part_size = 64 * 1024;
  auto result = transfer::download(engine, items, opts);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures.front().kind(), ErrorKind::kDataLoss);
  EXPECT_NE(std::string(result.failures.front().what()).find("MD5"), std::string::npos);
  EXPECT_EQ(read(dir.path / "good"), store.bytes("good"));
  EXPECT_FALSE(fs::exists(dir.path / "bad"));
  EXPECT_FALSE(fs::exists(transfer::partial_path((dir.path / "bad").string())));
}

TEST(Download, NoVerifyMd5AcceptsWhatArrives) {
  MemoryStore store;
  TempDir dir;
  store.set("x", "hello");
  std::vector<transfer::DownloadItem> items = {{{"x", 5, md5_hex("other"), 0}, (dir.path / "x").string()}};
  transfer::Engine engine(store, {2});
  transfer::DownloadOptions opts;
  opts.verify_md5 = false;
  auto result = transfer::download(engine, items, opts);
  EXPECT_TRUE(result.failures.empty());
  EXPECT_EQ(read(dir.path / "x"), "hello");
}

// ------------------------------------------------------------------------------------------------
// A destination someone hostile can write (issue 12): links are never followed, and with a record
// a rerun skips only files it can prove unchanged.

namespace {

// An item for `key` holding `data` (the store gets the bytes; the ETag is their MD5; mtime 0, as
// the job runner passes).
transfer::DownloadItem put_item(MemoryStore& store, const std::string& key, const std::string& data,
                                const fs::path& path) {
  store.set(key, data);
  return {{key, data.size(), md5_hex(data), 0}, path.string()};
}

transfer::DownloadResult run_download(MemoryStore& store, const std::vector<transfer::DownloadItem>& items,
                                      const transfer::DownloadOptions& opts) {
  transfer::Engine engine(store, {4});
  return transfer::download(engine, items, opts);
}

bool is_link(const fs::path& p) { return fs::is_symlink(fs::symlink_status(p)); }

bool empty_dir(const fs::path& p) { return fs::is_directory(p) && fs::is_empty(p); }

std::string all_failures(const transfer::DownloadResult& r) {
  std::string out;
  for (const auto& e : r.failures) out += std::string(e.what()) + "\n";
  return out;
}

// A tree `root` that the training code writes, and a host directory beside it that it must not reach.
struct HostileTree {
  MemoryStore store;
  TempDir dir;
  const fs::path root = dir.path / "ml", host = dir.path / "host";
  HostileTree() {
    fs::create_directories(root);
    fs::create_directories(host);
  }
  transfer::DownloadOptions options(bool with_root) const {
    transfer::DownloadOptions opts;
    if (with_root) opts.root = root.string();
    return opts;
  }
};

}  // namespace

TEST(DownloadBeneathRoot, SymlinkedDirectoryFailsThatFileAndWritesNothingThroughIt) {
  HostileTree t;
  auto& [store, dir, root, host] = t;
  fs::create_directories(root / "input/data/train");
  fs::create_directory_symlink(host, root / "input/data/train/sub");  // what run 1's code left
  std::vector<transfer::DownloadItem> items = {
      put_item(store, "t/sub/a", "tenant a", root / "input/data/train/sub/a"),
      put_item(store, "t/sub/deeper/b", "tenant b", root / "input/data/train/sub/deeper/b"),
      put_item(store, "t/ok", "fine", root / "input/data/train/ok"),
  };
  auto result = run_download(store, items, t.options(true));
  ASSERT_EQ(result.failures.size(), 2u) << all_failures(result);
  for (const auto& e : result.failures) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
    std::string what = e.what();
    EXPECT_NE(what.find("symbolic link is in the way"), std::string::npos) << what;
    EXPECT_NE(what.find((root / "input/data/train/sub").string()), std::string::npos) << what;
  }
  EXPECT_TRUE(empty_dir(host)) << "bytes were written through the link";
  EXPECT_TRUE(is_link(root / "input/data/train/sub"));
  EXPECT_EQ(read(root / "input/data/train/ok"), "fine");
  EXPECT_EQ(result.files, 1u);
}

TEST(DownloadBeneathRoot, SymlinkAtTheFinalNameIsReplacedAndItsTargetNeverWritten) {
  for (bool with_root : {true, false}) {
    SCOPED_TRACE(with_root ? "with root" : "without root (cp to a file name)");
    HostileTree t;
    auto& [store, dir, root, host] = t;
    std::ofstream(host / "target") << "host file";  // as long as the object: a followed stat would skip
    fs::create_symlink(host / "target", root / "f");
    std::vector<transfer::DownloadItem> items = {put_item(store, "f", "tenant!!!", root / "f")};
    auto result = run_download(store, items, t.options(with_root));
    ASSERT_TRUE(result.failures.empty()) << all_failures(result);
    EXPECT_EQ(result.files, 1u);
    EXPECT_FALSE(is_link(root / "f"));
    EXPECT_EQ(read(root / "f"), "tenant!!!");
    EXPECT_EQ(read(host / "target"), "host file");
  }
}

TEST(DownloadBeneathRoot, StalePartialThatIsASymlinkIsNotFollowed) {
  for (bool with_root : {true, false}) {
    SCOPED_TRACE(with_root ? "with root" : "without root");
    HostileTree t;
    auto& [store, dir, root, host] = t;
    fs::create_directories(root / "d");
    std::ofstream(host / "victim") << "host file";
    fs::create_symlink(host / "victim", transfer::partial_path((root / "d/f").string()));
    fs::create_symlink(host / "created", transfer::partial_path((root / "d/g").string()));  // dangling
    std::vector<transfer::DownloadItem> items = {
        put_item(store, "f", std::string(200'000, 'f'), root / "d/f"),
        put_item(store, "g", "tenant g", root / "d/g"),
    };
    transfer::DownloadOptions opts = t.options(with_root);
    opts.part_size = 64 * 1024;
    auto result = run_download(store, items, opts);
    ASSERT_TRUE(result.failures.empty()) << all_failures(result);
    EXPECT_EQ(read(host / "victim"), "host file");
    EXPECT_FALSE(fs::exists(fs::symlink_status(host / "created"))) << "O_CREAT went through the dangling link";
    EXPECT_EQ(read(root / "d/f"), store.bytes("f"));
    EXPECT_EQ(read(root / "d/g"), "tenant g");
    EXPECT_FALSE(fs::exists(fs::symlink_status(transfer::partial_path((root / "d/f").string()))));
    EXPECT_FALSE(fs::exists(fs::symlink_status(transfer::partial_path((root / "d/g").string()))));
  }
}

TEST(DownloadBeneathRoot, ItemOutsideTheRootFailsNamingIt) {
  MemoryStore store;
  TempDir dir;
  const fs::path root = dir.path / "ml";
  fs::create_directories(root);
  const std::string outside[] = {
      (dir.path / "other/x").string(),   // beside the root
      (root / "../escape").string(),     // leaves it by ".."
      (dir.path / "mlx/y").string(),     // a sibling whose name starts like the root
      root.string(),                     // the root itself is not a file below it
      (root / "dir/").string(),          // names no file
  };
  std::vector<transfer::DownloadItem> items;
  for (const auto& path : outside) items.push_back(put_item(store, "k" + std::to_string(items.size()), "out", path));
  items.push_back(put_item(store, "in", "inside", root / "a/in"));
  transfer::DownloadOptions opts;
  opts.root = root.string() + "/";  // a trailing slash changes nothing
  auto result = run_download(store, items, opts);
  ASSERT_EQ(result.failures.size(), std::size(outside)) << all_failures(result);
  for (size_t i = 0; i < std::size(outside); ++i) {
    EXPECT_EQ(result.failures[i].kind(), ErrorKind::kInvalidInput) << result.failures[i].what();
    EXPECT_NE(std::string(result.failures[i].what()).find(outside[i]), std::string::npos) << result.failures[i].what();
  }
  EXPECT_FALSE(fs::exists(dir.path / "other"));
  EXPECT_FALSE(fs::exists(dir.path / "escape"));
  EXPECT_FALSE(fs::exists(dir.path / "mlx"));
  EXPECT_FALSE(fs::exists(root / "dir"));
  EXPECT_EQ(read(root / "a/in"), "inside");
  EXPECT_EQ(result.files, 1u);
}

TEST(DownloadBeneathRoot, ManyDirectoriesAndARerunThatSkips) {
  // More directories than the handle cache keeps, visited twice in turn: evicted handles are
  // reopened, none is closed while a file in it is being written.
  MemoryStore store;
  TempDir dir;
  const fs::path root = dir.path / "ml";
  std::vector<transfer::DownloadItem> items;
  const int dirs = static_cast<int>(transfer::kDirCache) * 2 + 3;
  for (int round = 0; round < 2; ++round) {
    for (int d = 0; d < dirs; ++d) {
      std::string rel = "d" + std::to_string(d) + "/sub/f" + std::to_string(round);
      items.push_back(put_item(store, rel, "bytes of " + rel, root / rel));
    }
  }
  transfer::DownloadOptions opts;
  opts.root = root.string();  // created, as cp does for a new destination
  auto result = run_download(store, items, opts);
  ASSERT_TRUE(result.failures.empty()) << all_failures(result);
  EXPECT_EQ(result.files, items.size());
  for (const auto& item : items) EXPECT_EQ(read(item.path), store.bytes(item.object.key)) << item.path;
  auto again = run_download(store, items, opts);
  EXPECT_TRUE(again.failures.empty()) << all_failures(again);
  EXPECT_EQ(again.skipped_files, items.size());
}

// A destination below `root` with a record beside it (outside the tree, as the job runner puts it).
class DownloadRecord : public ::testing::Test {
 protected:
  DownloadRecord() {
    opts.root = root.string();
    opts.record = record.string();
  }
  MemoryStore store;
  TempDir dir;
  const fs::path root = dir.path / "ml", record = dir.path / "record.tsv";
  transfer::DownloadOptions opts;
};

TEST_F(DownloadRecord, RefetchesWhatChangedAndSkipsOnlyWhatIsProvenUnchanged) {
  std::vector<transfer::DownloadItem> items = {
      put_item(store, "changed", "version 1", root / "changed"),
      put_item(store, "modified", "original!", root / "sub/modified"),
      put_item(store, "same", "unchanged", root / "sub/same"),
      put_item(store, "odd\tkey\\with\nescapes", "escaped", root / "odd\tname\\x\nnl"),
  };
  auto first = run_download(store, items, opts);
  ASSERT_TRUE(first.failures.empty()) << all_failures(first);
  EXPECT_EQ(first.files, 4u);
  ASSERT_TRUE(fs::exists(record));
  EXPECT_FALSE(fs::exists(record.string() + ".tmp"));

  // A new version of one object at the same size (new ETag), ...
  items[0] = put_item(store, "changed", "version 2", root / "changed");
  // ... and a file changed in place by the training code, same size, its mtime put back.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later ctime even on a coarse clock
  const std::string modified = (root / "sub/modified").string();
  struct stat before;
  ASSERT_EQ(::stat(modified.c_str(), &before), 0);
  { std::fstream(modified, std::ios::in | std::ios::out | std::ios::binary) << "FORGED!!!"; }
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, modified.c_str(), times, 0), 0);
  struct stat after;
  ASSERT_EQ(::stat(modified.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);

  // Without the record, size and mtime say both are complete; with it, both are fetched again.
  transfer::DownloadOptions no_record = opts;
  no_record.record.clear();
  auto blind = run_download(store, items, no_record);
  EXPECT_EQ(blind.skipped_files, 4u);
  auto second = run_download(store, items, opts);
  ASSERT_TRUE(second.failures.empty()) << all_failures(second);
  EXPECT_EQ(second.files, 2u);
  EXPECT_EQ(second.skipped_files, 2u);
  EXPECT_EQ(read(root / "changed"), "version 2");
  EXPECT_EQ(read(root / "sub/modified"), "original!");
  EXPECT_EQ(read(root / "sub/same"), "unchanged");

  // Everything is recorded again: a third run skips it all.
  auto third = run_download(store, items, opts);
  ASSERT_TRUE(third.failures.empty()) << all_failures(third);
  EXPECT_EQ(third.files, 0u);
  EXPECT_EQ(third.skipped_files, 4u);
}

TEST_F(DownloadRecord, CorruptOrUnreadableRecordRefetchesEverything) {
  std::vector<transfer::DownloadItem> items = {
      put_item(store, "a", "aaa", root / "a"),
      put_item(store, "b", "bbb", root / "x/b"),
  };
  ASSERT_TRUE(run_download(store, items, opts).failures.empty());
  const std::string good = read(record);
  ASSERT_FALSE(good.empty());
  ASSERT_EQ(good.back(), '\n');

  const std::string corrupt[] = {
      "garbage\n",
      "",                                             // empty: not even the header
      good + "extra\tfields\n",                       // a line of the wrong shape
      "sluice-download-record\t2\n" + good.substr(good.find('\n') + 1),  // another version
      std::string("\0\xff\t\t\t\t\t\t\n", 9),
  };
  for (const auto& text : corrupt) {
    SCOPED_TRACE(text);
    std::ofstream(record, std::ios::binary | std::ios::trunc) << text;
    auto r = run_download(store, items, opts);
    ASSERT_TRUE(r.failures.empty()) << all_failures(r);
    EXPECT_EQ(r.files, 2u);
    EXPECT_EQ(r.skipped_files, 0u);
    // ... and the record is whole again: the next run skips everything.
    auto again = run_download(store, items, opts);
    EXPECT_EQ(again.skipped_files, 2u);
  }
  // A record that is a directory cannot be read (nor replaced): every file is fetched, no crash.
  fs::remove(record);
  fs::create_directories(record);
  auto r = run_download(store, items, opts);
  ASSERT_TRUE(r.failures.empty()) << all_failures(r);
  EXPECT_EQ(r.files, 2u);
}

TEST_F(DownloadRecord, IsAJournalThatSurvivesAnInterruptedRun) {
  // What a run killed midway leaves: each complete file appended as it completed (a path may come
  // twice: the later entry wins), the last entry possibly cut short (that file only is fetched
  // again).
  std::vector<transfer::DownloadItem> items = {
      put_item(store, "a", "aaa", root / "a"),
      put_item(store, "b", "bbb", root / "x/b"),
  };
  ASSERT_TRUE(run_download(store, items, opts).failures.empty());
  const std::string good = read(record);
  const std::string header = good.substr(0, good.find('\n') + 1);
  const std::string first = good.substr(header.size(), good.find('\n', header.size()) + 1 - header.size());
  const std::string second = good.substr(header.size() + first.size());
  ASSERT_FALSE(second.empty());
  // Both entries twice: still both complete.
  std::ofstream(record, std::ios::binary | std::ios::trunc) << header << first << second << first << second;
  EXPECT_EQ(run_download(store, items, opts).skipped_files, 2u);
  // The second entry cut short: only that file is fetched again.
  std::ofstream(record, std::ios::binary | std::ios::trunc) << header << first << second.substr(0, second.size() / 2);
  auto r = run_download(store, items, opts);
  EXPECT_EQ(r.skipped_files, 1u);
  EXPECT_EQ(r.files, 1u);
  // A header alone cut short is corrupt: everything is fetched.
  std::ofstream(record, std::ios::binary | std::ios::trunc) << header.substr(0, 5);
  EXPECT_EQ(run_download(store, items, opts).files, 2u);
  // (That a kill -9 midway keeps the files completed before it: e2e crash_resume_test case 2.)
}

TEST_F(DownloadRecord, FailedFilesAreNotRecordedAndOtherPathsAreKept) {
  // Two calls sharing one record (the runner downloads channel by channel).
  std::vector<transfer::DownloadItem> train = {put_item(store, "t", "train", root / "train/t")};
  std::vector<transfer::DownloadItem> test = {put_item(store, "v", "test", root / "test/v"),
                                              {{"bad", 4, md5_hex("else"), 0}, (root / "test/broken-file").string()}};
  store.set("bad", "oops");
  ASSERT_TRUE(run_download(store, train, opts).failures.empty());
  auto r = run_download(store, test, opts);
  ASSERT_EQ(r.failures.size(), 1u) << all_failures(r);
  EXPECT_EQ(r.failures.front().kind(), ErrorKind::kDataLoss);
  const std::string text = read(record);
  EXPECT_NE(text.find((root / "train/t").string()), std::string::npos) << text;
  EXPECT_NE(text.find((root / "test/v").string()), std::string::npos) << text;
  EXPECT_EQ(text.find("broken-file"), std::string::npos) << text;
  EXPECT_EQ(run_download(store, train, opts).skipped_files, 1u);
  auto again = run_download(store, test, opts);
  EXPECT_EQ(again.skipped_files, 1u);
  EXPECT_EQ(again.failures.size(), 1u);
}

TEST(Download, RemoveOthersLeavesOnlyWhatTheItemsPutThere) {
  TempDir dir;
  const fs::path root = dir.path / "algo-1";
  const fs::path ch = root / "input/data/train";
  for (const char* rel : {"keep/a.bin", "b.bin", "old.bin", "gone/x.bin", "keep/stale.bin"}) {
    fs::create_directories((ch / rel).parent_path());
    std::ofstream(ch / rel) << "x";
  }
  std::vector<transfer::DownloadItem> items = {{{"a", 1, "", 0}, (ch / "keep/a.bin").string()},
                                                {{"b", 1, "", 0}, (ch / "b.bin").string()},
                                                {{"c", 1, "", 0}, (ch / "new/c.bin").string()}};
  std::ofstream(transfer::partial_path((ch / "b.bin").string())) << "part";  // an interrupted download of b: kept
  fs::create_directories(dir.path / "outside");
  std::ofstream(dir.path / "outside/secret") << "s";
  fs::create_directory_symlink(dir.path / "outside", ch / "link");
  EXPECT_EQ(transfer::remove_others(root.string(), ch.string(), items), 4u);  // old.bin, gone/, keep/stale.bin, link
  EXPECT_TRUE(fs::exists(ch / "keep/a.bin"));
  EXPECT_TRUE(fs::exists(ch / "b.bin"));
  EXPECT_TRUE(fs::exists(transfer::partial_path((ch / "b.bin").string())));
  for (const char* gone : {"old.bin", "gone", "keep/stale.bin", "link"}) EXPECT_FALSE(fs::exists(fs::symlink_status(ch / gone))) << gone;
  EXPECT_TRUE(fs::exists(dir.path / "outside/secret"));
  EXPECT_EQ(transfer::remove_others(root.string(), (root / "input/data/none").string(), items), 0u);
}

TEST(Download, WithoutRootCreatesDirectoriesAndSkipsBySizeAndMtime) {
  // cp-like use: no root, no record: directories are made by path, a rerun skips by size and mtime.
  MemoryStore store;
  TempDir dir;
  const int64_t mtime = 1'600'000'000'123'456'789;
  store.set("k", "data");
  std::vector<transfer::DownloadItem> items = {{{"k", 4, md5_hex("data"), mtime}, (dir.path / "a/b/k").string()}};
  auto first = run_download(store, items, {});
  ASSERT_TRUE(first.failures.empty()) << all_failures(first);
  struct stat st;
  ASSERT_EQ(::stat(items[0].path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, mtime);
  EXPECT_EQ(run_download(store, items, {}).skipped_files, 1u);
  items[0].object.mtime_epoch_ns = mtime + 1;  // a newer object of the same size
  EXPECT_EQ(run_download(store, items, {}).files, 1u);
}
