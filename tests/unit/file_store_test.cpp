// FileStore: a local directory as a bucket, with ListObjectsV2 semantics (byte order, prefix,
// delimiter, continuation), ranged and conditional reads, atomic puts, multipart and removal.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "core/error.hpp"
#include "store/file_store.hpp"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

using sluice::testing::TempDir;

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << content;
  ASSERT_TRUE(f.good()) << path;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

Error error_of(const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-Error thrown: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

std::string part_etag(FileStore& store, const std::string& key, const std::string& id, int n, const std::string& data) {
  std::promise<std::string> p;
  store.upload_part(key, id, n, store::Body::from_string(data), [&](std::exception_ptr e, std::string etag) {
    if (e) p.set_exception(e);
    else p.set_value(std::move(etag));
  });
  return p.get_future().get();
}

// The tree most tests list: keys chosen so that byte order differs from a naive path order.
class FileStoreTree : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& k : kKeys) write_file(dir / k, "content of " + k);
    fs::create_directories(dir / "empty/dir");  // directories are not objects
  }
  TempDir dir;
  const std::vector<std::string> kKeys = {"a/b", "a-b", "a0", "a/c/d", "dat2", "data/x", "data/y/z", "db", "top"};
};

// ---- list ----------------------------------------------------------------------------------------

TEST_F(FileStoreTree, RecursiveListingInByteOrder) {
  FileStore store(dir.path());
  ListPage page = store.list(ListRequest{});
  // '-' (0x2d) < '/' (0x2f) < '0' (0x30)
  EXPECT_EQ(keys_of(page.objects),
            (std::vector<std::string>{"a-b", "a/b", "a/c/d", "a0", "dat2", "data/x", "data/y/z", "db", "top"}));
  EXPECT_TRUE(page.common_prefixes.empty());
  EXPECT_TRUE(page.next_continuation_token.empty());
  for (const auto& o : page.objects) {
    EXPECT_EQ(o.size, ("content of " + o.key).size()) << o.key;
    EXPECT_FALSE(o.etag.empty());
    EXPECT_GT(o.mtime_epoch_ns, 0);
  }
}

TEST_F(FileStoreTree, ByteOrderForNonAscii) {
  write_file(dir / "\xC3\xA9t\xC3\xA9", "x");  // "été": 0xC3 sorts after every ASCII byte
  write_file(dir / "Zed", "x");
  write_file(dir / "~tilde", "x");
  FileStore store(dir.path());
  auto keys = keys_of(store.list(ListRequest{}).objects);
  ASSERT_GE(keys.size(), 3u);
  EXPECT_EQ(keys.front(), "Zed");
  EXPECT_EQ(keys[keys.size() - 2], "~tilde");
  EXPECT_EQ(keys.back(), "\xC3\xA9t\xC3\xA9");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
}

TEST_F(FileStoreTree, PrefixIsAByteprefix) {
  FileStore store(dir.path());
  ListRequest r;
  r.prefix = "da";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"dat2", "data/x", "data/y/z"}));
  r.prefix = "data";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"data/x", "data/y/z"}));
  r.prefix = "data/";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"data/x", "data/y/z"}));
  r.prefix = "data/y/";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"data/y/z"}));
  r.prefix = "a/c/d";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"a/c/d"}));
  r.prefix = "a/";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"a/b", "a/c/d"}));
  r.prefix = "a";
  EXPECT_EQ(keys_of(store.list(r).objects), (std::vector<std::string>{"a-b", "a/b", "a/c/d", "a0"}));
  r.prefix = "nothing";
  EXPECT_TRUE(store.list(r).objects.empty());
  r.prefix = "nothing/here/";
  EXPECT_TRUE(store.list(r).objects.empty());
  r.prefix = "top/";  // a file, not a directory
  EXPECT_TRUE(store.list(r).objects.empty());
}

TEST_F(FileStoreTree, DelimiterGivesCommonPrefixes) {
  FileStore store(dir.path());
  ListRequest r;
  r.delimiter = "/";
  ListPage p = store.list(r);
  EXPECT_EQ(keys_of(p.objects), (std::vector<std::string>{"a-b", "a0", "dat2", "db", "top"}));
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"a/", "data/"}));  // "empty/" has no keys
  r.prefix = "data/";
  p = store.list(r);
  EXPECT_EQ(keys_of(p.objects), (std::vector<std::string>{"data/x"}));
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"data/y/"}));
  r.prefix = "da";
  p = store.list(r);
  EXPECT_EQ(keys_of(p.objects), (std::vector<std::string>{"dat2"}));
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"data/"}));
  r.prefix = "a/";
  p = store.list(r);
  EXPECT_EQ(keys_of(p.objects), (std::vector<std::string>{"a/b"}));
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"a/c/"}));
}

TEST_F(FileStoreTree, DelimiterPagingCountsPrefixesAsEntries) {
  FileStore store(dir.path());
  ListRequest r;
  r.delimiter = "/";
  r.max_keys = 1;
  std::vector<std::string> entries;
  for (int pages = 0; pages < 20; ++pages) {
    ListPage p = store.list(r);
    EXPECT_EQ(p.objects.size() + p.common_prefixes.size(), 1u);
    for (const auto& o : p.objects) entries.push_back(o.key);
    for (const auto& cp : p.common_prefixes) entries.push_back(cp);
    if (p.next_continuation_token.empty()) break;
    r.continuation_token = p.next_continuation_token;
  }
  EXPECT_EQ(entries, (std::vector<std::string>{"a-b", "a/", "a0", "dat2", "data/", "db", "top"}));
}

TEST(FileStore, PagingOver2500FilesGivesEveryKeyOnceInOrder) {
  TempDir dir;
  std::vector<std::string> expected;
  for (int i = 0; i < 2500; ++i) {
    std::string key = "d" + std::to_string(i % 7) + "/s" + std::to_string(i % 13) + "/f" + std::to_string(i);
    int fd = ::open((dir / key).c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd < 0) {
      fs::create_directories(fs::path(dir / key).parent_path());
      fd = ::open((dir / key).c_str(), O_WRONLY | O_CREAT, 0644);
    }
    ASSERT_GE(fd, 0) << key;
    ::close(fd);
    expected.push_back(key);
  }
  std::sort(expected.begin(), expected.end());
  FileStore store(dir.path());
  ListRequest r;
  r.max_keys = 1000;
  std::vector<std::string> got;
  std::vector<size_t> page_sizes;
  for (int pages = 0; pages < 10; ++pages) {
    ListPage p = store.list(r);
    page_sizes.push_back(p.objects.size());
    for (const auto& o : p.objects) got.push_back(o.key);
    if (p.next_continuation_token.empty()) break;
    r.continuation_token = p.next_continuation_token;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "keys missing, repeated or out of order";
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size());
  // list_all follows the tokens too.
  EXPECT_EQ(keys_of(list_all(store, "")), expected);
  // And with a prefix.
  std::vector<std::string> d3;
  for (const auto& k : expected) {
    if (k.starts_with("d3/")) d3.push_back(k);
  }
  ListRequest pr;
  pr.prefix = "d3/";
  pr.max_keys = 100;
  std::vector<std::string> got3;
  for (;;) {
    ListPage p = store.list(pr);
    for (const auto& o : p.objects) got3.push_back(o.key);
    if (p.next_continuation_token.empty()) break;
    pr.continuation_token = p.next_continuation_token;
  }
  EXPECT_EQ(got3, d3);
}

TEST(FileStore, ExactlyMaxKeysHasNoToken) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) write_file(dir / ("k" + std::to_string(i)), "");
  FileStore store(dir.path());
  ListRequest r;
  r.max_keys = 5;
  ListPage p = store.list(r);
  EXPECT_EQ(p.objects.size(), 5u);
  EXPECT_TRUE(p.next_continuation_token.empty());
  r.max_keys = 4;
  p = store.list(r);
  EXPECT_EQ(p.objects.size(), 4u);
  EXPECT_FALSE(p.next_continuation_token.empty());
}

TEST(FileStore, StagingFilesNeverListed) {
  TempDir dir;
  write_file(dir / "real", "r");
  write_file(dir / ".sluice-real.0123456789abcdef", "staging");
  write_file(dir / "sub/.sluice-x", "staging");
  write_file(dir / "sub/ok", "o");
  write_file(dir / ".sluice-uploads/abc/1", "part");
  write_file(dir / ".hidden", "h");  // other dot files are ordinary objects
  FileStore store(dir.path());
  // An upload in progress leaves its parts in the staging area: also invisible.
  std::string id = store.create_multipart("big");
  part_etag(store, "big", id, 1, "part one");
  EXPECT_EQ(keys_of(store.list(ListRequest{}).objects), (std::vector<std::string>{".hidden", "real", "sub/ok"}));
  ListRequest r;
  r.prefix = ".sluice-";
  EXPECT_TRUE(store.list(r).objects.empty());
  r.prefix = "";
  r.delimiter = "/";
  ListPage p = store.list(r);
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"sub/"}));
  store.abort_multipart("big", id);
}

TEST(FileStore, EmptyFilesAreObjects) {
  TempDir dir;
  write_file(dir / "empty", "");
  FileStore store(dir.path());
  auto objects = store.list(ListRequest{}).objects;
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].size, 0u);
  EXPECT_EQ(get_string(store, GetRequest{"empty", {}, {}}), "");
}

// The header: "Only regular files (and symlinks to them) are objects". The key of a symlink is
// its own name under the root, not wherever it points.
TEST(FileStore, SymlinksToFilesListedUnderTheirOwnName) {
  TempDir dir, outside;
  write_file(dir / "real.txt", "12345");
  write_file(outside / "target.txt", "abc");
  fs::create_symlink(dir / "real.txt", dir / "alias.txt");
  fs::create_symlink(outside / "target.txt", dir / "link.txt");
  fs::create_directories(dir / "d");
  fs::create_symlink(dir / "d", dir / "dirlink");  // a directory symlink is not an object
  FileStore store(dir.path());
  auto objects = store.list(ListRequest{}).objects;
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"alias.txt", "link.txt", "real.txt"}));
  for (const auto& o : objects) {
    EXPECT_EQ(o.size, o.key == "link.txt" ? 3u : 5u) << o.key;
  }
  EXPECT_EQ(get_string(store, GetRequest{"link.txt", {}, {}}), "abc");
}

TEST(FileStore, RootWithTrailingSlashAndDescribe) {
  TempDir dir;
  write_file(dir / "x/y", "1");
  FileStore store(dir.path() + "/");
  EXPECT_EQ(store.describe(), "file://" + dir.path());
  EXPECT_EQ(keys_of(store.list(ListRequest{}).objects), (std::vector<std::string>{"x/y"}));
}

TEST(FileStore, MissingRootIsNotFound) {
  TempDir dir;
  FileStore store(dir / "does-not-exist");
  Error e = error_of([&] { store.list(ListRequest{}); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound) << e.what();
}

// ---- get / head / put -------------------------------------------------------------------------

TEST(FileStore, GetWholeAndRanges) {
  TempDir dir;
  write_file(dir / "k", "0123456789");
  FileStore store(dir.path());
  EXPECT_EQ(get_string(store, GetRequest{"k", {}, {}}), "0123456789");
  EXPECT_EQ(get_string(store, GetRequest{"k", ByteRange{2, 5}, {}}), "2345");
  EXPECT_EQ(get_string(store, GetRequest{"k", ByteRange{0, 0}, {}}), "0");
  EXPECT_EQ(get_string(store, GetRequest{"k", ByteRange{9, 9}, {}}), "9");
  EXPECT_EQ(get_string(store, GetRequest{"k", ByteRange{0, 9}, {}}), "0123456789");
  Error e = error_of([&] { get_string(store, GetRequest{"k", ByteRange{5, 10}, {}}); });
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
}

TEST(FileStore, GetLargeFileInChunks) {
  TempDir dir;
  std::string big(3 * 1024 * 1024 + 5, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  write_file(dir / "big", big);
  FileStore store(dir.path());
  EXPECT_TRUE(get_string(store, GetRequest{"big", {}, {}}) == big);
  ByteRange r{1'000'000, 2'500'000};
  EXPECT_TRUE(get_string(store, GetRequest{"big", r, {}}) == big.substr(r.first, r.length()));
}

TEST(FileStore, GetMissingIsNotFound) {
  TempDir dir;
  FileStore store(dir.path());
  Error e = error_of([&] { get_string(store, GetRequest{"nope", {}, {}}); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound) << e.what();
}

TEST(FileStore, IfMatch) {
  TempDir dir;
  write_file(dir / "k", "version one");
  FileStore store(dir.path());
  std::string etag = store.head("k").etag;
  EXPECT_EQ(get_string(store, GetRequest{"k", {}, etag}), "version one");
  Error e = error_of([&] { get_string(store, GetRequest{"k", {}, "0-0"}); });
  EXPECT_EQ(e.kind(), ErrorKind::kDataLoss) << e.what();
  // Rewritten (different size, different mtime): the old ETag no longer matches.
  write_file(dir / "k", "version two, longer");
  Error changed = error_of([&] { get_string(store, GetRequest{"k", ByteRange{0, 3}, etag}); });
  EXPECT_EQ(changed.kind(), ErrorKind::kDataLoss) << changed.what();
}

TEST(FileStore, SinkStopIsCancelled) {
  TempDir dir;
  write_file(dir / "k", "data");
  FileStore store(dir.path());
  std::promise<std::exception_ptr> p;
  store.get(GetRequest{"k", {}, {}}, [](const char*, size_t) { return false; },
            [&](std::exception_ptr e) { p.set_value(e); });
  std::exception_ptr e = p.get_future().get();
  ASSERT_TRUE(e);
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kCancelled);
  }
}

TEST(FileStore, PutThenHead) {
  TempDir dir;
  FileStore store(dir.path());
  std::string etag = store.put("new/dir/key.bin", store::Body::from_string("hello"), {});
  EXPECT_EQ(read_file(dir / "new/dir/key.bin"), "hello");
  ObjectInfo info = store.head("new/dir/key.bin");
  EXPECT_EQ(info.key, "new/dir/key.bin");
  EXPECT_EQ(info.size, 5u);
  EXPECT_EQ(info.etag, etag);
  struct stat st;
  ASSERT_EQ(::stat((dir / "new/dir/key.bin").c_str(), &st), 0);
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  EXPECT_EQ(info.mtime_epoch_ns, mtime);
  EXPECT_EQ(etag, FileStore::etag_of(mtime, 5));
  // The listing agrees with head.
  auto objects = store.list(ListRequest{}).objects;
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].etag, etag);
  EXPECT_EQ(objects[0].size, 5u);
  // Overwrite: new content, new ETag, no staging file left behind.
  std::string etag2 = store.put("new/dir/key.bin", store::Body::from_string("hello, again"), {});
  EXPECT_NE(etag2, etag);
  EXPECT_EQ(read_file(dir / "new/dir/key.bin"), "hello, again");
  size_t entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir / "new/dir")) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(FileStore, PutFromFileBody) {
  TempDir dir;
  write_file(dir / "src", "0123456789abcdef");
  int fd = ::open((dir / "src").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  FileStore store(dir.path());
  store.put("dst", store::Body::from_file(fd, 4, 8), {});
  ::close(fd);
  EXPECT_EQ(read_file(dir / "dst"), "456789ab");
}

TEST(FileStore, PutEmpty) {
  TempDir dir;
  FileStore store(dir.path());
  store.put("e", store::Body::from_string(""), {});
  EXPECT_EQ(store.head("e").size, 0u);
}

TEST(FileStore, HeadMissingOrDirectoryIsNotFound) {
  TempDir dir;
  fs::create_directories(dir / "adir");
  FileStore store(dir.path());
  EXPECT_EQ(error_of([&] { store.head("missing"); }).kind(), ErrorKind::kNotFound);
  EXPECT_EQ(error_of([&] { store.head("adir"); }).kind(), ErrorKind::kNotFound);
  EXPECT_EQ(error_of([&] { store.head(std::string("a\0b", 3)); }).kind(), ErrorKind::kInvalidInput);
}

TEST(FileStore, EtagFormat) {
  EXPECT_EQ(FileStore::etag_of(0x1234abcd, 42), "1234abcd-42");
  EXPECT_NE(FileStore::etag_of(1, 2), FileStore::etag_of(1, 3));
  EXPECT_NE(FileStore::etag_of(1, 2), FileStore::etag_of(2, 2));
  EXPECT_NE(FileStore::etag_of(1, 2).size(), 32u);  // never mistaken for an MD5
}

// ---- multipart -----------------------------------------------------------------------------------

TEST(FileStore, MultipartAssemblesPartsInOrder) {
  TempDir dir;
  FileStore store(dir.path());
  std::string id = store.create_multipart("out/obj");
  ASSERT_FALSE(id.empty());
  std::vector<std::string> parts = {std::string(1 << 20, 'A'), std::string(700'000, 'B'), "tail"};
  // Upload out of order, concurrently.
  std::vector<std::promise<std::string>> etags(3);
  for (int n : {3, 1, 2}) {
    store.upload_part("out/obj", id, n, store::Body::from_string(parts[static_cast<size_t>(n - 1)]),
                      [&, n](std::exception_ptr e, std::string etag) {
                        if (e) etags[static_cast<size_t>(n - 1)].set_exception(e);
                        else etags[static_cast<size_t>(n - 1)].set_value(std::move(etag));
                      });
  }
  std::vector<std::string> tags;
  for (auto& p : etags) tags.push_back(p.get_future().get());
  EXPECT_TRUE(fs::exists(dir / (".sluice-uploads/" + id)));
  std::string etag = store.complete_multipart("out/obj", id, tags);
  EXPECT_TRUE(read_file(dir / "out/obj") == parts[0] + parts[1] + parts[2]);
  EXPECT_EQ(etag, store.head("out/obj").etag);
  EXPECT_FALSE(fs::exists(dir / (".sluice-uploads/" + id))) << "staging left behind";
  EXPECT_EQ(keys_of(store.list(ListRequest{}).objects), (std::vector<std::string>{"out/obj"}));
  // Nothing else in the destination directory (no temporary file left).
  size_t entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir / "out")) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(FileStore, MultipartUploadsAreIndependent) {
  TempDir dir;
  FileStore store(dir.path());
  std::string a = store.create_multipart("a");
  std::string b = store.create_multipart("b");
  EXPECT_NE(a, b);
  std::string ta = part_etag(store, "a", a, 1, "from a");
  std::string tb = part_etag(store, "b", b, 1, "from b");
  store.complete_multipart("b", b, {tb});
  store.complete_multipart("a", a, {ta});
  EXPECT_EQ(read_file(dir / "a"), "from a");
  EXPECT_EQ(read_file(dir / "b"), "from b");
}

TEST(FileStore, MultipartMissingPartFailsAndLeavesNoObject) {
  TempDir dir;
  FileStore store(dir.path());
  std::string id = store.create_multipart("k");
  std::string t1 = part_etag(store, "k", id, 1, "one");
  Error e = error_of([&] { store.complete_multipart("k", id, {t1, "2"}); });
  EXPECT_NE(e.kind(), ErrorKind::kInternal) << e.what();
  EXPECT_FALSE(fs::exists(dir / "k"));
  EXPECT_TRUE(store.list(ListRequest{}).objects.empty()) << "a partial file is visible";
  store.abort_multipart("k", id);
}

TEST(FileStore, AbortRemovesStaging) {
  TempDir dir;
  FileStore store(dir.path());
  std::string id = store.create_multipart("k");
  part_etag(store, "k", id, 1, "one");
  part_etag(store, "k", id, 2, "two");
  ASSERT_TRUE(fs::exists(dir / (".sluice-uploads/" + id)));
  store.abort_multipart("k", id);
  EXPECT_FALSE(fs::exists(dir / (".sluice-uploads/" + id)));
  EXPECT_FALSE(fs::exists(dir / "k"));
  EXPECT_NO_THROW(store.abort_multipart("k", id));  // twice is fine
  EXPECT_NO_THROW(store.abort_multipart("k", "never-created"));
}

// ---- remove ---------------------------------------------------------------------------------------

TEST(FileStore, RemoveDeletesAndPrunesEmptyDirectories) {
  TempDir dir;
  write_file(dir / "x/y/z", "1");
  write_file(dir / "x/keep", "2");
  write_file(dir / "solo/deep/er/file", "3");
  FileStore store(dir.path());
  store.remove("x/y/z");
  EXPECT_FALSE(fs::exists(dir / "x/y/z"));
  EXPECT_FALSE(fs::exists(dir / "x/y")) << "an empty directory was left";
  EXPECT_TRUE(fs::exists(dir / "x/keep"));
  store.remove("solo/deep/er/file");
  EXPECT_FALSE(fs::exists(dir / "solo"));
  EXPECT_TRUE(fs::exists(dir.path())) << "the root itself was removed";
  EXPECT_EQ(keys_of(store.list(ListRequest{}).objects), (std::vector<std::string>{"x/keep"}));
  store.remove("x/keep");
  EXPECT_FALSE(fs::exists(dir / "x"));
  EXPECT_TRUE(fs::is_directory(dir.path()));
}

TEST(FileStore, RemoveMissingIsNotAnError) {
  TempDir dir;
  FileStore store(dir.path());
  EXPECT_NO_THROW(store.remove("never/was"));
  EXPECT_TRUE(fs::is_directory(dir.path()));
}

TEST(FileStore, RemoveTopLevelKeyKeepsRoot) {
  TempDir dir;
  write_file(dir / "only", "1");
  FileStore store(dir.path() + "/");
  store.remove("only");
  EXPECT_TRUE(fs::is_directory(dir.path()));
}

}  // namespace
}  // namespace sluice::store
