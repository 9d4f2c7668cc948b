// Where data lives, as the user writes it: s3://bucket/key, file:///abs/path or a local path.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

struct Location {
  enum class Kind { kS3, kLocal };
  Kind kind = Kind::kLocal;
  std::string bucket;  // kS3
  std::string key;     // kS3: key or prefix, may be empty
  std::string path;    // kLocal: absolute, normalised path (file:// or a plain path)
  bool trailing_slash = false;  // the user wrote a trailing '/' (names a directory or prefix)

  bool is_s3() const { return kind == Kind::kS3; }
  std::string str() const;  // for messages
};

// Throws Error(kInvalidInput) naming the input and the problem: unknown scheme, empty bucket,
// bucket name S3 would refuse, NUL byte, relative file:// path, and text that is almost an S3
// URI ("s3:/b", "s3:b", "S3://b": anything starting with "s3:" in any case but "s3://"), which is
// never taken as a local path (the message suggests the URI; ./s3:b names such a file).
Location parse_location(std::string_view text);

}  // namespace sluice
