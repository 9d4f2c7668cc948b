// store::Address and store::Registry, naming an object and finding its store: parse_address
// (s3:// and file:// URIs; every other text refused), Address::of (the one conversion from a
// user's parsed Location, local paths included), uri() round trips, and a Registry that opens one
// store per bucket and one for the file system, once each, decorated by its Wrap.
#include "store/registry.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/location.hpp"
#include "store/address.hpp"
#include "store/forwarding_store.hpp"
#include "store/memory_store.hpp"

namespace sluice::store {
namespace {

using namespace std::string_literals;
using Scheme = Address::Scheme;

TEST(StoreAddress, ParsesS3AndFileUris) {
  EXPECT_EQ(parse_address("s3://bucket/a/b"), (Address{Scheme::kS3, "bucket", "a/b"}));
  EXPECT_EQ(parse_address("s3://bucket/a/b/"), (Address{Scheme::kS3, "bucket", "a/b/"}));
  EXPECT_EQ(parse_address("s3://bucket"), (Address{Scheme::kS3, "bucket", ""}));
  EXPECT_EQ(parse_address("s3://bucket/"), (Address{Scheme::kS3, "bucket", ""}));
  // S3 keys are kept byte for byte, even odd ones.
  EXPECT_EQ(parse_address("s3://bucket/a//b/../c"), (Address{Scheme::kS3, "bucket", "a//b/../c"}));
  EXPECT_EQ(parse_address("file:///data/train/"), (Address{Scheme::kFile, "", "data/train/"}));
  EXPECT_EQ(parse_address("file:///data/train"), (Address{Scheme::kFile, "", "data/train"}));
  EXPECT_EQ(parse_address("file:///data/./x/../train/"), (Address{Scheme::kFile, "", "data/train/"}));
  EXPECT_EQ(parse_address("file:///"), (Address{Scheme::kFile, "", ""}));
}

TEST(StoreAddress, UriRoundTrips) {
  for (std::string uri : {"s3://bucket/a/b"s, "s3://bucket/"s, "file:///data/x"s, "file:///data/x/"s}) {
    EXPECT_EQ(parse_address(uri).uri(), uri);
  }
}

TEST(StoreAddress, RefusesOtherSchemesAndBadBuckets) {
  for (std::string uri : {"https://bucket.s3.amazonaws.com/x"s, "http://x/y"s, "/plain/path"s, "relative"s, ""s,
                          "S3://bucket/x"s, "s3://"s, "s3:///key"s, "s3://ab/x"s, "s3://bad*bucket/x"s,
                          "file://relative/path"s, "s3://bucket/a\0b"s}) {
    SCOPED_TRACE(uri);
    try {
      parse_address(uri);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    }
  }
}

TEST(StoreAddress, OfAUsersLocation) {
  EXPECT_EQ(Address::of(parse_location("s3://bkt/p/")), (Address{Scheme::kS3, "bkt", "p/"}));
  // A plain path is the file system's: the key is the normalised path without its leading '/',
  // and a '/' the user wrote at the end stays (the prefix of a directory).
  EXPECT_EQ(Address::of(parse_location("/srv/./data")), (Address{Scheme::kFile, "", "srv/data"}));
  EXPECT_EQ(Address::of(parse_location("/srv/data/")), (Address{Scheme::kFile, "", "srv/data/"}));
  EXPECT_EQ(Address::of(parse_location("/")), (Address{Scheme::kFile, "", ""}));
  EXPECT_EQ(Address::of(parse_location("/srv/data/")).uri(), "file:///srv/data/");
}

TEST(StoreAddress, StoreIdNamesTheBucketOrTheFileSystem) {
  EXPECT_EQ(parse_address("s3://bkt/a/b").store_id(), "s3://bkt");
  EXPECT_EQ(parse_address("file:///a/b").store_id(), "file://");
  EXPECT_EQ(parse_address("file:///a").store_id(), parse_address("file:///c/d").store_id());
}

// Records the stores a Registry's Wrap decorated.
class Tagged final : public ForwardingStore {
 public:
  Tagged(ObjectStore& inner, std::string tag) : ForwardingStore(inner), tag_(std::move(tag)) {}
  std::string describe() const override { return tag_ + "(" + inner().describe() + ")"; }

 private:
  std::string tag_;
};

TEST(StoreRegistry, OpensOneStorePerBucketOnce) {
  std::vector<std::string> opened;
  Registry stores({}, {}, [&](const Address& where) {
    opened.push_back(where.uri());
    return std::make_unique<MemoryStore>(where.store_id());
  });
  ObjectStore& a = stores(parse_address("s3://bucket-a/x"));
  EXPECT_EQ(&a, &stores(parse_address("s3://bucket-a/y/z")));
  ObjectStore& b = stores(parse_address("s3://bucket-b/x"));
  EXPECT_NE(&a, &b);
  ObjectStore& f = stores(parse_address("file:///tmp/x"));
  EXPECT_EQ(&f, &stores(parse_address("file:///var/y")));
  EXPECT_EQ(opened, (std::vector<std::string>{"s3://bucket-a/x", "s3://bucket-b/x", "file:///tmp/x"}));
  EXPECT_EQ(b.describe(), "memory:s3://bucket-b");
  EXPECT_EQ(&stores.store_for()(parse_address("s3://bucket-b/k")), &b);
}

TEST(StoreRegistry, HandsOutTheDecoratorOfWhatItOpened) {
  int wrapped = 0;
  Registry stores(
      {},
      [&](ObjectStore& inner, const Address& where) -> std::unique_ptr<ObjectStore> {
        ++wrapped;
        return std::make_unique<Tagged>(inner, where.bucket);
      },
      [](const Address&) { return std::make_unique<MemoryStore>("m"); });
  ObjectStore& s = stores(parse_address("s3://bkt/a"));
  EXPECT_EQ(s.describe(), "bkt(memory:m)");
  EXPECT_EQ(&s, &stores(parse_address("s3://bkt/b")));
  EXPECT_EQ(wrapped, 1);
}

TEST(StoreRegistry, OpensTheFileSystemWithoutAnOpener) {
  Registry stores;
  ObjectStore& f = stores(parse_address("file:///x"));
  EXPECT_EQ(&f, &stores(parse_address("file:///y/z")));
}

}  // namespace
}  // namespace sluice::store
