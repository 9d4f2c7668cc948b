// The ObjectStore contract (store/object_store.hpp), one suite for every backend: a test file
// includes this header and instantiates StoreConformance with the backends it can make
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance, testing::Values(Backend{"memory", make}));
// tests/unit/store_conformance_test.cpp: memory, file, authorizing (over memory), faults (a
// FaultStore that injects nothing); tests/integration/store_conformance_rgw_test.cpp: S3 against
// the local Ceph RGW. Keys are chosen so that every backend can hold them (no key that is both an
// object and a "directory", which a file system cannot be).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/object_store.hpp"

namespace sluice::testing {

// A store under test and whatever keeps it alive; empty (a bucket, a directory) when made.
struct StoreUnderTest {
  virtual ~StoreUnderTest() = default;
  virtual store::ObjectStore& store() = 0;
};

struct Backend {
  std::string name;
  std::function<std::unique_ptr<StoreUnderTest>()> make;
};

inline std::string PrintToString(const Backend& b) { return b.name; }

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { under_ = GetParam().make(); }
  void TearDown() override { under_.reset(); }
  store::ObjectStore& s() { return under_->store(); }

  void put(const std::string& key, const std::string& data) { s().put(key, store::Body::from_string(data)); }

  // The error kind a call throws (or a get completes with); nullopt when it succeeds.
  static std::optional<ErrorKind> kind_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.kind();
    }
    return std::nullopt;
  }

  std::vector<std::string> keys_of(const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& o : store::list_all(s(), prefix)) out.push_back(o.key);
    return out;
  }

 private:
  std::unique_ptr<StoreUnderTest> under_;
};

TEST_P(StoreConformance, PutThenHeadAndGetGiveTheBytes) {
  put("c/one.txt", "hello conformance");
  const auto info = s().head("c/one.txt");
  EXPECT_EQ(info.key, "c/one.txt");
  EXPECT_EQ(info.size, 17u);
  EXPECT_FALSE(info.etag.empty());
  EXPECT_EQ(store::get_string(s(), {"c/one.txt", std::nullopt, ""}), "hello conformance");
  EXPECT_EQ(store::get_string(s(), {"c/one.txt", store::ByteRange{6, 16}, ""}), "conformance");
  EXPECT_EQ(store::get_string(s(), {"c/one.txt", store::ByteRange{0, 0}, ""}), "h");
  // A read pinned to the ETag head gave succeeds.
  EXPECT_EQ(store::get_string(s(), {"c/one.txt", std::nullopt, info.etag}), "hello conformance");
}

TEST_P(StoreConformance, AnEmptyObjectExists) {
  put("c/empty", "");
  EXPECT_EQ(s().head("c/empty").size, 0u);
  EXPECT_EQ(store::get_string(s(), {"c/empty", std::nullopt, ""}), "");
  EXPECT_EQ(keys_of("c/"), (std::vector<std::string>{"c/empty"}));
}

TEST_P(StoreConformance, AMissingKeyIsNotFound) {
  EXPECT_EQ(kind_of([&] { s().head("c/missing"); }), ErrorKind::kNotFound);
  EXPECT_EQ(kind_of([&] { store::get_string(s(), {"c/missing", std::nullopt, ""}); }), ErrorKind::kNotFound);
  EXPECT_TRUE(keys_of("c/missing").empty());
}

TEST_P(StoreConformance, AChangedObjectFailsAPinnedRead) {
  put("c/pinned", "first version");
  const auto before = s().head("c/pinned");
  put("c/pinned", "second version, longer");
  const auto after = s().head("c/pinned");
  ASSERT_NE(before.etag, after.etag);
  EXPECT_EQ(kind_of([&] { store::get_string(s(), {"c/pinned", std::nullopt, before.etag}); }), ErrorKind::kDataLoss);
  EXPECT_EQ(store::get_string(s(), {"c/pinned", std::nullopt, ""}), "second version, longer");
}

TEST_P(StoreConformance, ListingsAreOrderedPagedAndGrouped) {
  const std::vector<std::string> keys = {"l/a", "l/b/1", "l/b/2", "l/c", "l/d/e/3", "m/x"};
  for (const auto& k : keys) put(k, k);
  EXPECT_EQ(keys_of("l/"), (std::vector<std::string>{"l/a", "l/b/1", "l/b/2", "l/c", "l/d/e/3"}));
  // Page by page, two at a time.
  std::vector<std::string> paged;
  store::ListRequest r{"l/", "", "", 2};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = s().list(r);
    EXPECT_LE(page.objects.size(), 2u);
    for (const auto& o : page.objects) paged.push_back(o.key);
    if (page.next_continuation_token.empty()) break;
    r.continuation_token = page.next_continuation_token;
  }
  EXPECT_EQ(paged, keys_of("l/"));
  // One level: objects and common prefixes.
  std::vector<std::string> objects, prefixes;
  store::Pager pager(s(), {"l/", "/", "", 1000});
  while (auto page = pager.next()) {
    for (const auto& o : page->objects) objects.push_back(o.key);
    for (const auto& p : page->common_prefixes) prefixes.push_back(p);
  }
  EXPECT_EQ(objects, (std::vector<std::string>{"l/a", "l/c"}));
  EXPECT_EQ(prefixes, (std::vector<std::string>{"l/b/", "l/d/"}));
  // Sizes come with the listing.
  for (const auto& o : store::list_all(s(), "l/")) EXPECT_EQ(o.size, o.key.size()) << o.key;
}

TEST_P(StoreConformance, RemoveDeletesAndRemovingAgainSucceeds) {
  put("r/gone", "x");
  put("r/kept", "y");
  s().remove("r/gone");
  EXPECT_EQ(kind_of([&] { s().head("r/gone"); }), ErrorKind::kNotFound);
  EXPECT_EQ(keys_of("r/"), (std::vector<std::string>{"r/kept"}));
  EXPECT_EQ(kind_of([&] { s().remove("r/gone"); }), std::nullopt);
}

TEST_P(StoreConformance, MultipartUploadsJoinTheirPartsInOrder) {
  if (!s().supports_multipart()) GTEST_SKIP() << "no multipart uploads";
  const std::string part1(5 << 20, 'a');  // S3's smallest part but the last
  const std::string part2 = "the end";
  const std::string id = s().create_multipart("mp/obj");
  std::vector<std::string> etags(2);
  for (int n : {1, 2}) {
    // Completion may come on another thread (the S3 store's transfer thread).
    std::promise<std::pair<std::exception_ptr, std::string>> done;
    s().upload_part("mp/obj", id, n, store::Body::from_string(n == 1 ? part1 : part2),
                    [&done](std::exception_ptr e, std::string etag) { done.set_value({e, etag}); });
    auto [error, etag] = done.get_future().get();
    ASSERT_FALSE(error);
    ASSERT_FALSE(etag.empty());
    etags[n - 1] = etag;
  }
  s().complete_multipart("mp/obj", id, etags);
  EXPECT_EQ(s().head("mp/obj").size, part1.size() + part2.size());
  EXPECT_EQ(store::get_string(s(), {"mp/obj", store::ByteRange{part1.size() - 2, part1.size() + 6}, ""}), "aathe end");
  // An aborted upload leaves nothing.
  const std::string gone = s().create_multipart("mp/aborted");
  s().abort_multipart("mp/aborted", gone);
  EXPECT_EQ(kind_of([&] { s().head("mp/aborted"); }), ErrorKind::kNotFound);
}

}  // namespace sluice::testing
