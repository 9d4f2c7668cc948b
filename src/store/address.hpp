// Where an object, or a prefix, lives: the one name for it above the user's text. Manifests,
// dataset sources, channels, checkpoints, outputs and the cli name objects and prefixes with it,
// and store::Registry finds a store by it.
//
// s3://BUCKET/KEY, or file:///PATH, whose key is PATH without its leading '/': the key of that
// file in store::FileStore("/") (what store::open_store gives for kFile).
//
// A user's argument is parsed into a sluice::Location first (core/location.hpp: also plain paths,
// and whether a '/' was written at the end); Address::of is the one conversion from it.
#pragma once

#include <string>
#include <string_view>

#include "core/location.hpp"

namespace sluice::store {

struct Address {
  enum class Scheme { kS3, kFile };
  Scheme scheme = Scheme::kS3;
  std::string bucket;  // kS3 only; empty for kFile
  std::string key;     // byte for byte for kS3; may be empty (the whole bucket or file system)

  // s3:// -> the bucket and key as written; a local path -> kFile, the normalised path without its
  // leading '/', and a '/' at the end when the user wrote one (file:///d/ is the prefix "d/").
  static Address of(const Location& location);

  bool is_s3() const { return scheme == Scheme::kS3; }
  std::string uri() const;       // "s3://bucket/key" or "file:///key"
  std::string store_id() const;  // the store that holds it: "s3://bucket", or "file://"
  bool operator==(const Address&) const = default;
};

// Parses an s3:// or file:// URI naming an object or a prefix (manifests, job specs): as
// sluice::parse_location does (the bucket checked, a file:// path absolute and normalised), then
// Address::of. Anything else (https://, a plain path, no scheme) throws Error(kInvalidInput).
Address parse_address(std::string_view uri);

}  // namespace sluice::store
