#include "core/location.hpp"

#include <filesystem>

#include "core/error.hpp"

namespace sluice {
namespace {

Error bad(std::string_view text, const std::string& why) {
  std::string shown;
  for (char c : text) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
  return Error(ErrorKind::kInvalidInput, "invalid location '" + shown + "'", why);
}

// S3 bucket naming rules, loosely: what S3-compatible stores accept.
void check_bucket(std::string_view text, const std::string& b) {
  if (b.empty()) throw bad(text, "no bucket name (expected s3://BUCKET/KEY)");
  if (b.size() < 3 || b.size() > 63) throw bad(text, "bucket name must be 3 to 63 characters long");
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
              (c >= 'A' && c <= 'Z');
    if (!ok) throw bad(text, std::string("bucket name contains '") + c + "'");
  }
}

// Text that starts like an S3 URI but is not one ("s3:/b", "s3:b", "S3://b", "s3:\\b"): a typo,
// never a local path. The suggestion is the URI it most likely meant.
void refuse_near_miss(std::string_view text) {
  if (text.size() < 3 || (text[0] != 's' && text[0] != 'S') || text[1] != '3' || text[2] != ':') return;
  if (text.starts_with("s3://")) return;
  std::string_view rest = text.substr(3);
  while (!rest.empty() && (rest.front() == '/' || rest.front() == '\\')) rest.remove_prefix(1);
  throw bad(text, "not an S3 URI (did you mean 's3://" + std::string(rest) +
                      "'?); an S3 URI starts with s3:// in lower case; to name a local file, write ./" +
                      std::string(text));
}

}  // namespace

std::string Location::str() const {
  if (kind == Kind::kS3) return "s3://" + bucket + "/" + key;
  return path;
}

Location parse_location(std::string_view text) {
  if (text.empty()) throw bad(text, "empty");
  if (text.find('\0') != std::string_view::npos) throw bad(text, "contains a NUL byte");
  Location loc;
  loc.trailing_slash = text.back() == '/';
  refuse_near_miss(text);
  if (text.starts_with("s3://")) {
    loc.kind = Location::Kind::kS3;
    std::string_view rest = text.substr(5);
    auto slash = rest.find('/');
    loc.bucket = std::string(rest.substr(0, slash));
    loc.key = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    check_bucket(text, loc.bucket);
    return loc;
  }
  auto scheme = text.find("://");
  std::string path;
  if (scheme != std::string_view::npos) {
    if (text.substr(0, scheme) != "file") {
      throw bad(text, "unknown scheme '" + std::string(text.substr(0, scheme)) + "' (use s3://, file:// or a path)");
    }
    path = std::string(text.substr(scheme + 3));
    if (path.empty() || path.front() != '/') throw bad(text, "file:// needs an absolute path, as in file:///data/set");
  } else {
    path = std::string(text);
  }
  std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  loc.path = p.string();
  if (loc.path.size() > 1 && loc.path.back() == '/') loc.path.pop_back();
  return loc;
}

}  // namespace sluice
