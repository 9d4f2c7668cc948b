// parse_location: s3://, file:// and local paths, and the errors for everything else.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/location.hpp"

namespace sluice {
namespace {

using namespace std::string_literals;

Error refusal(std::string_view text) {
  try {
    Location l = parse_location(text);
    ADD_FAILURE() << "'" << text << "' was accepted as " << l.str();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "'" << text << "' threw a non-Error: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

// Refused with kInvalidInput, the message naming the input and containing `why_part`.
void expect_refused(std::string_view text, std::string_view why_part = "") {
  SCOPED_TRACE("'" + std::string(text) + "'");
  Error e = refusal(text);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
  std::string what = e.what();
  if (text.find('\0') == std::string_view::npos) {
    EXPECT_NE(what.find("'" + std::string(text) + "'"), std::string::npos) << what;
  }
  if (!why_part.empty()) {
    EXPECT_NE(what.find(why_part), std::string::npos) << what;
  }
}

std::string cwd() { return std::filesystem::current_path().string(); }

// ---- s3:// ------------------------------------------------------------------------------------

TEST(Location, S3BucketAndKey) {
  Location l = parse_location("s3://bucket/key");
  EXPECT_TRUE(l.is_s3());
  EXPECT_EQ(l.kind, Location::Kind::kS3);
  EXPECT_EQ(l.bucket, "bucket");
  EXPECT_EQ(l.key, "key");
  EXPECT_FALSE(l.trailing_slash);
  EXPECT_TRUE(l.path.empty());
  EXPECT_EQ(l.str(), "s3://bucket/key");
}

TEST(Location, S3NestedKeyKeptVerbatim) {
  Location l = parse_location("s3://my-bucket.v2/data/train/part 1+%20.txt");
  EXPECT_EQ(l.bucket, "my-bucket.v2");
  EXPECT_EQ(l.key, "data/train/part 1+%20.txt");  // no decoding: keys are byte strings
  Location d = parse_location("s3://bkt/a/../b");
  EXPECT_EQ(d.key, "a/../b");  // not normalised either: S3 keys are not paths
}

TEST(Location, S3BucketOnly) {
  Location l = parse_location("s3://bucket");
  EXPECT_TRUE(l.is_s3());
  EXPECT_EQ(l.bucket, "bucket");
  EXPECT_EQ(l.key, "");
  EXPECT_FALSE(l.trailing_slash);
}

TEST(Location, S3BucketWithSlash) {
  Location l = parse_location("s3://bucket/");
  EXPECT_EQ(l.bucket, "bucket");
  EXPECT_EQ(l.key, "");
  EXPECT_TRUE(l.trailing_slash);
  EXPECT_EQ(l.str(), "s3://bucket/");
}

TEST(Location, S3TrailingSlashFlag) {
  Location dir = parse_location("s3://bucket/data/");
  EXPECT_EQ(dir.key, "data/");
  EXPECT_TRUE(dir.trailing_slash);
  Location obj = parse_location("s3://bucket/data");
  EXPECT_EQ(obj.key, "data");
  EXPECT_FALSE(obj.trailing_slash);
}

TEST(Location, S3WithoutBucketRefused) {
  expect_refused("s3://", "no bucket");
  expect_refused("s3:///k", "no bucket");
  expect_refused("s3:///", "no bucket");
}

TEST(Location, BucketNameLength) {
  EXPECT_NO_THROW(parse_location("s3://abc"));
  EXPECT_NO_THROW(parse_location("s3://" + std::string(63, 'b') + "/k"));
  expect_refused("s3://ab/k", "3 to 63");
  expect_refused("s3://a", "3 to 63");
  expect_refused("s3://" + std::string(64, 'b') + "/k", "3 to 63");
}

TEST(Location, BucketNameCharacters) {
  for (std::string ok : {"s3://a-b.c_d"s, "s3://123"s, "s3://MixedCase"s}) {
    EXPECT_NO_THROW(parse_location(ok)) << ok;
  }
  expect_refused("s3://bad!name/k", "'!'");
  expect_refused("s3://has space/k", "' '");
  expect_refused("s3://host:9000/k", "':'");
  expect_refused("s3://user@bucket/k", "'@'");
  expect_refused("s3://b\xC3\xA9t/k");
  expect_refused("s3://bu?cket");
}

// ---- file:// ----------------------------------------------------------------------------------

TEST(Location, FileAbsolute) {
  Location l = parse_location("file:///abs/path");
  EXPECT_FALSE(l.is_s3());
  EXPECT_EQ(l.kind, Location::Kind::kLocal);
  EXPECT_EQ(l.path, "/abs/path");
  EXPECT_FALSE(l.trailing_slash);
  EXPECT_EQ(l.str(), "/abs/path");
  EXPECT_TRUE(l.bucket.empty());
  EXPECT_TRUE(l.key.empty());
}

TEST(Location, FileNormalisedAndTrailingSlash) {
  Location l = parse_location("file:///data/./set/../other//x/");
  EXPECT_EQ(l.path, "/data/other/x");
  EXPECT_TRUE(l.trailing_slash);
  EXPECT_EQ(parse_location("file:///").path, "/");
  EXPECT_EQ(parse_location("file:///..").path, "/");
}

TEST(Location, FileRelativeRefused) {
  expect_refused("file://rel", "absolute");
  expect_refused("file://rel/path", "absolute");
  expect_refused("file://", "absolute");
  expect_refused("file://./x", "absolute");
}

TEST(Location, UnknownSchemeNamed) {
  expect_refused("ftp://host/x", "'ftp'");
  expect_refused("http://host/x", "'http'");
  expect_refused("gs://bucket/x", "'gs'");
  expect_refused("s3a://bucket/x", "'s3a'");
}

// ---- plain paths ------------------------------------------------------------------------------

TEST(Location, AbsolutePath) {
  Location l = parse_location("/tmp/some/dir");
  EXPECT_EQ(l.kind, Location::Kind::kLocal);
  EXPECT_EQ(l.path, "/tmp/some/dir");
  EXPECT_FALSE(l.trailing_slash);
  Location s = parse_location("/tmp/some/dir/");
  EXPECT_EQ(s.path, "/tmp/some/dir");
  EXPECT_TRUE(s.trailing_slash);
  EXPECT_EQ(parse_location("/").path, "/");
  EXPECT_TRUE(parse_location("/").trailing_slash);
}

TEST(Location, RelativePathMadeAbsoluteAndNormalised) {
  EXPECT_EQ(parse_location("rel").path, cwd() + "/rel");
  EXPECT_EQ(parse_location("rel/dir/../x").path, cwd() + "/rel/x");
  EXPECT_EQ(parse_location("./a/./b").path, cwd() + "/a/b");
  EXPECT_EQ(parse_location("a//b").path, cwd() + "/a/b");
  EXPECT_EQ(parse_location(".").path, cwd());
  EXPECT_EQ(parse_location("./").path, cwd());
  Location up = parse_location("..");
  EXPECT_EQ(up.path, std::filesystem::path(cwd()).parent_path().string());
  Location d = parse_location("out/");
  EXPECT_EQ(d.path, cwd() + "/out");
  EXPECT_TRUE(d.trailing_slash);
  for (const char* t : {"rel", "a/../b", ".", "..", "x/y/"}) {
    std::string p = parse_location(t).path;
    EXPECT_TRUE(std::filesystem::path(p).is_absolute()) << t << " -> " << p;
    EXPECT_EQ(p, std::filesystem::path(p).lexically_normal().string().substr(0, p.size())) << p;
    EXPECT_TRUE(p == "/" || p.back() != '/') << p;
  }
}

TEST(Location, NamesThatOnlyContainS3ArePaths) {
  EXPECT_EQ(parse_location("s3").path, cwd() + "/s3");
  EXPECT_EQ(parse_location("s3/bucket").path, cwd() + "/s3/bucket");
  EXPECT_EQ(parse_location("./s3:bucket").path, cwd() + "/s3:bucket");  // how to name such a file
  EXPECT_EQ(parse_location("my-s3:bucket").path, cwd() + "/my-s3:bucket");
}

// Almost an S3 URI: refused, naming the input and suggesting the URI, never a local path.
TEST(Location, NearMissS3UrisRefusedWithSuggestion) {
  const std::pair<const char*, const char*> cases[] = {
      {"s3:/bucket/key", "'s3://bucket/key'"},  {"s3:bucket/key", "'s3://bucket/key'"},
      {"s3:bucket", "'s3://bucket'"},           {"S3://bucket/key", "'s3://bucket/key'"},
      {"S3:/bucket", "'s3://bucket'"},          {"s3:\\\\bucket\\k", "'s3://bucket\\k'"},
      {"s3:", "'s3://'"},                       {"s3:/", "'s3://'"},
      {"S3:///bucket/", "'s3://bucket/'"},
  };
  for (const auto& [text, suggestion] : cases) {
    expect_refused(text, "not an S3 URI");
    expect_refused(text, std::string("did you mean ") + suggestion);
    expect_refused(text, std::string("./") + text);
  }
}

// ---- always refused ------------------------------------------------------------------------------

TEST(Location, EmptyRefused) { expect_refused("", "empty"); }

TEST(Location, NulRefused) {
  for (std::string text : {"s3://bucket/a\0b"s, "/tmp/a\0b"s, "file:///a\0"s}) {
    SCOPED_TRACE(text.substr(0, text.find('\0')));
    Error e = refusal(text);
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(e.cause().find("NUL"), std::string::npos) << e.cause();
  }
}

// what() is a C string: a raw NUL in the message cuts it short, hiding the reason. The input
// must be shown with the NUL escaped (as dataset/key_path.cpp does for keys).
TEST(Location, NulShownEscapedInMessage) {
  Error e = refusal("s3://bucket/a\0b"s);
  EXPECT_EQ(e.message().find('\0'), std::string::npos) << "raw NUL in the message";
  std::string what = e.what();  // what a user sees
  EXPECT_NE(what.find("NUL"), std::string::npos) << "the reason is cut off: '" << what << "'";
  EXPECT_NE(what.find("a\\0b"), std::string::npos) << what;
}

}  // namespace
}  // namespace sluice
