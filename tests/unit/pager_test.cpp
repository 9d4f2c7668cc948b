// store::Pager: the pages of a listing in order, and the check that the store moves forward (a
// store cycling through new continuation tokens is an error after kMaxStalledPages pages without
// anything new; a few empty or repeated pages are let through). Against a scripted in-memory
// store: only list() is used.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/object_store.hpp"
#include "support/read_only_store.hpp"

namespace sluice::store {
namespace {

// Answers list() with script(request, call number); everything else is not expected.
class ScriptedListing final : public testing::ReadOnlyTestStore {
 public:
  using Script = std::function<ListPage(const ListRequest&, int)>;
  explicit ScriptedListing(Script script) : script_(std::move(script)) {}
  std::string describe() const override { return "s3://bkt"; }
  ListPage list(const ListRequest& request) override {
    requests.push_back(request);
    return script_(request, calls++);
  }
  ObjectInfo head(const std::string&) override { throw unused("head"); }
  void get(const GetRequest&, DataSink, Completion) override { throw unused("get"); }

  int calls = 0;
  std::vector<ListRequest> requests;

 private:
  Script script_;
};

ListPage page(std::vector<std::string> keys, std::string next = {}, std::vector<std::string> prefixes = {}) {
  ListPage p;
  for (auto& k : keys) p.objects.push_back(ObjectInfo{std::move(k), 1, "e", 0});
  p.common_prefixes = std::move(prefixes);
  p.next_continuation_token = std::move(next);
  return p;
}

std::vector<std::string> all_keys(ObjectStore& store, ListRequest req = {}) {
  std::vector<std::string> out;
  Pager pager(store, std::move(req));
  while (auto p = pager.next()) {
    for (const auto& o : p->objects) out.push_back(o.key);
    for (const auto& c : p->common_prefixes) out.push_back(c);
  }
  return out;
}

TEST(Pager, FollowsTokensInOrderAndStopsAtTheLastPage) {
  ScriptedListing store([](const ListRequest& r, int) {
    if (r.continuation_token.empty()) return page({"a", "b"}, "t1");
    if (r.continuation_token == "t1") return page({"c"}, "t2", {"d/"});
    return page({"e"});
  });
  ListRequest req;
  req.prefix = "";
  req.delimiter = "/";
  EXPECT_EQ(all_keys(store, req), (std::vector<std::string>{"a", "b", "c", "d/", "e"}));
  ASSERT_EQ(store.requests.size(), 3u);
  EXPECT_EQ(store.requests[1].continuation_token, "t1");
  EXPECT_EQ(store.requests[2].continuation_token, "t2");
  for (const auto& r : store.requests) EXPECT_EQ(r.delimiter, "/");
}

TEST(Pager, AnEmptyListingIsOnePage) {
  ScriptedListing store([](const ListRequest&, int) { return page({}); });
  Pager pager(store, {});
  auto p = pager.next();
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->objects.empty());
  EXPECT_FALSE(pager.next());
  EXPECT_FALSE(pager.next());
  EXPECT_EQ(store.calls, 1);
}

TEST(Pager, SomeEmptyPagesBeforeMoreKeysAreLetThrough) {
  const int empty = Pager::kMaxStalledPages - 1;
  ScriptedListing store([&](const ListRequest&, int i) {
    if (i == 0) return page({"a"}, "t0");
    if (i <= empty) return page({}, "t" + std::to_string(i));
    return page({"b"});
  });
  EXPECT_EQ(all_keys(store), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(store.calls, empty + 2);
}

TEST(Pager, ACyclingStoreIsAnErrorAfterTheLimit) {
  // New tokens, the same keys again: without the check this never ends.
  ScriptedListing store([](const ListRequest&, int i) { return page({"pre/a", "pre/b"}, "t" + std::to_string(i)); });
  ListRequest req;
  req.prefix = "pre/";
  try {
    all_keys(store, req);
    FAIL() << "a cycling listing ended";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    const std::string what = e.what();
    EXPECT_NE(what.find("listing s3://bkt/pre/"), std::string::npos) << what;
    EXPECT_NE(what.find("not moving forward"), std::string::npos) << what;
    EXPECT_NE(what.find("'pre/b'"), std::string::npos) << what;
  }
  EXPECT_EQ(store.calls, 1 + Pager::kMaxStalledPages);
}

TEST(Pager, PagesThatGoBackwardsCountAsStalled) {
  // Each page holds keys before the greatest so far: the store is not moving forward either.
  ScriptedListing store([](const ListRequest&, int i) {
    if (i == 0) return page({"m"}, "t0");
    return page({"a" + std::to_string(i)}, "t" + std::to_string(i));
  });
  EXPECT_THROW(all_keys(store), Error);
  EXPECT_EQ(store.calls, 1 + Pager::kMaxStalledPages);
}

TEST(Pager, ProgressResetsTheCount) {
  // Stalled pages between pages that move forward never add up to the limit.
  const int rounds = 5, stall = Pager::kMaxStalledPages - 1;
  ScriptedListing store([&](const ListRequest&, int i) {
    const int round = i / (stall + 1);
    if (round >= rounds) return page({});
    if (i % (stall + 1) == 0) return page({"k" + std::to_string(round)}, "t" + std::to_string(i));
    return page({"k0"}, "t" + std::to_string(i));
  });
  EXPECT_EQ(all_keys(store).size(), static_cast<size_t>(rounds + (rounds * stall)));
}

}  // namespace
}  // namespace sluice::store
