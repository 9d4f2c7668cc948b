// store::MemoryStore answers like S3: listings page by page with common prefixes, ranges, If-Match,
// MD5 and multipart ETags, and NoSuchKey / NoSuchUpload as kNotFound.
#include "store/memory_store.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace sluice::store {
namespace {

std::string get(MemoryStore& s, GetRequest r) { return get_string(s, r); }

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::kInternal;
}

TEST(MemoryStore, PutHeadGetAndRanges) {
  MemoryStore s("t", 3);  // 3-byte chunks: a get calls the sink several times
  const std::string etag = s.put("k", store::Body::from_string("hello world"));
  Digest d(Digest::Algo::kMd5);
  d.update("hello world");
  EXPECT_EQ(etag, d.finish_hex());
  EXPECT_EQ(s.head("k").size, 11u);
  EXPECT_EQ(s.head("k").etag, etag);
  EXPECT_EQ(get(s, {"k", std::nullopt, ""}), "hello world");
  EXPECT_EQ(get(s, {"k", ByteRange{6, 10}, ""}), "world");
  EXPECT_EQ(get(s, {"k", ByteRange{6, 100}, ""}), "world") << "a range past the end is cut short, like S3";
  EXPECT_EQ(get(s, {"k", std::nullopt, etag}), "hello world");
  EXPECT_EQ(kind_of([&] { get(s, {"k", ByteRange{11, 12}, ""}); }), ErrorKind::kInvalidInput);
  EXPECT_EQ(kind_of([&] { get(s, {"k", std::nullopt, "other"}); }), ErrorKind::kDataLoss);
  EXPECT_EQ(kind_of([&] { get(s, {"missing", std::nullopt, ""}); }), ErrorKind::kNotFound);
  EXPECT_EQ(kind_of([&] { s.head("missing"); }), ErrorKind::kNotFound);
  s.remove("k");
  s.remove("k");  // removing a missing key succeeds
  EXPECT_FALSE(s.contents("k"));
}

TEST(MemoryStore, ASinkThatRefusesCancels) {
  MemoryStore s("t", 2);
  s.put("k", store::Body::from_string("abcdef"));
  std::exception_ptr error;
  size_t calls = 0;
  s.get({"k", std::nullopt, ""}, [&](const char*, size_t) { return ++calls < 2; }, [&](std::exception_ptr e) { error = e; });
  EXPECT_EQ(calls, 2u);
  ASSERT_TRUE(error);
  EXPECT_EQ(kind_of([&] { std::rethrow_exception(error); }), ErrorKind::kCancelled);
}

TEST(MemoryStore, ListingsPageLikeS3) {
  MemoryStore s;
  for (const char* k : {"a/1", "a/2", "a/sub/3", "a/sub/4", "a/tub/5", "b/6", "a0"}) s.put(k, store::Body::from_string(k));
  // Recursive, every page size: the same keys in order, nothing twice.
  for (int max = 1; max <= 8; ++max) {
    std::vector<std::string> keys;
    ListRequest r{"a/", "", "", max};
    for (int pages = 0; pages < 20; ++pages) {
      ListPage p = s.list(r);
      EXPECT_LE(static_cast<int>(p.objects.size()), max);
      for (const auto& o : p.objects) keys.push_back(o.key);
      if (p.next_continuation_token.empty()) break;
      r.continuation_token = p.next_continuation_token;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/sub/3", "a/sub/4", "a/tub/5"})) << "max " << max;
  }
  // With a delimiter: common prefixes count toward max-keys and appear once.
  for (int max = 1; max <= 5; ++max) {
    std::vector<std::string> keys, prefixes;
    ListRequest r{"a/", "/", "", max};
    for (int pages = 0; pages < 20; ++pages) {
      ListPage p = s.list(r);
      EXPECT_LE(static_cast<int>(p.objects.size() + p.common_prefixes.size()), max);
      for (const auto& o : p.objects) keys.push_back(o.key);
      for (const auto& c : p.common_prefixes) prefixes.push_back(c);
      if (p.next_continuation_token.empty()) break;
      r.continuation_token = p.next_continuation_token;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2"})) << "max " << max;
    EXPECT_EQ(prefixes, (std::vector<std::string>{"a/sub/", "a/tub/"})) << "max " << max;
  }
  EXPECT_EQ(list_all(s, "").size(), 7u);
}

TEST(MemoryStore, MultipartUploads) {
  MemoryStore s;
  const std::string id = s.create_multipart("big");
  std::vector<std::string> etags(2);
  for (int part : {2, 1}) {
    s.upload_part("big", id, part, store::Body::from_string(part == 1 ? "first-" : "second"),
                  [&](std::exception_ptr e, std::string etag) {
                    EXPECT_FALSE(e);
                    etags[part - 1] = etag;
                  });
  }
  EXPECT_EQ(s.open_uploads(), 1u);
  EXPECT_EQ(kind_of([&] { s.complete_multipart("big", id, {etags[1], etags[0]}); }), ErrorKind::kInvalidInput);
  const std::string etag = s.complete_multipart("big", id, etags);
  EXPECT_EQ(etag.substr(etag.size() - 2), "-2");
  EXPECT_EQ(s.contents("big"), "first-second");
  EXPECT_EQ(s.open_uploads(), 0u);
  EXPECT_EQ(kind_of([&] { s.complete_multipart("big", id, etags); }), ErrorKind::kNotFound);
  const std::string gone = s.create_multipart("x");
  s.abort_multipart("x", gone);
  EXPECT_EQ(s.open_uploads(), 0u);
  EXPECT_FALSE(s.contents("x"));
}

}  // namespace
}  // namespace sluice::store
