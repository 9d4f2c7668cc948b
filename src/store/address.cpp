#include "store/address.hpp"

#include "core/error.hpp"
#include "core/strings.hpp"

namespace sluice::store {

Address Address::of(const Location& location) {
  if (location.is_s3()) return Address{Scheme::kS3, location.bucket, location.key};
  std::string key = location.path.substr(1);
  if (location.trailing_slash && !key.empty()) key += '/';
  return Address{Scheme::kFile, "", std::move(key)};
}

std::string Address::uri() const {
  if (scheme == Scheme::kFile) return "file:///" + key;
  return "s3://" + bucket + "/" + key;
}

std::string Address::store_id() const { return scheme == Scheme::kFile ? "file://" : "s3://" + bucket; }

Address parse_address(std::string_view uri) {
  if (!uri.starts_with("s3://") && !uri.starts_with("file://")) {
    throw Error(ErrorKind::kInvalidInput, "invalid location '" + escaped(uri) + "'", "expected an s3:// or file:// URI");
  }
  return Address::of(parse_location(uri));
}

}  // namespace sluice::store
