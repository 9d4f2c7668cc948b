// Channel source resolution (dataset/source.hpp) against the file:// backend (FileStore in a
// mkdtemp directory), plus an in-memory store for what a file system cannot hold (directory
// markers, keys with "//" or ".."), listing refusals and request counting.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dataset/shard.hpp"
#include "dataset/source.hpp"
#include "store/file_store.hpp"
#include "support/read_only_store.hpp"

namespace sluice::dataset {
namespace {

namespace fs = std::filesystem;
using Scheme = store::Address::Scheme;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-src-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The directory's key in FileStore("/"), i.e. its path without the leading '/'.
  std::string key() const { return path_.substr(1); }
  std::string uri(const std::string& rel = "") const { return "file://" + path_ + "/" + rel; }
  void write(const std::string& rel, const std::string& content) const {
    fs::path p = fs::path(path_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

 private:
  std::string path_;
};

// An in-memory bucket store with ListObjectsV2 paging, call counters and a switch that refuses
// listing, as a role with s3:GetObject but not s3:ListBucket would see.
class MemStore : public testing::ReadOnlyTestStore {
 public:
  std::map<std::string, std::string> objects;
  bool deny_list = false;
  int page_size = 1000;
  std::atomic<int> lists{0}, heads{0}, gets{0};

  std::string describe() const override { return "mem://"; }
  store::ListPage list(const store::ListRequest& r) override {
    ++lists;
    if (deny_list) throw Error(ErrorKind::kAccessDenied, "listing", "AccessDenied");
    store::ListPage page;
    auto it = r.continuation_token.empty() ? objects.lower_bound(r.prefix) : objects.upper_bound(r.continuation_token);
    int n = 0;
    for (; it != objects.end() && it->first.starts_with(r.prefix); ++it) {
      if (n == std::min(page_size, r.max_keys)) {
        page.next_continuation_token = page.objects.back().key;
        break;
      }
      page.objects.push_back(info(it->first));
      ++n;
    }
    return page;
  }
  store::ObjectInfo head(const std::string& key) override {
    ++heads;
    if (!objects.count(key)) throw Error(ErrorKind::kNotFound, "HEAD " + key, "NoSuchKey");
    return info(key);
  }
  void get(const store::GetRequest& r, store::DataSink sink, store::Completion done) override {
    ++gets;
    auto it = objects.find(r.key);
    if (it == objects.end()) return done(std::make_exception_ptr(Error(ErrorKind::kNotFound, "GET " + r.key, "NoSuchKey")));
    sink(it->second.data(), it->second.size());
    done(nullptr);
  }

 private:
  store::ObjectInfo info(const std::string& key) const {
    return store::ObjectInfo{key, objects.at(key).size(), "etag-" + key, 0};
  }
};

// store::StoreFor over named in-memory buckets; records which buckets were asked for.
struct MemBuckets {
  std::map<std::string, MemStore> buckets;
  std::vector<std::string> asked;
  std::mutex mu;
  store::StoreFor store_for() {
    return [this](const store::Address& a) -> store::ObjectStore& {
      std::lock_guard lock(mu);
      asked.push_back(a.bucket);
      EXPECT_EQ(a.scheme, Scheme::kS3);
      return buckets.at(a.bucket);
    };
  }
};

struct Files {
  store::FileStore store{"/"};
  store::StoreFor store_for() {
    return [this](const store::Address& a) -> store::ObjectStore& {
      EXPECT_EQ(a.scheme, Scheme::kFile);
      return store;
    };
  }
};

std::vector<std::string> keys_of(const std::vector<SourceObject>& objects, size_t strip = 0) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.address.key.substr(strip));
  return out;
}
std::vector<std::string> paths_of(const std::vector<SourceObject>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.relative_path);
  return out;
}

template <class F>
Error error_of(F&& f) {
  try {
    f();
    ADD_FAILURE() << "nothing thrown";
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

void expect_has(const Error& e, const std::string& part) {
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "missing '" << part << "' in: " << e.what();
}

// ---- S3Prefix over file:// --------------------------------------------------------------------

TEST(SourcePrefix, ListsInUtf8ByteOrderWithSizesEtagsAndPaths) {
  TempDir dir;
  // Written out of order; byte order puts 'B' < 'a', '-' (0x2d) < '/' (0x2f) < '0', ASCII < UTF-8.
  std::map<std::string, std::string> files = {
      {"data/\xC3\xA9t\xC3\xA9.txt", "e"}, {"data/a", "aaa"},         {"data/B", "bb"},
      {"data/x-y", "x"},                   {"data/x/z", "yy"},         {"data/x0", "zzzz"},
      {"data/sub/deep/file.bin", std::string(5000, 'q')},              {"data2/other", "not under data/"},
      {"top", "not under data/"}};
  for (const auto& [rel, content] : files) dir.write(rel, content);
  Files f;
  auto objects = resolve_s3_prefix(f.store_for(), dir.uri("data/"));
  const size_t strip = dir.key().size() + 1;
  EXPECT_EQ(keys_of(objects, strip), (std::vector<std::string>{"data/B", "data/a", "data/sub/deep/file.bin", "data/x-y",
                                                               "data/x/z", "data/x0", "data/\xC3\xA9t\xC3\xA9.txt"}));
  EXPECT_EQ(paths_of(objects), (std::vector<std::string>{"B", "a", "sub/deep/file.bin", "x-y", "x/z", "x0", "\xC3\xA9t\xC3\xA9.txt"}));
  for (const auto& o : objects) {
    EXPECT_EQ(o.address.scheme, Scheme::kFile);
    EXPECT_EQ(o.size, files.at(o.address.key.substr(strip)).size());
    EXPECT_EQ(o.etag, f.store.head(o.address.key).etag);
    EXPECT_EQ(o.address.uri(), "file:///" + o.address.key);
  }
}

TEST(SourcePrefix, PrefixWithoutSlashIsABytePrefix) {
  TempDir dir;
  dir.write("train/a.csv", "1");
  dir.write("train-2/b.csv", "22");
  dir.write("train.csv", "333");
  dir.write("trainer", "4444");
  dir.write("test/c.csv", "5");
  Files f;
  auto objects = resolve_s3_prefix(f.store_for(), "file://" + dir.uri().substr(7) + "train");
  const size_t strip = dir.key().size() + 1;
  EXPECT_EQ(keys_of(objects, strip), (std::vector<std::string>{"train-2/b.csv", "train.csv", "train/a.csv", "trainer"}));
  // SDK local-mode rule: key minus prefix, leading '/' removed.
  EXPECT_EQ(paths_of(objects), (std::vector<std::string>{"-2/b.csv", ".csv", "a.csv", "er"}));
}

TEST(SourcePrefix, APrefixNamingOneObjectSavesItUnderItsBaseName) {
  TempDir dir;
  dir.write("data/train.csv", "abc");
  Files f;
  auto objects = resolve_s3_prefix(f.store_for(), dir.uri("data/train.csv"));
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].relative_path, "train.csv");
  EXPECT_EQ(objects[0].size, 3u);
}

TEST(SourcePrefix, NothingUnderThePrefixIsNotFound) {
  TempDir dir;
  dir.write("data/a", "1");
  Files f;
  for (std::string rel : {"nothing/", "nothing", "dat/"}) {
    Error e = error_of([&] { resolve_s3_prefix(f.store_for(), dir.uri(rel)); });
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    expect_has(e, "S3Prefix " + dir.uri(rel));
    expect_has(e, "no objects found");
  }
  // An empty directory is no objects either.
  fs::create_directories(dir.uri("empty/sub").substr(7));
  EXPECT_EQ(error_of([&] { resolve_s3_prefix(f.store_for(), dir.uri("empty/")); }).kind(), ErrorKind::kNotFound);
}

TEST(SourcePrefix, RefusesUrisThatAreNotS3OrFile) {
  Files f;
  for (std::string uri : {"https://bkt.s3.amazonaws.com/p/", "/plain/path", "s3://"}) {
    Error e = error_of([&] { resolve_s3_prefix(f.store_for(), uri); });
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    expect_has(e, "S3Prefix " + uri);
  }
}

// ---- S3Prefix over the in-memory store -------------------------------------------------------------

TEST(SourcePrefix, SkipsDirectoryMarkersAndPages) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  b.page_size = 2;
  b.objects = {{"p/", ""}, {"p/a", "1"}, {"p/d/", ""}, {"p/d/x", "22"}, {"p/e//", ""}, {"p/z", "333"}, {"q/a", "no"}};
  auto objects = resolve_s3_prefix(m.store_for(), "s3://bkt/p/");
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"p/a", "p/d/x", "p/z"}));
  EXPECT_EQ(paths_of(objects), (std::vector<std::string>{"a", "d/x", "z"}));
  EXPECT_EQ(objects[2].size, 3u);
  EXPECT_EQ(objects[2].etag, "etag-p/z");
  EXPECT_EQ(objects[0].address, (store::Address{Scheme::kS3, "bkt", "p/a"}));
  EXPECT_EQ(b.lists.load(), 3);  // 6 keys in pages of 2
  // Only markers: nothing to train on.
  m.buckets["markers"].objects = {{"p/", ""}, {"p/d/", ""}};
  EXPECT_EQ(error_of([&] { resolve_s3_prefix(m.store_for(), "s3://markers/p/"); }).kind(), ErrorKind::kNotFound);
}

TEST(SourcePrefix, WholeBucket) {
  MemBuckets m;
  m.buckets["bkt"].objects = {{"a", "1"}, {"b/c", "2"}};
  EXPECT_EQ(paths_of(resolve_s3_prefix(m.store_for(), "s3://bkt")), (std::vector<std::string>{"a", "b/c"}));
  EXPECT_EQ(paths_of(resolve_s3_prefix(m.store_for(), "s3://bkt/")), (std::vector<std::string>{"a", "b/c"}));
}

TEST(SourcePrefix, FileModeRefusesUnsafeKeysAndCollisionsOtherModesKeepThem) {
  MemBuckets m;
  m.buckets["bkt"].objects = {{"p/../etc/passwd", "x"}, {"p/ok", "y"}};
  Error e = error_of([&] { resolve_s3_prefix(m.store_for(), "s3://bkt/p/"); });
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  expect_has(e, "p/../etc/passwd");
  m.buckets["dup"].objects = {{"p//a", "x"}, {"p/a", "y"}};  // both become "a"
  Error c = error_of([&] { resolve_s3_prefix(m.store_for(), "s3://dup/p/"); });
  EXPECT_EQ(c.kind(), ErrorKind::kConflict);
  expect_has(c, "S3Prefix s3://dup/p/");
  m.buckets["clash"].objects = {{"p/a", "x"}, {"p/a/b", "y"}};  // a file and a directory
  EXPECT_EQ(error_of([&] { resolve_s3_prefix(m.store_for(), "s3://clash/p/"); }).kind(), ErrorKind::kConflict);

  ResolveOptions pipe;
  pipe.file_paths = false;
  auto objects = resolve_s3_prefix(m.store_for(), "s3://bkt/p/", pipe);
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"p/../etc/passwd", "p/ok"}));
  EXPECT_EQ(paths_of(objects), (std::vector<std::string>{"", ""}));
  EXPECT_EQ(resolve_s3_prefix(m.store_for(), "s3://dup/p/", pipe).size(), 2u);
}

TEST(SourcePrefix, LeadingSlashesAfterThePrefixAreDropped) {
  MemBuckets m;
  m.buckets["bkt"].objects = {{"data/x", "1"}, {"data//y", "2"}};
  EXPECT_EQ(paths_of(resolve_s3_prefix(m.store_for(), "s3://bkt/data")), (std::vector<std::string>{"y", "x"}));
}

// ---- ManifestFile over file:// -------------------------------------------------------------------

TEST(SourceManifest, KeepsManifestOrderWithSizesEtagsAndPaths) {
  TempDir dir;
  dir.write("data/z.bin", "zz");
  dir.write("data/a/b.bin", "abab");
  dir.write("data/m.bin", "m");
  dir.write("data/unlisted", "u");
  dir.write("manifest.json", R"([{"prefix": ")" + dir.uri("data/") + R"("}, "z.bin", "a/b.bin", "m.bin"])");
  Files f;
  auto objects = resolve_manifest_file(f.store_for(), dir.uri("manifest.json"));
  const std::string base = dir.key() + "/data/";
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{base + "z.bin", base + "a/b.bin", base + "m.bin"}));
  EXPECT_EQ(paths_of(objects), (std::vector<std::string>{"z.bin", "a/b.bin", "m.bin"}));
  EXPECT_EQ(objects[0].size, 2u);
  EXPECT_EQ(objects[1].size, 4u);
  EXPECT_EQ(objects[1].etag, f.store.head(base + "a/b.bin").etag);
}

TEST(SourceManifest, ListingAndHeadGiveTheSameAnswer) {
  TempDir dir;
  std::string manifest = R"([{"prefix": ")" + dir.uri("d/") + "\"}";
  for (int i = 99; i >= 0; --i) {
    std::string name = "k" + std::to_string(i);
    dir.write("d/" + name, std::string(static_cast<size_t>(i), 'x'));
    manifest += ",\"" + name + "\"";
  }
  manifest += "]";
  dir.write("m.json", manifest);
  Files f;
  ResolveOptions list_mode;  // 100 keys > 32: one listing
  ResolveOptions head_mode;
  head_mode.head_threshold = 1000;
  auto listed = resolve_manifest_file(f.store_for(), dir.uri("m.json"), list_mode);
  auto headed = resolve_manifest_file(f.store_for(), dir.uri("m.json"), head_mode);
  EXPECT_EQ(listed, headed);
  ASSERT_EQ(listed.size(), 100u);
  EXPECT_EQ(listed[0].relative_path, "k99");
  EXPECT_EQ(listed[0].size, 99u);
  EXPECT_EQ(listed[99].size, 0u);
}

TEST(SourceManifest, MissingKeysAreOneErrorNamingThem) {
  TempDir dir;
  dir.write("d/a", "1");
  dir.write("d/c", "3");
  dir.write("m.json", R"([{"prefix": ")" + dir.uri("d/") + R"("}, "a", "b", "c", "gone/x"])");
  Files f;
  for (size_t threshold : {0u, 1000u}) {  // listed and HEADed
    ResolveOptions o;
    o.head_threshold = threshold;
    Error e = error_of([&] { resolve_manifest_file(f.store_for(), dir.uri("m.json"), o); });
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    expect_has(e, "ManifestFile " + dir.uri("m.json"));
    expect_has(e, "2 of 4 listed objects do not exist");
    expect_has(e, dir.uri("d/b") + " (element 2)");
    expect_has(e, dir.uri("d/gone/x") + " (element 4)");
    EXPECT_EQ(std::string(e.what()).find(dir.uri("d/a")), std::string::npos) << e.what();
  }
}

TEST(SourceManifest, ManifestProblems) {
  TempDir dir;
  dir.write("bad.json", R"([{"prefix": "s3://bkt/"}, 7])");
  dir.write("d/x", "1");
  Files f;
  Error missing = error_of([&] { resolve_manifest_file(f.store_for(), dir.uri("nope.json")); });
  EXPECT_EQ(missing.kind(), ErrorKind::kNotFound);
  expect_has(missing, "ManifestFile " + dir.uri("nope.json"));
  Error bad = error_of([&] { resolve_manifest_file(f.store_for(), dir.uri("bad.json")); });
  EXPECT_EQ(bad.kind(), ErrorKind::kInvalidInput);
  expect_has(bad, "ManifestFile " + dir.uri("bad.json") + ": invalid manifest: byte 26 (element 1)");
  Error prefix = error_of([&] { resolve_manifest_file(f.store_for(), dir.uri("d/")); });
  EXPECT_EQ(prefix.kind(), ErrorKind::kInvalidInput);
  expect_has(prefix, "must name the manifest object");
}

// ---- ManifestFile over the in-memory store ------------------------------------------------------

TEST(SourceManifest, PrefixMayBeInAnotherBucket) {
  MemBuckets m;
  m.buckets["manifests"].objects = {{"train.manifest", R"([{"prefix":"s3://data-bkt/imgs/"},"b.jpg","a.jpg"])"}};
  m.buckets["data-bkt"].objects = {{"imgs/a.jpg", "aa"}, {"imgs/b.jpg", "bbb"}};
  auto objects = resolve_manifest_file(m.store_for(), "s3://manifests/train.manifest");
  EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"imgs/b.jpg", "imgs/a.jpg"}));
  EXPECT_EQ(objects[0].address, (store::Address{Scheme::kS3, "data-bkt", "imgs/b.jpg"}));
  EXPECT_EQ(objects[0].size, 3u);
  EXPECT_EQ(objects[0].etag, "etag-imgs/b.jpg");
  EXPECT_NE(std::find(m.asked.begin(), m.asked.end(), "manifests"), m.asked.end());
  EXPECT_NE(std::find(m.asked.begin(), m.asked.end(), "data-bkt"), m.asked.end());
}

TEST(SourceManifest, SmallManifestsAreHeadedNotListed) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  b.objects = {{"m", R"([{"prefix":"s3://bkt/p/"},"a","b","c"])"}, {"p/a", "1"}, {"p/b", "2"}, {"p/c", "3"}};
  auto objects = resolve_manifest_file(m.store_for(), "s3://bkt/m");
  EXPECT_EQ(objects.size(), 3u);
  EXPECT_EQ(b.lists.load(), 0);
  EXPECT_EQ(b.heads.load(), 3);
}

TEST(SourceManifest, LargeManifestsListOnceAndStopPastTheLastKey) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  b.page_size = 10;
  std::string manifest = R"([{"prefix":"s3://bkt/p/"})";
  for (int i = 0; i < 50; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "k%03d", i);
    b.objects[std::string("p/") + name] = "x";
    manifest += std::string(",\"") + name + "\"";
  }
  for (int i = 0; i < 1000; ++i) b.objects["p/z-unlisted-" + std::to_string(i)] = "y";  // sorts after every entry
  b.objects["m"] = manifest + "]";
  auto objects = resolve_manifest_file(m.store_for(), "s3://bkt/m");
  ASSERT_EQ(objects.size(), 50u);
  EXPECT_EQ(b.heads.load(), 0);
  EXPECT_EQ(b.lists.load(), 5);  // 50 keys in pages of 10; the unlisted tail is never read
}

TEST(SourceManifest, ListingStopsWhenHeadingTheRestIsCheaper) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  b.page_size = 10;
  // 40 entries spread over 40,000 objects: listing them all would take 4,000 pages.
  std::string manifest = R"([{"prefix":"s3://bkt/p/"})";
  for (int i = 0; i < 40000; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "k%05d", i);
    b.objects[std::string("p/") + name] = std::string(static_cast<size_t>(i % 7), 'x');
    if (i % 1000 == 0) manifest += std::string(",\"") + name + "\"";
  }
  b.objects["m"] = manifest + "]";
  auto objects = resolve_manifest_file(m.store_for(), "s3://bkt/m");
  ASSERT_EQ(objects.size(), 40u);
  EXPECT_LE(b.lists.load(), 40);
  EXPECT_LE(b.lists.load() + b.heads.load(), 80);
  EXPECT_EQ(objects[39].address.key, "p/k39000");
  EXPECT_EQ(objects[39].size, 39000u % 7);
}

TEST(SourceManifest, FallsBackToHeadWhenListingIsDenied) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  std::string manifest = R"([{"prefix":"s3://bkt/p/"})";
  for (int i = 0; i < 40; ++i) {
    b.objects["p/o" + std::to_string(i)] = std::string(static_cast<size_t>(i), 'x');
    manifest += ",\"o" + std::to_string(i) + "\"";
  }
  manifest += ",\"missing\"";
  b.objects["m"] = manifest + "]";
  b.deny_list = true;
  ResolveOptions o;
  o.head_parallelism = 4;
  Error e = error_of([&] { resolve_manifest_file(m.store_for(), "s3://bkt/m", o); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  expect_has(e, "1 of 41 listed object does not exist: s3://bkt/p/missing (element 41)");
  EXPECT_EQ(b.lists.load(), 1);
  EXPECT_EQ(b.heads.load(), 41);
  b.objects["p/missing"] = "now";
  auto objects = resolve_manifest_file(m.store_for(), "s3://bkt/m", o);
  ASSERT_EQ(objects.size(), 41u);
  EXPECT_EQ(objects[7].size, 7u);
}

TEST(SourceManifest, OtherHeadErrorsAreNotMissingKeys) {
  MemBuckets m;
  m.buckets["bkt"].objects = {{"m", R"([{"prefix":"s3://bkt/p/"},"a"])"}};
  // A HEAD that fails for another reason surfaces as that error.
  struct Denying : MemStore {
    store::ObjectInfo head(const std::string& key) override { throw Error(ErrorKind::kAccessDenied, "HEAD " + key, "AccessDenied"); }
  } denying;
  denying.objects = m.buckets["bkt"].objects;
  store::StoreFor sf = [&](const store::Address&) -> store::ObjectStore& { return denying; };
  Error e = error_of([&] { resolve_manifest_file(sf, "s3://bkt/m"); });
  EXPECT_EQ(e.kind(), ErrorKind::kAccessDenied);
  expect_has(e, "ManifestFile s3://bkt/m");
}

TEST(SourceManifest, DuplicatesAreKeptForPipeAndRefusedForFileMode) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  b.objects = {{"m", R"([{"prefix":"s3://bkt/p/"},"a","b","a"])"}, {"p/a", "1"}, {"p/b", "22"}};
  Error e = error_of([&] { resolve_manifest_file(m.store_for(), "s3://bkt/m"); });
  EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  expect_has(e, "entry 'a' is listed twice");
  expect_has(e, "elements 1 and 3");
  EXPECT_EQ(b.heads.load(), 0);  // refused before any request for the objects
  ResolveOptions pipe;
  pipe.file_paths = false;
  for (size_t threshold : {0u, 1000u}) {
    pipe.head_threshold = threshold;
    auto objects = resolve_manifest_file(m.store_for(), "s3://bkt/m", pipe);
    EXPECT_EQ(keys_of(objects), (std::vector<std::string>{"p/a", "p/b", "p/a"}));
    EXPECT_EQ(objects[2].size, 1u);
    EXPECT_EQ(objects[2].etag, "etag-p/a");
  }
}

TEST(SourceManifest, FileModeRefusesUnsafeEntriesBeforeAnyRequest) {
  MemBuckets m;
  auto& b = m.buckets["bkt"];
  b.objects = {{"dots", R"([{"prefix":"s3://bkt/p/"},"ok","../../etc/passwd"])"},
               {"marker", R"([{"prefix":"s3://bkt/p/"},"dir/"])"},
               {"clash", R"([{"prefix":"s3://bkt/p/"},"a","a/b"])"},
               {"p/ok", "1"}, {"p/dir/", ""}, {"p/a", "x"}, {"p/a/b", "y"}};
  EXPECT_EQ(error_of([&] { resolve_manifest_file(m.store_for(), "s3://bkt/dots"); }).kind(), ErrorKind::kInvalidInput);
  Error marker = error_of([&] { resolve_manifest_file(m.store_for(), "s3://bkt/marker"); });
  expect_has(marker, "directory marker");
  EXPECT_EQ(error_of([&] { resolve_manifest_file(m.store_for(), "s3://bkt/clash"); }).kind(), ErrorKind::kConflict);
  EXPECT_EQ(b.heads.load(), 0);
  ResolveOptions pipe;
  pipe.file_paths = false;
  EXPECT_EQ(resolve_manifest_file(m.store_for(), "s3://bkt/marker", pipe).size(), 1u);
  EXPECT_EQ(resolve_manifest_file(m.store_for(), "s3://bkt/clash", pipe).size(), 2u);
}

// ---- AugmentedManifestFile and dispatch -------------------------------------------------------------

TEST(SourceAugmented, ReadsAndParsesLines) {
  TempDir dir;
  dir.write("aug.jsonl",
            "{\"source-ref\":\"" + dir.uri("img/1.jpg") + "\",\"label\":1}\n\n"
            "{\"label\":0,\"source-ref\":\"s3://bkt/img/2.jpg\"}\n");
  Files f;
  auto lines = resolve_augmented_manifest(f.store_for(), dir.uri("aug.jsonl"), {"source-ref", "label"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].records[0].ref, (store::Address{Scheme::kFile, "", dir.key() + "/img/1.jpg"}));
  EXPECT_EQ(lines[1].line_number, 3u);
  EXPECT_EQ(lines[1].records[0].ref, (store::Address{Scheme::kS3, "bkt", "img/2.jpg"}));
  EXPECT_EQ(lines[1].records[1].data, "0");

  Error e = error_of([&] { resolve_augmented_manifest(f.store_for(), dir.uri("aug.jsonl"), {"source-ref", "class"}); });
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  expect_has(e, "AugmentedManifestFile " + dir.uri("aug.jsonl") + ": invalid augmented manifest: line 1: attribute 'class' is missing");
  dir.write("empty.jsonl", "\n\n");
  expect_has(error_of([&] { resolve_augmented_manifest(f.store_for(), dir.uri("empty.jsonl"), {"a"}); }), "no JSON lines");
  EXPECT_EQ(error_of([&] { resolve_augmented_manifest(f.store_for(), dir.uri("none.jsonl"), {"a"}); }).kind(),
            ErrorKind::kNotFound);
}

TEST(SourceDispatch, ResolveSourceAndShareBytes) {
  TempDir dir;
  dir.write("d/a", "1");
  dir.write("d/b", "22");
  dir.write("d/c", "333");
  dir.write("m.json", R"([{"prefix":")" + dir.uri("d/") + R"("},"c","a"])");
  dir.write("aug", "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n");
  Files f;
  ResolvedSource prefix = resolve_source(f.store_for(), SourceType::kS3Prefix, dir.uri("d/"));
  EXPECT_EQ(prefix.size(), 3u);
  EXPECT_EQ(paths_of(prefix.objects), (std::vector<std::string>{"a", "b", "c"}));
  ResolvedSource manifest = resolve_source(f.store_for(), SourceType::kManifestFile, dir.uri("m.json"));
  EXPECT_EQ(paths_of(manifest.objects), (std::vector<std::string>{"c", "a"}));
  ResolvedSource aug = resolve_source(f.store_for(), SourceType::kAugmentedManifestFile, dir.uri("aug"), {"x"});
  EXPECT_EQ(aug.size(), 3u);
  EXPECT_TRUE(aug.objects.empty());

  // Two hosts, ShardedByS3Key: disjoint shares, sizes add up.
  ShardPlan p;
  p.distribution = Distribution::kShardedByS3Key;
  p.hosts = {"algo-1", "algo-2"};
  p.current_host = "algo-1";
  auto first = share_for_epoch(prefix.size(), p, 0);
  p.current_host = "algo-2";
  auto second = share_for_epoch(prefix.size(), p, 0);
  EXPECT_EQ(paths_of(select(prefix.objects, first)), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(paths_of(select(prefix.objects, second)), (std::vector<std::string>{"b"}));
  EXPECT_EQ(share_bytes(prefix.objects, first), 4u);
  EXPECT_EQ(share_bytes(prefix.objects, second), 2u);
}

}  // namespace
}  // namespace sluice::dataset
