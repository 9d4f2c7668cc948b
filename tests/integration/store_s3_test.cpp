// S3Store (and the transfer layer on top of it) against the real store: a single-node Ceph RGW on
// 127.0.0.1 started by ctest's local_s3 fixture. Every test makes its own bucket and temporary
// directory and removes them again, also when it fails.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "support.hpp"
#include "transfer/download.hpp"
#include "transfer/engine.hpp"
#include "transfer/upload.hpp"

namespace sluice::itest {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::string md5_hex(std::string_view data) {
  Digest d(Digest::Algo::kMd5);
  d.update(data);
  return d.finish_hex();
}


std::string all_text(const Error& e) { return std::string(e.what()) + " | " + e.message() + " | " + e.cause(); }

std::vector<std::string> keys_of(const std::vector<store::ObjectInfo>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

// Index of the first difference (or the shorter size) between two key lists, for readable failures.
std::string first_difference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  size_t n = std::min(got.size(), want.size());
  for (size_t i = 0; i < n; ++i) {
    if (got[i] != want[i]) return fmt::format("at index {}: got '{}', expected '{}'", i, got[i], want[i]);
  }
  if (got.size() != want.size()) return fmt::format("got {} keys, expected {}", got.size(), want.size());
  return "";
}

// ------------------------------------------------------------------------------------------------
// Listing

TEST(S3Store, ListsThousandsOfKeysAcrossPagesInByteOrder) {
  TestBucket b("list");
  std::vector<std::pair<std::string, std::string>> objects;
  // 2,000 keys in ten "directories" and 500 at the top, with names whose byte order differs from
  // a locale's order: upper case < '_' < lower case < UTF-8 (0xC3 ...).
  for (int d = 0; d < 10; ++d) {
    for (int f = 0; f < 200; ++f) objects.emplace_back(fmt::format("list/d{}/f{:03}", d, f), "");
  }
  const char* stems[] = {"A", "a", "_", "Z~", "\xC3\xA9", "0", "-"};
  for (int i = 0; i < 500; ++i) objects.emplace_back(fmt::format("list/{}{:03}", stems[i % 7], i), "");
  for (auto& [key, value] : objects) value = "value of " + key;
  // Outside the prefix: must not be listed.
  std::vector<std::pair<std::string, std::string>> outside = {
      {"list", "x"}, {"lista/x", "x"}, {"lisu", "x"}, {"LIST/x", "x"}};
  put_many(b.store(), objects);
  put_many(b.store(), outside);

  std::vector<std::string> want;
  std::map<std::string, std::string> content;
  for (const auto& [k, v] : objects) {
    want.push_back(k);
    content[k] = v;
  }
  std::sort(want.begin(), want.end());  // std::string compares as unsigned bytes: S3's order
  ASSERT_EQ(want.size(), 2500u);

  // Page by page, max_keys 1000: 1000 + 1000 + 500, continuation tokens on the first two only.
  store::ListRequest req;
  req.prefix = "list/";
  req.max_keys = 1000;
  std::vector<size_t> page_sizes;
  std::vector<store::ObjectInfo> got;
  for (int guard = 0; guard < 10; ++guard) {
    store::ListPage page = b.store().list(req);
    page_sizes.push_back(page.objects.size());
    EXPECT_TRUE(page.common_prefixes.empty()) << "a listing without delimiter has no common prefixes";
    for (auto& o : page.objects) got.push_back(std::move(o));
    if (page.next_continuation_token.empty()) break;
    EXPECT_NE(page.next_continuation_token, req.continuation_token) << "the continuation token did not advance";
    req.continuation_token = page.next_continuation_token;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{1000, 1000, 500}));
  std::vector<std::string> got_keys = keys_of(got);
  EXPECT_EQ(first_difference(got_keys, want), "") << "paged listing is not the byte-ordered key set";
  for (const auto& o : got) {
    auto it = content.find(o.key);
    if (it == content.end()) continue;  // reported above
    EXPECT_EQ(o.size, it->second.size()) << o.key;
    EXPECT_EQ(o.etag, md5_hex(it->second)) << o.key;
    EXPECT_GT(o.mtime_epoch_ns, 0) << o.key;
  }

  // list_all follows the tokens the same way.
  EXPECT_EQ(first_difference(keys_of(store::list_all(b.store(), "list/")), want), "");

  // With a delimiter: ten common prefixes and the 500 top-level keys, in one page of 510.
  store::ListRequest dreq;
  dreq.prefix = "list/";
  dreq.delimiter = "/";
  dreq.max_keys = 1000;
  store::ListPage dpage = b.store().list(dreq);
  std::vector<std::string> want_prefixes;
  for (int d = 0; d < 10; ++d) want_prefixes.push_back(fmt::format("list/d{}/", d));
  std::vector<std::string> want_top;
  for (const auto& k : want) {
    if (k.find('/', 5) == std::string::npos) want_top.push_back(k);
  }
  ASSERT_EQ(want_top.size(), 500u);
  EXPECT_EQ(dpage.common_prefixes, want_prefixes);
  EXPECT_EQ(first_difference(keys_of(dpage.objects), want_top), "");
  EXPECT_TRUE(dpage.next_continuation_token.empty());

  // With a delimiter and small pages: continuation works across prefixes and keys, nothing twice.
  dreq.max_keys = 100;
  std::vector<std::string> all_prefixes, all_top;
  int pages = 0;
  for (; pages < 50; ++pages) {
    store::ListPage page = b.store().list(dreq);
    EXPECT_LE(page.objects.size() + page.common_prefixes.size(), 100u);
    all_prefixes.insert(all_prefixes.end(), page.common_prefixes.begin(), page.common_prefixes.end());
    for (const auto& o : page.objects) all_top.push_back(o.key);
    if (page.next_continuation_token.empty()) break;
    dreq.continuation_token = page.next_continuation_token;
  }
  EXPECT_GE(pages + 1, 6) << "510 entries in pages of 100";
  EXPECT_EQ(all_prefixes, want_prefixes);
  EXPECT_EQ(first_difference(all_top, want_top), "");

  // One level down.
  store::ListRequest sub;
  sub.prefix = "list/d3/";
  sub.delimiter = "/";
  store::ListPage subpage = b.store().list(sub);
  EXPECT_EQ(subpage.objects.size(), 200u);
  EXPECT_TRUE(subpage.common_prefixes.empty());
  ASSERT_FALSE(subpage.objects.empty());
  EXPECT_EQ(subpage.objects.front().key, "list/d3/f000");
  EXPECT_EQ(subpage.objects.back().key, "list/d3/f199");

  // A prefix that matches nothing: an empty last page.
  store::ListRequest none;
  none.prefix = "list/nothing-here/";
  store::ListPage empty = b.store().list(none);
  EXPECT_TRUE(empty.objects.empty());
  EXPECT_TRUE(empty.common_prefixes.empty());
  EXPECT_TRUE(empty.next_continuation_token.empty());
}

// ------------------------------------------------------------------------------------------------
// Ranged reads

TEST(S3Store, RangedReadsReturnExactlyTheRequestedBytes) {
  TestBucket b("range");
  const uint64_t size = 20 * kMiB + 123;
  const std::string data = random_bytes(size, 1);
  const std::string etag = b.store().put("r/blob.bin", store::Body::from_string(data), {});
  EXPECT_EQ(etag, md5_hex(data));

  struct Case {
    const char* what;
    uint64_t first, last;
  };
  const Case cases[] = {
      {"first byte", 0, 0},
      {"last byte", size - 1, size - 1},
      {"across the 8 MiB boundary", 8 * kMiB - 5, 8 * kMiB + 4},
      {"the byte at 8 MiB", 8 * kMiB, 8 * kMiB},
      {"the last byte before 8 MiB", 8 * kMiB - 1, 8 * kMiB - 1},
      {"across 16 MiB, 2001 bytes", 16 * kMiB - 1000, 16 * kMiB + 1000},
      {"one whole 8 MiB part", 8 * kMiB, 16 * kMiB - 1},
      {"the tail", 16 * kMiB, size - 1},
      {"everything", 0, size - 1},
  };
  for (const auto& c : cases) {
    store::GetRequest req;
    req.key = "r/blob.bin";
    req.range = store::ByteRange{c.first, c.last};
    std::string got = store::get_string(b.store(), req);
    ASSERT_EQ(got.size(), c.last - c.first + 1) << c.what;
    EXPECT_TRUE(got == data.substr(c.first, c.last - c.first + 1)) << c.what << ": bytes differ";
  }

  // Pinned to the right ETag it still reads; the whole object without a range too.
  store::GetRequest pinned;
  pinned.key = "r/blob.bin";
  pinned.range = store::ByteRange{8 * kMiB - 5, 8 * kMiB + 4};
  pinned.if_match = etag;
  EXPECT_EQ(store::get_string(b.store(), pinned), data.substr(8 * kMiB - 5, 10));
  store::GetRequest whole;
  whole.key = "r/blob.bin";
  std::string all = store::get_string(b.store(), whole);
  EXPECT_EQ(all.size(), size);
  EXPECT_EQ(sha256_hex(all), sha256_hex(data));
}

// ------------------------------------------------------------------------------------------------
// Multipart upload and parallel ranged download

TEST(S3Store, MultipartUploadOf100MiBDownloadsIdentical) {
  TestBucket b("multipart");
  TempDir tmp;
  const uint64_t size = 100 * kMiB;
  const std::string src = tmp / "src/blob.bin";
  std::string want_sha;
  {
    std::string data = random_bytes(size, 2);
    want_sha = sha256_hex(data);
    write_file(src, data);
  }

  transfer::UploadOptions uo;  // defaults: multipart above 8 MiB, 8 MiB parts
  auto up = transfer::upload(b.store(), {transfer::UploadItem{src, size, "big/blob.bin"}}, uo);
  for (const auto& e : up.failures) ADD_FAILURE() << "upload failure: " << e.what();
  ASSERT_TRUE(up.failures.empty());
  EXPECT_EQ(up.files, 1u);
  EXPECT_EQ(up.bytes, size);

  const uint64_t part = transfer::part_size_for(size, uo.part_size);
  const uint64_t parts = (size + part - 1) / part;
  ASSERT_GT(parts, 1u);
  store::ObjectInfo head = b.store().head("big/blob.bin");
  EXPECT_EQ(head.size, size);
  EXPECT_TRUE(head.etag.ends_with("-" + std::to_string(parts)))
      << "a multipart object's ETag ends in -<parts>; got '" << head.etag << "'";

  // Download the way `sluice cp` does: from the listing, through the engine, 8 MiB ranged parts.
  auto listed = store::list_all(b.store(), "big/");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].size, size);
  EXPECT_EQ(listed[0].etag, head.etag);
  const std::string dst = tmp / "dst/nested/dir/blob.bin";  // parent directories do not exist yet
  transfer::Engine engine(b.store(), transfer::EngineOptions{16});
  transfer::DownloadOptions dopt;
  auto down = transfer::download(engine, {transfer::DownloadItem{listed[0], dst}}, dopt);
  for (const auto& e : down.failures) ADD_FAILURE() << "download failure: " << e.what();
  EXPECT_EQ(down.files, 1u);
  EXPECT_EQ(down.bytes, size);
  ASSERT_TRUE(fs::exists(dst));
  EXPECT_EQ(fs::file_size(dst), size);
  EXPECT_EQ(sha256_of_file(dst), want_sha) << "downloaded bytes differ from the uploaded file";
  EXPECT_EQ(snapshot_tree(tmp / "dst").size(), 1u) << "a partial file was left behind";

  // Its mtime is the object's LastModified, so a rerun skips it without reading.
  struct stat st {};
  ASSERT_EQ(::stat(dst.c_str(), &st), 0);
  if (listed[0].mtime_epoch_ns != 0) {
    EXPECT_EQ(static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, listed[0].mtime_epoch_ns);
  }
  auto again = transfer::download(engine, {transfer::DownloadItem{listed[0], dst}}, dopt);
  EXPECT_TRUE(again.failures.empty());
  EXPECT_EQ(again.files, 0u);
  EXPECT_EQ(again.skipped_files, 1u);
  EXPECT_EQ(again.skipped_bytes, size);
}

// An object uploaded in one PUT (ETag = MD5) larger than a download part: read in ranged parts,
// then the MD5 of the whole file is checked.
TEST(S3Store, SinglePutObjectLargerThanAPartDownloadsAndIsMd5Checked) {
  TestBucket b("singleput");
  TempDir tmp;
  const uint64_t size = 20 * kMiB + 5;
  const std::string data = random_bytes(size, 6);
  const std::string etag = b.store().put("s/blob", store::Body::from_string(data), {});
  ASSERT_EQ(etag, md5_hex(data));
  auto listed = store::list_all(b.store(), "s/");
  ASSERT_EQ(listed.size(), 1u);
  const std::string dst = tmp / "out/blob";
  transfer::Engine engine(b.store(), transfer::EngineOptions{8});
  auto r = transfer::download(engine, {transfer::DownloadItem{listed[0], dst}}, transfer::DownloadOptions{});
  for (const auto& e : r.failures) ADD_FAILURE() << "download failure: " << e.what();
  EXPECT_EQ(r.files, 1u);
  ASSERT_TRUE(fs::exists(dst));
  EXPECT_EQ(sha256_of_file(dst), sha256_hex(data));
}

// An object that changes between the listing and the download is refused (If-Match), and no file
// appears under the final name.
TEST(S3Store, DownloadOfAnObjectChangedAfterListingFailsWithoutAFinalFile) {
  TestBucket b("changed");
  TempDir tmp;
  const uint64_t size = 20 * kMiB;
  b.store().put("c/obj", store::Body::from_string(random_bytes(size, 3)), {});
  auto listed = store::list_all(b.store(), "c/");
  ASSERT_EQ(listed.size(), 1u);
  b.store().put("c/obj", store::Body::from_string(random_bytes(size, 4)), {});  // same size, new bytes

  const std::string dst = tmp / "out/obj";
  transfer::Engine engine(b.store(), transfer::EngineOptions{8});
  auto r = transfer::download(engine, {transfer::DownloadItem{listed[0], dst}}, transfer::DownloadOptions{});
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].kind(), ErrorKind::kDataLoss) << r.failures[0].what();
  EXPECT_EQ(r.files, 0u);
  EXPECT_FALSE(fs::exists(dst));
  if (fs::exists(tmp / "out")) {
    EXPECT_TRUE(snapshot_tree(tmp / "out").empty()) << "a partial file was left";
  }
}

// ------------------------------------------------------------------------------------------------
// Keys

void expect_round_trip(TestBucket& b, const std::string& prefix, const std::vector<std::string>& keys) {
  std::vector<std::pair<std::string, std::string>> objects;
  for (size_t i = 0; i < keys.size(); ++i) objects.emplace_back(keys[i], "content of " + keys[i] + "\n" + random_bytes(i * 37, i));
  for (const auto& kv : objects) {
    const std::string &k = kv.first, &v = kv.second;  // lambdas capture these (clang 14: not bindings)
    auto e = error_of([&] { b.store().put(k, store::Body::from_string(v), {}); });
    EXPECT_FALSE(e) << "put '" << k << "': " << (e ? e->what() : "");
  }

  std::set<std::string> want(keys.begin(), keys.end());
  auto listed = store::list_all(b.store(), prefix);
  std::set<std::string> got;
  for (const auto& o : listed) got.insert(o.key);
  EXPECT_EQ(got, want) << "the listing does not give back the keys as written";

  for (const auto& kv : objects) {
    const std::string &k = kv.first, &v = kv.second;
    SCOPED_TRACE("key '" + k + "'");
    auto he = error_of([&] {
      store::ObjectInfo info = b.store().head(k);
      EXPECT_EQ(info.size, v.size());
      EXPECT_EQ(info.etag, md5_hex(v));
    });
    EXPECT_FALSE(he) << "head: " << (he ? he->what() : "");
    auto ge = error_of([&] {
      store::GetRequest req;
      req.key = k;
      EXPECT_TRUE(store::get_string(b.store(), req) == v) << "get returned other bytes";
    });
    EXPECT_FALSE(ge) << "get: " << (ge ? ge->what() : "");
    // The key as a listing prefix (query-string encoding) finds exactly itself.
    auto le = error_of([&] {
      store::ListRequest req;
      req.prefix = k;
      store::ListPage page = b.store().list(req);
      ASSERT_EQ(page.objects.size(), 1u);
      EXPECT_EQ(page.objects[0].key, k);
      EXPECT_EQ(page.objects[0].size, v.size());
    });
    EXPECT_FALSE(le) << "list with the key as prefix: " << (le ? le->what() : "");
  }

  for (const auto& k : keys) {
    auto e = error_of([&] { b.store().remove(k); });
    EXPECT_FALSE(e) << "remove '" << k << "': " << (e ? e->what() : "");
  }
  EXPECT_TRUE(store::list_all(b.store(), prefix).empty()) << "keys left after removing them all";
}

TEST(S3Store, KeysWithSpacesUnicodeAndSpecialCharactersRoundTrip) {
  TestBucket b("keys");
  const std::vector<std::string> keys = {
      "sp/with space.txt",
      "sp/two  spaces and a trailing space ",
      "sp/caf\xC3\xA9.txt",                      // é
      "sp/\xE6\x97\xA5\xE6\x9C\xAC/file.bin",     // 日本/
      "sp/emoji-\xF0\x9F\x98\x80.txt",           // 😀
      "sp/a+b.txt",
      "sp/100%.txt",
      "sp/%41%2F looks encoded.txt",             // must not be decoded anywhere
      "sp/k=v.txt",
      "sp/tilde~x.txt",
      "sp/a&b.txt",
      "sp/all of them +%=~& \xC3\xA9\xE6\x97\xA5\xE6\x9C\xAC\xF0\x9F\x98\x80 end",
  };
  expect_round_trip(b, "sp/", keys);

  // Common prefixes with non-ASCII bytes come back decoded.
  b.store().put("sp/\xE6\x97\xA5\xE6\x9C\xAC/x", store::Body::from_string("x"), {});
  b.store().put("sp/a b+c/x", store::Body::from_string("x"), {});
  store::ListRequest req;
  req.prefix = "sp/";
  req.delimiter = "/";
  store::ListPage page = b.store().list(req);
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"sp/a b+c/", "sp/\xE6\x97\xA5\xE6\x9C\xAC/"}));
}

TEST(S3Store, KeysWithOtherReservedCharactersRoundTrip) {
  TestBucket b("reserved");
  expect_round_trip(b, "rs/",
                    {"rs/question?mark", "rs/hash#tag", "rs/semi;colon:at@dollar$comma,", "rs/brackets[]{}()",
                     "rs/bang!star*quote'", "rs/xml<&>\"chars", "rs/back\\slash", "rs/caret^pipe|`grave`"});
}

// Keys are byte strings: "." and ".." segments and "//" must reach the store unchanged (an HTTP
// library that normalises the path sends another key than the one signed).
TEST(S3Store, KeysWithDotSegmentsAndDoubleSlashesRoundTrip) {
  TestBucket b("dots");
  expect_round_trip(b, "dots/",
                    {"dots/../escape", "dots/a/../../x", "dots/./here", "dots/b/.", "dots/c/..", "dots/...",
                     "dots//double", "dots/trailing/../"});
}

// ------------------------------------------------------------------------------------------------
// Zero-byte objects

TEST(S3Store, ZeroByteObjects) {
  TestBucket b("zero");
  TempDir tmp;
  const std::string etag = b.store().put("z/empty", store::Body::from_string(""), {});
  EXPECT_EQ(etag, "d41d8cd98f00b204e9800998ecf8427e");
  store::ObjectInfo info = b.store().head("z/empty");
  EXPECT_EQ(info.size, 0u);
  store::GetRequest req;
  req.key = "z/empty";
  EXPECT_EQ(store::get_string(b.store(), req), "");

  // An empty file uploaded through the transfer layer.
  write_file(tmp / "src/empty", "");
  auto up = transfer::upload(b.store(), {transfer::UploadItem{tmp / "src/empty", 0, "z/uploaded-empty"}}, {});
  for (const auto& e : up.failures) ADD_FAILURE() << e.what();
  EXPECT_EQ(up.files, 1u);
  EXPECT_EQ(b.store().head("z/uploaded-empty").size, 0u);

  // Both download as empty files (the directory is created), and a rerun skips them.
  auto listed = store::list_all(b.store(), "z/");
  ASSERT_EQ(listed.size(), 2u);
  std::vector<transfer::DownloadItem> items;
  for (const auto& o : listed) {
    EXPECT_EQ(o.size, 0u) << o.key;
    items.push_back({o, tmp / ("dst/" + o.key)});
  }
  transfer::Engine engine(b.store(), transfer::EngineOptions{4});
  auto down = transfer::download(engine, items, {});
  for (const auto& e : down.failures) ADD_FAILURE() << e.what();
  EXPECT_EQ(down.files, 2u);
  for (const auto& item : items) {
    ASSERT_TRUE(fs::is_regular_file(item.path)) << item.path;
    EXPECT_EQ(fs::file_size(item.path), 0u);
  }
  EXPECT_EQ(snapshot_tree(tmp / "dst").size(), 2u) << "partial files were left behind";
  auto again = transfer::download(engine, items, {});
  EXPECT_EQ(again.skipped_files, 2u);
  EXPECT_EQ(again.files, 0u);
}

// ------------------------------------------------------------------------------------------------
// Errors

TEST(S3Store, MissingKeyIsNotFound) {
  TestBucket b("missingkey");
  auto e = error_of([&] { b.store().head("no/such/key"); });
  ASSERT_TRUE(e) << "head of a missing key did not throw";
  EXPECT_EQ(e->kind(), ErrorKind::kNotFound) << e->what();
  EXPECT_TRUE(contains(e->what(), "no/such/key")) << e->what();

  store::GetRequest req;
  req.key = "no/such/key";
  auto g = error_of([&] { store::get_string(b.store(), req); });
  ASSERT_TRUE(g) << "get of a missing key did not throw";
  EXPECT_EQ(g->kind(), ErrorKind::kNotFound) << g->what();
}

TEST(S3Store, GetWithStaleETagIsDataLoss) {
  TestBucket b("etag");
  const std::string data = random_bytes(100000, 5);
  const std::string etag = b.store().put("e/obj", store::Body::from_string(data), {});
  ASSERT_FALSE(etag.empty());

  store::GetRequest req;
  req.key = "e/obj";
  req.if_match = "0123456789abcdef0123456789abcdef";
  auto e = error_of([&] { store::get_string(b.store(), req); });
  ASSERT_TRUE(e) << "a GET pinned to a wrong ETag succeeded";
  EXPECT_EQ(e->kind(), ErrorKind::kDataLoss) << e->what();

  req.range = store::ByteRange{10, 20};
  auto r = error_of([&] { store::get_string(b.store(), req); });
  ASSERT_TRUE(r) << "a ranged GET pinned to a wrong ETag succeeded";
  EXPECT_EQ(r->kind(), ErrorKind::kDataLoss) << r->what();

  req.if_match = etag;
  EXPECT_EQ(store::get_string(b.store(), req), data.substr(10, 11));
}

TEST(S3Store, MissingBucketIsNotFoundNamingTheBucket) {
  const std::string bucket = unique_bucket_name("missing");
  auto s = open_s3(bucket, store_env());
  auto check = [&](const char* what, const std::optional<Error>& e) {
    ASSERT_TRUE(e) << what << " in a missing bucket did not throw";
    EXPECT_EQ(e->kind(), ErrorKind::kNotFound) << what << ": " << e->what();
    EXPECT_TRUE(contains(e->what(), bucket)) << what << ": the message does not name the bucket: " << e->what();
  };
  check("list", error_of([&] {
          store::ListRequest req;
          req.prefix = "p/";
          s->list(req);
        }));
  check("head", error_of([&] { s->head("k"); }));
  check("get", error_of([&] {
          store::GetRequest req;
          req.key = "k";
          store::get_string(*s, req);
        }));
  check("put", error_of([&] { s->put("k", store::Body::from_string("x"), {}); }));
}

TEST(S3Store, WrongSecretIsAccessDeniedAndNeverShown) {
  TestBucket b("secret");
  b.store().put("s/obj", store::Body::from_string("secret stuff"), {});
  const std::string real_secret = store_env().at("AWS_SECRET_ACCESS_KEY");
  const std::string wrong = "WrongSecretKeyWrongSecretKeyWrongSecret1";
  auto s = open_s3(b.name(), env_with({{"AWS_SECRET_ACCESS_KEY", wrong}}));
  auto check = [&](const char* what, const std::optional<Error>& e) {
    ASSERT_TRUE(e) << what << " with a wrong secret did not throw";
    EXPECT_EQ(e->kind(), ErrorKind::kAccessDenied) << what << ": " << e->what();
    EXPECT_FALSE(contains(all_text(*e), wrong)) << what << ": the message contains the secret: " << e->what();
    EXPECT_FALSE(contains(all_text(*e), real_secret)) << what << ": the message contains the real secret";
    EXPECT_FALSE(contains(all_text(*e), wrong.substr(0, 12))) << what << ": the message contains part of the secret";
  };
  check("list", error_of([&] { s->list(store::ListRequest{}); }));
  check("head", error_of([&] { s->head("s/obj"); }));
  check("get", error_of([&] {
          store::GetRequest req;
          req.key = "s/obj";
          store::get_string(*s, req);
        }));
  check("put", error_of([&] { s->put("s/other", store::Body::from_string("x"), {}); }));

  // An access key id the store does not know: access denied too, and the secret is not shown.
  auto u = open_s3(b.name(), env_with({{"AWS_ACCESS_KEY_ID", "UNKNOWNACCESSKEYID00"}}));
  auto e = error_of([&] { u->list(store::ListRequest{}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kAccessDenied) << e->what();
  EXPECT_FALSE(contains(all_text(*e), real_secret)) << e->what();
}

}  // namespace
}  // namespace sluice::itest
