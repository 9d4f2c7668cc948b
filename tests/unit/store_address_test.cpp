// store::Address, naming an object or a prefix: parse_address (s3:// and file:// URIs; every
// other text refused), Address::of (the one conversion from a user's parsed Location, local paths
// included), uri() round trips, and the store an address is in.
#include "store/address.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/location.hpp"

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

}  // namespace
}  // namespace sluice::store
